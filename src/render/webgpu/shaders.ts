/**
 * WGSL compute kernels of the WebGPU backend: faithful f32 ports of the CPU kernels in
 * src/render/siddon.ts, src/render/trilinear.ts and src/render/joseph.ts (same padding,
 * plane-crossing and slice expressions, clipping and tie rules), plus the reduction of per-pixel ray gradients to the twelve numbers
 * of a {@link RayGridGradient}.
 *
 * Layout shared by every kernel:
 * - `volume`: the padded density grid's data (`DensityGrid.data`), f32, uploaded once.
 * - `params`: a uniform block (see {@link PARAMETER_WORDS}).
 * - `rays`: 12 f32 per pose: the source relative to the grid origin, firstPixel − source,
 *   rowStep, columnStep (the host computes both differences in f64, so the shader starts from
 *   small, accurate numbers).
 * - images: [pose][pixel]; ray gradients: [pose][pixel][6] = (∂I/∂a, ∂I/∂b), as the CPU kernels.
 * - `pixelList` (sparse renders, `params.sparse` ≠ 0): the detector pixels to render, u32
 *   row·width + column; images and ray gradients are then compact, [pose][list entry].
 * One invocation renders one pixel: global id x is the pixel (or list entry), y the pose
 * (workgroups of 64).
 *
 * Two deliberate differences from the CPU code: arithmetic is f32 (so images agree to about
 * 1e-6 relative, not bit for bit), and there is no empty-space skipping (which on the CPU changes
 * no value, only speed; trilinear and Joseph rays are still clipped to the occupied cells' box).
 * Joseph reads f32 densities: the grid's compact storage, decoded on upload (webgpu-backend.ts).
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
  lowX: f32, lowY: f32, lowZ: f32, sparse: u32,
  highX: f32, highY: f32, highZ: f32, unused2: f32,
};
const WORKGROUP: u32 = ${WORKGROUP_SIZE}u;
/** Stands in for +∞: α of every plane of an axis the ray does not move along. */
const FAR: f32 = 3.0e38;
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
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let pixel = detectorPixel(index);
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
  let pixel = detectorPixel(index);
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

/** The slab clip of clipRayToBox (src/render/ray-clip.ts), remembering which axis set the entry and the exit. */
const CLIP_TO_BOX = /* wgsl */ `
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
`;

