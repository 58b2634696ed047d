/**
 * 2-D images (DRRs, X-rays): PNG and TIFF reading, 8-bit windowed PNG and exact float32 TIFF
 * writing. The encoders and `decodeImage` work on bytes in memory (browser-safe); `readImage` and
 * `writeImage` add the file system, picking the format by magic bytes when reading and by
 * extension when writing. Writes are atomic (see `writeFileAtomic` in ./files.ts). The Node.js
 * file helpers are imported only when a file function runs, so bundling this module for a browser
 * pulls in no `node:` module.
 */
import { convertIndexedToRgb, decode as decodePngBytes, encode as encodePngBytes, type DecodedPng } from 'fast-png';
import { decode as decodeTiffBytes, type TiffIfd } from 'tiff';
import { checkDeclaredImageSize } from './image-dimensions.js';
import { DrrkitError } from '../errors.js';

/** A single-channel float image, row-major: pixel (row, column) is `data[row * width + column]`. */
export interface Image2D {
  /** Pixel values, row by row. */
  data: Float32Array;
  /** Number of rows. */
  height: number;
  /** Number of columns. */
  width: number;
}

/** The intensity window mapped to 0..255 in an 8-bit PNG; a missing bound is the image's own. */
export interface PngWindowOptions {
  /** Value shown as black (0); default: the smallest finite pixel value. */
  min?: number;
  /** Value shown as white (255); default: the largest finite pixel value. */
  max?: number;
}

/** Rec. 601 luma weights for converting colour pixels to a single gray value. */
const LUMA_RED = 0.299;
const LUMA_GREEN = 0.587;
const LUMA_BLUE = 0.114;

const PLATFORM_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TIFF_LITTLE_ENDIAN_SIGNATURE = [0x49, 0x49, 0x2a, 0x00];
const TIFF_BIG_ENDIAN_SIGNATURE = [0x4d, 0x4d, 0x00, 0x2a];

/**
 * Checks that `image` has whole positive dimensions and a Float32Array of width × height values;
 * throws a DrrkitError naming `subject` (a file path, or "image") otherwise.
 */
export function validateImage(image: Image2D, subject = 'image'): Image2D {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new DrrkitError(`${subject}: image size ${width}×${height} is invalid; width and height must be whole numbers ≥ 1`, subject);
  }
  if (!(data instanceof Float32Array)) {
    throw new DrrkitError(`${subject}: image data must be a Float32Array`, subject);
  }
  if (data.length !== width * height) {
    throw new DrrkitError(`${subject}: image holds ${data.length} values but ${width}×${height} needs ${width * height}`, subject);
  }
  return image;
}

// ---------------------------------------------------------------------------------------------
// PNG

/** Smallest and largest finite value of `data`; (0, 0) when there is none. */
function finiteRange(data: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let index = 0; index < data.length; index++) {
    const value = data[index];
    if (value < min && value !== -Infinity) min = value;
    if (value > max && value !== Infinity) max = value;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 0 };
}

/**
 * Encodes an image as an 8-bit grayscale PNG, mapping [min, max] linearly onto 0..255 (values
 * outside are clamped). By default the window is the image's finite range. A constant image, an
 * empty window and NaN pixels give 0.
 */
export function encodePng(image: Image2D, options: PngWindowOptions = {}): Uint8Array {
  validateImage(image);
  const range = finiteRange(image.data);
  const min = options.min ?? range.min;
  const max = options.max ?? range.max;
  const span = max - min;
  const gray = new Uint8Array(image.data.length);
  if (Number.isFinite(span) && span > 0) {
    const scale = 255 / span;
    for (let index = 0; index < gray.length; index++) {
      const level = Math.round((image.data[index] - min) * scale);
      gray[index] = level > 255 ? 255 : level > 0 ? level : 0; // NaN → 0
    }
  }
  return encodePngBytes({ width: image.width, height: image.height, data: gray, depth: 8, channels: 1 });
}

/** Encodes 8-bit RGBA pixels (4 bytes per pixel, row-major) as a colour PNG. */
export function encodeRgbaPng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new DrrkitError(`RGBA image size ${width}×${height} is invalid; width and height must be whole numbers ≥ 1`);
  }
  if (rgba.length !== width * height * 4) {
    throw new DrrkitError(`RGBA image holds ${rgba.length} bytes but ${width}×${height} pixels need ${width * height * 4}`);
  }
  return encodePngBytes({ width, height, data: rgba, depth: 8, channels: 4 });
}

