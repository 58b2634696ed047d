/**
 * Joseph's slice-interpolated projector (Joseph 1982; the default projector of CT toolboxes
 * such as ASTRA and TIGRE), with empty-space skipping, compact storage and per-ray gradients.
 *
 * Each ray a + α·b is projected along its dominant axis m — the axis of the largest |b_m|/d_m,
 * i.e. the one whose voxel slices it crosses fastest. The slices of m are the planes through
 * the voxel centres, x_m = o_m + (i + ½)·d_m for i = 0 … n_m − 1, crossed at
 * αᵢ = c₀ + i·c₁ with c₀ = (o_m + ½·d_m − a_m)/b_m and c₁ = d_m/b_m. In slice i the density is
 * interpolated bilinearly between the voxel centres of the other two axes u, v (zero beyond the
 * volume, from the grid's padding), and every sample stands for the ray's length per slice,
 * L = |b|·|c₁| mm:
 *
 *   I = L · Σᵢ μᵢ(a_u + αᵢ·b_u, a_v + αᵢ·b_v),
 *
 * over the slices whose αᵢ lies in the ray's clipped segment: the ray clipped to α ∈ [0, 1] and
 * to the support of the interpolated field (the volume's box grown by half a voxel), whose side
 * faces the interpolation reaches with value 0, so samples come and go continuously. Compared
 * with Siddon's exact path through piecewise-constant voxels it reads 4 voxels per slice
 * instead of 1 per crossing but crosses only one family of planes (fewer, predictable memory
 * accesses), and the image is a smooth function of the ray.
 *
 * Positions: sample i is at padded continuous index (i + 1, pᵤ + i·qᵤ, p_v + i·q_v) with
 * pᵤ = (aᵤ + c₀·bᵤ)/dᵤ + ½ − oᵤ/dᵤ and qᵤ = c₁·bᵤ/dᵤ (voxel k's centre at padded index k + 1,
 * as in the trilinear renderer). Nothing about a sample depends on empty-space skipping, the
 * thread or the storage width except the stored values themselves.
 */
import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import type { EmptySpace } from './empty-space.js';
import { clipRayToBox } from './ray-clip.js';

/**
 * Skipping keeps a margin of this much α on either side of an empty region (a millionth of a
 * micrometre per mm of ray), far beyond the rounding of a sample's position.
 */
const SKIP_MARGIN = 1e-9;

/** {@link JosephRays.begin}: the ray misses the field's support. */
const MISSES = -1;

// Indices of JosephRays.values (per ray).
const B_X = 0, B_Y = 1, B_Z = 2, LENGTH = 3, WEIGHT = 4, C0 = 5, C1 = 6, P_U = 7, Q_U = 8, P_V = 9, Q_V = 10;
// For skipping, along m, u, v: the cell-plane origin minus the source (o − d/2 − a), the spacing,
// the direction b and 1/b; and 1/c₁.
const O_M = 11, O_U = 12, O_V = 13, D_M = 14, D_U = 15, D_V = 16, E_M = 17, E_U = 18, E_V = 19, R_M = 20, R_U = 21, R_V = 22, R_C1 = 23;
const VALUE_COUNT = 24;

/**
 * The support box is shrunk by this fraction of a voxel on every side, so that every sample's
 * bilinear cell lies inside the padded grid without clamping; the samples left out are within a
 * millionth of a voxel of the support's faces, where the interpolated density is 0 (they would
 * add at most a millionth of a voxel's density).
 */
const SUPPORT_INSET = 1e-6;

/**
 * The rays of one kernel call and the set-up of each (no allocation per ray; one instance is
 * reused by every call on a thread, so that single-pixel calls of sparse renders cost little).
 *
 * Empty-space skipping uses the trilinear renderer's cell field (`EmptySpace.cellCubes`): a
 * sample at padded position (X, gᵤ, g_v) with X = i + 1 reads padded voxels X × {J, J+1} ×
 * {K, K+1} (J = ⌊gᵤ⌋, K = ⌊g_v⌋), all corners of cell (X, J, K); so a sample in an empty cell
 * is exactly zero. Each ray is first limited to the slices within the occupied cells' box (by
 * {@link SKIP_MARGIN}), and a sample in an empty block jumps to the first slice not inside, by
 * the margin, the largest empty cube of blocks with that block as its corner in the ray's
 * octant. Skipped samples would add exactly +0 to the sums (which start at +0), so images and
 * ray gradients are bit-identical with and without skipping.
 */
