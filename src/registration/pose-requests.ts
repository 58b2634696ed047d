/**
 * Registration algorithms written once for every backend: an algorithm is a coroutine (a
 * generator) that yields a {@link PoseRequest} — "render these poses" or "score this pose and
 * give me its gradient" — and is resumed with the answer. A driver answers the requests:
 * {@link runSynchronously} on the CPU DRRs themselves, {@link runAsynchronously} with an
 * asynchronous {@link AsyncPoseAnswerer} (the WebGPU backend's, src/render/webgpu/webgpu-answerer.ts).
 * The algorithm's arithmetic is the same either way; only where the images are made differs.
 */
import type { DRR } from '../drr.js';
import { DrrkitError } from '../errors.js';
import type { PoseParameters } from '../geometry/pose.js';
import { NormalizedCrossCorrelation } from '../metrics/ncc.js';
import type { Similarity } from '../metrics/similarity.js';
import type { AsyncDifferentiableRenderer, RegistrationEvaluation } from './registration.js';

/** Render `poses` with `drr`: answered with their images, [pose][row][column]. */
export interface RenderRequest {
  readonly kind: 'render';
  readonly drr: DRR;
  readonly poses: readonly PoseParameters[];
}

/**
 * Score `pose` by `similarity` against `fixed` and differentiate: answered with a
 * {@link RegistrationEvaluation}. With `pixels`, only those pixels are rendered and scored (as
 * one list: `fixed` then holds their target values, in the list's order).
 */
export interface EvaluateRequest {
  readonly kind: 'evaluate';
  readonly drr: DRR;
  readonly pose: PoseParameters;
  readonly fixed: ArrayLike<number>;
  readonly similarity: Similarity;
  readonly pixels: Int32Array | null;
}

/**
 * Evaluate request for several poses against one target, every pixel (independent optimizations
 * run in lockstep, e.g. the robust strategy's candidates): answered with one
 * {@link RegistrationEvaluation} per pose, each what an {@link EvaluateRequest} of that pose
 * gives. A GPU answers it in one submission.
 */
export interface EvaluateBatchRequest {
  readonly kind: 'evaluate-batch';
  readonly drr: DRR;
  readonly poses: readonly PoseParameters[];
  readonly fixed: ArrayLike<number>;
  readonly similarity: Similarity;
}

/** What a registration coroutine asks for. */
export type PoseRequest = RenderRequest | EvaluateRequest | EvaluateBatchRequest;

/** What it is resumed with: images for a render, an evaluation for an evaluate, one per pose for a batch. */
export type PoseAnswer = Float32Array | RegistrationEvaluation | RegistrationEvaluation[];

/** A registration algorithm as a coroutine returning `Result`. */
export type PoseSteps<Result> = Generator<PoseRequest, Result, PoseAnswer>;

/** Answers pose requests synchronously. */
export interface PoseAnswerer {
  render(request: RenderRequest): Float32Array;
  evaluate(request: EvaluateRequest): RegistrationEvaluation;
  /** Optional: a batch at once (default: one {@link evaluate} per pose). */
  evaluateBatch?(request: EvaluateBatchRequest): RegistrationEvaluation[];
}

/** Answers pose requests asynchronously (a GPU backend). */
export interface AsyncPoseAnswerer {
  render(request: RenderRequest): Promise<Float32Array>;
  evaluate(request: EvaluateRequest): Promise<RegistrationEvaluation>;
  /** Optional: a batch at once, e.g. in one submission (default: one {@link evaluate} per pose). */
  evaluateBatch?(request: EvaluateBatchRequest): Promise<RegistrationEvaluation[]>;
}

/** Yields a render request and returns the images it is answered with. */
export function* renderRequest(drr: DRR, poses: readonly PoseParameters[]): PoseSteps<Float32Array> {
  return (yield { kind: 'render', drr, poses }) as Float32Array;
}

/** Yields an evaluate request (after checking the pose is finite) and returns its evaluation. */
export function* evaluateRequest(
  drr: DRR, pose: PoseParameters, fixed: ArrayLike<number>, similarity: Similarity, pixels: Int32Array | null = null,
): PoseSteps<RegistrationEvaluation> {
  if (!pose.rotation.every(Number.isFinite) || !pose.translation.every(Number.isFinite)) {
    throw new DrrkitError('the pose became non-finite during optimisation (learning rate too large?)', 'pose');
  }
  const expected = pixels === null ? drr.pixelCount : pixels.length;
  if (fixed.length !== expected) throw new DrrkitError(`the target has ${fixed.length} pixels but ${expected} are scored`, 'target');
  return (yield { kind: 'evaluate', drr, pose, fixed, similarity, pixels }) as RegistrationEvaluation;
}

/**
 * Yields one evaluate request for several poses (checked finite), every pixel scored against
 * `fixed`, and returns one evaluation per pose.
 */
export function* evaluateBatchRequest(drr: DRR, poses: readonly PoseParameters[], fixed: ArrayLike<number>, similarity: Similarity): PoseSteps<RegistrationEvaluation[]> {
  if (poses.length === 0) return [];
  for (const pose of poses) {
    if (!pose.rotation.every(Number.isFinite) || !pose.translation.every(Number.isFinite)) {
      throw new DrrkitError('the pose became non-finite during optimisation (learning rate too large?)', 'pose');
    }
  }
  if (fixed.length !== drr.pixelCount) throw new DrrkitError(`the target has ${fixed.length} pixels but ${drr.pixelCount} are scored`, 'target');
  return (yield { kind: 'evaluate-batch', drr, poses, fixed, similarity }) as RegistrationEvaluation[];
}

