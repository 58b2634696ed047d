/**
 * WGSL compute kernels of the WebGPU backend: ports of the CPU kernels in src/render/siddon.ts,
 * src/render/trilinear.ts and src/render/joseph.ts (same padding, plane-crossing and slice
 * expressions, clipping and tie rules), plus the reduction of per-pixel ray gradients to the
 * twelve numbers of a {@link RayGridGradient}.
 *
 * Layout shared by every kernel:
 * - `volume`: the padded density grid's data (`DensityGrid.data`), f32, uploaded once.
 * - `params`: a uniform block (see {@link PARAMETER_WORDS}).
 * - `rays`: 24 f32 per pose: the high parts of the source relative to the grid origin,
 *   firstPixel − source, rowStep, columnStep (12 numbers, differences taken in f64 on the
 *   host), then their low parts (value − high): each number as a double-float pair.
 * - images: [pose][pixel]; ray gradients: [pose][pixel][6] = (∂I/∂a, ∂I/∂b), as the CPU kernels.
 * - `pixelList` (sparse renders, `params.sparse` ≠ 0): the detector pixels to render, u32
 *   row·width + column; images and ray gradients are then compact, [pose][list entry].
 * One invocation renders one pixel: global id x is the pixel (or list entry), y the pose
 * (workgroups of 64).
 *
 * Precision: what decides *which* voxels and cells a ray meets — the ray itself, its clip to the
 * volume, Siddon's plane-crossing α and their order, the trilinear sample count and sample
 * positions, Joseph's dominant axis, slice range and in-slice positions — is computed in
 * double-float arithmetic (about 48 bits; see DOUBLE_FLOAT) and per-sample positions are stepped
 * in 96-bit fixed point, so the discrete choices are the CPU's f64 ones except within ~1e-11
 * voxel of a face. Densities, interpolation weights and every sum are f32 (images agree with the
 * CPU to about 1e-6 relative, not bit for bit). There is no empty-space skipping (which on the CPU
 * changes no value, only speed; trilinear and Joseph rays are still clipped to the occupied
 * cells' box). Joseph reads f32 densities: the grid's compact storage, decoded on upload
 * (webgpu-backend.ts). With `reduceMax` the forward kernels compute the maximum-intensity
 * projections of src/render/maximum-intensity.ts instead (no gradient).
 */

/** Threads per workgroup of every kernel. */
export const WORKGROUP_SIZE = 64;

/** 32-bit words of the uniform parameter block (a multiple of 4). */
export const PARAMETER_WORDS = 28;

/** Joseph's support inset (a millionth of a voxel, as joseph.ts), as a double-float pair. */
const SUPPORT_INSET_HIGH = Math.fround(1e-6);
const SUPPORT_INSET_LOW = Math.fround(1e-6 - SUPPORT_INSET_HIGH);