class JosephRays {
  // Grid (per call).
  readonly shape = new Int32Array(3);
  readonly spacing = new Float64Array(3);
  readonly inverse = new Float64Array(3);
  readonly shift = new Float64Array(3);
  readonly origin = new Float64Array(3);
  readonly strides = new Int32Array(3);
  readonly blockStrides = new Int32Array(3);
  /** Support of the interpolated field (box grown by half a voxel): low x, y, z, high x, y, z. */
  readonly support = new Float64Array(6);
  /** World position of padded cell plane 0 (the centre of padded voxel 0) per axis. */
  readonly cellOrigin = new Float64Array(3);
  /** The occupied cells' box in world mm, as `support`. */
  readonly occupiedBox = new Float64Array(6);
  readonly source = new Float64Array(3);
  readonly firstPixel = new Float64Array(3);
  readonly rowStep = new Float64Array(3);
  readonly columnStep = new Float64Array(3);
  readonly range = new Float64Array(2);
  width = 1;
  skipping = false;
  occupied = true;
  cubes: Uint8Array = new Uint8Array(1);
  blockShift = 0;
  blockCount = 0;
  // Per ray.
  /** The ray's real numbers, at the indices named B_X … O_V. */
  readonly values = new Float64Array(VALUE_COUNT);
  main = 0; axisU = 1; axisV = 2;
  strideM = 1; strideU = 1; strideV = 1;
  blockStrideM = 1; blockStrideU = 1; blockStrideV = 1;
  /** Slices first, first + step, … up to (not including) end, in the ray's direction. */
  first = 0; end = 0; step = 1;
  fieldOffset = 0;

  /** Sets up a kernel call (no allocation). */
  reset(grid: DensityGrid, rays: RayGrid, emptySpace: EmptySpace | null): void {
    const [nx, ny, nz] = grid.shape;
    this.shape[0] = nx; this.shape[1] = ny; this.shape[2] = nz;
    this.strides[0] = 1; this.strides[1] = nx + 2; this.strides[2] = (nx + 2) * (ny + 2);
    for (let axis = 0; axis < 3; axis++) {
      const d = grid.spacing[axis], o = grid.origin[axis];
      this.spacing[axis] = d;
      this.inverse[axis] = 1 / d;
      this.shift[axis] = 0.5 - o / d;
      this.origin[axis] = o;
      this.support[axis] = o - (0.5 - SUPPORT_INSET) * d;
      this.support[3 + axis] = o + (this.shape[axis] + 0.5 - SUPPORT_INSET) * d;
      this.cellOrigin[axis] = o - 0.5 * d;
      this.source[axis] = rays.source[axis];
      this.firstPixel[axis] = rays.firstPixel[axis];
      this.rowStep[axis] = rays.rowStep[axis];
      this.columnStep[axis] = rays.columnStep[axis];
    }
    this.width = rays.width;
    this.skipping = emptySpace !== null;
    if (emptySpace !== null) {
      this.occupied = emptySpace.occupied;
      this.cubes = emptySpace.cellCubes;
      this.blockShift = emptySpace.blockShift;
      const [bx, by, bz] = emptySpace.cellBlocks;
      this.blockStrides[0] = 1; this.blockStrides[1] = bx; this.blockStrides[2] = bx * by;
      this.blockCount = bx * by * bz;
      const bounds = emptySpace.cellBounds;
      for (let axis = 0; axis < 3; axis++) {
        this.occupiedBox[axis] = this.cellOrigin[axis] + bounds[axis] * this.spacing[axis];
        this.occupiedBox[3 + axis] = this.cellOrigin[axis] + bounds[3 + axis] * this.spacing[axis];
      }
    }
  }

