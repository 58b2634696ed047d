import { DrrkitError } from '../errors.js';
import type { Volume } from '../volume/volume.js';
import type { CompactDensities } from './compact-density.js';

/**
 * The renderers' view of a volume: densities on a regular, axis-aligned grid in world mm.
 *
 * Voxel (i, j, k) is the box origin + [i·dx, (i+1)·dx] × [j·dy, (j+1)·dy] × [k·dz, (k+1)·dz].
 * The data is stored with one voxel of zeros on every side (so trilinear interpolation needs no
 * bounds checks): voxel (i, j, k) lives at `data[(i+1) + px·((j+1) + py·(k+1))]` with
 * px = nx + 2, py = ny + 2. The backing buffer may be a SharedArrayBuffer so that worker
 * threads read it without copies.
 */
export interface DensityGrid {
  /** Densities, padded by one zero voxel on each side, i fastest. */
  readonly data: Float32Array;
  /** Unpadded grid size (nx, ny, nz). */
  readonly shape: readonly [number, number, number];
  /** Voxel size in mm. */
  readonly spacing: readonly [number, number, number];
  /** World position (mm) of the outer corner of voxel (0, 0, 0). */
  readonly origin: readonly [number, number, number];
  /**
   * The same densities in 8/16-bit storage (src/render/compact-density.ts), read instead of
   * `data` by the kernels that support it (Joseph); absent or null: they read `data`.
   */
  readonly compact?: CompactDensities | null;
}

/** Options for {@link seedDensityGrid}. */
export interface DensityGridOptions {
  /** Use a SharedArrayBuffer for the data (for worker threads). Default false. */
  shared?: boolean;
}

/** Index of voxel (i, j, k) in a grid's padded data array. */
export function paddedIndex(grid: DensityGrid, i: number, j: number, k: number): number {
  const px = grid.shape[0] + 2, py = grid.shape[1] + 2;
  return i + 1 + px * (j + 1 + py * (k + 1));
}

/**
 * A density grid in the seed (DiffDRR v0.3) world frame: the volume's first axis is flipped
 * (voxel i of the grid is voxel nx−1−i of the file) and the grid fills the positive octant
 * [0, nx·dx] × [0, ny·dy] × [0, nz·dz]. `densities` holds one value per voxel of `volume`, in
 * the volume's own order (for example from `hounsfieldToDensity`).
 */
export function seedDensityGrid(volume: Volume, densities: Float32Array, options: DensityGridOptions = {}): DensityGrid {
  const [nx, ny, nz] = volume.shape;
  if (densities.length !== nx * ny * nz) {
    throw new DrrkitError(`${volume.source}: ${densities.length} densities given for ${nx * ny * nz} voxels`, volume.source);
  }
  const px = nx + 2, py = ny + 2, pz = nz + 2;
  const count = px * py * pz;
  const buffer = options.shared ? new SharedArrayBuffer(count * 4) : new ArrayBuffer(count * 4);
  const data = new Float32Array(buffer);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const sourceRow = nx * (j + ny * k);
      const targetRow = px * (j + 1 + py * (k + 1)) + 1;
      for (let i = 0; i < nx; i++) data[targetRow + i] = densities[sourceRow + nx - 1 - i];
    }
  }
  return { data, shape: [nx, ny, nz], spacing: [volume.spacing[0], volume.spacing[1], volume.spacing[2]], origin: [0, 0, 0] };
}

/** Builds a grid directly from unpadded densities in grid order (i fastest), origin and spacing. */
export function densityGridFromArray(
  densities: Float32Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  origin: readonly [number, number, number] = [0, 0, 0],
  options: DensityGridOptions = {},
): DensityGrid {
  const [nx, ny, nz] = shape;
  if (densities.length !== nx * ny * nz) throw new DrrkitError(`density grid: ${densities.length} values for ${nx}×${ny}×${nz} voxels`);
  const px = nx + 2, py = ny + 2, pz = nz + 2;
  const count = px * py * pz;
  const data = new Float32Array(options.shared ? new SharedArrayBuffer(count * 4) : new ArrayBuffer(count * 4));
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      data.set(densities.subarray(nx * (j + ny * k), nx * (j + ny * k) + nx), px * (j + 1 + py * (k + 1)) + 1);
    }
  }
  return { data, shape: [nx, ny, nz], spacing: [spacing[0], spacing[1], spacing[2]], origin: [origin[0], origin[1], origin[2]] };
}
