/**
 * WGSL compute kernels of the WebGPU backend: faithful f32 ports of the CPU kernels in
 * src/render/siddon.ts and src/render/trilinear.ts (same padding, plane-crossing expression,
 * clipping and tie rules), plus the reduction of per-pixel ray gradients to the twelve numbers
 * of a {@link RayGridGradient}.
 *
 * Layout shared by every kernel:
 * - `volume`: the padded density grid's data (`DensityGrid.data`), f32, uploaded once.
 * - `params`: a uniform block (see {@link PARAMETER_WORDS}).
 * - `rays`: 12 f32 per pose: the source relative to the grid origin, firstPixel − source,
 *   rowStep, columnStep (the host computes both differences in f64, so the shader starts from
 *   small, accurate numbers).
 * - images: [pose][pixel]; ray gradients: [pose][pixel][6] = (∂I/∂a, ∂I/∂b), as the CPU kernels.
 * One invocation renders one pixel: global id x is the pixel, y the pose (workgroups of 64).
 *
 * Two deliberate differences from the CPU code: arithmetic is f32 (so images agree to about
 * 1e-6 relative, not bit for bit), and there is no empty-space skipping (which on the CPU changes
 * no value, only speed; trilinear rays are still clipped to the occupied cells' box).
 * With `reduceMax` the forward kernels compute the maximum-intensity projections of
 * src/render/maximum-intensity.ts instead (no gradient).
 */

/** Threads per workgroup of every kernel. */
export const WORKGROUP_SIZE = 64;

/** 32-bit words of the uniform parameter block (a multiple of 4). */
export const PARAMETER_WORDS = 24;

/** The uniform block, as WGSL. Field order is the host's write order (see webgpu-backend.ts). */
const PARAMETERS = /* wgsl */ `
struct Parameters {
  nx: i32, ny: i32, nz: i32, width: i32,
  height: i32, px: i32, pxy: i32, fixedCount: i32,
  dx: f32, dy: f32, dz: f32, step: f32,
  poseCount: u32, blocks: u32, pixelCount: u32, reduceMax: u32,
  lowX: f32, lowY: f32, lowZ: f32, unused1: f32,
  highX: f32, highY: f32, highZ: f32, unused2: f32,
};
const WORKGROUP: u32 = ${WORKGROUP_SIZE}u;
/** Stands in for +∞: α of every plane of an axis the ray does not move along. */
const FAR: f32 = 3.0e38;
`;

/** Bindings and the pixel → ray step common to the render kernels. */
const RENDER_PRELUDE = /* wgsl */ `
${PARAMETERS}
@group(0) @binding(0) var<storage, read> volume: array<f32>;
@group(0) @binding(1) var<uniform> params: Parameters;
@group(0) @binding(2) var<storage, read> rays: array<f32>;
@group(0) @binding(3) var<storage, read_write> images: array<f32>;

struct Ray { a: vec3f, b: vec3f };

/** The ray of pixel (row, column) of pose \`pose\`: a = source, b = pixel centre − source. */
fn pixelRay(pose: u32, row: i32, column: i32) -> Ray {
  let base = 12u * pose;
  let a = vec3f(rays[base], rays[base + 1u], rays[base + 2u]);
  let first = vec3f(rays[base + 3u], rays[base + 4u], rays[base + 5u]);
  let rowStep = vec3f(rays[base + 6u], rays[base + 7u], rays[base + 8u]);
  let columnStep = vec3f(rays[base + 9u], rays[base + 10u], rays[base + 11u]);
  return Ray(a, first + f32(row) * rowStep + f32(column) * columnStep);
}
`;

/**
 * Siddon's set-up (SiddonRays in siddon.ts without the occupied box): the crossing coefficients,
 * the clip to the volume's planes (entry: last near face, ties to the later axis; exit: first
 * far face, ties to the earlier axis) and the start state after the entry event.
 */
