/**
 * Composing images for inspection: panels side by side with labels, captions, a colour overlay of
 * a fixed and a moving image (fixed in magenta, moving in green by default, so agreement shows
 * gray and misalignment shows colour fringes, as in ITK/3D Slicer), a checkerboard of the two,
 * and (absolute or signed) difference images through a colormap.
 */
import { DrrkitError } from '../errors.js';
import { drawText, measureText, type TextAlign } from './font.js';
import {
  blit,
  createRaster,
  finiteRange,
  grayToRaster,
  isRaster,
  resolveColor,
  scaleNearest,
  validateGrayImage,
  type ColorLike,
  type ColormapName,
  type GrayImage,
  type Raster,
} from './raster.js';

/** A float gray image or an RGBA raster. */
export type ImageLike = GrayImage | Raster;

/** An explicit intensity window. */
export interface IntensityWindow {
  /** Value shown black. */
  min: number;
  /** Value shown white. */
  max: number;
}

/**
 * How gray images are windowed: 'shared' uses the joint range of all of them (so equal values look
 * equal), 'separate' each image's own range, or an explicit window.
 */
export type WindowChoice = 'shared' | 'separate' | IntensityWindow;

/** Dark background used behind image panels. */
export const PANEL_BACKGROUND: ColorLike = [16, 16, 16, 255];
/** Light gray used for captions on the dark background. */
export const CAPTION_COLOR: ColorLike = [225, 225, 225, 255];