  /**
   * Sets up the ray of `pixel`: its dominant axis, slice coefficients and the slices to visit.
   * Returns {@link MISSES}, or the number of slices to visit (possibly 0).
   */
  begin(pixel: number): number {
    const width = this.width;
    const row = (pixel / width) | 0, column = pixel - row * width;
    const values = this.values;
    const source = this.source, first = this.firstPixel, rowStep = this.rowStep, columnStep = this.columnStep;
    const ax = source[0], ay = source[1], az = source[2];
    const bx = first[0] + row * rowStep[0] + column * columnStep[0] - ax;
    const by = first[1] + row * rowStep[1] + column * columnStep[1] - ay;
    const bz = first[2] + row * rowStep[2] + column * columnStep[2] - az;
    values[B_X] = bx; values[B_Y] = by; values[B_Z] = bz;
    const support = this.support, range = this.range;
    if (!clipRayToBox(ax, ay, az, bx, by, bz, support[0], support[1], support[2], support[3], support[4], support[5], range)) return MISSES;
    const inverse = this.inverse;
    // The dominant axis in voxel units (ties to the earlier axis).
    const sx = Math.abs(bx) * inverse[0], sy = Math.abs(by) * inverse[1], sz = Math.abs(bz) * inverse[2];
    let main = 0, u = 1, v = 2;
    if (sy > sx && sy >= sz) { main = 1; u = 0; v = 2; }
    else if (sz > sx && sz > sy) { main = 2; u = 0; v = 1; }
    const bm = main === 0 ? bx : main === 1 ? by : bz;
    if (bm === 0) return MISSES; // b = 0: a ray of no length
    const bu = u === 0 ? bx : by, bv = v === 1 ? by : bz;
    const am = source[main], au = source[u], av = source[v];
    const dm = this.spacing[main];
    this.main = main; this.axisU = u; this.axisV = v;
    this.strideM = this.strides[main]; this.strideU = this.strides[u]; this.strideV = this.strides[v];
    const c0 = (this.origin[main] + 0.5 * dm - am) / bm, c1 = dm / bm;
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    values[LENGTH] = length;
    values[WEIGHT] = length * Math.abs(c1);
    values[C0] = c0; values[C1] = c1;
    values[P_U] = (au + c0 * bu) * inverse[u] + this.shift[u]; values[Q_U] = c1 * bu * inverse[u];
    values[P_V] = (av + c0 * bv) * inverse[v] + this.shift[v]; values[Q_V] = c1 * bv * inverse[v];
    // Slices with α in [entry, exit]: estimated, then made exact with α = c₀ + i·c₁.
    const step = bm > 0 ? 1 : -1;
    this.step = step;
    const last = this.shape[main] - 1;
    let low = lowestSlice(c0, c1, range[0], range[1], last);
    let high = highestSlice(c0, c1, range[0], range[1], last);
    if (this.skipping) {
      this.fieldOffset = ((bx > 0 ? 1 : 0) | (by > 0 ? 2 : 0) | (bz > 0 ? 4 : 0)) * this.blockCount;
      this.blockStrideM = this.blockStrides[main]; this.blockStrideU = this.blockStrides[u]; this.blockStrideV = this.blockStrides[v];
      const cellOrigin = this.cellOrigin;
      values[O_M] = cellOrigin[main] - am; values[O_U] = cellOrigin[u] - au; values[O_V] = cellOrigin[v] - av;
      values[D_M] = dm; values[D_U] = this.spacing[u]; values[D_V] = this.spacing[v];
      values[E_M] = bm; values[E_U] = bu; values[E_V] = bv;
      values[R_M] = 1 / bm; values[R_U] = bu !== 0 ? 1 / bu : 0; values[R_V] = bv !== 0 ? 1 / bv : 0;
      values[R_C1] = bm / dm;
      const box = this.occupiedBox;
      if (!this.occupied || !clipRayToBox(ax, ay, az, bx, by, bz, box[0], box[1], box[2], box[3], box[4], box[5], range)) {
        high = low - 1;
      } else {
        // Slices outside [entry − margin, exit + margin] of the occupied box are zero.
        const from = range[0] - SKIP_MARGIN, to = range[1] + SKIP_MARGIN;
        const a = (from - c0) / c1, b = (to - c0) / c1;
        const lowest = Math.ceil(a < b ? a : b), highest = Math.floor(a < b ? b : a);
        if (lowest > low) low = lowest > last + 1 ? last + 1 : lowest | 0;
        if (highest < high) high = highest < -1 ? -1 : highest | 0;
      }
    }
    if (high < low) high = low - 1;
    if (step > 0) { this.first = low; this.end = high + 1; }
    else { this.first = high; this.end = low - 1; }
    return high - low + 1;
  }

