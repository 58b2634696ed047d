import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import { octantOf, type EmptySpace } from './empty-space.js';
import { clipRayToBox } from './ray-clip.js';

/** How densely the trilinear renderer samples each ray. */
export interface TrilinearSampling {
  /** Fixed number of samples between the ray's entry and exit (takes precedence). */
  samplesPerRay?: number;
  /** Target distance between samples in mm (default: half the smallest voxel spacing). */
  stepMm?: number;
}

/** The sample spacing used when neither samplesPerRay nor stepMm is given: half the smallest voxel size. */
export function defaultTrilinearStep(grid: DensityGrid): number {
  return 0.5 * Math.min(grid.spacing[0], grid.spacing[1], grid.spacing[2]);
}

/**
 * Samples are skipped only when they lie inside an empty region by at least this much α (a
 * millionth of a micrometre per mm of ray), far beyond the rounding of a sample's position.
 */
const SKIP_MARGIN = 1e-9;

/**
 * Empty-space skipping for the trilinear kernels. The sample positions (entry, exit, count and
 * step) never depend on it: it only decides which samples need not be computed, namely those
 * whose eight interpolation corners are all zero. Such a sample adds exactly +0 to the sum and
 * ±0 to the gradient sums (which start at +0 and so stay unchanged), so images and ray
 * gradients are bit-identical with and without skipping. A sample is skipped only when the
 * sample's exact position lies inside the occupied-cell box's complement or inside a cube of
 * empty cell blocks by {@link SKIP_MARGIN}, so rounding can never put a skipped sample in an
 * occupied cell.
 */
class SampleSkipper {
  readonly cubes: Uint8Array;
  readonly shift: number;
  readonly blocksX: number; readonly blocksXY: number;
  readonly occupied: boolean;
  readonly ax: number; readonly ay: number; readonly az: number;
  readonly dx: number; readonly dy: number; readonly dz: number;
  /** World coordinate of padded cell plane 0 (the centre of padded voxel 0): o − d/2. */
  readonly cellX: number; readonly cellY: number; readonly cellZ: number;
  /** The occupied cells' box in world mm. */
  readonly lowX: number; readonly lowY: number; readonly lowZ: number;
  readonly highX: number; readonly highY: number; readonly highZ: number;
  readonly range = new Float64Array(2);
  /** Number of cell blocks (the length of one octant's field). */
  readonly blockCount: number;
  /** First sample to compute and one past the last, and the offset of the ray's octant field, set by {@link clip}. */
  first = 0;
  last = 0;
  fieldOffset = 0;

  constructor(grid: DensityGrid, rays: RayGrid, emptySpace: EmptySpace) {
    this.cubes = emptySpace.cellCubes;
    this.shift = emptySpace.blockShift;
    this.blocksX = emptySpace.cellBlocks[0];
    this.blocksXY = emptySpace.cellBlocks[0] * emptySpace.cellBlocks[1];
    this.occupied = emptySpace.occupied;
    this.blockCount = emptySpace.cellBlocks[0] * emptySpace.cellBlocks[1] * emptySpace.cellBlocks[2];
    [this.ax, this.ay, this.az] = [rays.source[0], rays.source[1], rays.source[2]];
    [this.dx, this.dy, this.dz] = grid.spacing;
    this.cellX = grid.origin[0] - 0.5 * this.dx;
    this.cellY = grid.origin[1] - 0.5 * this.dy;
    this.cellZ = grid.origin[2] - 0.5 * this.dz;
    const bounds = emptySpace.cellBounds;
    this.lowX = this.cellX + bounds[0] * this.dx; this.highX = this.cellX + bounds[3] * this.dx;
    this.lowY = this.cellY + bounds[1] * this.dy; this.highY = this.cellY + bounds[4] * this.dy;
    this.lowZ = this.cellZ + bounds[2] * this.dz; this.highZ = this.cellZ + bounds[5] * this.dz;
  }

  /**
   * The current ray, written by the kernel before {@link clip}: b (x, y, z), entry α and step h.
   * (A typed array, because V8 boxes doubles passed to calls it does not inline.)
   */
  readonly ray = new Float64Array(5);