/** The joint finite range of several gray images ({0, 0} when none has a finite value). */
export function sharedWindow(images: readonly GrayImage[]): IntensityWindow {
  let min = Infinity;
  let max = -Infinity;
  for (const image of images) {
    const data = image.data;
    for (let index = 0; index < data.length; index++) {
      const value = data[index];
      if (value < min && value !== -Infinity) min = value;
      if (value > max && value !== Infinity) max = value;
    }
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

/** Resolves a window choice for `image` among `all` gray images. */
function windowFor(choice: WindowChoice, image: GrayImage, all: readonly GrayImage[]): IntensityWindow {
  if (choice === 'shared') return sharedWindow(all);
  if (choice === 'separate') return finiteRange(image.data);
  return choice;
}

/** An image as an RGBA raster: rasters pass through, gray images go through a window. */
export function toRaster(image: ImageLike, window?: Partial<IntensityWindow>, colormap?: ColormapName): Raster {
  if (isRaster(image)) return image;
  return grayToRaster(image, { min: window?.min, max: window?.max, colormap });
}

/** Options for `sideBySide`. */
export interface SideBySideOptions {
  /** Whole-number magnification of every image (default 1). */
  scale?: number;
  /** Pixels between panels and around the edge (default 4 × text scale). */
  gap?: number;
  /** Background colour (default near-black). */
  background?: ColorLike;
  /** Caption colour (default light gray). */
  labelColor?: ColorLike;
  /** Whole-number text magnification (default: 2 when the panels are at least 200 pixels wide, else 1). */
  textScale?: number;
  /** Captions above (default) or below the panels. */
  labelPosition?: 'above' | 'below';
  /** Windowing of gray images (default 'separate'). */
  window?: WindowChoice;
  /** Colormap for gray images (default 'gray'). */
  colormap?: ColormapName;
}

/**
 * Places images left to right on one raster, each with an optional caption, tops aligned. Gray
 * images are windowed as `options.window` says; rasters are used as they are.
 */
export function sideBySide(images: readonly ImageLike[], labels: readonly (string | undefined)[] = [], options: SideBySideOptions = {}): Raster {
  if (images.length === 0) throw new DrrkitError('sideBySide needs at least one image', 'images');
  const grays = images.filter((image): image is GrayImage => !isRaster(image));
  grays.forEach((image, index) => validateGrayImage(image, `image ${index}`));
  const choice = options.window ?? 'separate';
  const scale = options.scale ?? 1;
  const panels = images.map((image) => {
    const raster = isRaster(image) ? image : grayToRaster(image, { ...windowFor(choice, image, grays), colormap: options.colormap });
    return scale === 1 ? raster : scaleNearest(raster, scale);
  });
  const narrowest = panels.reduce((least, panel) => Math.min(least, panel.width), Infinity);
  const textScale = Math.max(1, Math.round(options.textScale ?? (narrowest >= 200 ? 2 : 1)));
  const gap = options.gap ?? 4 * textScale;
  const hasLabels = labels.some((label) => label !== undefined && label !== '');
  const labelBand = hasLabels ? 9 * textScale + 2 * gap : 0;
  const columnWidths = panels.map((panel, index) => Math.max(panel.width, labels[index] ? measureText(labels[index] as string, { scale: textScale }).width : 0));
  const tallest = panels.reduce((most, panel) => Math.max(most, panel.height), 0);
  const width = columnWidths.reduce((sum, columnWidth) => sum + columnWidth, 0) + gap * (panels.length + 1);
  const height = tallest + labelBand + (hasLabels ? gap : 2 * gap);
  const result = createRaster(width, height, options.background ?? PANEL_BACKGROUND);
  const above = (options.labelPosition ?? 'above') === 'above';
  const imageTop = above ? labelBand || gap : gap;
  let x = gap;
  panels.forEach((panel, index) => {
    const columnWidth = columnWidths[index];
    blit(result, panel, x + Math.floor((columnWidth - panel.width) / 2), imageTop);
    const label = labels[index];
    if (label) {
      const labelTop = above ? gap : imageTop + tallest + gap;
      drawText(result, label, x + Math.round(columnWidth / 2), labelTop, { scale: textScale, color: options.labelColor ?? CAPTION_COLOR, align: 'center' });
    }
    x += columnWidth + gap;
  });
  return result;
}

/** Options for `addCaption`. */
export interface CaptionOptions {
  /** Caption band above or below (default 'below'). */
  position?: 'above' | 'below';
  /** Whole-number text magnification (default: 2 for rasters at least 200 pixels wide, else 1). */
  textScale?: number;
  /** Text colour (default light gray). */
  color?: ColorLike;
  /** Band colour (default near-black). */
  background?: ColorLike;
  /** Horizontal alignment (default 'center'). */
  align?: TextAlign;
}

/** A copy of `image` with a band of text (one or more lines) added above or below it. */
export function addCaption(image: Raster, text: string, options: CaptionOptions = {}): Raster {
  const textScale = Math.max(1, Math.round(options.textScale ?? (image.width >= 200 ? 2 : 1)));
  const gap = 4 * textScale;
  const size = measureText(text, { scale: textScale });
  const band = size.height + 2 * gap;
  const width = Math.max(image.width, size.width + 2 * gap);
  const result = createRaster(width, image.height + band, options.background ?? PANEL_BACKGROUND);
  const above = (options.position ?? 'below') === 'above';
  blit(result, image, Math.floor((width - image.width) / 2), above ? band : 0);
  const align = options.align ?? 'center';
  const textX = align === 'center' ? Math.round(width / 2) : align === 'right' ? width - gap : gap;
  drawText(result, text, textX, (above ? 0 : image.height) + gap, { scale: textScale, color: options.color ?? CAPTION_COLOR, align });
  return result;
}

function requireSameSize(fixed: GrayImage, moving: GrayImage): void {
  validateGrayImage(fixed, 'fixed image');
  validateGrayImage(moving, 'moving image');
  if (fixed.width !== moving.width || fixed.height !== moving.height) {
    throw new DrrkitError(`fixed image is ${fixed.width}×${fixed.height} but moving image is ${moving.width}×${moving.height}; they must match`, 'moving');
  }
}

/** Options for `overlayImages`. */
export interface OverlayOptions {
  /** Windowing (default 'shared': both images through their joint range). */
  window?: WindowChoice;
  /** Colour of the fixed image at full intensity (default magenta #ff00ff). */
  fixedColor?: ColorLike;
  /** Colour of the moving image at full intensity (default green #00ff00). */
  movingColor?: ColorLike;
}

/**
 * Colour overlay of two equally sized gray images: each windowed to 0..1 and multiplied by its
 * colour, the two added. With the default magenta/green, aligned structure is gray/white and any
 * misalignment shows as magenta (fixed only) and green (moving only) fringes.
 */
export function overlayImages(fixed: GrayImage, moving: GrayImage, options: OverlayOptions = {}): Raster {
  requireSameSize(fixed, moving);
  const choice = options.window ?? 'shared';
  const fixedWindow = windowFor(choice, fixed, [fixed, moving]);
  const movingWindow = windowFor(choice, moving, [fixed, moving]);
  const [fixedRed, fixedGreen, fixedBlue] = resolveColor(options.fixedColor ?? '#ff00ff');
  const [movingRed, movingGreen, movingBlue] = resolveColor(options.movingColor ?? '#00ff00');
  const fixedSpan = fixedWindow.max - fixedWindow.min;
  const movingSpan = movingWindow.max - movingWindow.min;
  const fixedScale = fixedSpan > 0 ? 1 / fixedSpan : 0;
  const movingScale = movingSpan > 0 ? 1 / movingSpan : 0;
  const count = fixed.width * fixed.height;
  const data = new Uint8ClampedArray(count * 4);
  for (let pixel = 0, offset = 0; pixel < count; pixel++, offset += 4) {
    let fixedLevel = (fixed.data[pixel] - fixedWindow.min) * fixedScale;
    let movingLevel = (moving.data[pixel] - movingWindow.min) * movingScale;
    fixedLevel = fixedLevel > 1 ? 1 : fixedLevel > 0 ? fixedLevel : 0; // NaN → 0
    movingLevel = movingLevel > 1 ? 1 : movingLevel > 0 ? movingLevel : 0;
    data[offset] = fixedRed * fixedLevel + movingRed * movingLevel;
    data[offset + 1] = fixedGreen * fixedLevel + movingGreen * movingLevel;
    data[offset + 2] = fixedBlue * fixedLevel + movingBlue * movingLevel;
    data[offset + 3] = 255;
  }
  return { data, width: fixed.width, height: fixed.height };
}

/** Options for `checkerboard`. */
export interface CheckerboardOptions {
  /** Number of tiles along the longer side (default 8). */
  tiles?: number;
  /** Windowing (default 'shared'). */
  window?: WindowChoice;
}

/**
 * Checkerboard of two equally sized gray images: alternate square tiles come from the fixed and
 * the moving image, so edges that do not continue across tile borders reveal misalignment.
 */
export function checkerboard(fixed: GrayImage, moving: GrayImage, options: CheckerboardOptions = {}): Raster {
  requireSameSize(fixed, moving);
  const tiles = Math.max(1, Math.round(options.tiles ?? 8));
  const tileSize = Math.max(1, Math.ceil(Math.max(fixed.width, fixed.height) / tiles));
  const choice = options.window ?? 'shared';
  const fixedRaster = grayToRaster(fixed, windowFor(choice, fixed, [fixed, moving]));
  const movingRaster = grayToRaster(moving, windowFor(choice, moving, [fixed, moving]));
  const result = fixedRaster; // fresh raster, safe to overwrite
  for (let row = 0; row < fixed.height; row++) {
    const tileRow = Math.floor(row / tileSize);
    for (let tileColumn = 0; tileColumn * tileSize < fixed.width; tileColumn++) {
      if ((tileRow + tileColumn) % 2 === 0) continue;
      const start = (row * fixed.width + tileColumn * tileSize) * 4;
      const end = (row * fixed.width + Math.min(fixed.width, (tileColumn + 1) * tileSize)) * 4;
      result.data.set(movingRaster.data.subarray(start, end), start);
    }
  }
  return result;
}

/** |fixed − moving| pixel by pixel, as a new gray image. */
export function absoluteDifference(fixed: GrayImage, moving: GrayImage): GrayImage {
  requireSameSize(fixed, moving);
  const data = new Float32Array(fixed.data.length);
  for (let pixel = 0; pixel < data.length; pixel++) data[pixel] = Math.abs(fixed.data[pixel] - moving.data[pixel]);
  return { data, height: fixed.height, width: fixed.width };
}

/** Options for `differenceRaster`. */
export interface DifferenceOptions {
  /** Show fixed − moving with a diverging colormap centred on 0, instead of |fixed − moving| (default false). */
  signed?: boolean;
  /** Colormap (default 'viridis' for absolute, 'coolwarm' for signed differences). */
  colormap?: ColormapName;
  /** Largest difference shown at full colour (default: the largest present). */
  max?: number;
}

/** A colour picture of the difference of two equally sized gray images. */
export function differenceRaster(fixed: GrayImage, moving: GrayImage, options: DifferenceOptions = {}): Raster {
  requireSameSize(fixed, moving);
  if (!options.signed) {
    const difference = absoluteDifference(fixed, moving);
    return grayToRaster(difference, { min: 0, max: options.max ?? finiteRange(difference.data).max, colormap: options.colormap ?? 'viridis' });
  }
  const data = new Float32Array(fixed.data.length);
  for (let pixel = 0; pixel < data.length; pixel++) data[pixel] = fixed.data[pixel] - moving.data[pixel];
  const range = finiteRange(data);
  const limit = options.max ?? Math.max(Math.abs(range.min), Math.abs(range.max));
  return grayToRaster({ data, height: fixed.height, width: fixed.width }, { min: -limit, max: limit, colormap: options.colormap ?? 'coolwarm' });
}
