import type { DensityGrid } from './density-grid.js';

/**
 * Empty-space skipping for the renderers: where a density grid is zero, and how far.
 *
 * The grid is cut into blocks of 2^{@link BLOCK_SHIFT} voxels per side. For each block and each
 * of the eight ray directions (octants: the signs of the ray's x, y, z components) we store the
 * size D, in blocks, of the largest cube of empty blocks that has this block as its corner and
 * extends in that direction (0 for a block holding a non-zero value, capped at 255): a ray in
 * that block, moving in that octant, stays in the cube until it leaves by one of the cube's
 * three forward faces, so it may cross the whole cube in one step. Two such fields are kept,
 * because the renderers see density differently:
 *
 * - **Siddon** reads voxels: its blocks are over unpadded voxel indices (i, j, k) ∈ [0, n).
 * - **Trilinear** reads cells: a sample whose padded base index is (i, j, k) interpolates the
 *   eight padded voxels (i … i+1, j … j+1, k … k+1), so the trilinear field is non-zero up to
 *   half a voxel beyond the non-zero voxels. Its blocks are over padded cell indices [0, n] and a
 *   cell counts as occupied when any of its eight corners is non-zero (the voxel occupancy
 *   dilated by one cell, in padded coordinates).
 *
 * Both also record the bounding box of the occupied voxels / cells, to which every ray is
 * clipped first. Densities are "empty" only when exactly 0 (negative densities count as
 * occupied), so skipping never changes a rendered value: see the kernels for why the images and
 * ray gradients are bit-identical with and without it.
 */
export interface EmptySpace {
  /** log2 of the block side in voxels. */
  readonly blockShift: number;
  /** Siddon: number of voxel blocks along i, j, k. */
  readonly voxelBlocks: readonly [number, number, number];
  /**
   * Siddon: the empty-cube size of every block for every octant: octant o (bit 0: x component
   * > 0, bit 1: y > 0, bit 2: z > 0) holds block (bi, bj, bk) at o·B + bi + bx·(bj + by·bk),
   * B the number of blocks.
   */
  readonly voxelCubes: Uint8Array;
  /**
   * Siddon: the box of occupied voxels as plane indices [low, high) per axis —
   * (lowI, lowJ, lowK, highI, highJ, highK); all zero when the grid has no non-zero voxel.
   */
  readonly voxelBounds: Int32Array;
  /** Trilinear: number of cell blocks along i, j, k (cells 0 … n per axis, padded indices). */
  readonly cellBlocks: readonly [number, number, number];
  /** Trilinear: the empty-cube size of every cell block for every octant, laid out as `voxelCubes`. */
  readonly cellCubes: Uint8Array;
  /** Trilinear: the box of occupied cells [low, high) per axis in padded cell indices; all zero when empty. */
  readonly cellBounds: Int32Array;
  /** Whether the grid has any non-zero voxel. */
  readonly occupied: boolean;
}

/** The octant of a direction (x, y, z): bit 0 set when x > 0, bit 1 when y > 0, bit 2 when z > 0. */
export function octantOf(x: number, y: number, z: number): number {
  return (x > 0 ? 1 : 0) | (y > 0 ? 2 : 0) | (z > 0 ? 4 : 0);
}

/** log2 of the side of an empty-space block: 4³-voxel blocks (measured best of 2, 4, 8 on chest CTs). */
export const BLOCK_SHIFT = 2;

/** Options for {@link buildEmptySpace}. */
export interface EmptySpaceOptions {
  /** Put the fields in SharedArrayBuffers (for worker threads). Default false. */
  shared?: boolean;
  /** log2 of the block side (default {@link BLOCK_SHIFT}). */
  blockShift?: number;
}

/** Largest cube size stored in a field (a uint8); larger cubes are stored as this. */
const LARGEST_CUBE = 255;

function bytes(length: number, shared: boolean): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(length) : new ArrayBuffer(length));
}

function integers(length: number, shared: boolean): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(length * 4) : new ArrayBuffer(length * 4));
}

/**
 * Fills the eight octant fields from an occupancy field (0 = occupied, anything else = empty):
 * for octant (sx, sy, sz) the size of the largest empty cube with corner at a block and
 * extending in that direction is 0 for an occupied block and otherwise 1 + the smallest size of
 * its seven neighbours in that direction (one pass against the direction; blocks outside count
 * as empty with the largest size). Returns the fields, octant after octant.
 */
