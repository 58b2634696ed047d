import { DrrkitError } from '../errors.js';
import type { DensityGrid } from './density-grid.js';

/**
 * Compact density storage: a grid's densities as 8- or 16-bit integers q with a scale s and a
 * zero level q₀, density = s·(q − q₀), in the same padded layout as the float32 data (the
 * padding holds q₀). Reading a quarter or half of the bytes per voxel matters because rendering
 * a large CT is limited by the memory system, not by arithmetic.
 *
 * The zero density is always stored exactly (as q₀), so empty-space skipping, which is decided
 * on the float32 data, skips exactly the samples that are zero in the compact data too.
 */
export interface CompactDensities {
  /** Quantised densities, padded like {@link DensityGrid.data}. */
  readonly data: Uint8Array | Uint16Array;
  /** Density per integer step, s. */
  readonly scale: number;
  /** The integer that stands for density 0 (the padding's value), q₀. */
  readonly zero: number;
  /**
   * The largest difference between a stored density s·(q − q₀) rounded to float32 and the
   * float32 density it replaces, over every voxel (0 when the storage is exact).
   */
  readonly maximumError: number;
}

/** How a density grid is stored for the kernels that read compact data. */
export type DensityStorage = 'auto' | 'float32' | 'uint16' | 'uint8';

/** All storage names, for validation and help texts. */
export const DENSITY_STORAGES: readonly DensityStorage[] = ['auto', 'float32', 'uint16', 'uint8'];

/**
 * The default error bound of 'auto' storage for densities that no 8- or 16-bit grid holds
 * exactly: a stored density may differ from its float32 value by at most this fraction of the
 * largest |density|. (16-bit storage of a density range R errs by at most R/131068 ≈ 7.6e-6·R.)
 */
export const DEFAULT_STORAGE_TOLERANCE = 1e-5;

/** Options for {@link compactDensities}. */
export interface CompactDensityOptions {
  /**
   * 'auto' (default): 8-bit when exact, else 16-bit when exact or within `tolerance`, else none
   * (float32). 'uint8' / 'uint16': that width whatever the error (the error is reported).
   * 'float32': none.
   */
  storage?: DensityStorage;
  /** The 'auto' error bound, a fraction of the largest |density| (default {@link DEFAULT_STORAGE_TOLERANCE}). */
  tolerance?: number;
  /** Put the integers in a SharedArrayBuffer (for worker threads). Default false. */
  shared?: boolean;
}

/** Checks a storage name from user input. */
export function parseDensityStorage(name: string): DensityStorage {
  if ((DENSITY_STORAGES as readonly string[]).includes(name)) return name as DensityStorage;
  throw new DrrkitError(`unknown density storage "${name}"; use one of ${DENSITY_STORAGES.join(', ')}`, 'storage');
}

/** Most distinct values an exact grid can have (16 bits). */
const MOST_LEVELS = 65536;

/**
 * The distinct values of `data` sorted ascending, or null when there are more than
 * {@link MOST_LEVELS} (an open-addressing hash of the float32 bit patterns; no per-voxel allocation).
 */
function distinctValues(data: Float32Array): Float64Array | null {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const capacity = 1 << 18, mask = capacity - 1;
  const table = new Uint32Array(capacity);
  const used = new Uint8Array(capacity);
  let count = 0, previous = -1;
  for (let index = 0; index < bits.length; index++) {
    const value = bits[index];
    if (value === previous) continue;
    previous = value;
    let slot = Math.imul(value, 0x9e3779b1) >>> 14;
    for (;;) {
      if (used[slot] === 0) {
        used[slot] = 1; table[slot] = value;
        if (++count > MOST_LEVELS) return null;
        break;
      }
      if (table[slot] === value) break;
      slot = (slot + 1) & mask;
    }
  }
  const values = new Float64Array(count);
  const view = new Float32Array(table.buffer);
  let filled = 0;
  for (let slot = 0; slot < capacity; slot++) if (used[slot] !== 0) values[filled++] = view[slot];
  return values.sort();
}

/** Whether every value is s·(q − q₀) rounded to float32 for integers q ∈ [0, levels). */
function exactFor(values: Float64Array, scale: number, zero: number, levels: number): boolean {
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    const q = Math.round(value / scale) + zero;
    if (q < 0 || q >= levels || Math.fround(scale * (q - zero)) !== value) return false;
  }
  return true;
}

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** The float32 neighbour of the float32 value `value` towards +∞ (`up`) or −∞. */
function neighbour(value: number, up: boolean): number {
  if (value === 0) return up ? 1.401298464324817e-45 : -1.401298464324817e-45;
  float32[0] = value;
  float32Bits[0] += (value > 0) === up ? 1 : -1;
  return float32[0];
}

/**
 * An exact integer code for the sorted distinct `values` (which include 0) in `levels` levels,
 * or null. A first step estimate (the smallest gap between neighbours, refined over the whole
 * range) assigns each value its integer n = q − q₀; then every value v confines the step to the
 * interval of steps s for which n·s rounds to v in float32 (half-way to each float32
 * neighbour), and the step is taken from the middle of the intersection of those intervals —
 * so data made as float32(n·c) for a constant c is recognised whatever c's rounding was.
 */