/** Unpacks 1-, 2- or 4-bit samples (rows padded to whole bytes) into one value per sample. */
function unpackSamples(packed: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const samples = new Uint8Array(width * height);
  const bytesPerRow = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const bit = column * depth;
      const byte = packed[row * bytesPerRow + (bit >> 3)];
      samples[row * width + column] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return samples;
}

/** Converts interleaved samples to one gray value per pixel (gray channel, or luma of RGB). */
function toGray(samples: ArrayLike<number>, channels: number, pixelCount: number): Float32Array {
  const gray = new Float32Array(pixelCount);
  if (channels <= 2) {
    for (let pixel = 0; pixel < pixelCount; pixel++) gray[pixel] = samples[pixel * channels];
  } else {
    for (let pixel = 0; pixel < pixelCount; pixel++) {
      const base = pixel * channels;
      gray[pixel] = LUMA_RED * samples[base] + LUMA_GREEN * samples[base + 1] + LUMA_BLUE * samples[base + 2];
    }
  }
  return gray;
}

/** Decodes a PNG to gray values in the file's own scale (0..255 or 0..65535). */
function decodePng(bytes: Uint8Array, source: string): Image2D {
  let png: DecodedPng;
  try {
    png = decodePngBytes(bytes, { checkCrc: true });
  } catch (error) {
    throw new DrrkitError(`${source}: corrupt or unsupported PNG (${error instanceof Error ? error.message : String(error)})`, source);
  }
  const { width, height } = png;
  const pixelCount = width * height;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    return { data: toGray(rgb, png.palette[0]?.length ?? 3, pixelCount), height, width };
  }
  const samples = png.depth < 8 ? unpackSamples(png.data, width * png.channels, height, png.depth) : png.data;
  return { data: toGray(samples, png.channels, pixelCount), height, width };
}

// ---------------------------------------------------------------------------------------------
// TIFF

const TIFF_TYPE_SHORT = 3;
const TIFF_TYPE_LONG = 4;
const TIFF_TYPE_RATIONAL = 5;

/** One IFD entry: tag, field type, and either an inline value or (for rationals) an offset. */
interface TiffEntry {
  tag: number;
  type: number;
  value: number;
}

/** Rounds `offset` up to a multiple of 8. */
function alignTo8(offset: number): number {
  return Math.ceil(offset / 8) * 8;
}

/**
 * Encodes images as a baseline little-endian TIFF, one page (IFD) per image: 32-bit IEEE float
 * samples (SampleFormat 3), one sample per pixel, BlackIsZero, uncompressed, one strip per page,
 * resolution 1/1 with no unit. Values are stored exactly. Readable by ImageJ, tifffile and the
 * `tiff` npm package.
 */
