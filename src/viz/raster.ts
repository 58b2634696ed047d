/**
 * RGBA rasters for visualisation: creation, filling, copying, nearest-neighbour scaling,
 * antialiased lines and polylines (solid or dashed, any width), rectangles, and the conversion of
 * float gray images to colour through an intensity window and a colormap. Pure TypeScript with no
 * platform dependency, so it runs unchanged in a browser.
 *
 * Coordinates: pixel (x, y) covers the unit square [x, x + 1) × [y, y + 1); its centre is
 * (x + 0.5, y + 0.5). Integer arguments (rectangles, blits) address whole pixels; line endpoints
 * are real-valued, so a 1-pixel line through pixel centres lights exactly one pixel per step.
 */
import { DrrkitError } from '../errors.js';

/** A single-channel float image, row-major (pixel (row, column) is `data[row * width + column]`). */
export interface GrayImage {
  /** Pixel values, row by row. */
  data: Float32Array;
  /** Number of rows. */
  height: number;
  /** Number of columns. */
  width: number;
}

/** An 8-bit RGBA image, row-major, 4 bytes per pixel (the layout of a canvas ImageData). */
export interface Raster {
  /** Red, green, blue, alpha of each pixel, row by row. */
  data: Uint8ClampedArray;
  /** Number of columns. */
  width: number;
  /** Number of rows. */
  height: number;
}

/** A colour as [red, green, blue] or [red, green, blue, alpha], each 0..255 (alpha defaults to 255). */
export type Rgba = readonly [number, number, number] | readonly [number, number, number, number];

/** A colour: an [r, g, b(, a)] tuple or a CSS hex string ('#rgb', '#rrggbb' or '#rrggbbaa'). */
export type ColorLike = Rgba | string;