/** WGSL source of an f32 constant (exact: the shortest decimal that round-trips). */
function f32Literal(value: number): string {
  const text = String(Math.fround(value));
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** The uniform block, as WGSL. Field order is the host's write order (see webgpu-backend.ts). */
const PARAMETERS = /* wgsl */ `
struct Parameters {
  nx: i32, ny: i32, nz: i32, width: i32,
  height: i32, px: i32, pxy: i32, fixedCount: i32,
  dx: f32, dy: f32, dz: f32, step: f32,
  poseCount: u32, blocks: u32, pixelCount: u32, reduceMax: u32,
  lowX: f32, lowY: f32, lowZ: f32, sparse: u32,
  highX: f32, highY: f32, highZ: f32, zero: u32,
  dxLow: f32, dyLow: f32, dzLow: f32, stepLow: f32,
};
const WORKGROUP: u32 = ${WORKGROUP_SIZE}u;
/** Stands in for +∞: α of every plane of an axis the ray does not move along. */
const FAR: f32 = 3.0e38;
`;

/**
 * Double-float ("df") arithmetic: a number is an unevaluated sum hi + lo of two f32 (a vec2f,
 * normalized: hi = fl(hi + lo)), about 48 significant bits. The ray set-up (ray from its
 * df inputs, clip, sample count, slice and plane-crossing α) runs in it; see "Precision" in
 * docs/webgpu.md.
 *
 * Error-free transforms only hold if every operation is rounded exactly as written, so they are
 * protected from the compiler (Tint → the driver's compiler may reassociate, fold or fuse
 * multiply-adds in non-precise float code): \`keep(x)\` passes a value through an integer XOR with
 * the uniform \`params.zero\` (0 at run time, unknown when compiling), so no compiler can prove
 * \`keep(a + b) − a = b\` or fuse a product into a later sum; and products are made exact by
 * splitting each factor with an integer mask (12 + 12 significant bits) instead of Veltkamp's
 * float trick. test/webgpu.test.ts checks on the device that these give 48-bit results.
 */
const DOUBLE_FLOAT = /* wgsl */ `
fn keep(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ params.zero); }
/** a + b = s + e exactly (Knuth). */
fn twoSum(a: f32, b: f32) -> vec2f {
  let s = keep(a + b);
  let bv = keep(s - a);
  let av = keep(s - bv);
  return vec2f(s, keep(a - av) + keep(b - bv));
}
/** a + b = s + e exactly when |a| ≥ |b| or a = 0 (Dekker). */
fn fastTwoSum(a: f32, b: f32) -> vec2f {
  let s = keep(a + b);
  return vec2f(s, keep(b - keep(s - a)));
}
/** The top 12 significant bits of x (an integer mask: exact, and opaque to every compiler). */
fn upperHalf(x: f32) -> f32 { return bitcast<f32>((bitcast<u32>(x) ^ params.zero) & 0xFFFFF000u); }
/** a·b = p + e exactly (Dekker, with 12-bit halves). */
fn twoProduct(a: f32, b: f32) -> vec2f {
  let p = keep(a * b);
  let ah = upperHalf(a); let al = keep(a - ah);
  let bh = upperHalf(b); let bl = keep(b - bh);
  let e = keep(keep(keep(keep(ah * bh) - p) + keep(ah * bl)) + keep(al * bh)) + keep(al * bl);
  return vec2f(p, e);
}
fn dd(x: f32) -> vec2f { return vec2f(x, 0.0); }
fn ddAdd(x: vec2f, y: vec2f) -> vec2f {
  let s = twoSum(x.x, y.x);
  let t = twoSum(x.y, y.y);
  let r = fastTwoSum(s.x, keep(s.y + t.x));
  return fastTwoSum(r.x, keep(r.y + t.y));
}
fn ddSub(x: vec2f, y: vec2f) -> vec2f { return ddAdd(x, -y); }
fn ddMul(x: vec2f, y: vec2f) -> vec2f {
  let p = twoProduct(x.x, y.x);
  return fastTwoSum(p.x, keep(p.y + keep(keep(x.x * y.y) + keep(x.y * y.x))));
}
fn ddMulF(x: vec2f, f: f32) -> vec2f {
  let p = twoProduct(x.x, f);
  return fastTwoSum(p.x, keep(p.y + keep(x.y * f)));
}
/** x / y: an f32 quotient and two corrections (f32 division need not be correctly rounded). */
fn ddDiv(x: vec2f, y: vec2f) -> vec2f {
  let q1 = x.x / y.x;
  var r = ddSub(x, ddMulF(y, q1));
  let q2 = r.x / y.x;
  r = ddSub(r, ddMulF(y, q2));
  let q3 = r.x / y.x;
  return ddAdd(fastTwoSum(q1, q2), dd(q3));
}
fn ddSqrt(x: vec2f) -> vec2f {
  if (x.x <= 0.0) { return vec2f(0.0); }
  let s = sqrt(x.x);
  let r = ddSub(x, twoProduct(s, s));
  let t = s + r.x / (2.0 * s);
  let r2 = ddSub(x, twoProduct(t, t));
  return fastTwoSum(t, r2.x / (2.0 * t));
}
fn ddLess(x: vec2f, y: vec2f) -> bool { return x.x < y.x || (x.x == y.x && x.y < y.y); }
fn ddLessEqual(x: vec2f, y: vec2f) -> bool { return x.x < y.x || (x.x == y.x && x.y <= y.y); }
fn ddAbs(x: vec2f) -> vec2f { return select(x, -x, x.x < 0.0 || (x.x == 0.0 && x.y < 0.0)); }
/** ⌊x⌋ of a df number (|x| < 2^31). */
fn ddFloor(x: vec2f) -> i32 {
  let f = floor(x.x);
  if (f == x.x && x.y < 0.0) { return i32(f) - 1; }
  return i32(f);
}
/** ⌈x⌉ of a df number (|x| < 2^31). */
fn ddCeil(x: vec2f) -> i32 {
  let c = ceil(x.x);
  if (c == x.x && x.y > 0.0) { return i32(c) + 1; }
  return i32(c);
}
/** α of plane p (or slice) of an axis: c0 + p·c1, in df. */
fn planeAlpha(c0: vec2f, c1: vec2f, p: i32) -> vec2f { return ddAdd(c0, ddMulF(c1, f32(p))); }
/**
 * The same, cheaper, for traversal loops: c1's high part split once per ray into 12-bit halves
 * (c1High + c1Low = c1.x, see upperHalf), so p·c1High and p·c1Low are exact for 0 ≤ p < 4096.
 */
fn planeAlphaSplit(c0: vec2f, c1: vec2f, c1High: f32, c1Low: f32, p: i32) -> vec2f {
  let f = f32(p);
  let s = twoSum(c0.x, keep(f * c1High));
  let t = twoSum(s.x, keep(f * c1Low));
  return fastTwoSum(t.x, keep(keep(s.y + t.y) + keep(c0.y + keep(f * c1.y))));
}
/** x − y to f32 accuracy (for segment lengths between nearby α: the high parts' difference is then exact). */
fn ddGap(x: vec2f, y: vec2f) -> f32 { return (x.x - y.x) + (x.y - y.y); }
/** The grid spacing along an axis, as df (the host uploads hi and lo of the f64 spacing). */
fn spacingOf(axis: i32) -> vec2f {
  if (axis == 0) { return vec2f(params.dx, params.dxLow); }
  if (axis == 1) { return vec2f(params.dy, params.dyLow); }
  return vec2f(params.dz, params.dzLow);
}

/**
 * Fixed-point positions, for per-sample stepping: three words (whole, high, low) = the 96-bit
 * two's complement number whole + high·2⁻³² + low·2⁻⁶⁴. Integer additions are exact on every
 * device and no compiler may reassociate them, so n steps of H from P give P + n·H to 2⁻⁶⁴·n:
 * the cell index is \`whole\` and the weight the fraction, as the CPU's f64 floor and subtraction.
 */
fn fixedOfMagnitude(x: f32) -> vec3u {
  let whole = floor(x);
  let fraction = (x - whole) * 4294967296.0;
  let high = floor(fraction);
  return vec3u(u32(whole), u32(high), u32(floor((fraction - high) * 4294967296.0)));
}
/** x (|x| < 2^31) as fixed point: exact down to 2⁻⁶⁴ (x − ⌊x⌋ is exact for x ≥ 0, so negatives are negated). */
fn fixedOf(x: f32) -> vec3u {
  let magnitude = fixedOfMagnitude(abs(x));
  return select(magnitude, fixedAdd(~magnitude, vec3u(0u, 0u, 1u)), x < 0.0);
}
fn fixedAdd(x: vec3u, y: vec3u) -> vec3u {
  let low = x.z + y.z;
  let high0 = x.y + y.y;
  let high = high0 + select(0u, 1u, low < x.z);
  let carry = select(0u, 1u, high0 < x.y) + select(0u, 1u, high < high0);
  return vec3u(x.x + y.x + carry, high, low);
}
/** A df number (|x| < 2^31) as fixed point. */
fn fixedOfDd(x: vec2f) -> vec3u { return fixedAdd(fixedOf(x.x), fixedOf(x.y)); }
/** The weight of a fixed-point position in cell \`cell\`: (whole − cell) + fraction, as f32. */
fn fixedWeight(whole: u32, high: u32, cell: i32) -> f32 {
  return f32(bitcast<i32>(whole) - cell) + f32(high >> 8u) * 5.9604644775390625e-8;
}
`;

/**
 * Invocation → detector pixel: the identity, or (sparse renders) the index'th entry of the
 * uploaded pixel list. Outputs are compact: one value per listed pixel, in the list's order.
 */
const DETECTOR_PIXEL = /* wgsl */ `
fn detectorPixel(index: u32) -> u32 {
  if (params.sparse != 0u) { return pixelList[index]; }
  return index;
}
`;

/** Bindings and the pixel → ray step common to the render kernels. */
const RENDER_PRELUDE = /* wgsl */ `
${PARAMETERS}
@group(0) @binding(0) var<storage, read> volume: array<f32>;
@group(0) @binding(1) var<uniform> params: Parameters;
@group(0) @binding(2) var<storage, read> rays: array<f32>;
@group(0) @binding(3) var<storage, read_write> images: array<f32>;
@group(0) @binding(5) var<storage, read> pixelList: array<u32>;
${DETECTOR_PIXEL}
${DOUBLE_FLOAT}

/** A ray a + α·b as df numbers: a, b their high parts (f32, for the gradient formulas), aLow, bLow the rest. */
struct Ray { a: vec3f, b: vec3f, aLow: vec3f, bLow: vec3f };
fn rayA(ray: Ray, axis: i32) -> vec2f { return vec2f(ray.a[axis], ray.aLow[axis]); }
fn rayB(ray: Ray, axis: i32) -> vec2f { return vec2f(ray.b[axis], ray.bLow[axis]); }

/** Uploaded number k (0 … 11) of pose \`base\`/24, as df. */
fn rayValue(base: u32, k: u32) -> vec2f { return vec2f(rays[base + k], rays[base + 12u + k]); }

/** The ray of pixel (row, column) of pose \`pose\`: a = source, b = pixel centre − source (in df). */
fn pixelRay(pose: u32, row: i32, column: i32) -> Ray {
  let base = 24u * pose;
  var ray: Ray;
  for (var axis = 0u; axis < 3u; axis++) {
    let a = rayValue(base, axis);
    let b = ddAdd(ddAdd(rayValue(base, 3u + axis), ddMulF(rayValue(base, 6u + axis), f32(row))), ddMulF(rayValue(base, 9u + axis), f32(column)));
    ray.a[axis] = a.x; ray.aLow[axis] = a.y;
    ray.b[axis] = b.x; ray.bLow[axis] = b.y;
  }
  return ray;
}

/** The ray of render invocation \`index\` of pose \`pose\`: its detector pixel (detectorPixel) as row and column. */
fn invocationRay(pose: u32, index: u32) -> Ray {
  let pixel = detectorPixel(index);
  let row = i32(pixel / u32(params.width));
  return pixelRay(pose, row, i32(pixel) - row * params.width);
}
`;

/**
 * Siddon's set-up (SiddonRays in siddon.ts without the occupied box), in df: the crossing
 * coefficients, the clip to the volume's planes (entry: last near face, ties to the later axis;
 * exit: first far face, ties to the earlier axis) and the start state after the entry event.
 */
const SIDDON_SETUP = /* wgsl */ `
struct Siddon {
  status: i32,                      // 0: the ray misses the volume; 2: traverse
  c0x: vec2f, c0y: vec2f, c0z: vec2f, // α of plane p on an axis = c0 + p·c1 (df)
  c1x: vec2f, c1y: vec2f, c1z: vec2f,
  entry: vec2f, exit: vec2f, entryAxis: i32, exitAxis: i32,
  step: vec3i, plane: vec3i, index: i32,
};

/** One axis of the start state: the voxel after the entry event (the CPU's estimate-then-fix). */
fn siddonStart(axis: i32, a: vec2f, b: f32, c0: vec2f, c1: vec2f, d: vec2f, n: i32, entry: vec2f, entryAxis: i32) -> i32 {
  if (b == 0.0) {
    return clamp(ddFloor(ddDiv(a, d)), 0, n - 1);
  }
  let step = select(-1, 1, b > 0.0);
  if (entryAxis == axis) {
    return select(n - 1, 0, b > 0.0);
  }
  var i = clamp(i32(floor((a.x + entry.x * b) / d.x)), 0, n - 1);
  let tied = axis < entryAxis;
  let enter = select(1, 0, b > 0.0);
  let leave = 1 - enter;
  for (var guard = 0; guard < n; guard++) {
    let t = planeAlpha(c0, c1, i + leave);
    if (i + step >= 0 && i + step < n && (ddLess(t, entry) || (tied && all(t == entry)))) { i += step; } else { break; }
  }
  for (var guard = 0; guard < n; guard++) {
    let t = planeAlpha(c0, c1, i + enter);
    if (i - step >= 0 && i - step < n && !(ddLess(t, entry) || (tied && all(t == entry)))) { i -= step; } else { break; }
  }
  return i;
}

fn siddonSetup(ray: Ray) -> Siddon {
  var s: Siddon;
  let n = vec3i(params.nx, params.ny, params.nz);
  s.status = 0;
  var c0 = array<vec2f, 3>(dd(FAR), dd(FAR), dd(FAR));
  var c1 = array<vec2f, 3>(dd(0.0), dd(0.0), dd(0.0));
  var entry = dd(0.0);
  var exit = dd(1.0);
  var entryAxis = -1;
  var exitAxis = -1;
  for (var axis = 0; axis < 3; axis++) {
    let a = rayA(ray, axis);
    let b = rayB(ray, axis);
    let d = spacingOf(axis);
    if (b.x != 0.0) {
      c0[axis] = ddDiv(-a, b);
      c1[axis] = ddDiv(d, b);
      let low = c0[axis];
      let high = planeAlpha(c0[axis], c1[axis], n[axis]);
      let near = select(high, low, b.x > 0.0);
      let far = select(low, high, b.x > 0.0);
      if (ddLessEqual(entry, near)) { entry = near; entryAxis = axis; }
      if (ddLess(far, exit)) { exit = far; exitAxis = axis; }
    } else if (ddLess(a, dd(0.0)) || ddLess(ddMulF(d, f32(n[axis])), a)) {
      return s;
    }
  }
  if (!ddLess(entry, exit)) { return s; }
  s.c0x = c0[0]; s.c0y = c0[1]; s.c0z = c0[2];
  s.c1x = c1[0]; s.c1y = c1[1]; s.c1z = c1[2];
  s.entry = entry; s.exit = exit; s.entryAxis = entryAxis; s.exitAxis = exitAxis;
  let b = ray.b;
  s.step = vec3i(select(-1, 1, b.x > 0.0), select(-1, 1, b.y > 0.0), select(-1, 1, b.z > 0.0));
  let i = siddonStart(0, rayA(ray, 0), b.x, s.c0x, s.c1x, spacingOf(0), n.x, entry, entryAxis);
  let j = siddonStart(1, rayA(ray, 1), b.y, s.c0y, s.c1y, spacingOf(1), n.y, entry, entryAxis);
  let k = siddonStart(2, rayA(ray, 2), b.z, s.c0z, s.c1z, spacingOf(2), n.z, entry, entryAxis);
  s.plane = vec3i(select(i, i + 1, b.x > 0.0), select(j, j + 1, b.y > 0.0), select(k, k + 1, b.z > 0.0));
  s.index = i + 1 + params.px * (j + 1) + params.pxy * (k + 1);
  s.status = 2;
  return s;
}
`;

/**
 * Siddon's exact radiological path (renderSiddon); with reduceMax, the Siddon MIP
 * (renderSiddonMaximum). Set-up in df, traversal in f32 (SIDDON_GRADIENT traverses in df).
 */
export const SIDDON_FORWARD = /* wgsl */ `
${RENDER_PRELUDE}
${SIDDON_SETUP}
/** Adds one segment: density × length, or (MIP) the density when the segment has positive length. */
fn gather(total: f32, density: f32, segment: f32) -> f32 {
  if (params.reduceMax != 0u) {
    if (segment > 0.0) { return max(total, density); }
    return total;
  }
  return total + density * segment;
}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let ray = invocationRay(pose, index);
  let s = siddonSetup(ray);
  let b = ray.b;
  let maximum = params.reduceMax != 0u;
  var sum = select(0.0, -FAR, maximum);
  if (s.status == 2) {
    // The set-up (clip, start voxel) is the gradient kernel's, in df; the traversal steps in f32
    // (the old, cheap path: forward images need no more, see "Precision" in docs/webgpu.md).
    let exit = s.exit.x;
    let exitAxis = s.exitAxis;
    let c0 = vec3f(s.c0x.x, s.c0y.x, s.c0z.x);
    let c1 = vec3f(s.c1x.x, s.c1y.x, s.c1z.x);
    let strideJ = s.step.y * params.px;
    let strideK = s.step.z * params.pxy;
    var plane = s.plane;
    var next = c0 + vec3f(plane) * c1;
    var index = s.index;
    var alpha = s.entry.x;
    var current = volume[index];
    let limit = params.nx + params.ny + params.nz + 6;
    for (var guard = 0; guard < limit; guard++) {
      if (next.x <= next.y && next.x <= next.z) {
        if (next.x >= exit && (next.x > exit || exitAxis <= 0)) { sum = gather(sum, current, exit - alpha); break; }
        sum = gather(sum, current, next.x - alpha);
        alpha = next.x;
        index += s.step.x;
        plane.x += s.step.x;
        next.x = c0.x + f32(plane.x) * c1.x;
      } else if (next.y <= next.z) {
        if (next.y >= exit && (next.y > exit || exitAxis <= 1)) { sum = gather(sum, current, exit - alpha); break; }
        sum = gather(sum, current, next.y - alpha);
        alpha = next.y;
        index += strideJ;
        plane.y += s.step.y;
        next.y = c0.y + f32(plane.y) * c1.y;
      } else {
        if (next.z >= exit) { sum = gather(sum, current, exit - alpha); break; }
        sum = gather(sum, current, next.z - alpha);
        alpha = next.z;
        index += strideK;
        plane.z += s.step.z;
        next.z = c0.z + f32(plane.z) * c1.z;
      }
      current = volume[index];
    }
  }
  var value = sum * length(b);
  if (maximum) { value = select(sum, 0.0, sum == -FAR); }
  images[pose * params.pixelCount + index] = value;
}
`;

/** Siddon with (∂I/∂a, ∂I/∂b) per pixel (renderSiddonWithRayGradients). */
export const SIDDON_GRADIENT = /* wgsl */ `
${RENDER_PRELUDE}
@group(0) @binding(4) var<storage, read_write> rayGradients: array<f32>;
${SIDDON_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let ray = invocationRay(pose, index);
  let s = siddonSetup(ray);
  let b = ray.b;
  // Crossing sums per axis: Σ (μ_before − μ_after)/b_axis and the same times α.
  var cross = vec3f(0.0);
  var crossAlpha = vec3f(0.0);
  var sum = 0.0;
  if (s.status == 2) {
    let inverse = vec3f(select(0.0, 1.0 / b.x, b.x != 0.0), select(0.0, 1.0 / b.y, b.y != 0.0), select(0.0, 1.0 / b.z, b.z != 0.0));
    let entry = s.entry;
    let exit = s.exit;
    let exitAxis = s.exitAxis;
    let strideJ = s.step.y * params.px;
    let strideK = s.step.z * params.pxy;
    var plane = s.plane;
    let c1High = vec3f(upperHalf(s.c1x.x), upperHalf(s.c1y.x), upperHalf(s.c1z.x));
    let c1Low = vec3f(s.c1x.x, s.c1y.x, s.c1z.x) - c1High;
    var nextX = planeAlphaSplit(s.c0x, s.c1x, c1High.x, c1Low.x, plane.x);
    var nextY = planeAlphaSplit(s.c0y, s.c1y, c1High.y, c1Low.y, plane.y);
    var nextZ = planeAlphaSplit(s.c0z, s.c1z, c1High.z, c1Low.z, plane.z);
    var index = s.index;
    var alpha = entry;
    var current = volume[index];
    // The entry event, from μ = 0 outside.
    if (s.entryAxis >= 0) {
      let axis = s.entryAxis;
      let jump = (0.0 - current) * inverse[axis];
      cross[axis] += jump;
      crossAlpha[axis] += jump * entry.x;
    }
    var reachedExit = false;
    let limit = params.nx + params.ny + params.nz + 6;
    for (var guard = 0; guard < limit; guard++) {
      var axis = 0;
      if (ddLessEqual(nextX, nextY) && ddLessEqual(nextX, nextZ)) {
        if (ddLessEqual(exit, nextX) && (ddLess(exit, nextX) || exitAxis <= 0)) { sum += current * ddGap(exit, alpha); reachedExit = true; break; }
        sum += current * ddGap(nextX, alpha);
        alpha = nextX;
        index += s.step.x;
        plane.x += s.step.x;
        nextX = planeAlphaSplit(s.c0x, s.c1x, c1High.x, c1Low.x, plane.x);
        axis = 0;
      } else if (ddLessEqual(nextY, nextZ)) {
        if (ddLessEqual(exit, nextY) && (ddLess(exit, nextY) || exitAxis <= 1)) { sum += current * ddGap(exit, alpha); reachedExit = true; break; }
        sum += current * ddGap(nextY, alpha);
        alpha = nextY;
        index += strideJ;
        plane.y += s.step.y;
        nextY = planeAlphaSplit(s.c0y, s.c1y, c1High.y, c1Low.y, plane.y);
        axis = 1;
      } else {
        if (ddLessEqual(exit, nextZ)) { sum += current * ddGap(exit, alpha); reachedExit = true; break; }
        sum += current * ddGap(nextZ, alpha);
        alpha = nextZ;
        index += strideK;
        plane.z += s.step.z;
        nextZ = planeAlphaSplit(s.c0z, s.c1z, c1High.z, c1Low.z, plane.z);
        axis = 2;
      }
      let after = volume[index];
      let jump = (current - after) * inverse[axis];
      cross[axis] += jump;
      crossAlpha[axis] += jump * alpha.x;
      current = after;
    }
    if (reachedExit && exitAxis >= 0) {
      // The exit event, to μ = 0 outside (none when the ray ends inside at α = 1).
      let jump = current * inverse[exitAxis];
      cross[exitAxis] += jump;
      crossAlpha[exitAxis] += jump * exit.x;
    }
  }
  let rayLength = length(b);
  let value = sum * rayLength;
  images[pose * params.pixelCount + index] = value;
  var lengthTerm = 0.0;
  if (rayLength > 0.0) { lengthTerm = value / (rayLength * rayLength); }
  let g = 6u * (pose * params.pixelCount + index);
  let byA = -rayLength * cross;
  let byB = -rayLength * crossAlpha + lengthTerm * b;
  rayGradients[g] = byA.x; rayGradients[g + 1u] = byA.y; rayGradients[g + 2u] = byA.z;
  rayGradients[g + 3u] = byB.x; rayGradients[g + 4u] = byB.y; rayGradients[g + 5u] = byB.z;
}
`;

/**
 * The slab clips: \`clipToSupport\` in df (the interpolated field's support: the box grown by half
 * a voxel less \`inset\` voxels, for the sample and slice positions), remembering which axis set the
 * entry and the exit; \`clipToBox\` in f32 (the occupied cells' box, used with a wide margin).
 */
const CLIP_TO_BOX = /* wgsl */ `
struct Clip { hit: bool, entry: vec2f, exit: vec2f, entryAxis: i32, exitAxis: i32 };

fn clipToSupport(ray: Ray, inset: vec2f) -> Clip {
  var c: Clip;
  c.hit = false;
  c.entry = dd(0.0); c.exit = dd(1.0); c.entryAxis = -1; c.exitAxis = -1;
  let n = vec3i(params.nx, params.ny, params.nz);
  for (var axis = 0; axis < 3; axis++) {
    let d = spacingOf(axis);
    let low = -ddMul(d, ddSub(dd(0.5), inset));
    let high = ddMul(d, ddSub(dd(f32(n[axis]) + 0.5), inset));
    let a = rayA(ray, axis);
    let b = rayB(ray, axis);
    if (b.x != 0.0) {
      let t1 = ddDiv(ddSub(low, a), b);
      let t2 = ddDiv(ddSub(high, a), b);
      let rising = ddLess(t1, t2);
      let near = select(t2, t1, rising);
      let far = select(t1, t2, rising);
      if (ddLess(c.entry, near)) { c.entry = near; c.entryAxis = axis; }
      if (ddLess(far, c.exit)) { c.exit = far; c.exitAxis = axis; }
    } else if (ddLess(a, low) || ddLess(high, a)) {
      return c;
    }
  }
  c.hit = ddLess(c.entry, c.exit);
  return c;
}

fn clipToBox(a: vec3f, b: vec3f, low: vec3f, high: vec3f) -> vec2f {
  var entry = 0.0;
  var exit = 1.0;
  for (var axis = 0; axis < 3; axis++) {
    if (b[axis] != 0.0) {
      let t1 = (low[axis] - a[axis]) / b[axis];
      let t2 = (high[axis] - a[axis]) / b[axis];
      entry = max(entry, min(t1, t2));
      exit = min(exit, max(t1, t2));
    } else if (a[axis] < low[axis] || a[axis] > high[axis]) {
      return vec2f(1.0, 0.0);
    }
  }
  return vec2f(entry, exit);
}
`;

/**
 * The trilinear kernels' clip to the field's support and their sample count (as renderTrilinear,
 * in df), and the samples' positions in padded index units as fixed point: sample \`first\`'s
 * and the step between samples (\`position\` + k·\`step\` is sample first + k).
 */
const TRILINEAR_SETUP = /* wgsl */ `
${CLIP_TO_BOX}
struct Trilinear {
  hit: bool, entry: f32, exit: f32, entryAxis: i32, exitAxis: i32, count: i32, h: f32, first: i32, last: i32,
  positionWhole: vec3u, positionHigh: vec3u, positionLow: vec3u,
  stepWhole: vec3u, stepHigh: vec3u, stepLow: vec3u,
};

fn trilinearSetup(ray: Ray) -> Trilinear {
  var t: Trilinear;
  t.hit = false;
  let clip = clipToSupport(ray, dd(0.0));
  if (!clip.hit) { return t; }
  t.hit = true;
  t.entry = clip.entry.x; t.exit = clip.exit.x; t.entryAxis = clip.entryAxis; t.exitAxis = clip.exitAxis;
  let span = ddSub(clip.exit, clip.entry);
  if (params.fixedCount > 0) { t.count = params.fixedCount; }
  else {
    let bx = rayB(ray, 0); let by = rayB(ray, 1); let bz = rayB(ray, 2);
    let rayLength = ddSqrt(ddAdd(ddAdd(ddMul(bx, bx), ddMul(by, by)), ddMul(bz, bz)));
    t.count = max(1, ddCeil(ddDiv(ddMul(span, rayLength), vec2f(params.step, params.stepLow))));
  }
  let h = ddDiv(span, dd(f32(t.count)));
  t.h = h.x;
  // Samples outside the occupied cells' box (by a margin far beyond rounding) add exactly 0.
  t.first = 0;
  t.last = t.count;
  let occupied = clipToBox(ray.a, ray.b, vec3f(params.lowX, params.lowY, params.lowZ), vec3f(params.highX, params.highY, params.highZ));
  if (!(occupied.y > occupied.x)) { t.last = 0; return t; }
  let margin = 1e-4;
  t.first = max(0, i32(ceil((occupied.x - margin - t.entry) / t.h - 0.5)));
  t.last = min(t.count, i32(floor((occupied.y + margin - t.entry) / t.h - 0.5)) + 1);
  // Sample k lies at α = entry + (k + ½)·h, at padded index (a + α·b)/d + ½.
  let alpha = ddAdd(clip.entry, ddMulF(h, f32(t.first) + 0.5));
  for (var axis = 0; axis < 3; axis++) {
    let d = spacingOf(axis);
    let b = rayB(ray, axis);
    let position = fixedOfDd(ddAdd(ddDiv(ddAdd(rayA(ray, axis), ddMul(alpha, b)), d), dd(0.5)));
    let step = fixedOfDd(ddDiv(ddMul(h, b), d));
    t.positionWhole[axis] = position.x; t.positionHigh[axis] = position.y; t.positionLow[axis] = position.z;
    t.stepWhole[axis] = step.x; t.stepHigh[axis] = step.y; t.stepLow[axis] = step.z;
  }
  return t;
}

/** One step of a fixed-point position, three axes at a time (see fixedAdd). */
struct Position { whole: vec3u, high: vec3u, low: vec3u };
fn advance(p: Position, t: Trilinear) -> Position {
  let low = p.low + t.stepLow;
  let high0 = p.high + t.stepHigh;
  let high = high0 + select(vec3u(0u), vec3u(1u), low < p.low);
  let carry = select(vec3u(0u), vec3u(1u), high0 < p.high) + select(vec3u(0u), vec3u(1u), high < high0);
  return Position(p.whole + t.stepWhole + carry, high, low);
}

/** The padded base cell of a sample (renderTrilinear's clamped floor). */
fn cellOf(p: Position) -> vec3i {
  return clamp(bitcast<vec3i>(p.whole), vec3i(0), vec3i(params.nx, params.ny, params.nz));
}
/** The sample's interpolation weights in its cell (position − cell). */
fn weightsOf(p: Position, c: vec3i) -> vec3f {
  return vec3f(bitcast<vec3i>(p.whole) - c) + vec3f(p.high >> vec3u(8u)) * 5.9604644775390625e-8;
}
`;

/** Trilinear DRR by the midpoint rule (renderTrilinear); with reduceMax, the trilinear MIP (renderTrilinearMaximum). */
export const TRILINEAR_FORWARD = /* wgsl */ `
${RENDER_PRELUDE}
${TRILINEAR_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let ray = invocationRay(pose, index);
  let t = trilinearSetup(ray);
  var value = 0.0;
  if (t.hit) {
    let px = params.px;
    let pxy = params.pxy;
    let maximum = params.reduceMax != 0u;
    // MIP: samples clipped away as outside the occupied cells are zeros.
    var sum = select(0.0, select(-FAR, 0.0, t.first > 0 || t.last < t.count), maximum);
    var position = Position(t.positionWhole, t.positionHigh, t.positionLow);
    for (var sample = t.first; sample < t.last; sample++) {
      let c = cellOf(position);
      let w = weightsOf(position, c);
      position = advance(position, t);
      let base = c.x + px * c.y + pxy * c.z;
      let c000 = volume[base]; let c100 = volume[base + 1];
      let c010 = volume[base + px]; let c110 = volume[base + px + 1];
      let c001 = volume[base + pxy]; let c101 = volume[base + pxy + 1];
      let c011 = volume[base + pxy + px]; let c111 = volume[base + pxy + px + 1];
      let c00 = c000 + w.x * (c100 - c000);
      let c10 = c010 + w.x * (c110 - c010);
      let c01 = c001 + w.x * (c101 - c001);
      let c11 = c011 + w.x * (c111 - c011);
      let c0 = c00 + w.y * (c10 - c00);
      let c1 = c01 + w.y * (c11 - c01);
      let interpolated = c0 + w.z * (c1 - c0);
      if (maximum) { sum = max(sum, interpolated); } else { sum += interpolated; }
    }
    value = select(sum * t.h * length(ray.b), sum, maximum);
  }
  images[pose * params.pixelCount + index] = value;
}
`;

/** Trilinear with (∂I/∂a, ∂I/∂b) per pixel (renderTrilinearWithRayGradients). */
export const TRILINEAR_GRADIENT = /* wgsl */ `
${RENDER_PRELUDE}
@group(0) @binding(4) var<storage, read_write> rayGradients: array<f32>;
${TRILINEAR_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let ray = invocationRay(pose, index);
  let t = trilinearSetup(ray);
  let out = pose * params.pixelCount + index;
  let g = 6u * out;
  if (!t.hit) {
    images[out] = 0.0;
    for (var q = 0u; q < 6u; q++) { rayGradients[g + q] = 0.0; }
    return;
  }
  let b = ray.b;
  let inverseD = vec3f(1.0 / params.dx, 1.0 / params.dy, 1.0 / params.dz);
  let px = params.px;
  let pxy = params.pxy;
  let inverseCount = 1.0 / f32(t.count);
  var sum = 0.0;
  var g0 = vec3f(0.0);
  var g1 = vec3f(0.0);
  var position = Position(t.positionWhole, t.positionHigh, t.positionLow);
  for (var sample = t.first; sample < t.last; sample++) {
    let c = cellOf(position);
    let w = weightsOf(position, c);
    position = advance(position, t);
    let base = c.x + px * c.y + pxy * c.z;
    let c000 = volume[base]; let c100 = volume[base + 1];
    let c010 = volume[base + px]; let c110 = volume[base + px + 1];
    let c001 = volume[base + pxy]; let c101 = volume[base + pxy + 1];
    let c011 = volume[base + pxy + px]; let c111 = volume[base + pxy + px + 1];
    let c00 = c000 + w.x * (c100 - c000);
    let c10 = c010 + w.x * (c110 - c010);
    let c01 = c001 + w.x * (c101 - c001);
    let c11 = c011 + w.x * (c111 - c011);
    let c0 = c00 + w.y * (c10 - c00);
    let c1 = c01 + w.y * (c11 - c01);
    sum += c0 + w.z * (c1 - c0);
    let weight = (f32(sample) + 0.5) * inverseCount;
    // ∇μ in world units.
    let derivative = vec3f(
      ((c100 - c000) * (1.0 - w.y) * (1.0 - w.z) + (c110 - c010) * w.y * (1.0 - w.z) + (c101 - c001) * (1.0 - w.y) * w.z + (c111 - c011) * w.y * w.z) * inverseD.x,
      ((c10 - c00) * (1.0 - w.z) + (c11 - c01) * w.z) * inverseD.y,
      (c1 - c0) * inverseD.z);
    g0 += derivative;
    g1 += weight * derivative;
  }
  let rayLength = length(b);
  let value = sum * t.h * rayLength;
  images[out] = value;
  let scale = t.h * rayLength;
  let span = t.exit - t.entry;
  // ∂I/∂α₀ and ∂I/∂α₁ (through the step and the sample positions).
  let byEntry = -rayLength * sum * inverseCount + scale * dot(g0 - g1, b);
  let byExit = rayLength * sum * inverseCount + scale * dot(g1, b);
  var byA = scale * g0;
  let lengthTerm = value / (rayLength * rayLength);
  var byB = scale * (t.entry * g0 + span * g1) + lengthTerm * b;
  // α on face P of axis q: α = (P − a_q)/b_q ⇒ ∂α/∂a_q = −1/b_q, ∂α/∂b_q = −α/b_q.
  if (t.entryAxis >= 0) {
    let q = t.entryAxis;
    byA[q] -= byEntry / b[q];
    byB[q] -= (byEntry * t.entry) / b[q];
  }
  if (t.exitAxis >= 0) {
    let q = t.exitAxis;
    byA[q] -= byExit / b[q];
    byB[q] -= (byExit * t.exit) / b[q];
  }
  rayGradients[g] = byA.x; rayGradients[g + 1u] = byA.y; rayGradients[g + 2u] = byA.z;
  rayGradients[g + 3u] = byB.x; rayGradients[g + 4u] = byB.y; rayGradients[g + 5u] = byB.z;
}
`;

/**
 * Joseph's set-up (JosephRays.begin in joseph.ts), in df: the clip to the interpolated field's
 * support (the box grown by half a voxel, less the CPU's inset of a millionth of a voxel), the
 * dominant axis m (ties to the earlier axis), the slice coefficients α = c₀ + i·c₁, the in-slice
 * positions g = p + i·q along u and v (padded index units; fixed point from slice \`first\` on)
 * and the slices to visit, made exact with the CPU's estimate-then-fix. Rays are also limited to
 * the slices near the occupied cells' box (as the trilinear kernels, by a margin far beyond
 * rounding; not for maximum-intensity projections, which the CPU renders without it): samples
 * outside it are exactly zero.
 */
const JOSEPH_SETUP = /* wgsl */ `
${CLIP_TO_BOX}
struct Joseph {
  hit: bool,               // false: the ray misses the support or has no length
  main: i32, u: i32, v: i32,
  c0: f32, c1: f32, weight: f32, rayLength: f32,
  first: i32, end: i32, step: i32, count: i32,
  // Slice first's (u, v) position and the step to the next slice visited, fixed point.
  positionWhole: vec2u, positionHigh: vec2u, positionLow: vec2u,
  stepWhole: vec2u, stepHigh: vec2u, stepLow: vec2u,
};

/** Whether α lies on the inner side of the boundary that low (rising: entry) or high slice indices leave by. */
fn insideLow(alpha: vec2f, rising: bool, entry: vec2f, exit: vec2f) -> bool {
  return select(ddLessEqual(alpha, exit), ddLessEqual(entry, alpha), rising);
}
fn insideHigh(alpha: vec2f, rising: bool, entry: vec2f, exit: vec2f) -> bool {
  return select(ddLessEqual(entry, alpha), ddLessEqual(alpha, exit), rising);
}

/** lowestSlice of joseph.ts: the lowest slice in [0, last + 1] inside the clipped segment. */
fn lowestSlice(c0: vec2f, c1: vec2f, entry: vec2f, exit: vec2f, last: i32) -> i32 {
  let rising = c1.x > 0.0;
  let estimate = ceil((select(exit.x, entry.x, rising) - c0.x) / c1.x);
  var i = i32(clamp(estimate, 0.0, f32(last + 1)));
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i > 0 && insideLow(planeAlpha(c0, c1, i - 1), rising, entry, exit)) { i--; } else { break; }
  }
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i <= last && !insideLow(planeAlpha(c0, c1, i), rising, entry, exit)) { i++; } else { break; }
  }
  return i;
}

/** highestSlice of joseph.ts: the highest slice in [−1, last] inside the clipped segment. */
fn highestSlice(c0: vec2f, c1: vec2f, entry: vec2f, exit: vec2f, last: i32) -> i32 {
  let rising = c1.x > 0.0;
  let estimate = floor((select(entry.x, exit.x, rising) - c0.x) / c1.x);
  var i = i32(clamp(estimate, -1.0, f32(last)));
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i < last && insideHigh(planeAlpha(c0, c1, i + 1), rising, entry, exit)) { i++; } else { break; }
  }
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i >= 0 && !insideHigh(planeAlpha(c0, c1, i), rising, entry, exit)) { i--; } else { break; }
  }
  return i;
}

/** The padded-grid stride of an axis. */
fn strideOf(axis: i32) -> i32 {
  if (axis == 0) { return 1; }
  if (axis == 1) { return params.px; }
  return params.pxy;
}

fn josephSetup(ray: Ray) -> Joseph {
  var j: Joseph;
  j.hit = false;
  j.first = 0; j.end = 0; j.step = 1; j.count = 0;
  let n = vec3i(params.nx, params.ny, params.nz);
  let support = clipToSupport(ray, vec2f(${f32Literal(SUPPORT_INSET_HIGH)}, ${f32Literal(SUPPORT_INSET_LOW)}));
  if (!support.hit) { return j; }
  let sx = ddDiv(ddAbs(rayB(ray, 0)), spacingOf(0));
  let sy = ddDiv(ddAbs(rayB(ray, 1)), spacingOf(1));
  let sz = ddDiv(ddAbs(rayB(ray, 2)), spacingOf(2));
  var main = 0; var u = 1; var v = 2;
  if (ddLess(sx, sy) && ddLessEqual(sz, sy)) { main = 1; u = 0; v = 2; }
  else if (ddLess(sx, sz) && ddLess(sy, sz)) { main = 2; u = 0; v = 1; }
  let bm = rayB(ray, main);
  if (bm.x == 0.0) { return j; }
  let bu = rayB(ray, u);
  let bv = rayB(ray, v);
  let dm = spacingOf(main);
  let du = spacingOf(u);
  let dv = spacingOf(v);
  let c0 = ddDiv(ddSub(ddMulF(dm, 0.5), rayA(ray, main)), bm);
  let c1 = ddDiv(dm, bm);
  j.hit = true;
  j.main = main; j.u = u; j.v = v;
  j.c0 = c0.x; j.c1 = c1.x;
  j.rayLength = length(ray.b);
  j.weight = j.rayLength * abs(c1.x);
  let pu = ddAdd(ddDiv(ddAdd(rayA(ray, u), ddMul(c0, bu)), du), dd(0.5));
  let qu = ddDiv(ddMul(c1, bu), du);
  let pv = ddAdd(ddDiv(ddAdd(rayA(ray, v), ddMul(c0, bv)), dv), dd(0.5));
  let qv = ddDiv(ddMul(c1, bv), dv);
  let last = n[main] - 1;
  var low = lowestSlice(c0, c1, support.entry, support.exit, last);
  var high = highestSlice(c0, c1, support.entry, support.exit, last);
  if (params.reduceMax == 0u) {
    let occupied = clipToBox(ray.a, ray.b, vec3f(params.lowX, params.lowY, params.lowZ), vec3f(params.highX, params.highY, params.highZ));
    if (!(occupied.y > occupied.x)) {
      high = low - 1;
    } else {
      let margin = 1e-4;
      let near = (occupied.x - margin - c0.x) / c1.x;
      let far = (occupied.y + margin - c0.x) / c1.x;
      let lowest = ceil(min(near, far));
      let highest = floor(max(near, far));
      if (lowest > f32(low)) { low = i32(min(lowest, f32(last + 1))); }
      if (highest < f32(high)) { high = i32(max(highest, -1.0)); }
    }
  }
  if (high < low) { high = low - 1; }
  j.count = high - low + 1;
  if (bm.x > 0.0) { j.step = 1; j.first = low; j.end = high + 1; }
  else { j.step = -1; j.first = high; j.end = low - 1; }
  let first = f32(j.first);
  let positionU = fixedOfDd(ddAdd(pu, ddMulF(qu, first)));
  let positionV = fixedOfDd(ddAdd(pv, ddMulF(qv, first)));
  let stepU = fixedOfDd(ddMulF(qu, f32(j.step)));
  let stepV = fixedOfDd(ddMulF(qv, f32(j.step)));
  j.positionWhole = vec2u(positionU.x, positionV.x); j.positionHigh = vec2u(positionU.y, positionV.y); j.positionLow = vec2u(positionU.z, positionV.z);
  j.stepWhole = vec2u(stepU.x, stepV.x); j.stepHigh = vec2u(stepU.y, stepV.y); j.stepLow = vec2u(stepU.z, stepV.z);
  return j;
}

/** A slice's (u, v) position, fixed point, and one step of it to the next slice visited. */
struct SlicePosition { whole: vec2u, high: vec2u, low: vec2u };
fn nextSlice(p: SlicePosition, j: Joseph) -> SlicePosition {
  let low = p.low + j.stepLow;
  let high0 = p.high + j.stepHigh;
  let high = high0 + select(vec2u(0u), vec2u(1u), low < p.low);
  let carry = select(vec2u(0u), vec2u(1u), high0 < p.high) + select(vec2u(0u), vec2u(1u), high < high0);
  return SlicePosition(p.whole + j.stepWhole + carry, high, low);
}

/** The padded index of slice i's bilinear cell and its weights (wu, wv); positions clamped into the padded grid. */
struct JosephSample { base: i32, wu: f32, wv: f32 };
fn josephSample(p: SlicePosition, i: i32, strideM: i32, strideU: i32, strideV: i32, lastU: i32, lastV: i32) -> JosephSample {
  let whole = bitcast<vec2i>(p.whole);
  let cell = clamp(whole, vec2i(0), vec2i(lastU, lastV));
  let w = vec2f(whole - cell) + vec2f(p.high >> vec2u(8u)) * 5.9604644775390625e-8;
  return JosephSample((i + 1) * strideM + cell.x * strideU + cell.y * strideV, w.x, w.y);
}
`;

/** Joseph DRR (renderJoseph); with reduceMax, the Joseph MIP (renderJosephMaximum). */
export const JOSEPH_FORWARD = /* wgsl */ `
${RENDER_PRELUDE}
${JOSEPH_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let ray = invocationRay(pose, index);
  let j = josephSetup(ray);
  let maximum = params.reduceMax != 0u;
  var value = 0.0;
  if (j.hit && j.count > 0) {
    let n = vec3i(params.nx, params.ny, params.nz);
    let strideM = strideOf(j.main);
    let strideU = strideOf(j.u);
    let strideV = strideOf(j.v);
    let lastU = n[j.u];
    let lastV = n[j.v];
    var sum = select(0.0, -FAR, maximum);
    var position = SlicePosition(j.positionWhole, j.positionHigh, j.positionLow);
    for (var i = j.first; i != j.end; i += j.step) {
      let s = josephSample(position, i, strideM, strideU, strideV, lastU, lastV);
      position = nextSlice(position, j);
      let c00 = volume[s.base]; let c10 = volume[s.base + strideU];
      let c01 = volume[s.base + strideV]; let c11 = volume[s.base + strideU + strideV];
      let c0 = c00 + s.wu * (c10 - c00);
      let c1 = c01 + s.wu * (c11 - c01);
      let interpolated = c0 + s.wv * (c1 - c0);
      if (maximum) { sum = max(sum, interpolated); } else { sum += interpolated; }
    }
    value = select(sum * j.weight, sum, maximum);
  }
  images[pose * params.pixelCount + index] = value;
}
`;

/** Joseph with (∂I/∂a, ∂I/∂b) per pixel (renderJosephWithRayGradients). */
export const JOSEPH_GRADIENT = /* wgsl */ `
${RENDER_PRELUDE}
@group(0) @binding(4) var<storage, read_write> rayGradients: array<f32>;
${JOSEPH_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let ray = invocationRay(pose, index);
  let j = josephSetup(ray);
  let out = pose * params.pixelCount + index;
  let g = 6u * out;
  if (!j.hit) {
    images[out] = 0.0;
    for (var q = 0u; q < 6u; q++) { rayGradients[g + q] = 0.0; }
    return;
  }
  let n = vec3i(params.nx, params.ny, params.nz);
  let strideM = strideOf(j.main);
  let strideU = strideOf(j.u);
  let strideV = strideOf(j.v);
  let lastU = n[j.u];
  let lastV = n[j.v];
  var sum = 0.0;
  // Σ ∂μ/∂g and Σ i·∂μ/∂g along u and v, in padded index units.
  var gradientU = 0.0; var gradientV = 0.0; var momentU = 0.0; var momentV = 0.0;
  var position = SlicePosition(j.positionWhole, j.positionHigh, j.positionLow);
  for (var i = j.first; i != j.end; i += j.step) {
    let s = josephSample(position, i, strideM, strideU, strideV, lastU, lastV);
    position = nextSlice(position, j);
    let c00 = volume[s.base]; let c10 = volume[s.base + strideU];
    let c01 = volume[s.base + strideV]; let c11 = volume[s.base + strideU + strideV];
    let c0 = c00 + s.wu * (c10 - c00);
    let c1 = c01 + s.wu * (c11 - c01);
    sum += c0 + s.wv * (c1 - c0);
    let derivativeU = (c10 - c00) * (1.0 - s.wv) + (c11 - c01) * s.wv;
    let derivativeV = c1 - c0;
    gradientU += derivativeU; gradientV += derivativeV;
    momentU += f32(i) * derivativeU; momentV += f32(i) * derivativeV;
  }
  let b = ray.b;
  let weight = j.weight;
  let value = sum * weight;
  images[out] = value;
  let d = vec3f(params.dx, params.dy, params.dz);
  let bm = b[j.main]; let bu = b[j.u]; let bv = b[j.v];
  let scaleU = weight / d[j.u];
  let scaleV = weight / d[j.v];
  let daU = scaleU * gradientU;
  let daV = scaleV * gradientV;
  let dbU = scaleU * (j.c0 * gradientU + j.c1 * momentU);
  let dbV = scaleV * (j.c0 * gradientV + j.c1 * momentV);
  let squaredLength = j.rayLength * j.rayLength;
  let lengthTerm = value / squaredLength;
  var byA = vec3f(0.0);
  var byB = vec3f(0.0);
  byA[j.main] = -(bu * daU + bv * daV) / bm;
  byA[j.u] = daU;
  byA[j.v] = daV;
  byB[j.main] = -(bu * dbU + bv * dbV) / bm + value * (bm / squaredLength - 1.0 / bm);
  byB[j.u] = dbU + lengthTerm * bu;
  byB[j.v] = dbV + lengthTerm * bv;
  rayGradients[g] = byA.x; rayGradients[g + 1u] = byA.y; rayGradients[g + 2u] = byA.z;
  rayGradients[g + 3u] = byB.x; rayGradients[g + 4u] = byB.y; rayGradients[g + 5u] = byB.z;
}
`;

/**
 * A check of the double-float and fixed-point primitives on a device (test/webgpu.test.ts runs
 * it against f64): per input (x.hi, x.lo, y.hi, y.lo), 20 words: twoSum(x.hi, y.hi),
 * twoProduct(x.hi, y.hi), x + y, x·y, x / y, √|x| (df pairs, f32 bits), the plain f32 sum and
 * product of the high parts, x + y as fixed point (3 words) and x plus 1000 fixed-point steps of
 * y (3 words). Bindings: 0 the parameter block (its zero word = 0), 1 the inputs, 2 the outputs.
 */
export const PRECISION_PROBE = /* wgsl */ `
${PARAMETERS}
${DOUBLE_FLOAT}
@group(0) @binding(0) var<uniform> params: Parameters;
@group(0) @binding(1) var<storage, read> inputs: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> outputs: array<u32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= arrayLength(&inputs)) { return; }
  let v = inputs[id.x];
  let x = v.xy;
  let y = v.zw;
  let o = 20u * id.x;
  let results = array<vec2f, 7>(twoSum(x.x, y.x), twoProduct(x.x, y.x), ddAdd(x, y), ddMul(x, y), ddDiv(x, y), ddSqrt(ddAbs(x)), vec2f(x.x + y.x, x.x * y.x));
  for (var k = 0u; k < 7u; k++) {
    outputs[o + 2u * k] = bitcast<u32>(results[k].x);
    outputs[o + 2u * k + 1u] = bitcast<u32>(results[k].y);
  }
  let sum = fixedOfDd(ddAdd(x, y));
  outputs[o + 14u] = sum.x; outputs[o + 15u] = sum.y; outputs[o + 16u] = sum.z;
  var position = fixedOfDd(x);
  let step = fixedOfDd(y);
  for (var k = 0; k < 1000; k++) { position = fixedAdd(position, step); }
  outputs[o + 17u] = position.x; outputs[o + 18u] = position.y; outputs[o + 19u] = position.z;
}
`;

/**
 * First reduction stage: per workgroup of 64 pixels of one pose, the weighted sums
 *   Σ w·(∂I/∂a − ∂I/∂b), Σ w·∂I/∂b, Σ w·r'·∂I/∂b, Σ w·c'·∂I/∂b
 * with r', c' the row and column measured from the detector centre (smaller terms, less f32
 * cancellation; the host shifts them back to the first pixel in f64).
 */
export const REDUCE_PIXELS = /* wgsl */ `
${PARAMETERS}
@group(0) @binding(0) var<storage, read> rayGradients: array<f32>;
@group(0) @binding(1) var<uniform> params: Parameters;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
@group(0) @binding(4) var<storage, read> pixelList: array<u32>;
${DETECTOR_PIXEL}
var<workgroup> scratch: array<f32, ${12 * WORKGROUP_SIZE}>;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let pose = group.y;
  let pixel = group.x * WORKGROUP + local.x;
  let slot = 12u * local.x;
  for (var q = 0u; q < 12u; q++) { scratch[slot + q] = 0.0; }
  if (pixel < params.pixelCount && pose < params.poseCount) {
    let out = pose * params.pixelCount + pixel;
    let w = weights[out];
    if (w != 0.0) {
      let detector = detectorPixel(pixel);
      let row = f32(detector / u32(params.width)) - 0.5 * f32(params.height - 1);
      let column = f32(detector % u32(params.width)) - 0.5 * f32(params.width - 1);
      let g = 6u * out;
      let byA = vec3f(rayGradients[g], rayGradients[g + 1u], rayGradients[g + 2u]);
      let byB = vec3f(rayGradients[g + 3u], rayGradients[g + 4u], rayGradients[g + 5u]);
      let source = w * (byA - byB);
      let centre = w * byB;
      let rowTerm = row * centre;
      let columnTerm = column * centre;
      for (var q = 0u; q < 3u; q++) {
        scratch[slot + q] = source[q];
        scratch[slot + 3u + q] = centre[q];
        scratch[slot + 6u + q] = rowTerm[q];
        scratch[slot + 9u + q] = columnTerm[q];
      }
    }
  }
  workgroupBarrier();
  for (var half = WORKGROUP / 2u; half > 0u; half = half / 2u) {
    if (local.x < half) {
      for (var q = 0u; q < 12u; q++) { scratch[slot + q] += scratch[slot + 12u * half + q]; }
    }
    workgroupBarrier();
  }
  if (local.x == 0u && pose < params.poseCount) {
    let base = 12u * (pose * params.blocks + group.x);
    for (var q = 0u; q < 12u; q++) { partials[base + q] = scratch[q]; }
  }
}
`;

/** Second reduction stage: one workgroup per pose sums that pose's workgroup partials into 12 numbers. */
export const REDUCE_PARTIALS = /* wgsl */ `
${PARAMETERS}
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<uniform> params: Parameters;
@group(0) @binding(2) var<storage, read_write> totals: array<f32>;
var<workgroup> scratch: array<f32, ${12 * WORKGROUP_SIZE}>;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let pose = group.x;
  let slot = 12u * local.x;
  for (var q = 0u; q < 12u; q++) { scratch[slot + q] = 0.0; }
  for (var block = local.x; block < params.blocks; block += WORKGROUP) {
    let base = 12u * (pose * params.blocks + block);
    for (var q = 0u; q < 12u; q++) { scratch[slot + q] += partials[base + q]; }
  }
  workgroupBarrier();
  for (var half = WORKGROUP / 2u; half > 0u; half = half / 2u) {
    if (local.x < half) {
      for (var q = 0u; q < 12u; q++) { scratch[slot + q] += scratch[slot + 12u * half + q]; }
    }
    workgroupBarrier();
  }
  if (local.x == 0u) {
    for (var q = 0u; q < 12u; q++) { totals[12u * pose + q] = scratch[q]; }
  }
}
`;