export function encodeFloatTiffStack(images: readonly Image2D[]): Uint8Array {
  if (images.length === 0) throw new DrrkitError('a TIFF stack needs at least one image');
  images.forEach((image, index) => validateImage(image, images.length > 1 ? `image ${index}` : 'image'));

  const entryCount = 14;
  const ifdSize = 2 + entryCount * 12 + 4;
  const rationalsSize = 16; // XResolution and YResolution, 2 × (numerator, denominator)
  // Layout: 8-byte header, then per page: IFD, resolution rationals, pixel data (8-byte aligned).
  const layout: { ifdOffset: number; rationalsOffset: number; dataOffset: number }[] = [];
  let offset = 8;
  for (const image of images) {
    const ifdOffset = offset;
    const rationalsOffset = ifdOffset + ifdSize;
    const dataOffset = alignTo8(rationalsOffset + rationalsSize);
    layout.push({ ifdOffset, rationalsOffset, dataOffset });
    offset = alignTo8(dataOffset + image.data.length * 4);
  }
  if (offset > 0xffffffff) {
    throw new DrrkitError(`the TIFF would be ${offset} bytes, over the 4 GiB limit of a baseline TIFF`);
  }

  const file = new Uint8Array(offset);
  const view = new DataView(file.buffer);
  file.set(TIFF_LITTLE_ENDIAN_SIGNATURE, 0);
  view.setUint32(4, layout[0].ifdOffset, true);
  images.forEach((image, page) => {
    const { ifdOffset, rationalsOffset, dataOffset } = layout[page];
    const byteCount = image.data.length * 4;
    const entries: TiffEntry[] = [
      { tag: 256, type: TIFF_TYPE_LONG, value: image.width }, // ImageWidth
      { tag: 257, type: TIFF_TYPE_LONG, value: image.height }, // ImageLength
      { tag: 258, type: TIFF_TYPE_SHORT, value: 32 }, // BitsPerSample
      { tag: 259, type: TIFF_TYPE_SHORT, value: 1 }, // Compression: none
      { tag: 262, type: TIFF_TYPE_SHORT, value: 1 }, // PhotometricInterpretation: BlackIsZero
      { tag: 273, type: TIFF_TYPE_LONG, value: dataOffset }, // StripOffsets
      { tag: 277, type: TIFF_TYPE_SHORT, value: 1 }, // SamplesPerPixel
      { tag: 278, type: TIFF_TYPE_LONG, value: image.height }, // RowsPerStrip
      { tag: 279, type: TIFF_TYPE_LONG, value: byteCount }, // StripByteCounts
      { tag: 282, type: TIFF_TYPE_RATIONAL, value: rationalsOffset }, // XResolution
      { tag: 283, type: TIFF_TYPE_RATIONAL, value: rationalsOffset + 8 }, // YResolution
      { tag: 284, type: TIFF_TYPE_SHORT, value: 1 }, // PlanarConfiguration: chunky
      { tag: 296, type: TIFF_TYPE_SHORT, value: 1 }, // ResolutionUnit: none
      { tag: 339, type: TIFF_TYPE_SHORT, value: 3 }, // SampleFormat: IEEE float
    ];
    view.setUint16(ifdOffset, entries.length, true);
    entries.forEach((entry, index) => {
      const at = ifdOffset + 2 + index * 12;
      view.setUint16(at, entry.tag, true);
      view.setUint16(at + 2, entry.type, true);
      view.setUint32(at + 4, 1, true); // count
      if (entry.type === TIFF_TYPE_SHORT) view.setUint16(at + 8, entry.value, true);
      else view.setUint32(at + 8, entry.value, true);
    });
    const nextIfdOffset = page + 1 < images.length ? layout[page + 1].ifdOffset : 0;
    view.setUint32(ifdOffset + 2 + entries.length * 12, nextIfdOffset, true);
    for (const rational of [rationalsOffset, rationalsOffset + 8]) {
      view.setUint32(rational, 1, true);
      view.setUint32(rational + 4, 1, true);
    }
    const pixels = new Float32Array(file.buffer, dataOffset, image.data.length);
    pixels.set(image.data);
    if (!PLATFORM_IS_LITTLE_ENDIAN) swapFloat32ByteOrder(new Uint8Array(file.buffer, dataOffset, byteCount));
  });
  return file;
}

/** Reverses the byte order of each 4-byte value in `bytes`, in place. */
function swapFloat32ByteOrder(bytes: Uint8Array): void {
  for (let index = 0; index < bytes.length; index += 4) {
    [bytes[index], bytes[index + 1], bytes[index + 2], bytes[index + 3]] = [bytes[index + 3], bytes[index + 2], bytes[index + 1], bytes[index]];
  }
}

/** Encodes one image as a single-page float32 TIFF; see {@link encodeFloatTiffStack}. */
export function encodeFloatTiff(image: Image2D): Uint8Array {
  return encodeFloatTiffStack([image]);
}