const SIDDON_SETUP = /* wgsl */ `
struct Siddon {
  status: i32,            // 0: the ray misses the volume; 2: traverse
  c0: vec3f, c1: vec3f,   // α of plane p on an axis = c0 + p·c1
  entry: f32, exit: f32, entryAxis: i32, exitAxis: i32,
  step: vec3i, plane: vec3i, next: vec3f, index: i32,
};

/** One axis of the start state: the voxel after the entry event (the CPU's estimate-then-fix). */
fn siddonStart(axis: i32, a: f32, b: f32, c0: f32, c1: f32, d: f32, n: i32, entry: f32, entryAxis: i32) -> i32 {
  if (b == 0.0) {
    return clamp(i32(floor(a / d)), 0, n - 1);
  }
  let step = select(-1, 1, b > 0.0);
  if (entryAxis == axis) {
    return select(n - 1, 0, b > 0.0);
  }
  var i = clamp(i32(floor((a + entry * b) / d)), 0, n - 1);
  let tied = axis < entryAxis;
  let enter = select(1, 0, b > 0.0);
  let leave = 1 - enter;
  for (var guard = 0; guard < n; guard++) {
    let t = c0 + f32(i + leave) * c1;
    if (i + step >= 0 && i + step < n && (t < entry || (tied && t == entry))) { i += step; } else { break; }
  }
  for (var guard = 0; guard < n; guard++) {
    let t = c0 + f32(i + enter) * c1;
    if (i - step >= 0 && i - step < n && !(t < entry || (tied && t == entry))) { i -= step; } else { break; }
  }
  return i;
}

fn siddonSetup(ray: Ray) -> Siddon {
  var s: Siddon;
  let a = ray.a;
  let b = ray.b;
  let n = vec3i(params.nx, params.ny, params.nz);
  let d = vec3f(params.dx, params.dy, params.dz);
  s.c0 = vec3f(FAR);
  s.c1 = vec3f(0.0);
  s.status = 0;
  var entry = 0.0;
  var exit = 1.0;
  var entryAxis = -1;
  var exitAxis = -1;
  for (var axis = 0; axis < 3; axis++) {
    if (b[axis] != 0.0) {
      let c0 = (0.0 - a[axis]) / b[axis];
      let c1 = d[axis] / b[axis];
      s.c0[axis] = c0;
      s.c1[axis] = c1;
      let low = c0 + 0.0 * c1;
      let high = c0 + f32(n[axis]) * c1;
      let near = select(high, low, b[axis] > 0.0);
      let far = select(low, high, b[axis] > 0.0);
      if (near >= entry) { entry = near; entryAxis = axis; }
      if (far < exit) { exit = far; exitAxis = axis; }
    } else if (a[axis] < 0.0 || a[axis] > f32(n[axis]) * d[axis]) {
      return s;
    }
  }
  if (!(exit > entry)) { return s; }
  s.entry = entry; s.exit = exit; s.entryAxis = entryAxis; s.exitAxis = exitAxis;
  s.step = vec3i(select(-1, 1, b.x > 0.0), select(-1, 1, b.y > 0.0), select(-1, 1, b.z > 0.0));
  let i = siddonStart(0, a.x, b.x, s.c0.x, s.c1.x, d.x, n.x, entry, entryAxis);
  let j = siddonStart(1, a.y, b.y, s.c0.y, s.c1.y, d.y, n.y, entry, entryAxis);
  let k = siddonStart(2, a.z, b.z, s.c0.z, s.c1.z, d.z, n.z, entry, entryAxis);
  s.plane = vec3i(select(i, i + 1, b.x > 0.0), select(j, j + 1, b.y > 0.0), select(k, k + 1, b.z > 0.0));
  s.next = s.c0 + vec3f(s.plane) * s.c1;
  s.index = i + 1 + params.px * (j + 1) + params.pxy * (k + 1);
  s.status = 2;
  return s;
}
`;

