/**
 * A compact built-in bitmap font for labels on rasters: printable ASCII (32–126) on a 5×9 grid —
 * capitals and digits 7 pixels tall, a 5-pixel x-height, 2 rows of descenders — drawn at any
 * whole-number scale. Letters and punctuation are proportionally spaced; digits keep one fixed
 * width so numbers that change from frame to frame (iteration, loss) do not jitter.
 */
import { resolveColor, type ColorLike, type PixelBox, type Raster } from './raster.js';

/** Height of a glyph cell in font pixels (7 above the baseline, 2 below). */
export const GLYPH_ROWS = 9;
/** Width of a glyph cell in font pixels. */
export const GLYPH_COLUMNS = 5;
/** Rows from the top of the cell to the baseline (capital height). */
export const CAP_HEIGHT = 7;
/** Distance between the tops of two lines of text, in font pixels. */
export const LINE_HEIGHT = 11;
/** Blank font pixels between two glyphs. */
const LETTER_SPACING = 1;
/** Advance of a space, in font pixels. */
const SPACE_ADVANCE = 3;

/**
 * The glyphs: rows from the top, separated by spaces, '#' for ink. Rows not listed are blank.
 * Capitals and digits use rows 0–6, lower case rows 2–6, descenders rows 7–8.
 */
const GLYPH_TABLE: Record<string, string> = {
  ' ': '.....',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '"': '.#.#. .#.#. .#.#.',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  $: '..#.. .#### #.#.. .###. ..#.# ####. ..#..',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
  "'": '..#.. ..#.. ..#..',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '*': '..... ..#.. #.#.# .###. #.#.# ..#..',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#..',
  ',': '..... ..... ..... ..... ..... .##.. .##.. ..#.. .#...',
  '-': '..... ..... ..... ####.',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  '/': '..... ....# ...#. ..#.. .#... #....',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '.###. #...# ....# ..##. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  ':': '..... .##.. .##.. ..... .##.. .##..',
  ';': '..... .##.. .##.. ..... .##.. .##.. ..#.. .#...',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '=': '..... ..... ##### ..... #####',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '@': '.###. #...# #.### #.#.# #.### #.... .####',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  '\\': '..... #.... .#... ..#.. ...#. ....#',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '^': '..#.. .#.#. #...#',
  _: '..... ..... ..... ..... ..... ..... ..... #####',
  '`': '.#... ..#..',
  a: '..... ..... .###. ....# .#### #...# .####',
  b: '#.... #.... ####. #...# #...# #...# ####.',
  c: '..... ..... .###. #.... #.... #...# .###.',
  d: '....# ....# .#### #...# #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.',
  f: '..##. .#... ####. .#... .#... .#... .#...',
  g: '..... ..... .#### #...# #...# #...# .#### ....# .###.',
  h: '#.... #.... ####. #...# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.',
  j: '...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.',
  l: '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  m: '..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#',
  n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.',
  p: '..... ..... ####. #...# #...# #...# ####. #.... #....',
  q: '..... ..... .#### #...# #...# #...# .#### ....# ....#',
  r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .#### #.... .###. ....# ####.',
  t: '.#... .#... ####. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#',
  v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# #...# #...# .#### ....# .###.',
  z: '..... ..... ##### ...#. ..#.. .#... #####',
  '{': '...## ..#.. ..#.. .#... ..#.. ..#.. ...##',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '}': '##... ..#.. ..#.. ...#. ..#.. ..#.. ##...',
  '~': '..... ..... .#... #.#.# ...#.',
};

/** One parsed glyph: a bit mask per row (bit 4 = leftmost column) and its horizontal extent. */
interface Glyph {
  rows: Uint8Array;
  /** First inked column (what is drawn at the pen position). */
  left: number;
  /** Number of columns drawn. */
  width: number;
  /** Pen advance in font pixels, spacing included. */
  advance: number;
}

const FIRST_CODE = 32;
const LAST_CODE = 126;