  /**
   * The next slice to compute after slice `i`, whose sample lies in cell (i + 1, J, K) (padded,
   * along m, u, v) of an empty block: the first slice in the ray's direction that is not inside,
   * by the margin, the largest empty cube of blocks cornered at that block in the ray's octant.
   * Never returns a slice before i + step; may return one past the ray's last slice.
   */
  next(i: number, J: number, K: number): number {
    const values = this.values, shift = this.blockShift;
    const blockM = (i + 1) >> shift, blockU = J >> shift, blockV = K >> shift;
    const size = this.cubes[this.fieldOffset + blockM * this.blockStrideM + blockU * this.blockStrideU + blockV * this.blockStrideV];
    const bm = values[E_M], bu = values[E_U], bv = values[E_V];
    const planeM = bm > 0 ? (blockM + size) << shift : (blockM - size + 1) << shift;
    let leave = (values[O_M] + planeM * values[D_M]) * values[R_M];
    if (bu !== 0) {
      const planeU = bu > 0 ? (blockU + size) << shift : (blockU - size + 1) << shift;
      const t = (values[O_U] + planeU * values[D_U]) * values[R_U];
      if (t < leave) leave = t;
    }
    if (bv !== 0) {
      const planeV = bv > 0 ? (blockV + size) << shift : (blockV - size + 1) << shift;
      const t = (values[O_V] + planeV * values[D_V]) * values[R_V];
      if (t < leave) leave = t;
    }
    const position = (leave - SKIP_MARGIN - values[C0]) * values[R_C1];
    const step = this.step, end = this.end;
    let next = step > 0 ? Math.ceil(position) : Math.floor(position);
    if ((next - i) * step < 1) next = i + step;
    if ((next - end) * step > 0) next = end;
    return next | 0;
  }
}

/**
 * The lowest slice index i ∈ [0, last + 1] on the inner side of the boundary that low indices
 * leave by: α_i ≥ entry when α grows with i (c₁ > 0), α_i ≤ exit when it falls.
 */
function lowestSlice(c0: number, c1: number, entry: number, exit: number, last: number): number {
  const rising = c1 > 0;
  const estimate = Math.ceil(((rising ? entry : exit) - c0) / c1);
  let i = estimate < 0 ? 0 : estimate > last + 1 ? last + 1 : estimate | 0;
  while (i > 0 && (rising ? c0 + (i - 1) * c1 >= entry : c0 + (i - 1) * c1 <= exit)) i--;
  while (i <= last && !(rising ? c0 + i * c1 >= entry : c0 + i * c1 <= exit)) i++;
  return i;
}

/**
 * The highest slice index i ∈ [−1, last] on the inner side of the boundary that high indices
 * leave by: α_i ≤ exit when α grows with i, α_i ≥ entry when it falls.
 */
function highestSlice(c0: number, c1: number, entry: number, exit: number, last: number): number {
  const rising = c1 > 0;
  const estimate = Math.floor(((rising ? exit : entry) - c0) / c1);
  let i = estimate > last ? last : estimate < -1 ? -1 : estimate | 0;
  while (i < last && (rising ? c0 + (i + 1) * c1 <= exit : c0 + (i + 1) * c1 >= entry)) i++;
  while (i >= 0 && !(rising ? c0 + i * c1 <= exit : c0 + i * c1 >= entry)) i--;
  return i;
}