/** Siddon's exact radiological path (renderSiddon); with reduceMax, the Siddon MIP (renderSiddonMaximum). */
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
  let pixel = id.x;
  let pose = id.y;
  if (pixel >= params.pixelCount || pose >= params.poseCount) { return; }
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
  let s = siddonSetup(ray);
  let b = ray.b;
  let maximum = params.reduceMax != 0u;
  var sum = select(0.0, -FAR, maximum);
  if (s.status == 2) {
    let exit = s.exit;
    let exitAxis = s.exitAxis;
    let c0 = s.c0;
    let c1 = s.c1;
    let strideJ = s.step.y * params.px;
    let strideK = s.step.z * params.pxy;
    var plane = s.plane;
    var next = s.next;
    var index = s.index;
    var alpha = s.entry;
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
  images[pose * params.pixelCount + pixel] = value;
}
`;

/** Siddon with (∂I/∂a, ∂I/∂b) per pixel (renderSiddonWithRayGradients). */
export const SIDDON_GRADIENT = /* wgsl */ `
${RENDER_PRELUDE}
@group(0) @binding(4) var<storage, read_write> rayGradients: array<f32>;
${SIDDON_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let pixel = id.x;
  let pose = id.y;
  if (pixel >= params.pixelCount || pose >= params.poseCount) { return; }
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
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
    let c0 = s.c0;
    let c1 = s.c1;
    let strideJ = s.step.y * params.px;
    let strideK = s.step.z * params.pxy;
    var plane = s.plane;
    var next = s.next;
    var index = s.index;
    var alpha = entry;
    var current = volume[index];
    // The entry event, from μ = 0 outside.
    if (s.entryAxis >= 0) {
      let axis = s.entryAxis;
      let jump = (0.0 - current) * inverse[axis];
      cross[axis] += jump;
      crossAlpha[axis] += jump * entry;
    }
    var reachedExit = false;
    let limit = params.nx + params.ny + params.nz + 6;
    for (var guard = 0; guard < limit; guard++) {
      var axis = 0;
      if (next.x <= next.y && next.x <= next.z) {
        if (next.x >= exit && (next.x > exit || exitAxis <= 0)) { sum += current * (exit - alpha); reachedExit = true; break; }
        sum += current * (next.x - alpha);
        alpha = next.x;
        index += s.step.x;
        plane.x += s.step.x;
        next.x = c0.x + f32(plane.x) * c1.x;
        axis = 0;
      } else if (next.y <= next.z) {
        if (next.y >= exit && (next.y > exit || exitAxis <= 1)) { sum += current * (exit - alpha); reachedExit = true; break; }
        sum += current * (next.y - alpha);
        alpha = next.y;
        index += strideJ;
        plane.y += s.step.y;
        next.y = c0.y + f32(plane.y) * c1.y;
        axis = 1;
      } else {
        if (next.z >= exit) { sum += current * (exit - alpha); reachedExit = true; break; }
        sum += current * (next.z - alpha);
        alpha = next.z;
        index += strideK;
        plane.z += s.step.z;
        next.z = c0.z + f32(plane.z) * c1.z;
        axis = 2;
      }
      let after = volume[index];
      let jump = (current - after) * inverse[axis];
      cross[axis] += jump;
      crossAlpha[axis] += jump * alpha;
      current = after;
    }
    if (reachedExit && exitAxis >= 0) {
      // The exit event, to μ = 0 outside (none when the ray ends inside at α = 1).
      let jump = current * inverse[exitAxis];
      cross[exitAxis] += jump;
      crossAlpha[exitAxis] += jump * exit;
    }
  }
  let rayLength = length(b);
  let value = sum * rayLength;
  images[pose * params.pixelCount + pixel] = value;
  var lengthTerm = 0.0;
  if (rayLength > 0.0) { lengthTerm = value / (rayLength * rayLength); }
  let g = 6u * (pose * params.pixelCount + pixel);
  let byA = -rayLength * cross;
  let byB = -rayLength * crossAlpha + lengthTerm * b;
  rayGradients[g] = byA.x; rayGradients[g + 1u] = byA.y; rayGradients[g + 2u] = byA.z;
  rayGradients[g + 3u] = byB.x; rayGradients[g + 4u] = byB.y; rayGradients[g + 5u] = byB.z;
}
`;

/** The trilinear kernels' clip to the field's support and their sample count (as renderTrilinear). */
const TRILINEAR_SETUP = /* wgsl */ `
struct Trilinear {
  hit: bool, entry: f32, exit: f32, entryAxis: i32, exitAxis: i32, count: i32, h: f32, first: i32, last: i32,
};

/** The slab clip of clipRayToBox, remembering which axis set the entry and the exit. */
fn clipToBox(a: vec3f, b: vec3f, low: vec3f, high: vec3f) -> vec4f {
  var entry = 0.0;
  var exit = 1.0;
  var entryAxis = -1;
  var exitAxis = -1;
  for (var axis = 0; axis < 3; axis++) {
    if (b[axis] != 0.0) {
      let t1 = (low[axis] - a[axis]) / b[axis];
      let t2 = (high[axis] - a[axis]) / b[axis];
      let near = select(t2, t1, t1 < t2);
      let far = select(t1, t2, t1 < t2);
      if (near > entry) { entry = near; entryAxis = axis; }
      if (far < exit) { exit = far; exitAxis = axis; }
    } else if (a[axis] < low[axis] || a[axis] > high[axis]) {
      return vec4f(1.0, 0.0, -1.0, -1.0);
    }
  }
  return vec4f(entry, exit, f32(entryAxis), f32(exitAxis));
}