/** The evaluate request of pose `index` of a batch. */
export function batchMember(request: EvaluateBatchRequest, index: number): EvaluateRequest {
  return { kind: 'evaluate', drr: request.drr, pose: request.poses[index], fixed: request.fixed, similarity: request.similarity, pixels: null };
}

/**
 * A similarity's score and ∂score/∂pixel for an image of `detector`: over the whole image, or
 * (with `pixels`) over the listed pixels scored as one row, the weights then spread over the
 * whole detector (zeros elsewhere) as the renderers' chain rules take them.
 */
function scoreImage(
  similarity: Similarity, fixed: ArrayLike<number>, image: Float32Array, detector: { readonly height: number; readonly width: number }, pixels: ArrayLike<number> | null,
): { score: number; weights: Float64Array } {
  if (pixels === null) {
    const { score, gradient } = similarity.scoreWithGradient(fixed, image, { height: detector.height, width: detector.width }, 1);
    return { score: score[0], weights: gradient };
  }
  const values = new Float32Array(pixels.length);
  for (let index = 0; index < pixels.length; index++) values[index] = image[pixels[index]];
  const { score, gradient } = similarity.scoreWithGradient(fixed, values, { height: 1, width: pixels.length }, 1);
  const weights = new Float64Array(detector.height * detector.width);
  for (let index = 0; index < pixels.length; index++) weights[pixels[index]] = gradient[index];
  return { score: score[0], weights };
}

/** Answers requests with the CPU DRRs themselves (their worker pools). */
export const cpuPoseAnswerer: PoseAnswerer = {
  render: (request) => request.drr.render(request.poses),
  evaluate(request) {
    const call = request.pixels === null ? undefined : { pixels: request.pixels };
    const { image, rayGradients } = request.drr.renderWithRayGradients(request.pose, call);
    const { score, weights } = scoreImage(request.similarity, request.fixed, image, request.drr.camera, request.pixels);
    const parameters = request.drr.parameterGradient(request.pose, rayGradients, weights, call);
    return { score, image, rotationGradient: parameters.rotation, translationGradient: parameters.translation };
  },
};

/**
 * One evaluation on an asynchronous renderer (WebGPUDRR) — `Registration.evaluateAsync` and the
 * WebGPU answerer's evaluate requests: DiffDRR's NCC of a line-integral image in one submission
 * (`nccGradientAsync`) where the renderer offers it, else render, score here, and reduce
 * ∂score/∂pixel to the pose gradient where the renderer runs. With `pixels`, only those pixels
 * are rendered and scored (`fixed` holds their targets, in the list's order).
 */
export async function evaluateAsynchronously(
  renderer: AsyncDifferentiableRenderer, pose: PoseParameters, fixed: ArrayLike<number>, similarity: Similarity, pixels: Int32Array | null = null,
): Promise<RegistrationEvaluation> {
  const expected = pixels === null ? renderer.pixelCount : pixels.length;
  if (fixed.length !== expected) throw new DrrkitError(`the target has ${fixed.length} pixels but ${expected} are needed`, 'target');
  const call = pixels === null ? undefined : { pixels };
  if (similarity instanceof NormalizedCrossCorrelation && renderer.supportsDeviceNcc === true && renderer.nccGradientAsync !== undefined) {
    const { score, image, gradient } = await renderer.nccGradientAsync(pose, fixed, similarity.eps, call);
    return { score, image, rotationGradient: gradient.rotation, translationGradient: gradient.translation };
  }
  const image = await renderer.renderForGradientAsync(pose, call);
  const { score, weights } = scoreImage(similarity, fixed, image, renderer.detector, pixels);
  const parameters = await renderer.parameterGradientAsync(pose, weights);
  return { score, image, rotationGradient: parameters.rotation, translationGradient: parameters.translation };
}

/** Runs a registration coroutine to its end, answering its requests synchronously (default: on the CPU). */
export function runSynchronously<Result>(steps: PoseSteps<Result>, answerer: PoseAnswerer = cpuPoseAnswerer): Result {
  let next = steps.next();
  while (!next.done) {
    const request = next.value;
    let answer: PoseAnswer;
    if (request.kind === 'render') answer = answerer.render(request);
    else if (request.kind === 'evaluate') answer = answerer.evaluate(request);
    else answer = answerer.evaluateBatch?.(request) ?? request.poses.map((_, index) => answerer.evaluate(batchMember(request, index)));
    next = steps.next(answer);
  }
  return next.value;
}

/** Runs a registration coroutine to its end, awaiting each answer (e.g. from the WebGPU backend). */
export async function runAsynchronously<Result>(steps: PoseSteps<Result>, answerer: AsyncPoseAnswerer | PoseAnswerer): Promise<Result> {
  let next = steps.next();
  while (!next.done) {
    const request = next.value;
    let answer: PoseAnswer;
    if (request.kind === 'render') answer = await answerer.render(request);
    else if (request.kind === 'evaluate') answer = await answerer.evaluate(request);
    else if (answerer.evaluateBatch !== undefined) answer = await answerer.evaluateBatch(request);
    else {
      answer = [];
      for (let index = 0; index < request.poses.length; index++) answer.push(await answerer.evaluate(batchMember(request, index)));
    }
    next = steps.next(answer);
  }
  return next.value;
}