/** One set-up object per thread (JavaScript threads do not share module state). */
const shared = new JosephRays();

/** What the kernels read: the float32 data, or compact integers with their scale and zero. */
function storageOf(grid: DensityGrid): { data: Float32Array | Uint8Array | Uint16Array; scale: number; zero: number } {
  const compact = grid.compact;
  return compact ? { data: compact.data, scale: compact.scale, zero: compact.zero } : { data: grid.data, scale: 1, zero: 0 };
}

/**
 * Joseph DRR: renders pixels [pixelStart, pixelEnd) of `rays` into `out[outOffset + p]`
 * (see the module comment). Reads the grid's compact storage when it has one. With
 * `emptySpace` (from `buildEmptySpace`) samples in empty cells are not computed; the image is
 * bit-identical either way.
 */
export function renderJoseph(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  const setup = shared;
  setup.reset(grid, rays, emptySpace);
  const storage = storageOf(grid);
  const data = storage.data, scale = storage.scale, zero = storage.zero;
  const values = setup.values;
  const cubes = setup.cubes, skipping = setup.skipping, shift = setup.blockShift, blockMask = (1 << shift) - 1;
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    if (setup.begin(pixel) === MISSES) { out[outOffset + pixel] = 0; continue; }
    const pu = values[P_U], qu = values[Q_U], pv = values[P_V], qv = values[Q_V];
    const strideM = setup.strideM, strideU = setup.strideU, strideV = setup.strideV, strideUV = strideU + strideV;
    const step = setup.step, end = setup.end;
    const fieldOffset = setup.fieldOffset, blockStrideM = setup.blockStrideM, blockStrideU = setup.blockStrideU, blockStrideV = setup.blockStrideV;
    let sum = 0;
    // Look for empty space at the first sample, after a jump, and where the ray enters a new
    // block along m (samples between are computed even where zero: that changes no value).
    const edge = step > 0 ? 0 : blockMask;
    let check = skipping;
    for (let i = setup.first; i !== end; i += step) {
      const gu = pu + i * qu, gv = pv + i * qv;
      // Positions are > 0 (the support is clipped with an inset), so truncation is floor.
      const J = gu | 0, K = gv | 0;
      if (check) {
        if (cubes[fieldOffset + ((i + 1) >> shift) * blockStrideM + (J >> shift) * blockStrideU + (K >> shift) * blockStrideV] !== 0) {
          i = setup.next(i, J, K) - step;
          continue;
        }
        check = false;
      }
      if (((i + 1 + step) & blockMask) === edge) check = skipping;
      const base = (i + 1) * strideM + J * strideU + K * strideV;
      const c00 = data[base], c10 = data[base + strideU], c01 = data[base + strideV], c11 = data[base + strideUV];
      const wu = gu - J, wv = gv - K;
      const c0 = c00 + wu * (c10 - c00), c1 = c01 + wu * (c11 - c01);
      sum += c0 + wv * (c1 - c0) - zero;
    }
    out[outOffset + pixel] = sum * (scale * values[WEIGHT]);
  }
}

/**
 * Joseph rendering with the derivative of each pixel value with respect to its ray.
 *
 * With I = L·Σᵢ μ(pᵢ), pᵢ = a + αᵢ·b, αᵢ = (Xᵢ − a_m)/b_m, L = d_m·|b|/|b_m|, and the sums
 * G_w = Σ ∂μ/∂w(pᵢ), H_w = Σ αᵢ·∂μ/∂w(pᵢ) for w = u, v (the in-slice gradient of the bilinear
 * interpolation, world units):
 *   ∂I/∂a_w = L·G_w,                      ∂I/∂a_m = −L·(b_u·G_u + b_v·G_v)/b_m,
 *   ∂I/∂b_w = L·H_w + I·b_w/|b|²,          ∂I/∂b_m = −L·(b_u·H_u + b_v·H_v)/b_m + I·(b_m/|b|² − 1/b_m),
 * the exact derivative of the discrete sum (the set of slices, the dominant axis and the clip
 * change only where the sum is continuous or on a set of rays of measure zero). Writes the image
 * into `out` (bit-identical to {@link renderJoseph}'s) and (∂I/∂a, ∂I/∂b) of pixel p into
 * `rayGradients[6·p … 6·p+5]` (p counted within the image).
 */
