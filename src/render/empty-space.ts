import type { DensityGrid } from './density-grid.js';

/**
 * Empty-space skipping for the renderers: where a density grid is zero, and how far.
 *
 * The grid is cut into blocks of 2^{@link BLOCK_SHIFT} voxels per side. For each block we store
 * its Chebyshev (chessboard) distance, in blocks, to the nearest block holding a non-zero voxel
 * (0 for such a block, capped at 255): a block at distance D is the centre of a cube of
 * (2D − 1)³ blocks that are all empty, which a ray may cross in one step. Two such fields are
 * kept, because the renderers see density differently:
 *
 * - **Siddon** reads voxels: its blocks are over unpadded voxel indices (i, j, k) ∈ [0, n).
 * - **Trilinear** reads cells: a sample whose padded base index is (i, j, k) interpolates the
 *   eight padded voxels (i … i+1, j … j+1, k … k+1), so the trilinear field is non-zero up to
 *   half a voxel beyond the non-zero voxels. Its blocks are over padded cell indices [0, n] and a
 *   cell counts as occupied when any of its eight corners is non-zero (the voxel occupancy
 *   dilated by one cell towards lower indices, in padded coordinates).
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
  /** Siddon: distance of each voxel block to the nearest occupied one (i-block fastest). */
  readonly voxelDistance: Uint8Array;
  /**
   * Siddon: the box of occupied voxels as plane indices [low, high) per axis —
   * (lowI, lowJ, lowK, highI, highJ, highK); all zero when the grid has no non-zero voxel.
   */
  readonly voxelBounds: Int32Array;
  /** Trilinear: number of cell blocks along i, j, k (cells 0 … n per axis, padded indices). */
  readonly cellBlocks: readonly [number, number, number];
  /** Trilinear: distance of each cell block to the nearest occupied one. */
  readonly cellDistance: Uint8Array;
  /** Trilinear: the box of occupied cells [low, high) per axis in padded cell indices; all zero when empty. */
  readonly cellBounds: Int32Array;
  /** Whether the grid has any non-zero voxel. */
  readonly occupied: boolean;
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

/** Largest distance stored in a field (a uint8). */
const MAXIMUM_DISTANCE = 255;

function bytes(length: number, shared: boolean): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(length) : new ArrayBuffer(length));
}

function integers(length: number, shared: boolean): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(length * 4) : new ArrayBuffer(length * 4));
}

/**
 * Turns an occupancy field (0 = occupied, anything else = empty) into Chebyshev distances in
 * place: two raster passes over the 26-neighbourhood with unit weights, which is exact for the
 * chessboard metric. Blocks outside the field count as empty.
 */
export function chessboardDistance(field: Uint8Array, nx: number, ny: number, nz: number): void {
  const sx = 1, sy = nx, sz = nx * ny;
  for (let pass = 0; pass < 2; pass++) {
    const forward = pass === 0;
    for (let kk = 0; kk < nz; kk++) {
      const k = forward ? kk : nz - 1 - kk;
      for (let jj = 0; jj < ny; jj++) {
        const j = forward ? jj : ny - 1 - jj;
        for (let ii = 0; ii < nx; ii++) {
          const i = forward ? ii : nx - 1 - ii;
          const index = i * sx + j * sy + k * sz;
          let best = field[index];
          if (best === 0) continue;
          // The 13 neighbours already visited in this pass's raster order.
          const sign = forward ? -1 : 1;
          for (let c = -1; c <= 1; c++) {
            for (let b = -1; b <= 1; b++) {
              for (let a = -1; a <= 1; a++) {
                const order = c !== 0 ? c : b !== 0 ? b : a;
                if (order !== sign) continue;
                const ni = i + a, nj = j + b, nk = k + c;
                if (ni < 0 || nj < 0 || nk < 0 || ni >= nx || nj >= ny || nk >= nz) continue;
                const candidate = field[index + a * sx + b * sy + c * sz] + 1;
                if (candidate < best) best = candidate;
              }
            }
          }
          field[index] = best;
        }
      }
    }
  }
}

/**
 * Builds the empty-space structure of a density grid: block occupancy for voxels (Siddon) and
 * cells (trilinear), their Chebyshev distance fields and occupied bounding boxes. One pass over
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
  const voxelDistance = bytes(vbx * vby * vbz, shared).fill(MAXIMUM_DISTANCE);
  const cellDistance = bytes(cbx * cby * cbz, shared).fill(MAXIMUM_DISTANCE);
  const voxelBounds = integers(6, shared), cellBounds = integers(6, shared);
  let lowI = nx, lowJ = ny, lowK = nz, highI = -1, highJ = -1, highK = -1;
  const data = grid.data;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = 1 + px * (j + 1) + pxy * (k + 1);
      for (let i = 0; i < nx; i++) {
        if (data[row + i] === 0) continue;
        if (i < lowI) lowI = i;
        if (i > highI) highI = i;
        if (j < lowJ) lowJ = j;
        if (j > highJ) highJ = j;
        if (k < lowK) lowK = k;
        if (k > highK) highK = k;
        voxelDistance[(i >> shift) + vbx * ((j >> shift) + vby * (k >> shift))] = 0;
        // Padded index p = i + 1 is a corner of cells p − 1 and p.
        for (let c = k; c <= k + 1; c++) {
          for (let b = j; b <= j + 1; b++) {
            const cellRow = cbx * ((b >> shift) + cby * (c >> shift));
            cellDistance[(i >> shift) + cellRow] = 0;
            cellDistance[((i + 1) >> shift) + cellRow] = 0;
          }
        }
      }
    }
  }
  const occupied = highI >= 0;
  if (occupied) {
    voxelBounds.set([lowI, lowJ, lowK, highI + 1, highJ + 1, highK + 1]);
    // Voxel v (unpadded) is padded v + 1, a corner of cells v and v + 1.
    cellBounds.set([lowI, lowJ, lowK, highI + 2, highJ + 2, highK + 2]);
  }
  chessboardDistance(voxelDistance, vbx, vby, vbz);
  chessboardDistance(cellDistance, cbx, cby, cbz);
  return {
    blockShift: shift,
    voxelBlocks: [vbx, vby, vbz],
    voxelDistance,
    voxelBounds,
    cellBlocks: [cbx, cby, cbz],
    cellDistance,
    cellBounds,
    occupied,
  };
}