/** Decodes the first page of a TIFF (8/16-bit integer or 32/64-bit float samples) to gray values. */
function decodeTiff(bytes: Uint8Array, source: string): Image2D {
  let page: TiffIfd | undefined;
  try {
    [page] = decodeTiffBytes(bytes, { pages: [0] });
  } catch (error) {
    throw new DrrkitError(`${source}: corrupt or unsupported TIFF (${error instanceof Error ? error.message : String(error)})`, source);
  }
  if (!page) throw new DrrkitError(`${source}: the TIFF holds no image`, source);
  if (page.type === 3) {
    throw new DrrkitError(`${source}: palette-colour TIFFs are not supported; save it as grayscale`, source);
  }
  const { width, height, samplesPerPixel } = page;
  const pixelCount = width * height;
  let samples: ArrayLike<number> = page.data;
  if (page.data.length < pixelCount * samplesPerPixel) {
    throw new DrrkitError(`${source}: truncated TIFF: ${page.data.length} samples for ${width}×${height} pixels`, source);
  }
  // The tiff package returns signed integer samples (SampleFormat 2) as unsigned: reinterpret them.
  if (page.sampleFormat === 2 && page.data instanceof Uint16Array) {
    samples = new Int16Array(page.data.buffer, page.data.byteOffset, page.data.length);
  } else if (page.sampleFormat === 2 && page.data instanceof Uint8Array) {
    samples = new Int8Array(page.data.buffer, page.data.byteOffset, page.data.length);
  }
  return { data: toGray(samples, samplesPerPixel, pixelCount), height, width };
}

// ---------------------------------------------------------------------------------------------
// Bytes and files

/** True when `bytes` start with `signature`. */
function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((value, index) => bytes[index] === value);
}

/**
 * Decodes a PNG (8/16-bit gray, gray + alpha, RGB(A) or palette → Rec. 601 luma) or a TIFF
 * (first page; 8/16-bit integer or float samples), chosen by magic bytes. Values are returned
 * unscaled (PNG 0..255 or 0..65535, TIFF as stored). `source` names the file in messages.
 */
export function decodeImage(bytes: Uint8Array | ArrayBuffer, source: string): Image2D {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  checkDeclaredImageSize(data, source);
  if (startsWith(data, PNG_SIGNATURE)) return decodePng(data, source);
  if (startsWith(data, TIFF_LITTLE_ENDIAN_SIGNATURE) || startsWith(data, TIFF_BIG_ENDIAN_SIGNATURE)) return decodeTiff(data, source);
  const start = Array.from(data.subarray(0, 4), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
  throw new DrrkitError(`${source}: not a PNG or TIFF image (it starts with bytes ${start || '(none: the file is empty)'})`, source);
}

/** Reads a PNG or TIFF file; see {@link decodeImage}. */
export async function readImage(path: string): Promise<Image2D> {
  const { readFileBytes } = await import('./files.js');
  const bytes = await readFileBytes(path, 'image');
  return decodeImage(bytes, path);
}

/** The lower-case extension of the last path component, with its dot ("" if none). */
function fileExtension(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** The image formats `writeImage` knows, by lower-case extension. */
const IMAGE_EXTENSIONS = ['.png', '.tif', '.tiff'] as const;

/** An extension `writeImage` accepts. */
export type ImageExtension = (typeof IMAGE_EXTENSIONS)[number];

/**
 * Returns the (lower-case) extension of `path` if `writeImage` can write it (.png, .tif, .tiff);
 * otherwise throws a DrrkitError naming the path and the accepted extensions. Lets a command
 * reject a bad output name before doing any work.
 */
export function checkImageExtension(path: string): ImageExtension {
  const extension = fileExtension(path);
  const known = IMAGE_EXTENSIONS.find((candidate) => candidate === extension);
  if (!known) {
    const shown = extension ? `"${extension}"` : '(none)';
    throw new DrrkitError(
      `${path}: unknown image extension ${shown}; use .png (8-bit, windowed) or .tif/.tiff (float32, exact)`,
      path,
    );
  }
  return known;
}

/**
 * Writes an image atomically, in the format the extension names: `.png` → 8-bit grayscale,
 * windowed by `options` (see {@link encodePng}); `.tif`/`.tiff` → float32, exact. Any other
 * extension throws a DrrkitError naming the path and the accepted extensions.
 */
export async function writeImage(path: string, image: Image2D, options: PngWindowOptions = {}): Promise<void> {
  const extension = checkImageExtension(path);
  validateImage(image, path);
  const bytes = extension === '.png' ? encodePng(image, options) : encodeFloatTiff(image);
  const { writeFileAtomic } = await import('./files.js');
  await writeFileAtomic(path, bytes);
}