export function renderJosephWithRayGradients(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  rayGradients: Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  const setup = shared;
  setup.reset(grid, rays, emptySpace);
  const storage = storageOf(grid);
  const data = storage.data, scale = storage.scale, zero = storage.zero;
  const values = setup.values, inverse = setup.inverse;
  const cubes = setup.cubes, skipping = setup.skipping, shift = setup.blockShift, blockMask = (1 << shift) - 1;
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const g = 6 * pixel;
    if (setup.begin(pixel) === MISSES) {
      out[outOffset + pixel] = 0;
      rayGradients[g] = 0; rayGradients[g + 1] = 0; rayGradients[g + 2] = 0;
      rayGradients[g + 3] = 0; rayGradients[g + 4] = 0; rayGradients[g + 5] = 0;
      continue;
    }
    const pu = values[P_U], qu = values[Q_U], pv = values[P_V], qv = values[Q_V];
    const strideM = setup.strideM, strideU = setup.strideU, strideV = setup.strideV, strideUV = strideU + strideV;
    const step = setup.step, end = setup.end;
    const fieldOffset = setup.fieldOffset, blockStrideM = setup.blockStrideM, blockStrideU = setup.blockStrideU, blockStrideV = setup.blockStrideV;
    let sum = 0;
    // Σ ∂μ/∂g and Σ i·∂μ/∂g along u and v, in padded index units.
    let gradientU = 0, gradientV = 0, momentU = 0, momentV = 0;
    // Look for empty space at the first sample, after a jump, and where the ray enters a new
    // block along m (samples between are computed even where zero: that changes no value).
    const edge = step > 0 ? 0 : blockMask;
    let check = skipping;
    for (let i = setup.first; i !== end; i += step) {
      const gu = pu + i * qu, gv = pv + i * qv;
      // Positions are > 0 (the support is clipped with an inset), so truncation is floor.
      const J = gu | 0, K = gv | 0;
      if (check) {
        if (cubes[fieldOffset + ((i + 1) >> shift) * blockStrideM + (J >> shift) * blockStrideU + (K >> shift) * blockStrideV] !== 0) {
          i = setup.next(i, J, K) - step;
          continue;
        }
        check = false;
      }
      if (((i + 1 + step) & blockMask) === edge) check = skipping;
      const base = (i + 1) * strideM + J * strideU + K * strideV;
      const c00 = data[base], c10 = data[base + strideU], c01 = data[base + strideV], c11 = data[base + strideUV];
      const wu = gu - J, wv = gv - K;
      const c0 = c00 + wu * (c10 - c00), c1 = c01 + wu * (c11 - c01);
      sum += c0 + wv * (c1 - c0) - zero;
      const derivativeU = (c10 - c00) * (1 - wv) + (c11 - c01) * wv;
      const derivativeV = c1 - c0;
      gradientU += derivativeU; gradientV += derivativeV;
      momentU += i * derivativeU; momentV += i * derivativeV;
    }
    const weight = scale * values[WEIGHT];
    const value = sum * weight;
    out[outOffset + pixel] = value;
    const bx = values[B_X], by = values[B_Y], bz = values[B_Z], length = values[LENGTH];
    const main = setup.main, u = setup.axisU, v = setup.axisV;
    const bm = main === 0 ? bx : main === 1 ? by : bz;
    const bu = u === 0 ? bx : by, bv = v === 1 ? by : bz;
    const c0 = values[C0], c1 = values[C1];
    const scaleU = weight * inverse[u], scaleV = weight * inverse[v];
    const daU = scaleU * gradientU, daV = scaleV * gradientV;
    const dbU = scaleU * (c0 * gradientU + c1 * momentU), dbV = scaleV * (c0 * gradientV + c1 * momentV);
    const lengthTerm = value / (length * length);
    const daM = -(bu * daU + bv * daV) / bm;
    const dbM = -(bu * dbU + bv * dbV) / bm + value * (bm / (length * length) - 1 / bm);
    rayGradients[g + main] = daM;
    rayGradients[g + u] = daU;
    rayGradients[g + v] = daV;
    rayGradients[g + 3 + main] = dbM;
    rayGradients[g + 3 + u] = dbU + lengthTerm * bu;
    rayGradients[g + 3 + v] = dbV + lengthTerm * bv;
  }
}