/** An axis-aligned rectangle in whole pixels. */
export interface PixelBox {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Colormaps available to `grayToRaster`. */
export type ColormapName = 'gray' | 'viridis' | 'magma' | 'coolwarm';

/** Names of the colormaps, for option parsing. */
export const COLORMAPS: readonly ColormapName[] = ['gray', 'viridis', 'magma', 'coolwarm'];

/** Ten distinguishable series colours (matplotlib's "tab10"). */
export const SERIES_COLORS: readonly Rgba[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

/** Opaque white. */
export const WHITE: Rgba = [255, 255, 255, 255];
/** Opaque black. */
export const BLACK: Rgba = [0, 0, 0, 255];

// ---------------------------------------------------------------------------------------------
// Colours

const HEX_COLOR = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** Resolves a colour to a fresh [r, g, b, a] array of bytes; throws a DrrkitError on a bad string. */
export function resolveColor(color: ColorLike): [number, number, number, number] {
  if (typeof color === 'string') {
    const match = HEX_COLOR.exec(color.trim());
    if (!match) throw new DrrkitError(`colour "${color}" is not a hex colour like #1f77b4`, 'color');
    let hex = match[1];
    if (hex.length === 3) hex = hex[0] + hex[0] + hex[1] + hex[1] + hex[2] + hex[2];
    const value = (offset: number) => parseInt(hex.slice(offset, offset + 2), 16);
    return [value(0), value(2), value(4), hex.length === 8 ? value(6) : 255];
  }
  const clampByte = (value: number | undefined, fallback: number) => {
    if (value === undefined || Number.isNaN(value)) return fallback;
    return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
  };
  return [clampByte(color[0], 0), clampByte(color[1], 0), clampByte(color[2], 0), clampByte(color[3], 255)];
}

/** The i-th default series colour, cycling through `SERIES_COLORS`. */
export function seriesColor(index: number): Rgba {
  return SERIES_COLORS[((index % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length];
}

// ---------------------------------------------------------------------------------------------
// Creation, filling, copying

/** Throws a DrrkitError unless `width` and `height` are whole numbers ≥ 1. */
function requireSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new DrrkitError(`${what} size ${width}×${height} is invalid; width and height must be whole numbers ≥ 1`, what);
  }
}

/** Checks that a raster's size is valid and its data holds width × height × 4 bytes. */
export function validateRaster(raster: Raster, what = 'raster'): Raster {
  requireSize(raster.width, raster.height, what);
  if (!(raster.data instanceof Uint8ClampedArray) || raster.data.length !== raster.width * raster.height * 4) {
    throw new DrrkitError(`${what} must hold ${raster.width * raster.height * 4} bytes (RGBA) in a Uint8ClampedArray`, what);
  }
  return raster;
}

/** Checks that a gray image's size is valid and its data holds width × height floats. */
export function validateGrayImage(image: GrayImage, what = 'image'): GrayImage {
  requireSize(image.width, image.height, what);
  if (!(image.data instanceof Float32Array) || image.data.length !== image.width * image.height) {
    throw new DrrkitError(`${what} must hold ${image.width * image.height} values in a Float32Array`, what);
  }
  return image;
}

/** True when `image` is an RGBA raster (Uint8ClampedArray data) rather than a float gray image. */
export function isRaster(image: Raster | GrayImage): image is Raster {
  return image.data instanceof Uint8ClampedArray;
}

/** A new raster of the given size filled with `background` (default opaque black). */
export function createRaster(width: number, height: number, background: ColorLike = BLACK): Raster {
  requireSize(width, height, 'raster');
  const raster: Raster = { data: new Uint8ClampedArray(width * height * 4), width, height };
  fillRaster(raster, background);
  return raster;
}

/** Overwrites every pixel of `raster` with `color` (no blending). */
export function fillRaster(raster: Raster, color: ColorLike): void {
  const [red, green, blue, alpha] = resolveColor(color);
  const words = pixelWords(raster);
  if (!words) {
    const data = raster.data;
    for (let offset = 0; offset < data.length; offset += 4) {
      data[offset] = red;
      data[offset + 1] = green;
      data[offset + 2] = blue;
      data[offset + 3] = alpha;
    }
    return;
  }
  // The colour as one 32-bit word in the platform's byte order.
  const word = new Uint32Array(Uint8Array.of(red, green, blue, alpha).buffer)[0];
  words.fill(word);
}

/** The pixels of `raster` as 32-bit words, or null when its bytes are not 4-byte aligned. */
function pixelWords(raster: Raster): Uint32Array | null {
  if (raster.data.byteOffset % 4 !== 0) return null;
  return new Uint32Array(raster.data.buffer, raster.data.byteOffset, raster.width * raster.height);
}

/** A copy of `raster` with its own pixel buffer. */
export function cloneRaster(raster: Raster): Raster {
  return { data: new Uint8ClampedArray(raster.data), width: raster.width, height: raster.height };
}

/**
 * Copies `source` into `destination` with its top-left corner at (x, y), clipped to the
 * destination. Source pixels replace destination pixels (alpha is copied, not blended).
 */
export function blit(destination: Raster, source: Raster, x: number, y: number): void {
  const left = Math.max(0, Math.round(x));
  const top = Math.max(0, Math.round(y));
  const sourceLeft = left - Math.round(x);
  const sourceTop = top - Math.round(y);
  const copyWidth = Math.min(source.width - sourceLeft, destination.width - left);
  const copyHeight = Math.min(source.height - sourceTop, destination.height - top);
  if (copyWidth <= 0 || copyHeight <= 0) return;
  for (let row = 0; row < copyHeight; row++) {
    const sourceStart = ((sourceTop + row) * source.width + sourceLeft) * 4;
    destination.data.set(
      source.data.subarray(sourceStart, sourceStart + copyWidth * 4),
      ((top + row) * destination.width + left) * 4,
    );
  }
}

/** The pixels of `raster` inside `box` (clipped to the raster) as a new raster. */
export function cropRaster(raster: Raster, box: PixelBox): Raster {
  const left = Math.max(0, Math.round(box.x));
  const top = Math.max(0, Math.round(box.y));
  const right = Math.min(raster.width, Math.round(box.x + box.width));
  const bottom = Math.min(raster.height, Math.round(box.y + box.height));
  if (right <= left || bottom <= top) throw new DrrkitError('crop box lies outside the raster', 'box');
  const result = createRaster(right - left, bottom - top);
  blit(result, raster, -left, -top);
  return result;
}

/**
 * Enlarges `raster` by a whole `factor` (each pixel becomes a factor × factor block), the usual
 * way to show a small DRR (e.g. 100×100 → 300×300) without blurring it.
 */
export function scaleNearest(raster: Raster, factor: number): Raster {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new DrrkitError(`scale factor must be a whole number ≥ 1, got ${factor}`, 'scale');
  }
  if (factor === 1) return cloneRaster(raster);
  return resizeNearest(raster, raster.width * factor, raster.height * factor);
}

/** Resamples `raster` to width × height by nearest neighbour (any ratio, up or down). */
export function resizeNearest(raster: Raster, width: number, height: number): Raster {
  requireSize(width, height, 'resized raster');
  const result: Raster = { data: new Uint8ClampedArray(width * height * 4), width, height };
  const aligned = pixelWords(raster) ? raster : cloneRaster(raster);
  const sourceWords = pixelWords(aligned) as Uint32Array;
  const resultWords = pixelWords(result) as Uint32Array;
  const columnMap = new Int32Array(width);
  for (let column = 0; column < width; column++) {
    columnMap[column] = Math.min(raster.width - 1, Math.floor(((column + 0.5) * raster.width) / width));
  }
  for (let row = 0; row < height; row++) {
    const sourceRow = Math.min(raster.height - 1, Math.floor(((row + 0.5) * raster.height) / height)) * raster.width;
    const resultRow = row * width;
    for (let column = 0; column < width; column++) {
      resultWords[resultRow + column] = sourceWords[sourceRow + columnMap[column]];
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Pixels and rectangles

/**
 * Blends colour (red, green, blue) with opacity `coverage` (0..1) over the pixel at byte offset
 * `offset`; the destination alpha becomes the union of both alphas.
 */
function blendAt(data: Uint8ClampedArray, offset: number, red: number, green: number, blue: number, coverage: number): void {
  if (coverage >= 1) {
    data[offset] = red;
    data[offset + 1] = green;
    data[offset + 2] = blue;
    data[offset + 3] = 255;
    return;
  }
  const keep = 1 - coverage;
  data[offset] = data[offset] * keep + red * coverage;
  data[offset + 1] = data[offset + 1] * keep + green * coverage;
  data[offset + 2] = data[offset + 2] * keep + blue * coverage;
  data[offset + 3] = data[offset + 3] + (255 - data[offset + 3]) * coverage;
}

/** Blends `color` over pixel (x, y) (whole pixels; ignored outside the raster). */
export function setPixel(raster: Raster, x: number, y: number, color: ColorLike): void {
  if (x < 0 || y < 0 || x >= raster.width || y >= raster.height) return;
  const [red, green, blue, alpha] = resolveColor(color);
  blendAt(raster.data, (Math.floor(y) * raster.width + Math.floor(x)) * 4, red, green, blue, alpha / 255);
}

/** The [r, g, b, a] bytes of pixel (x, y). */
export function getPixel(raster: Raster, x: number, y: number): [number, number, number, number] {
  const offset = (y * raster.width + x) * 4;
  const data = raster.data;
  return [data[offset], data[offset + 1], data[offset + 2], data[offset + 3]];
}

/** Fills the rectangle `box` (whole pixels, clipped) with `color`, blending when it is translucent. */
export function fillRect(raster: Raster, box: PixelBox, color: ColorLike): void {
  const [red, green, blue, alpha] = resolveColor(color);
  const left = Math.max(0, Math.round(box.x));
  const top = Math.max(0, Math.round(box.y));
  const right = Math.min(raster.width, Math.round(box.x + box.width));
  const bottom = Math.min(raster.height, Math.round(box.y + box.height));
  if (right <= left || bottom <= top) return;
  const coverage = alpha / 255;
  const data = raster.data;
  for (let row = top; row < bottom; row++) {
    let offset = (row * raster.width + left) * 4;
    for (let column = left; column < right; column++, offset += 4) {
      blendAt(data, offset, red, green, blue, coverage);
    }
  }
}

/** Draws the outline of `box`, `lineWidth` pixels thick, inside the box. */
export function strokeRect(raster: Raster, box: PixelBox, color: ColorLike, lineWidth = 1): void {
  const thickness = Math.max(1, Math.round(lineWidth));
  const { x, y, width, height } = box;
  if (width <= 2 * thickness || height <= 2 * thickness) {
    fillRect(raster, box, color);
    return;
  }
  fillRect(raster, { x, y, width, height: thickness }, color);
  fillRect(raster, { x, y: y + height - thickness, width, height: thickness }, color);
  fillRect(raster, { x, y: y + thickness, width: thickness, height: height - 2 * thickness }, color);
  fillRect(raster, { x: x + width - thickness, y: y + thickness, width: thickness, height: height - 2 * thickness }, color);
}

// ---------------------------------------------------------------------------------------------
// Lines

/** Options for `drawLine` and `drawPolyline`. */
export interface LineOptions {
  /** Stroke width in pixels (real-valued, ≥ 0.5; default 1). */
  width?: number;
  /** Dash pattern [on, off] in pixels along the line; solid when absent. */
  dash?: readonly [number, number];
  /** Only pixels inside this box are touched (default: the whole raster). */
  clip?: PixelBox;
}

/** A resolved clip rectangle as half-open pixel bounds. */
interface ClipBounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function clipBounds(raster: Raster, clip: PixelBox | undefined): ClipBounds {
  if (!clip) return { left: 0, top: 0, right: raster.width, bottom: raster.height };
  return {
    left: Math.max(0, Math.round(clip.x)),
    top: Math.max(0, Math.round(clip.y)),
    right: Math.min(raster.width, Math.round(clip.x + clip.width)),
    bottom: Math.min(raster.height, Math.round(clip.y + clip.height)),
  };
}

/**
 * Rasterises the segment (x0, y0)–(x1, y1) as an antialiased capsule of radius `halfWidth`: each
 * pixel gets coverage clamp(halfWidth + 0.5 − distance from its centre to the segment, 0, 1).
 * Only a band around the line is visited (cost ∝ length × width).
 */
function strokeSegment(
  raster: Raster,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  halfWidth: number,
  red: number,
  green: number,
  blue: number,
  opacity: number,
  bounds: ClipBounds,
): void {
  const deltaX = x1 - x0;
  const deltaY = y1 - y0;
  const lengthSquared = deltaX * deltaX + deltaY * deltaY;
  const reach = halfWidth + 0.5;
  const data = raster.data;
  const rasterWidth = raster.width;
  const xMajor = Math.abs(deltaX) >= Math.abs(deltaY);
  // Walk the major axis; along the minor axis scan a window that holds the whole stroke.
  const majorStart = xMajor ? Math.min(x0, x1) : Math.min(y0, y1);
  const majorEnd = xMajor ? Math.max(x0, x1) : Math.max(y0, y1);
  const majorDelta = xMajor ? deltaX : deltaY;
  const minorDelta = xMajor ? deltaY : deltaX;
  const majorOrigin = xMajor ? x0 : y0;
  const minorOrigin = xMajor ? y0 : x0;
  const slope = majorDelta === 0 ? 0 : minorDelta / majorDelta;
  const minorReach = reach * Math.sqrt(1 + slope * slope) + 1;
  const majorLow = Math.max(xMajor ? bounds.left : bounds.top, Math.floor(majorStart - reach));
  const majorHigh = Math.min(xMajor ? bounds.right : bounds.bottom, Math.ceil(majorEnd + reach));
  const minorLimitLow = xMajor ? bounds.top : bounds.left;
  const minorLimitHigh = xMajor ? bounds.bottom : bounds.right;
  for (let major = majorLow; major < majorHigh; major++) {
    let along = major + 0.5;
    if (along < majorStart) along = majorStart;
    else if (along > majorEnd) along = majorEnd;
    const minorCentre = minorOrigin + (along - majorOrigin) * slope;
    const minorLow = Math.max(minorLimitLow, Math.floor(minorCentre - minorReach));
    const minorHigh = Math.min(minorLimitHigh, Math.ceil(minorCentre + minorReach));
    for (let minor = minorLow; minor < minorHigh; minor++) {
      const pixelX = (xMajor ? major : minor) + 0.5;
      const pixelY = (xMajor ? minor : major) + 0.5;
      let fraction = lengthSquared > 0 ? ((pixelX - x0) * deltaX + (pixelY - y0) * deltaY) / lengthSquared : 0;
      if (fraction < 0) fraction = 0;
      else if (fraction > 1) fraction = 1;
      const offsetX = pixelX - (x0 + fraction * deltaX);
      const offsetY = pixelY - (y0 + fraction * deltaY);
      const distance = Math.sqrt(offsetX * offsetX + offsetY * offsetY);
      let coverage = reach - distance;
      if (coverage <= 0) continue;
      if (coverage > 1) coverage = 1;
      const column = xMajor ? major : minor;
      const row = xMajor ? minor : major;
      blendAt(data, (row * rasterWidth + column) * 4, red, green, blue, coverage * opacity);
    }
  }
}

/**
 * Draws an antialiased line from (x0, y0) to (x1, y1) (real-valued pixel coordinates) with round
 * caps; options set the width, a dash pattern and a clip box.
 */
export function drawLine(
  raster: Raster,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: ColorLike,
  options: LineOptions = {},
): void {
  drawPolyline(raster, [x0, x1], [y0, y1], color, options);
}

/**
 * Draws a connected antialiased polyline through (xs[i], ys[i]). A non-finite coordinate breaks
 * the line (the points on each side are drawn as separate pieces). A dash pattern runs on across
 * vertices.
 */
export function drawPolyline(
  raster: Raster,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  color: ColorLike,
  options: LineOptions = {},
): void {
  const [red, green, blue, alpha] = resolveColor(color);
  const opacity = alpha / 255;
  const halfWidth = Math.max(0.25, (options.width ?? 1) / 2);
  const bounds = clipBounds(raster, options.clip);
  if (bounds.right <= bounds.left || bounds.bottom <= bounds.top) return;
  const count = Math.min(xs.length, ys.length);
  const dash = options.dash && options.dash[1] > 0 ? options.dash : undefined;
  const dashOn = dash ? Math.max(0.5, dash[0]) : 0;
  const dashPeriod = dash ? dashOn + Math.max(0, dash[1]) : 0;
  let dashPhase = 0; // distance travelled within the current dash period
  let previousX = NaN;
  let previousY = NaN;
  for (let index = 0; index < count; index++) {
    const x = xs[index];
    const y = ys[index];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      previousX = NaN;
      continue;
    }
    if (Number.isNaN(previousX)) {
      // An isolated point still shows as a dot.
      const nextFinite = index + 1 < count && Number.isFinite(xs[index + 1]) && Number.isFinite(ys[index + 1]);
      if (!nextFinite) strokeSegment(raster, x, y, x, y, halfWidth, red, green, blue, opacity, bounds);
      previousX = x;
      previousY = y;
      continue;
    }
    if (!dash || dashPeriod <= 0) {
      strokeSegment(raster, previousX, previousY, x, y, halfWidth, red, green, blue, opacity, bounds);
    } else {
      const segmentLength = Math.hypot(x - previousX, y - previousY);
      let travelled = 0;
      while (travelled < segmentLength) {
        const inDash = dashPhase < dashOn;
        const step = Math.min(segmentLength - travelled, (inDash ? dashOn : dashPeriod) - dashPhase);
        if (inDash && step > 0) {
          const startFraction = travelled / segmentLength;
          const endFraction = (travelled + step) / segmentLength;
          strokeSegment(
            raster,
            previousX + (x - previousX) * startFraction,
            previousY + (y - previousY) * startFraction,
            previousX + (x - previousX) * endFraction,
            previousY + (y - previousY) * endFraction,
            halfWidth,
            red,
            green,
            blue,
            opacity,
            bounds,
          );
        }
        travelled += step;
        dashPhase += step;
        if (dashPhase >= dashPeriod - 1e-9) dashPhase = 0;
        if (step <= 0) break;
      }
    }
    previousX = x;
    previousY = y;
  }
}

// ---------------------------------------------------------------------------------------------
// Gray images to colour

/** Colormap anchor colours, evenly spaced over 0..1 (matplotlib's viridis and magma, Moreland's coolwarm). */
const COLORMAP_ANCHORS: Record<Exclude<ColormapName, 'gray'>, readonly string[]> = {
  viridis: ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'],
  magma: ['#000004', '#140e36', '#3b0f70', '#641a80', '#8c2981', '#b73779', '#de4968', '#f7705c', '#fe9f6d', '#fecf92', '#fcfdbf'],
  coolwarm: ['#3b4cc0', '#6282ea', '#8db0fe', '#b8d0f9', '#dddcdc', '#f5c4ad', '#f49a7b', '#de604d', '#b40426'],
};

const colormapTables = new Map<ColormapName, Uint8Array>();

/** A 256-entry RGB lookup table (768 bytes) for `name`, built once and cached. */
export function colormapTable(name: ColormapName): Uint8Array {
  const cached = colormapTables.get(name);
  if (cached) return cached;
  const table = new Uint8Array(256 * 3);
  if (name === 'gray') {
    for (let level = 0; level < 256; level++) table.fill(level, level * 3, level * 3 + 3);
  } else {
    const anchors = COLORMAP_ANCHORS[name]?.map((hex) => resolveColor(hex));
    if (!anchors) throw new DrrkitError(`unknown colormap "${String(name)}"; choose one of ${COLORMAPS.join(', ')}`, 'colormap');
    const segments = anchors.length - 1;
    for (let level = 0; level < 256; level++) {
      const position = (level / 255) * segments;
      const lower = Math.min(segments - 1, Math.floor(position));
      const fraction = position - lower;
      for (let channel = 0; channel < 3; channel++) {
        table[level * 3 + channel] = Math.round(anchors[lower][channel] * (1 - fraction) + anchors[lower + 1][channel] * fraction);
      }
    }
  }
  colormapTables.set(name, table);
  return table;
}

/** Smallest and largest finite value of `data`; (0, 0) when there is none. */
export function finiteRange(data: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let index = 0; index < data.length; index++) {
    const value = data[index];
    if (value < min && value !== -Infinity) min = value;
    if (value > max && value !== Infinity) max = value;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 0 };
}

/** Options for `grayToRaster`. */
export interface GrayToRasterOptions {
  /** Value shown at the bottom of the colormap (default: the smallest finite pixel value). */
  min?: number;
  /** Value shown at the top of the colormap (default: the largest finite pixel value). */
  max?: number;
  /** Colormap (default 'gray'); 'viridis'/'magma' suit difference images, 'coolwarm' signed ones. */
  colormap?: ColormapName;
  /** Colour of NaN pixels (default black). */
  nanColor?: ColorLike;
}

/**
 * Converts a float gray image to an opaque RGBA raster: [min, max] maps linearly onto the colormap
 * (values outside are clamped). An empty window (max ≤ min) shows everything at the colormap's
 * bottom colour.
 */
export function grayToRaster(image: GrayImage, options: GrayToRasterOptions = {}): Raster {
  validateGrayImage(image);
  const needsRange = options.min === undefined || options.max === undefined;
  const range = needsRange ? finiteRange(image.data) : { min: 0, max: 0 };
  const min = options.min ?? range.min;
  const max = options.max ?? range.max;
  const table = colormapTable(options.colormap ?? 'gray');
  const [nanRed, nanGreen, nanBlue] = resolveColor(options.nanColor ?? BLACK);
  const span = max - min;
  const scale = Number.isFinite(span) && span > 0 ? 255 / span : 0;
  const source = image.data;
  const count = source.length;
  const data = new Uint8ClampedArray(count * 4);
  for (let pixel = 0, offset = 0; pixel < count; pixel++, offset += 4) {
    const value = source[pixel];
    if (Number.isNaN(value)) {
      data[offset] = nanRed;
      data[offset + 1] = nanGreen;
      data[offset + 2] = nanBlue;
    } else {
      let level = Math.round((value - min) * scale);
      if (level > 255) level = 255;
      else if (!(level > 0)) level = 0;
      const entry = level * 3;
      data[offset] = table[entry];
      data[offset + 1] = table[entry + 1];
      data[offset + 2] = table[entry + 2];
    }
    data[offset + 3] = 255;
  }
  return { data, width: image.width, height: image.height };
}