/** Parses GLYPH_TABLE into per-character bit masks, indexed by code − 32. */
function buildGlyphs(): Glyph[] {
  const glyphs: Glyph[] = [];
  for (let code = FIRST_CODE; code <= LAST_CODE; code++) {
    const character = String.fromCharCode(code);
    const source = GLYPH_TABLE[character];
    if (source === undefined) throw new Error(`font: glyph for "${character}" missing`);
    const rows = new Uint8Array(GLYPH_ROWS);
    const lines = source.split(' ');
    if (lines.length > GLYPH_ROWS) throw new Error(`font: glyph "${character}" has too many rows`);
    let inkLeft = GLYPH_COLUMNS;
    let inkRight = -1;
    lines.forEach((line, row) => {
      if (line.length !== GLYPH_COLUMNS) throw new Error(`font: glyph "${character}" row ${row} is not ${GLYPH_COLUMNS} wide`);
      for (let column = 0; column < GLYPH_COLUMNS; column++) {
        if (line[column] === '#') {
          rows[row] |= 1 << (GLYPH_COLUMNS - 1 - column);
          inkLeft = Math.min(inkLeft, column);
          inkRight = Math.max(inkRight, column);
        }
      }
    });
    const isDigit = code >= 48 && code <= 57;
    if (inkRight < 0) {
      glyphs.push({ rows, left: 0, width: 0, advance: SPACE_ADVANCE + LETTER_SPACING });
    } else if (isDigit) {
      glyphs.push({ rows, left: 0, width: GLYPH_COLUMNS, advance: GLYPH_COLUMNS + LETTER_SPACING });
    } else {
      const width = inkRight - inkLeft + 1;
      glyphs.push({ rows, left: inkLeft, width, advance: width + LETTER_SPACING });
    }
  }
  return glyphs;
}

const GLYPHS = buildGlyphs();
const FALLBACK_GLYPH = GLYPHS['?'.charCodeAt(0) - FIRST_CODE];

function glyphFor(code: number): Glyph {
  return code >= FIRST_CODE && code <= LAST_CODE ? GLYPHS[code - FIRST_CODE] : FALLBACK_GLYPH;
}

/** Horizontal anchoring of text at x. */
export type TextAlign = 'left' | 'center' | 'right';
/** Vertical anchoring of text at y ('top' = top of the capitals, 'middle' = their middle). */
export type TextBaseline = 'top' | 'middle' | 'bottom';

/** Options shared by `measureText` and `drawText`. */
export interface TextStyle {
  /** Whole-number magnification of the 5×9 font (default 1). */
  scale?: number;
  /**
   * Faux bold: strokes thickened by half a font pixel (⌊scale / 2⌋ screen pixels), which keeps the
   * one-pixel gaps inside letters like "m" open. Has no effect at scale 1. Default false.
   */
  bold?: boolean;
}

/** Options for `drawText`. */
export interface DrawTextOptions extends TextStyle {
  /** Ink colour (default white). */
  color?: ColorLike;
  /** Box colour painted behind the text (with `padding`); none by default. */
  background?: ColorLike;
  /** Padding of the background box in screen pixels (default: the scale). */
  padding?: number;
  /** Which part of the text sits at x (default 'left'). */
  align?: TextAlign;
  /** Which part of the text sits at y (default 'top'). */
  baseline?: TextBaseline;
  /** Draw rotated 90° anticlockwise, reading upwards (for y-axis labels); default false. */
  vertical?: boolean;
}

/** The size of a block of text in screen pixels. */
export interface TextSize {
  /** Width of the widest line. */
  width: number;
  /** Height from the top of the first line's capitals to the bottom of the last line's descenders. */
  height: number;
  /** Height of the capitals of one line (7 × scale); useful for centring. */
  capHeight: number;
}

function textScale(style: TextStyle | undefined): number {
  const scale = Math.round(style?.scale ?? 1);
  return scale >= 1 ? scale : 1;
}

/** Extra screen pixels of ink (and advance) per glyph for bold text at this scale. */
function boldExtra(scale: number, bold: boolean): number {
  return bold ? Math.floor(scale / 2) : 0;
}

/** Width of one line of text in screen pixels (trailing letter spacing excluded). */
function lineWidthInPixels(line: string, scale: number, extra: number): number {
  if (line.length === 0) return 0;
  let advance = 0;
  for (let index = 0; index < line.length; index++) advance += glyphFor(line.charCodeAt(index)).advance;
  return Math.max(0, (advance - LETTER_SPACING) * scale + extra * line.length);
}

/**
 * Measures `text` (lines split at '\n') as `drawText` would lay it out (unrotated). A blank
 * string measures 0 wide.
 */
export function measureText(text: string, style: TextStyle = {}): TextSize {
  const scale = textScale(style);
  const extra = boldExtra(scale, style.bold ?? false);
  const lines = text.split('\n');
  let widest = 0;
  for (const line of lines) widest = Math.max(widest, lineWidthInPixels(line, scale, extra));
  return {
    width: widest,
    height: ((lines.length - 1) * LINE_HEIGHT + GLYPH_ROWS) * scale,
    capHeight: CAP_HEIGHT * scale,
  };
}

/**
 * Draws `text` on `raster` with its anchor at (x, y) — by default the top-left corner of the
 * capitals — in whole screen pixels; '\n' starts a new line. Returns the box that was covered
 * (background padding included), in screen pixels.
 */