fn trilinearSetup(ray: Ray) -> Trilinear {
  var t: Trilinear;
  t.hit = false;
  let d = vec3f(params.dx, params.dy, params.dz);
  let n = vec3f(f32(params.nx), f32(params.ny), f32(params.nz));
  let clip = clipToBox(ray.a, ray.b, -0.5 * d, (n + 0.5) * d);
  if (!(clip.y > clip.x)) { return t; }
  t.hit = true;
  t.entry = clip.x; t.exit = clip.y; t.entryAxis = i32(clip.z); t.exitAxis = i32(clip.w);
  let rayLength = length(ray.b);
  if (params.fixedCount > 0) { t.count = params.fixedCount; }
  else { t.count = max(1, i32(ceil(((t.exit - t.entry) * rayLength) / params.step))); }
  t.h = (t.exit - t.entry) / f32(t.count);
  // Samples outside the occupied cells' box (by a margin far beyond rounding) add exactly 0.
  t.first = 0;
  t.last = t.count;
  let occupied = clipToBox(ray.a, ray.b, vec3f(params.lowX, params.lowY, params.lowZ), vec3f(params.highX, params.highY, params.highZ));
  if (!(occupied.y > occupied.x)) { t.last = 0; return t; }
  let margin = 1e-4;
  t.first = max(0, i32(ceil((occupied.x - margin - t.entry) / t.h - 0.5)));
  t.last = min(t.count, i32(floor((occupied.y + margin - t.entry) / t.h - 0.5)) + 1);
  return t;
}

/** The padded base cell of a sample and its interpolation weights (renderTrilinear's lookup). */
fn cellOf(position: vec3f) -> vec3i {
  return vec3i(
    clamp(i32(floor(position.x)), 0, params.nx),
    clamp(i32(floor(position.y)), 0, params.ny),
    clamp(i32(floor(position.z)), 0, params.nz));
}
`;

/** Trilinear DRR by the midpoint rule (renderTrilinear). */
/** Trilinear DRR by the midpoint rule (renderTrilinear); with reduceMax, the trilinear MIP (renderTrilinearMaximum). */
export const TRILINEAR_FORWARD = /* wgsl */ `
${RENDER_PRELUDE}
${TRILINEAR_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let pixel = id.x;
  let pose = id.y;
  if (pixel >= params.pixelCount || pose >= params.poseCount) { return; }
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
  let t = trilinearSetup(ray);
  var value = 0.0;
  if (t.hit) {
    let inverseD = vec3f(1.0 / params.dx, 1.0 / params.dy, 1.0 / params.dz);
    let px = params.px;
    let pxy = params.pxy;
    let maximum = params.reduceMax != 0u;
    // MIP: samples clipped away as outside the occupied cells are zeros.
    var sum = select(0.0, select(-FAR, 0.0, t.first > 0 || t.last < t.count), maximum);
    for (var sample = t.first; sample < t.last; sample++) {
      let alpha = t.entry + (f32(sample) + 0.5) * t.h;
      let g = (ray.a + alpha * ray.b) * inverseD + 0.5;
      let c = cellOf(g);
      let w = g - vec3f(c);
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
  images[pose * params.pixelCount + pixel] = value;
}
`;

/** Trilinear with (∂I/∂a, ∂I/∂b) per pixel (renderTrilinearWithRayGradients). */
export const TRILINEAR_GRADIENT = /* wgsl */ `
${RENDER_PRELUDE}
@group(0) @binding(4) var<storage, read_write> rayGradients: array<f32>;
${TRILINEAR_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let pixel = id.x;
  let pose = id.y;
  if (pixel >= params.pixelCount || pose >= params.poseCount) { return; }
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
  let t = trilinearSetup(ray);
  let out = pose * params.pixelCount + pixel;
  let g = 6u * out;
  if (!t.hit) {
    images[out] = 0.0;
    for (var q = 0u; q < 6u; q++) { rayGradients[g + q] = 0.0; }
    return;
  }
  let a = ray.a;
  let b = ray.b;
  let inverseD = vec3f(1.0 / params.dx, 1.0 / params.dy, 1.0 / params.dz);
  let px = params.px;
  let pxy = params.pxy;
  let inverseCount = 1.0 / f32(t.count);
  var sum = 0.0;
  var g0 = vec3f(0.0);
  var g1 = vec3f(0.0);
  for (var sample = t.first; sample < t.last; sample++) {
    let alpha = t.entry + (f32(sample) + 0.5) * t.h;
    let position = (a + alpha * b) * inverseD + 0.5;
    let c = cellOf(position);
    let w = position - vec3f(c);
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
      let row = f32(pixel / u32(params.width)) - 0.5 * f32(params.height - 1);
      let column = f32(pixel % u32(params.width)) - 0.5 * f32(params.width - 1);
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