  /** Sets [first, last): the samples of the current ray (of `count` samples) that may meet occupied cells. */
  clip(count: number): void {
    this.first = 0; this.last = 0;
    if (!this.occupied) return;
    const ray = this.ray, range = this.range;
    const entry = ray[3], h = ray[4];
    this.fieldOffset = octantOf(ray[0], ray[1], ray[2]) * this.blockCount;
    if (!clipRayToBox(this.ax, this.ay, this.az, ray[0], ray[1], ray[2], this.lowX, this.lowY, this.lowZ, this.highX, this.highY, this.highZ, range)) return;
    const first = Math.ceil((range[0] - SKIP_MARGIN - entry) / h - 0.5);
    const last = Math.floor((range[1] + SKIP_MARGIN - entry) / h - 0.5) + 1;
    this.first = first > 0 ? first : 0;
    this.last = last < count ? last : count;
  }

  /**
   * The next sample to compute after `sample`, whose padded cell (i, j, k) lies in an empty
   * block: the first one not inside, by the margin, the largest empty cube of blocks that has
   * this block as its corner and extends in the ray's octant.
   */
  next(sample: number, i: number, j: number, k: number): number {
    const ray = this.ray;
    const bx = ray[0], by = ray[1], bz = ray[2], entry = ray[3], h = ray[4];
    const shift = this.shift;
    const blockI = i >> shift, blockJ = j >> shift, blockK = k >> shift;
    const size = this.cubes[this.fieldOffset + blockI + this.blocksX * blockJ + this.blocksXY * blockK];
    const planeX = bx > 0 ? (blockI + size) << shift : (blockI - size + 1) << shift;
    const planeY = by > 0 ? (blockJ + size) << shift : (blockJ - size + 1) << shift;
    const planeZ = bz > 0 ? (blockK + size) << shift : (blockK - size + 1) << shift;
    let leave = Infinity;
    if (bx !== 0) { const t = (this.cellX + planeX * this.dx - this.ax) / bx; if (t < leave) leave = t; }
    if (by !== 0) { const t = (this.cellY + planeY * this.dy - this.ay) / by; if (t < leave) leave = t; }
    if (bz !== 0) { const t = (this.cellZ + planeZ * this.dz - this.az) / bz; if (t < leave) leave = t; }
    const after = Math.ceil((leave - SKIP_MARGIN - entry) / h - 0.5);
    return after > sample + 1 ? after : sample + 1;
  }
}

/**
 * Trilinear DRR: the density field is the trilinear interpolation of voxel values placed at
 * voxel centres (zero outside the volume), integrated along each ray by the midpoint rule.
 * Each ray is clipped to the support of that field (the volume's box grown by half a voxel),
 * split into n equal steps (n = samplesPerRay, or ⌈length / stepMm⌉), and sampled at the step
 * midpoints αₖ = α₀ + (k + ½)·h; every sample position is computed as a + α·b from the ray
 * equation.
 *
 * Renders pixels [pixelStart, pixelEnd) of `rays` into `out[outOffset + p]`. With `emptySpace`
 * (from `buildEmptySpace`) samples whose eight corners are all zero are not computed; the image
 * is bit-identical either way.
 */