export function octantCubeSizes(occupancy: Uint8Array, nx: number, ny: number, nz: number, shared = false): Uint8Array {
  const count = nx * ny * nz;
  const fields = bytes(8 * count, shared);
  for (let octant = 0; octant < 8; octant++) {
    const sx = octant & 1 ? 1 : -1, sy = octant & 2 ? 1 : -1, sz = octant & 4 ? 1 : -1;
    const field = fields.subarray(octant * count, (octant + 1) * count);
    for (let kk = 0; kk < nz; kk++) {
      const k = sz > 0 ? nz - 1 - kk : kk;
      const k1 = k + sz, kInside = k1 >= 0 && k1 < nz;
      for (let jj = 0; jj < ny; jj++) {
        const j = sy > 0 ? ny - 1 - jj : jj;
        const j1 = j + sy, jInside = j1 >= 0 && j1 < ny;
        for (let ii = 0; ii < nx; ii++) {
          const i = sx > 0 ? nx - 1 - ii : ii;
          const index = i + nx * (j + ny * k);
          if (occupancy[index] === 0) { field[index] = 0; continue; }
          const i1 = i + sx, iInside = i1 >= 0 && i1 < nx;
          let smallest = LARGEST_CUBE;
          const di = sx, dj = sy * nx, dk = sz * nx * ny;
          if (iInside) { const v = field[index + di]; if (v < smallest) smallest = v; }
          if (jInside) { const v = field[index + dj]; if (v < smallest) smallest = v; }
          if (kInside) { const v = field[index + dk]; if (v < smallest) smallest = v; }
          if (iInside && jInside) { const v = field[index + di + dj]; if (v < smallest) smallest = v; }
          if (iInside && kInside) { const v = field[index + di + dk]; if (v < smallest) smallest = v; }
          if (jInside && kInside) { const v = field[index + dj + dk]; if (v < smallest) smallest = v; }
          if (iInside && jInside && kInside) { const v = field[index + di + dj + dk]; if (v < smallest) smallest = v; }
          field[index] = smallest < LARGEST_CUBE ? smallest + 1 : LARGEST_CUBE;
        }
      }
    }
  }
  return fields;
}

/**
 * Builds the empty-space structure of a density grid: block occupancy for voxels (Siddon) and
 * cells (trilinear), their octant empty-cube fields and occupied bounding boxes. One pass over
 * the voxels plus work proportional to the number of blocks.
 */
export function buildEmptySpace(grid: DensityGrid, options: EmptySpaceOptions = {}): EmptySpace {
  const shift = options.blockShift ?? BLOCK_SHIFT;
  const shared = options.shared ?? false;
  const [nx, ny, nz] = grid.shape;
  const px = nx + 2, pxy = px * (ny + 2);
  const side = 1 << shift;
  const vbx = Math.ceil(nx / side), vby = Math.ceil(ny / side), vbz = Math.ceil(nz / side);
  const cbx = Math.ceil((nx + 1) / side), cby = Math.ceil((ny + 1) / side), cbz = Math.ceil((nz + 1) / side);
  const voxelOccupancy = new Uint8Array(vbx * vby * vbz).fill(1);
  const cellOccupancy = new Uint8Array(cbx * cby * cbz).fill(1);
  const voxelBounds = integers(6, shared), cellBounds = integers(6, shared);
  let lowI = nx, lowJ = ny, lowK = nz, highI = -1, highJ = -1, highK = -1;
  const data = grid.data;
  // Per row of voxels: which voxel blocks and which cell blocks (along i) it touches.
  const rowVoxelBlocks = new Uint8Array(vbx), rowCellBlocks = new Uint8Array(cbx);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = 1 + px * (j + 1) + pxy * (k + 1);
      let first = -1, last = -1;
      for (let i = 0; i < nx; i++) {
        if (data[row + i] === 0) continue;
        if (first < 0) first = i;
        last = i;
        rowVoxelBlocks[i >> shift] = 1;
        // Unpadded voxel i is padded i + 1, a corner of cells i and i + 1.
        rowCellBlocks[i >> shift] = 1;
        rowCellBlocks[(i + 1) >> shift] = 1;
      }
      if (first < 0) continue;
      if (first < lowI) lowI = first;
      if (last > highI) highI = last;
      if (j < lowJ) lowJ = j;
      if (j > highJ) highJ = j;
      if (k < lowK) lowK = k;
      if (k > highK) highK = k;
      const voxelRow = vbx * ((j >> shift) + vby * (k >> shift));
      for (let block = first >> shift; block <= last >> shift; block++) {
        if (rowVoxelBlocks[block] !== 0) { voxelOccupancy[voxelRow + block] = 0; rowVoxelBlocks[block] = 0; }
      }
      const cellRows = [cbx * ((j >> shift) + cby * (k >> shift)), cbx * (((j + 1) >> shift) + cby * (k >> shift)),
        cbx * ((j >> shift) + cby * ((k + 1) >> shift)), cbx * (((j + 1) >> shift) + cby * ((k + 1) >> shift))];
      for (let block = first >> shift; block <= (last + 1) >> shift; block++) {
        if (rowCellBlocks[block] === 0) continue;
        rowCellBlocks[block] = 0;
        for (const cellRow of cellRows) cellOccupancy[cellRow + block] = 0;
      }
    }
  }
  const occupied = highI >= 0;
  if (occupied) {
    voxelBounds.set([lowI, lowJ, lowK, highI + 1, highJ + 1, highK + 1]);
    // Voxel v (unpadded) is padded v + 1, a corner of cells v and v + 1.
    cellBounds.set([lowI, lowJ, lowK, highI + 2, highJ + 2, highK + 2]);
  }
  return {
    blockShift: shift,
    voxelBlocks: [vbx, vby, vbz],
    voxelCubes: octantCubeSizes(voxelOccupancy, vbx, vby, vbz, shared),
    voxelBounds,
    cellBlocks: [cbx, cby, cbz],
    cellCubes: octantCubeSizes(cellOccupancy, cbx, cby, cbz, shared),
    cellBounds,
    occupied,
  };
}