export function drawText(raster: Raster, text: string, x: number, y: number, options: DrawTextOptions = {}): PixelBox {
  const scale = textScale(options);
  const extra = boldExtra(scale, options.bold ?? false);
  const size = measureText(text, options);
  const vertical = options.vertical ?? false;
  // Extent along the reading direction (along) and across it (across).
  const alongExtent = size.width;
  const acrossExtent = size.height;
  const align = options.align ?? 'left';
  const baseline = options.baseline ?? 'top';
  const alongShift = align === 'center' ? Math.round(alongExtent / 2) : align === 'right' ? alongExtent : 0;
  const acrossShift = baseline === 'middle' ? Math.round(size.capHeight / 2) : baseline === 'bottom' ? acrossExtent : 0;
  // Top-left of the unrotated text block, and of the box it occupies on screen.
  let boxX: number;
  let boxY: number;
  let boxWidth: number;
  let boxHeight: number;
  if (!vertical) {
    boxX = Math.round(x) - alongShift;
    boxY = Math.round(y) - acrossShift;
    boxWidth = alongExtent;
    boxHeight = acrossExtent;
  } else {
    // Reading upwards: the text's left end is at the bottom, its top faces left.
    boxX = Math.round(x) - acrossShift;
    boxY = Math.round(y) - (alongExtent - alongShift);
    boxWidth = acrossExtent;
    boxHeight = alongExtent;
  }
  const padding = Math.round(options.padding ?? scale);
  if (options.background !== undefined) {
    const [backgroundRed, backgroundGreen, backgroundBlue, backgroundAlpha] = resolveColor(options.background);
    fillBox(raster, boxX - padding, boxY - padding, boxWidth + 2 * padding, boxHeight + 2 * padding, backgroundRed, backgroundGreen, backgroundBlue, backgroundAlpha);
  }
  const [red, green, blue, alpha] = resolveColor(options.color ?? [255, 255, 255, 255]);
  const lines = text.split('\n');
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex];
    const lineWidth = lineWidthInPixels(line, scale, extra);
    // Lines of a multi-line block align among themselves like the block.
    let pen = align === 'center' ? Math.round((alongExtent - lineWidth) / 2) : align === 'right' ? alongExtent - lineWidth : 0;
    const lineTop = lineIndex * LINE_HEIGHT * scale;
    for (let index = 0; index < line.length; index++) {
      const glyph = glyphFor(line.charCodeAt(index));
      for (let row = 0; row < GLYPH_ROWS; row++) {
        const bits = glyph.rows[row];
        if (bits === 0) continue;
        for (let column = 0; column < GLYPH_COLUMNS; column++) {
          if ((bits & (1 << (GLYPH_COLUMNS - 1 - column))) === 0) continue;
          const along = pen + (column - glyph.left) * scale;
          const across = lineTop + row * scale;
          const inkWidth = scale + extra;
          if (!vertical) {
            fillBox(raster, boxX + along, boxY + across, inkWidth, scale, red, green, blue, alpha);
          } else {
            fillBox(raster, boxX + across, boxY + alongExtent - along - inkWidth, scale, inkWidth, red, green, blue, alpha);
          }
        }
      }
      pen += glyph.advance * scale + extra;
    }
  }
  const margin = options.background !== undefined ? padding : 0;
  return { x: boxX - margin, y: boxY - margin, width: boxWidth + 2 * margin, height: boxHeight + 2 * margin };
}

/** Fills a clipped rectangle with a colour (blending when alpha < 255); no allocation. */
function fillBox(raster: Raster, x: number, y: number, width: number, height: number, red: number, green: number, blue: number, alpha: number): void {
  const left = Math.max(0, x);
  const top = Math.max(0, y);
  const right = Math.min(raster.width, x + width);
  const bottom = Math.min(raster.height, y + height);
  if (right <= left || bottom <= top) return;
  const data = raster.data;
  const coverage = alpha / 255;
  const keep = 1 - coverage;
  for (let row = top; row < bottom; row++) {
    let offset = (row * raster.width + left) * 4;
    for (let column = left; column < right; column++, offset += 4) {
      if (alpha >= 255) {
        data[offset] = red;
        data[offset + 1] = green;
        data[offset + 2] = blue;
        data[offset + 3] = 255;
      } else {
        data[offset] = data[offset] * keep + red * coverage;
        data[offset + 1] = data[offset + 1] * keep + green * coverage;
        data[offset + 2] = data[offset + 2] * keep + blue * coverage;
        data[offset + 3] = data[offset + 3] + (255 - data[offset + 3]) * coverage;
      }
    }
  }
}