export function renderTrilinear(
  grid: DensityGrid,
  rays: RayGrid,
  sampling: TrilinearSampling,
  out: Float32Array | Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  const data = grid.data;
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const inverseDx = 1 / dx, inverseDy = 1 / dy, inverseDz = 1 / dz;
  // Padded continuous index of a world point: voxel i's centre (o + (i + ½)·d) maps to i + 1.
  const shiftX = 0.5 - ox * inverseDx, shiftY = 0.5 - oy * inverseDy, shiftZ = 0.5 - oz * inverseDz;
  const maximumI = nx, maximumJ = ny, maximumK = nz; // highest corner index allowed (padded)
  const lowX = ox - 0.5 * dx, lowY = oy - 0.5 * dy, lowZ = oz - 0.5 * dz;
  const highX = ox + (nx + 0.5) * dx, highY = oy + (ny + 0.5) * dy, highZ = oz + (nz + 0.5) * dz;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;
  const fixedCount = sampling.samplesPerRay !== undefined ? Math.max(1, Math.floor(sampling.samplesPerRay)) : 0;
  const step = sampling.stepMm ?? defaultTrilinearStep(grid);
  const range = new Float64Array(2);
  const skipper = emptySpace ? new SampleSkipper(grid, rays, emptySpace) : null;
  const cubes = emptySpace ? emptySpace.cellCubes : null;
  const shift = emptySpace ? emptySpace.blockShift : 0;
  const blocksX = emptySpace ? emptySpace.cellBlocks[0] : 0;
  const blocksXY = emptySpace ? emptySpace.cellBlocks[0] * emptySpace.cellBlocks[1] : 0;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    if (!clipRayToBox(ax, ay, az, bx, by, bz, lowX, lowY, lowZ, highX, highY, highZ, range)) {
      out[outOffset + pixel] = 0;
      continue;
    }
    const entry = range[0], exit = range[1];
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    const count = fixedCount > 0 ? fixedCount : Math.max(1, Math.ceil(((exit - entry) * length) / step));
    const h = (exit - entry) / count;
    let first = 0, last = count, fieldOffset = 0;
    if (skipper !== null) {
      const ray = skipper.ray;
      ray[0] = bx; ray[1] = by; ray[2] = bz; ray[3] = entry; ray[4] = h;
      skipper.clip(count);
      first = skipper.first; last = skipper.last; fieldOffset = skipper.fieldOffset;
    }
    let sum = 0;
    for (let sample = first; sample < last; sample++) {
      const alpha = entry + (sample + 0.5) * h;
      const gx = (ax + alpha * bx) * inverseDx + shiftX;
      const gy = (ay + alpha * by) * inverseDy + shiftY;
      const gz = (az + alpha * bz) * inverseDz + shiftZ;
      let i = Math.floor(gx) | 0, j = Math.floor(gy) | 0, k = Math.floor(gz) | 0;
      if (i < 0) i = 0; else if (i > maximumI) i = maximumI;
      if (j < 0) j = 0; else if (j > maximumJ) j = maximumJ;
      if (k < 0) k = 0; else if (k > maximumK) k = maximumK;
      if (cubes !== null && cubes[fieldOffset + (i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)] !== 0) {
        sample = skipper!.next(sample, i, j, k) - 1;
        continue;
      }
      const wx = gx - i, wy = gy - j, wz = gz - k;
      const base = i + px * j + pxy * k;
      const c000 = data[base], c100 = data[base + 1];
      const c010 = data[base + px], c110 = data[base + px + 1];
      const c001 = data[base + pxy], c101 = data[base + pxy + 1];
      const c011 = data[base + pxy + px], c111 = data[base + pxy + px + 1];
      const c00 = c000 + wx * (c100 - c000), c10 = c010 + wx * (c110 - c010);
      const c01 = c001 + wx * (c101 - c001), c11 = c011 + wx * (c111 - c011);
      const c0 = c00 + wy * (c10 - c00), c1 = c01 + wy * (c11 - c01);
      sum += c0 + wz * (c1 - c0);
    }
    out[outOffset + pixel] = sum * h * length;
  }
}

/**
 * Trilinear rendering with the derivative of each pixel value with respect to its ray.
 *
 * With entry/exit α₀, α₁, n samples at αₖ = α₀ + wₖ·(α₁ − α₀), wₖ = (k + ½)/n, step
 * h = (α₁ − α₀)/n and xₖ = a + αₖ·b, the pixel is I = h·|b|·S with S = Σ μ(xₖ). Writing
 * G₀ = Σ ∇μ(xₖ) and G₁ = Σ wₖ·∇μ(xₖ):
 *   dI = (|b|·S/n)(dα₁ − dα₀) + h·S·d|b|
 *        + h·|b|·[G₀·da + (α₀·G₀ + (α₁ − α₀)·G₁)·db + ((G₀ − G₁)·b)·dα₀ + (G₁·b)·dα₁],
 * where dα₀, dα₁ come from the box face the ray enters and leaves by (zero where the source or
 * the pixel is inside). This is the exact derivative of the discrete sum the forward pass
 * computes. Writes the image into `out` (bit-identical to {@link renderTrilinear}'s) and
 * (∂I/∂a, ∂I/∂b) of pixel p into `rayGradients[6·p … 6·p+5]` (p counted within the image).
 */