/**
 * Joseph maximum-intensity projection: each pixel is the largest interpolated density among the
 * ray's Joseph samples (the same slices and positions as {@link renderJoseph}); 0 for a ray that
 * misses the volume or meets no slice.
 */
export function renderJosephMaximum(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  const setup = shared;
  setup.reset(grid, rays, null);
  const storage = storageOf(grid);
  const data = storage.data, scale = storage.scale, zero = storage.zero;
  const values = setup.values;
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    if (setup.begin(pixel) <= 0) { out[outOffset + pixel] = 0; continue; }
    const pu = values[P_U], qu = values[Q_U], pv = values[P_V], qv = values[Q_V];
    const strideM = setup.strideM, strideU = setup.strideU, strideV = setup.strideV, strideUV = strideU + strideV;
    const step = setup.step, end = setup.end;
    let maximum = -Infinity;
    for (let i = setup.first; i !== end; i += step) {
      const gu = pu + i * qu, gv = pv + i * qv;
      const J = gu | 0, K = gv | 0;
      const base = (i + 1) * strideM + J * strideU + K * strideV;
      const c00 = data[base], c10 = data[base + strideU], c01 = data[base + strideV], c11 = data[base + strideUV];
      const wu = gu - J, wv = gv - K;
      const c0 = c00 + wu * (c10 - c00), c1 = c01 + wu * (c11 - c01);
      const value = c0 + wv * (c1 - c0);
      if (value > maximum) maximum = value;
    }
    out[outOffset + pixel] = (maximum - zero) * scale;
  }
}

/**
 * The adjoint of {@link renderJoseph} (back-projection): adds wₚ·L·(bilinear weights) of every
 * sample of pixel p's ray into the padded `accumulator` ((nx+2)·(ny+2)·(nz+2), the grid's
 * layout), for pixels [pixelStart, pixelEnd) with weights `weights[weightOffset + p]` — the same
 * slices and positions as the forward pass, so ⟨A x, y⟩ = ⟨x, Aᵀ y⟩. Densities are the grid's
 * float values (compact storage is a forward-pass detail: scale·(stored − zero) is the density).
 */
export function backprojectJoseph(
  grid: DensityGrid,
  rays: RayGrid,
  weights: ArrayLike<number>,
  weightOffset: number,
  accumulator: Float64Array,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  const setup = shared;
  setup.reset(grid, rays, null);
  const values = setup.values;
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const weight = weights[weightOffset + pixel];
    if (weight === 0 || setup.begin(pixel) <= 0) continue;
    const pu = values[P_U], qu = values[Q_U], pv = values[P_V], qv = values[Q_V];
    const strideM = setup.strideM, strideU = setup.strideU, strideV = setup.strideV, strideUV = strideU + strideV;
    const step = setup.step, end = setup.end;
    const w = weight * values[WEIGHT];
    for (let i = setup.first; i !== end; i += step) {
      const gu = pu + i * qu, gv = pv + i * qv;
      const J = gu | 0, K = gv | 0;
      const base = (i + 1) * strideM + J * strideU + K * strideV;
      const wu = gu - J, wv = gv - K;
      const lowV = w * (1 - wv), highV = w * wv;
      accumulator[base] += lowV * (1 - wu);
      accumulator[base + strideU] += lowV * wu;
      accumulator[base + strideV] += highV * (1 - wu);
      accumulator[base + strideUV] += highV * wu;
    }
  }
}