function exactCode(values: Float64Array, levels: number): { scale: number; zero: number } | null {
  const minimum = values[0], maximum = values[values.length - 1];
  if (values.length === 1) return { scale: 1, zero: 0 };
  let gap = Infinity;
  for (let index = 1; index < values.length; index++) {
    const difference = values[index] - values[index - 1];
    if (difference > 0 && difference < gap) gap = difference;
  }
  const steps = Math.round((maximum - minimum) / gap);
  if (!(steps < levels)) return null;
  const estimate = (maximum - minimum) / steps;
  let low = 0, high = Infinity;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    const n = Math.round(value / estimate);
    if (n === 0) { if (value !== 0) return null; continue; }
    const a = (value + neighbour(value, false)) / 2 / n, b = (value + neighbour(value, true)) / 2 / n;
    const lower = a < b ? a : b, upper = a < b ? b : a;
    if (lower > low) low = lower;
    if (upper < high) high = upper;
  }
  if (!(low <= high)) return null;
  for (const scale of [(low + high) / 2, estimate, gap]) {
    const zero = Math.round(-minimum / scale) || 0;
    if (exactFor(values, scale, zero, levels)) return { scale, zero };
  }
  return null;
}

/**
 * Quantises a padded float32 grid into `levels` integer levels with `scale` and `zero`, and
 * returns the integers and the largest error.
 */
function quantize(data: Float32Array, levels: number, scale: number, zero: number, shared: boolean): { data: Uint8Array | Uint16Array; maximumError: number } {
  const bytes = levels <= 256 ? 1 : 2;
  const buffer = shared ? new SharedArrayBuffer(data.length * bytes) : new ArrayBuffer(data.length * bytes);
  const out = bytes === 1 ? new Uint8Array(buffer) : new Uint16Array(buffer);
  const inverse = 1 / scale, top = levels - 1;
  let maximumError = 0, previous = NaN, previousCode = zero;
  for (let index = 0; index < data.length; index++) {
    const value = data[index];
    if (value === previous) { out[index] = previousCode; continue; }
    let q = Math.round(value * inverse) + zero;
    if (q < 0) q = 0; else if (q > top) q = top;
    const error = Math.abs(Math.fround(scale * (q - zero)) - value);
    if (error > maximumError) maximumError = error;
    out[index] = q;
    previous = value; previousCode = q;
  }
  return { data: out, maximumError };
}

/**
 * Chooses and builds compact storage for a density grid (see {@link CompactDensities}), or
 * returns null when the grid stays float32: for 'float32', and for 'auto' when the densities
 * are not finite or no 8/16-bit code stays within the tolerance. 'auto' tries, in order: an
 * exact 8-bit code (e.g. a CT stored as bytes: densities v/255), an exact 16-bit code, and a
 * 16-bit code over the density range whose error is at most `tolerance`·max|density|.
 */
export function compactDensities(grid: DensityGrid, options: CompactDensityOptions = {}): CompactDensities | null {
  const storage = options.storage ?? 'auto';
  if (!(DENSITY_STORAGES as readonly string[]).includes(storage)) parseDensityStorage(String(storage));
  if (storage === 'float32') return null;
  const tolerance = options.tolerance ?? DEFAULT_STORAGE_TOLERANCE;
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) throw new DrrkitError(`density storage tolerance must be a finite number ≥ 0, got ${tolerance}`, 'storage');
  const shared = options.shared ?? false;
  const data = grid.data;
  let minimum = 0, maximum = 0;
  for (let index = 0; index < data.length; index++) {
    const value = data[index];
    if (value < minimum) minimum = value;
    else if (value > maximum) maximum = value;
    else if (value !== value) minimum = NaN;
  }
  if (!Number.isFinite(minimum) || !Number.isFinite(maximum)) {
    if (storage === 'auto') return null;
    throw new DrrkitError(`density storage ${storage}: the densities are not all finite`, 'storage');
  }
  const widths = storage === 'uint8' ? [256] : storage === 'uint16' ? [65536] : [256, 65536];
  const values = distinctValues(data);
  if (values !== null) {
    for (const levels of widths) {
      const code = exactCode(values, levels);
      if (code !== null) {
        const { data: integers } = quantize(data, levels, code.scale, code.zero, shared);
        return { data: integers, scale: code.scale, zero: code.zero, maximumError: 0 };
      }
    }
  }
  // No exact code: spread the range over the levels, with 0 on a level of its own.
  const levels = widths[widths.length - 1];
  const scale = maximum > minimum ? (maximum - minimum) / (levels - 2) : 1;
  const zero = Math.round(-minimum / scale) || 0;
  const result = quantize(data, levels, scale, zero, shared);
  const largest = Math.max(-minimum, maximum);
  if (storage === 'auto' && result.maximumError > tolerance * largest) return null;
  return { data: result.data, scale, zero, maximumError: result.maximumError };
}

/**
 * The grid with compact storage attached (see {@link compactDensities}); the grid itself when
 * the choice is float32. The float32 data stays: other renderers and the empty-space fields read it.
 */
export function withCompactStorage(grid: DensityGrid, options: CompactDensityOptions = {}): DensityGrid {
  const compact = compactDensities(grid, options);
  return compact === null ? grid : { ...grid, compact };
}