export function renderTrilinearWithRayGradients(
  grid: DensityGrid,
  rays: RayGrid,
  sampling: TrilinearSampling,
  out: Float32Array | Float64Array,
  rayGradients: Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  const data = grid.data;
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const inverseDx = 1 / dx, inverseDy = 1 / dy, inverseDz = 1 / dz;
  const shiftX = 0.5 - ox * inverseDx, shiftY = 0.5 - oy * inverseDy, shiftZ = 0.5 - oz * inverseDz;
  const maximumI = nx, maximumJ = ny, maximumK = nz;
  const lowX = ox - 0.5 * dx, lowY = oy - 0.5 * dy, lowZ = oz - 0.5 * dz;
  const highX = ox + (nx + 0.5) * dx, highY = oy + (ny + 0.5) * dy, highZ = oz + (nz + 0.5) * dz;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;
  const fixedCount = sampling.samplesPerRay !== undefined ? Math.max(1, Math.floor(sampling.samplesPerRay)) : 0;
  const step = sampling.stepMm ?? defaultTrilinearStep(grid);
  const skipper = emptySpace ? new SampleSkipper(grid, rays, emptySpace) : null;
  const cubes = emptySpace ? emptySpace.cellCubes : null;
  const shift = emptySpace ? emptySpace.blockShift : 0;
  const blocksX = emptySpace ? emptySpace.cellBlocks[0] : 0;
  const blocksXY = emptySpace ? emptySpace.cellBlocks[0] * emptySpace.cellBlocks[1] : 0;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    const g = 6 * pixel;
    // The same clip as renderTrilinear's (clipRayToBox), remembering which axis set the entry and the exit.
    let entry = 0, exit = 1, entryAxis = -1, exitAxis = -1, missed = false;
    if (bx !== 0) {
      const t1 = (lowX - ax) / bx, t2 = (highX - ax) / bx;
      const near = t1 < t2 ? t1 : t2, far = t1 < t2 ? t2 : t1;
      if (near > entry) { entry = near; entryAxis = 0; }
      if (far < exit) { exit = far; exitAxis = 0; }
    } else if (ax < lowX || ax > highX) missed = true;
    if (by !== 0) {
      const t1 = (lowY - ay) / by, t2 = (highY - ay) / by;
      const near = t1 < t2 ? t1 : t2, far = t1 < t2 ? t2 : t1;
      if (near > entry) { entry = near; entryAxis = 1; }
      if (far < exit) { exit = far; exitAxis = 1; }
    } else if (ay < lowY || ay > highY) missed = true;
    if (bz !== 0) {
      const t1 = (lowZ - az) / bz, t2 = (highZ - az) / bz;
      const near = t1 < t2 ? t1 : t2, far = t1 < t2 ? t2 : t1;
      if (near > entry) { entry = near; entryAxis = 2; }
      if (far < exit) { exit = far; exitAxis = 2; }
    } else if (az < lowZ || az > highZ) missed = true;
    if (missed || exit <= entry) {
      out[outOffset + pixel] = 0;
      rayGradients[g] = 0; rayGradients[g + 1] = 0; rayGradients[g + 2] = 0;
      rayGradients[g + 3] = 0; rayGradients[g + 4] = 0; rayGradients[g + 5] = 0;
      continue;
    }
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    const count = fixedCount > 0 ? fixedCount : Math.max(1, Math.ceil(((exit - entry) * length) / step));
    const span = exit - entry, h = span / count, inverseCount = 1 / count;
    let first = 0, last = count, fieldOffset = 0;
    if (skipper !== null) {
      const ray = skipper.ray;
      ray[0] = bx; ray[1] = by; ray[2] = bz; ray[3] = entry; ray[4] = h;
      skipper.clip(count);
      first = skipper.first; last = skipper.last; fieldOffset = skipper.fieldOffset;
    }
    let sum = 0;
    let g0x = 0, g0y = 0, g0z = 0, g1x = 0, g1y = 0, g1z = 0;
    for (let sample = first; sample < last; sample++) {
      const alpha = entry + (sample + 0.5) * h;
      const gx = (ax + alpha * bx) * inverseDx + shiftX;
      const gy = (ay + alpha * by) * inverseDy + shiftY;
      const gz = (az + alpha * bz) * inverseDz + shiftZ;
      let i = Math.floor(gx) | 0, j = Math.floor(gy) | 0, k = Math.floor(gz) | 0;
      if (i < 0) i = 0; else if (i > maximumI) i = maximumI;
      if (j < 0) j = 0; else if (j > maximumJ) j = maximumJ;
      if (k < 0) k = 0; else if (k > maximumK) k = maximumK;
      if (cubes !== null && cubes[fieldOffset + (i >> shift) + blocksX * (j >> shift) + blocksXY * (k >> shift)] !== 0) {
        sample = skipper!.next(sample, i, j, k) - 1;
        continue;
      }
      const weight = (sample + 0.5) * inverseCount;
      const wx = gx - i, wy = gy - j, wz = gz - k;
      const base = i + px * j + pxy * k;
      const c000 = data[base], c100 = data[base + 1];
      const c010 = data[base + px], c110 = data[base + px + 1];
      const c001 = data[base + pxy], c101 = data[base + pxy + 1];
      const c011 = data[base + pxy + px], c111 = data[base + pxy + px + 1];
      const c00 = c000 + wx * (c100 - c000), c10 = c010 + wx * (c110 - c010);
      const c01 = c001 + wx * (c101 - c001), c11 = c011 + wx * (c111 - c011);
      const c0 = c00 + wy * (c10 - c00), c1 = c01 + wy * (c11 - c01);
      sum += c0 + wz * (c1 - c0);
      // ∇μ in world units.
      const dyz0 = (1 - wy) * (1 - wz), dyz1 = wy * (1 - wz), dyz2 = (1 - wy) * wz, dyz3 = wy * wz;
      const derivativeX = ((c100 - c000) * dyz0 + (c110 - c010) * dyz1 + (c101 - c001) * dyz2 + (c111 - c011) * dyz3) * inverseDx;
      const derivativeY = ((c10 - c00) * (1 - wz) + (c11 - c01) * wz) * inverseDy;
      const derivativeZ = (c1 - c0) * inverseDz;
      g0x += derivativeX; g0y += derivativeY; g0z += derivativeZ;
      g1x += weight * derivativeX; g1y += weight * derivativeY; g1z += weight * derivativeZ;
    }
    const value = sum * h * length;
    out[outOffset + pixel] = value;
    const scale = h * length;
    // ∂I/∂α₀ and ∂I/∂α₁ (through the step and the sample positions).
    const byEntry = -length * sum * inverseCount + scale * ((g0x - g1x) * bx + (g0y - g1y) * by + (g0z - g1z) * bz);
    const byExit = length * sum * inverseCount + scale * (g1x * bx + g1y * by + g1z * bz);
    let dax = scale * g0x, day = scale * g0y, daz = scale * g0z;
    const lengthTerm = value / (length * length);
    let dbx = scale * (entry * g0x + span * g1x) + lengthTerm * bx;
    let dby = scale * (entry * g0y + span * g1y) + lengthTerm * by;
    let dbz = scale * (entry * g0z + span * g1z) + lengthTerm * bz;
    // α on face P of axis q: α = (P − a_q)/b_q ⇒ ∂α/∂a_q = −1/b_q, ∂α/∂b_q = −α/b_q.
    if (entryAxis === 0) { dax -= byEntry / bx; dbx -= (byEntry * entry) / bx; }
    else if (entryAxis === 1) { day -= byEntry / by; dby -= (byEntry * entry) / by; }
    else if (entryAxis === 2) { daz -= byEntry / bz; dbz -= (byEntry * entry) / bz; }
    if (exitAxis === 0) { dax -= byExit / bx; dbx -= (byExit * exit) / bx; }
    else if (exitAxis === 1) { day -= byExit / by; dby -= (byExit * exit) / by; }
    else if (exitAxis === 2) { daz -= byExit / bz; dbz -= (byExit * exit) / bz; }
    rayGradients[g] = dax; rayGradients[g + 1] = day; rayGradients[g + 2] = daz;
    rayGradients[g + 3] = dbx; rayGradients[g + 4] = dby; rayGradients[g + 5] = dbz;
  }
}

