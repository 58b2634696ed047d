/**
 * Resource limits of the readers: how big a file, a volume, an image or a decompressed stream may
 * be before drrkit refuses it with a clear message instead of exhausting memory. Each limit has a
 * default that fits ordinary CTs and X-rays with room to spare, and an environment variable that
 * raises (or lowers) it for one run:
 *
 * - `DRRKIT_MAX_FILE_MB` — largest input file (default 2048 MiB);
 * - `DRRKIT_MAX_VOXELS` — most voxels in a volume (default 2^29 ≈ 537 million, 2 GiB as float32);
 * - `DRRKIT_MAX_IMAGE_PIXELS` — most pixels in a 2-D image or a detector (default 64 million);
 * - `DRRKIT_ALLOW_EXTERNAL_DATA=1` — let NRRD/MetaImage headers name data files outside their folder.
 */

/** A positive number from the environment, or `fallback`. */
function environmentNumber(name: string, fallback: number): number {
  const text = typeof process !== 'undefined' ? process.env?.[name] : undefined;
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The limits in force (read from the environment on each call, so tests may change them). */
export interface ReaderLimits {
  /** Largest file read, in bytes. */
  maxFileBytes: number;
  /** Most voxels in one volume. */
  maxVoxels: number;
  /** Most pixels in one 2-D image (width × height), also the largest detector. */
  maxImagePixels: number;
  /** Whether detached data files may lie outside the header's folder. */
  allowExternalDataFiles: boolean;
}

/** Overrides set by the program (the CLI's `--allow-external-data`). */
const overrides: Partial<ReaderLimits> = {};

/** Changes limits for the rest of the process (used by the CLI flags); undefined entries are left alone. */
export function setReaderLimits(changes: Partial<ReaderLimits>): void {
  for (const [key, value] of Object.entries(changes)) if (value !== undefined) (overrides as Record<string, unknown>)[key] = value;
}

/** The reader limits now in force: program overrides, then environment variables, then defaults. */
export function readerLimits(): ReaderLimits {
  return {
    maxFileBytes: overrides.maxFileBytes ?? environmentNumber('DRRKIT_MAX_FILE_MB', 2048) * 1024 * 1024,
    maxVoxels: overrides.maxVoxels ?? environmentNumber('DRRKIT_MAX_VOXELS', 2 ** 29),
    maxImagePixels: overrides.maxImagePixels ?? environmentNumber('DRRKIT_MAX_IMAGE_PIXELS', 64 * 1024 * 1024),
    allowExternalDataFiles: overrides.allowExternalDataFiles ?? (typeof process !== 'undefined' && process.env?.DRRKIT_ALLOW_EXTERNAL_DATA === '1'),
  };
}

/** Throws unless a volume of `shape` is within the voxel limit; `source` names the file. */
export function checkVoxelCount(shape: readonly number[], source: string, fail: (message: string) => never): void {
  const count = shape.reduce((product, size) => product * size, 1);
  const { maxVoxels } = readerLimits();
  if (!(count <= maxVoxels)) {
    fail(`${source}: the header describes ${shape.join('×')} = ${count.toExponential(3)} voxels, more than the limit of ${maxVoxels} (set DRRKIT_MAX_VOXELS to raise it)`);
  }
}

/** Throws unless an image of `height` × `width` (× `frames`) pixels is within the pixel limit. */
export function checkImagePixels(height: number, width: number, source: string, fail: (message: string) => never, what = 'image'): void {
  const { maxImagePixels } = readerLimits();
  const count = height * width;
  if (!(Number.isFinite(count) && count <= maxImagePixels)) {
    fail(`${source}: the ${what} is ${height}×${width} pixels, more than the limit of ${maxImagePixels} pixels (set DRRKIT_MAX_IMAGE_PIXELS to raise it)`);
  }
}