/** The trilinear kernels' clip to the field's support and their sample count (as renderTrilinear). */
const TRILINEAR_SETUP = /* wgsl */ `
${CLIP_TO_BOX}
struct Trilinear {
  hit: bool, entry: f32, exit: f32, entryAxis: i32, exitAxis: i32, count: i32, h: f32, first: i32, last: i32,
};

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

/** Trilinear DRR by the midpoint rule (renderTrilinear); with reduceMax, the trilinear MIP (renderTrilinearMaximum). */
export const TRILINEAR_FORWARD = /* wgsl */ `
${RENDER_PRELUDE}
${TRILINEAR_SETUP}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let index = id.x;
  let pose = id.y;
  if (index >= params.pixelCount || pose >= params.poseCount) { return; }
  let pixel = detectorPixel(index);
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
  let pixel = detectorPixel(index);
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
  let t = trilinearSetup(ray);
  let out = pose * params.pixelCount + index;
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
 * Joseph's set-up (JosephRays.begin in joseph.ts): the clip to the interpolated field's support
 * (the box grown by half a voxel, less the CPU's inset of a millionth of a voxel), the dominant
 * axis m (ties to the earlier axis), the slice coefficients α = c₀ + i·c₁, the in-slice positions
 * g = p + i·q along u and v (padded index units) and the slices to visit, made exact with the
 * CPU's estimate-then-fix. Rays are also limited to the slices near the occupied cells' box (as
 * the trilinear kernels, by a margin far beyond rounding; not for maximum-intensity projections,
 * which the CPU renders without it): samples outside it are exactly zero.
 */
const JOSEPH_SETUP = /* wgsl */ `
${CLIP_TO_BOX}
struct Joseph {
  hit: bool,               // false: the ray misses the support or has no length
  main: i32, u: i32, v: i32,
  c0: f32, c1: f32, weight: f32, rayLength: f32,
  pu: f32, qu: f32, pv: f32, qv: f32,
  first: i32, end: i32, step: i32, count: i32,
};

/** Whether α lies on the inner side of the boundary that low (rising: entry) or high slice indices leave by. */
fn insideLow(alpha: f32, rising: bool, entry: f32, exit: f32) -> bool {
  return select(alpha <= exit, alpha >= entry, rising);
}
fn insideHigh(alpha: f32, rising: bool, entry: f32, exit: f32) -> bool {
  return select(alpha >= entry, alpha <= exit, rising);
}

/** lowestSlice of joseph.ts: the lowest slice in [0, last + 1] inside the clipped segment. */
fn lowestSlice(c0: f32, c1: f32, entry: f32, exit: f32, last: i32) -> i32 {
  let rising = c1 > 0.0;
  let estimate = ceil((select(exit, entry, rising) - c0) / c1);
  var i = i32(clamp(estimate, 0.0, f32(last + 1)));
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i > 0 && insideLow(c0 + f32(i - 1) * c1, rising, entry, exit)) { i--; } else { break; }
  }
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i <= last && !insideLow(c0 + f32(i) * c1, rising, entry, exit)) { i++; } else { break; }
  }
  return i;
}

/** highestSlice of joseph.ts: the highest slice in [−1, last] inside the clipped segment. */
fn highestSlice(c0: f32, c1: f32, entry: f32, exit: f32, last: i32) -> i32 {
  let rising = c1 > 0.0;
  let estimate = floor((select(entry, exit, rising) - c0) / c1);
  var i = i32(clamp(estimate, -1.0, f32(last)));
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i < last && insideHigh(c0 + f32(i + 1) * c1, rising, entry, exit)) { i++; } else { break; }
  }
  for (var guard = 0; guard <= last + 1; guard++) {
    if (i >= 0 && !insideHigh(c0 + f32(i) * c1, rising, entry, exit)) { i--; } else { break; }
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
  let a = ray.a;
  let b = ray.b;
  let d = vec3f(params.dx, params.dy, params.dz);
  let n = vec3i(params.nx, params.ny, params.nz);
  let inset = 1e-6;
  let support = clipToBox(a, b, -(0.5 - inset) * d, (vec3f(n) + (0.5 - inset)) * d);
  if (!(support.y > support.x)) { return j; }
  let inverse = 1.0 / d;
  let sizes = abs(b) * inverse;
  var main = 0; var u = 1; var v = 2;
  if (sizes.y > sizes.x && sizes.y >= sizes.z) { main = 1; u = 0; v = 2; }
  else if (sizes.z > sizes.x && sizes.z > sizes.y) { main = 2; u = 0; v = 1; }
  let bm = b[main];
  if (bm == 0.0) { return j; }
  let bu = b[u];
  let bv = b[v];
  let dm = d[main];
  let c0 = (0.5 * dm - a[main]) / bm;
  let c1 = dm / bm;
  j.hit = true;
  j.main = main; j.u = u; j.v = v;
  j.c0 = c0; j.c1 = c1;
  j.rayLength = length(b);
  j.weight = j.rayLength * abs(c1);
  j.pu = (a[u] + c0 * bu) * inverse[u] + 0.5; j.qu = c1 * bu * inverse[u];
  j.pv = (a[v] + c0 * bv) * inverse[v] + 0.5; j.qv = c1 * bv * inverse[v];
  let last = n[main] - 1;
  var low = lowestSlice(c0, c1, support.x, support.y, last);
  var high = highestSlice(c0, c1, support.x, support.y, last);
  if (params.reduceMax == 0u) {
    let occupied = clipToBox(a, b, vec3f(params.lowX, params.lowY, params.lowZ), vec3f(params.highX, params.highY, params.highZ));
    if (!(occupied.y > occupied.x)) {
      high = low - 1;
    } else {
      let margin = 1e-4;
      let near = (occupied.x - margin - c0) / c1;
      let far = (occupied.y + margin - c0) / c1;
      let lowest = ceil(min(near, far));
      let highest = floor(max(near, far));
      if (lowest > f32(low)) { low = i32(min(lowest, f32(last + 1))); }
      if (highest < f32(high)) { high = i32(max(highest, -1.0)); }
    }
  }
  if (high < low) { high = low - 1; }
  j.count = high - low + 1;
  if (bm > 0.0) { j.step = 1; j.first = low; j.end = high + 1; }
  else { j.step = -1; j.first = high; j.end = low - 1; }
  return j;
}

/** The padded index of slice i's bilinear cell and its weights (wu, wv); positions clamped into the padded grid. */
struct JosephSample { base: i32, wu: f32, wv: f32 };
fn josephSample(j: Joseph, i: i32, strideM: i32, strideU: i32, strideV: i32, lastU: i32, lastV: i32) -> JosephSample {
  let gu = j.pu + f32(i) * j.qu;
  let gv = j.pv + f32(i) * j.qv;
  let cellU = clamp(i32(floor(gu)), 0, lastU);
  let cellV = clamp(i32(floor(gv)), 0, lastV);
  return JosephSample((i + 1) * strideM + cellU * strideU + cellV * strideV, gu - f32(cellU), gv - f32(cellV));
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
  let pixel = detectorPixel(index);
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
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
    for (var i = j.first; i != j.end; i += j.step) {
      let s = josephSample(j, i, strideM, strideU, strideV, lastU, lastV);
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
  let pixel = detectorPixel(index);
  let row = i32(pixel / u32(params.width));
  let column = i32(pixel) - row * params.width;
  let ray = pixelRay(pose, row, column);
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
  for (var i = j.first; i != j.end; i += j.step) {
    let s = josephSample(j, i, strideM, strideU, strideV, lastU, lastV);
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