/**
 * The adjoint (transpose) of {@link renderTrilinear}: back-projects one weight per pixel into
 * the density grid. Each sample of pixel p's ray (the same clip, count, step and positions as
 * the forward pass) adds w·h·|b| times its eight trilinear weights to the eight corner voxels
 * of `accumulator` (the layout of `grid.data`, padding included; what lands in the padding is
 * the gradient of a fixed zero and is ignored by callers). So Σₚ yₚ·(A x)ₚ = Σᵥ xᵥ·(Aᵀ y)ᵥ up
 * to rounding.
 */
export function backprojectTrilinear(
  grid: DensityGrid,
  rays: RayGrid,
  sampling: TrilinearSampling,
  weights: ArrayLike<number>,
  weightOffset: number,
  accumulator: Float64Array,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const inverseDx = 1 / dx, inverseDy = 1 / dy, inverseDz = 1 / dz;
  const shiftX = 0.5 - ox * inverseDx, shiftY = 0.5 - oy * inverseDy, shiftZ = 0.5 - oz * inverseDz;
  const maximumI = nx, maximumJ = ny, maximumK = nz;
  const lowX = ox - 0.5 * dx, lowY = oy - 0.5 * dy, lowZ = oz - 0.5 * dz;
  const highX = ox + (nx + 0.5) * dx, highY = oy + (ny + 0.5) * dy, highZ = oz + (nz + 0.5) * dz;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;
  const fixedCount = sampling.samplesPerRay !== undefined ? Math.max(1, Math.floor(sampling.samplesPerRay)) : 0;
  const step = sampling.stepMm ?? defaultTrilinearStep(grid);
  const range = new Float64Array(2);
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const weight = weights[weightOffset + pixel];
    if (weight === 0) continue;
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    if (!clipRayToBox(ax, ay, az, bx, by, bz, lowX, lowY, lowZ, highX, highY, highZ, range)) continue;
    const entry = range[0], exit = range[1];
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    const count = fixedCount > 0 ? fixedCount : Math.max(1, Math.ceil(((exit - entry) * length) / step));
    const h = (exit - entry) / count;
    const scale = weight * h * length;
    for (let sample = 0; sample < count; sample++) {
      const alpha = entry + (sample + 0.5) * h;
      const gx = (ax + alpha * bx) * inverseDx + shiftX;
      const gy = (ay + alpha * by) * inverseDy + shiftY;
      const gz = (az + alpha * bz) * inverseDz + shiftZ;
      let i = Math.floor(gx) | 0, j = Math.floor(gy) | 0, k = Math.floor(gz) | 0;
      if (i < 0) i = 0; else if (i > maximumI) i = maximumI;
      if (j < 0) j = 0; else if (j > maximumJ) j = maximumJ;
      if (k < 0) k = 0; else if (k > maximumK) k = maximumK;
      const wx = gx - i, wy = gy - j, wz = gz - k;
      const ux = 1 - wx, uy = 1 - wy, uz = 1 - wz;
      const base = i + px * j + pxy * k;
      const s0 = scale * uz, s1 = scale * wz;
      const s00 = s0 * uy, s10 = s0 * wy, s01 = s1 * uy, s11 = s1 * wy;
      accumulator[base] += s00 * ux; accumulator[base + 1] += s00 * wx;
      accumulator[base + px] += s10 * ux; accumulator[base + px + 1] += s10 * wx;
      accumulator[base + pxy] += s01 * ux; accumulator[base + pxy + 1] += s01 * wx;
      accumulator[base + pxy + px] += s11 * ux; accumulator[base + pxy + px + 1] += s11 * wx;
    }
  }
}
