/**
 * The WebGPU backend as an answerer of pose requests (src/registration/pose-requests.ts): every
 * registration algorithm written as a coroutine of requests — the robust strategy, the level
 * refinement, the tutorial loop — runs on a GPU with it, unchanged. Each CPU DRR a request names
 * (the pyramid's levels, the search level) gets one {@link WebGPUDRR} twin, made on first use:
 * its density grid is uploaded once, then only ray parameters go up and images and twelve
 * gradient numbers per render come back.
 */
import type { DRR } from '../../drr.js';
import {
  batchMember, evaluateAsynchronously,
  type AsyncPoseAnswerer, type EvaluateBatchRequest, type EvaluateRequest, type RenderRequest,
} from '../../registration/pose-requests.js';
import type { RegistrationEvaluation } from '../../registration/registration.js';
import { NormalizedCrossCorrelation } from '../../metrics/ncc.js';
import type { WebGPUDeviceInfo } from './webgpu-backend.js';
import { WebGPUDRR } from './webgpu-drr.js';

/** Answers pose requests on a WebGPU device; {@link destroy} frees the twins' buffers. */
export class WebGPUPoseAnswerer implements AsyncPoseAnswerer {
  /** The device and its adapter. */
  readonly deviceInfo: WebGPUDeviceInfo;
  /** Renders submitted so far (one per request; a search batch is one). */
  submissions = 0;
  /**
   * Whether NCC evaluations run in one submission on the device (default true; false: the image
   * is read back, scored here and the weights sent up — two submissions, for comparisons).
   */
  readonly deviceNcc: boolean;
  readonly #twins = new Map<DRR, Promise<WebGPUDRR>>();

  constructor(deviceInfo: WebGPUDeviceInfo, options: { deviceNcc?: boolean } = {}) {
    this.deviceInfo = deviceInfo;
    this.deviceNcc = options.deviceNcc ?? true;
  }

  /** The WebGPU twin of `drr`, made (volume uploaded, kernels compiled) on first use. */
  twin(drr: DRR): Promise<WebGPUDRR> {
    let twin = this.#twins.get(drr);
    if (twin === undefined) {
      this.#twins.set(drr, twin = WebGPUDRR.create(drr, this.deviceInfo).then((made) => {
        made.deviceNcc = this.deviceNcc;
        return made;
      }));
    }
    return twin;
  }

  /** The request's poses rendered in one submission. */
  async render(request: RenderRequest): Promise<Float32Array> {
    const twin = await this.twin(request.drr);
    this.submissions++;
    return twin.renderAsync(request.poses);
  }

  /**
   * Renders the pose (only the listed pixels, for a sparse request) and reduces ∂score/∂pixel to
   * the pose gradient on the device; NCC on line-integral images in one submission
   * (`evaluateAsynchronously`).
   */
  async evaluate(request: EvaluateRequest): Promise<RegistrationEvaluation> {
    const twin = await this.twin(request.drr);
    this.submissions++;
    return evaluateAsynchronously(twin, request.pose, request.fixed, request.similarity, request.pixels);
  }

  /**
   * Several poses against one target: NCC on line-integral images in one submission
   * (`WebGPUDRR.nccGradientsAsync`), any other similarity one {@link evaluate} per pose.
   */
  async evaluateBatch(request: EvaluateBatchRequest): Promise<RegistrationEvaluation[]> {
    const twin = await this.twin(request.drr);
    if (request.similarity instanceof NormalizedCrossCorrelation && twin.supportsDeviceNcc) {
      this.submissions++;
      const results = await twin.nccGradientsAsync(request.poses, request.fixed, request.similarity.eps);
      return results.map(({ score, image, gradient }) => ({ score, image, rotationGradient: gradient.rotation, translationGradient: gradient.translation }));
    }
    const evaluations: RegistrationEvaluation[] = [];
    for (let index = 0; index < request.poses.length; index++) evaluations.push(await this.evaluate(batchMember(request, index)));
    return evaluations;
  }

  /** Frees every twin's device buffers (the device stays the caller's). */
  async destroy(): Promise<void> {
    const twins = await Promise.allSettled(this.#twins.values());
    this.#twins.clear();
    // A twin whose creation failed has nothing on the device; its error was its caller's.
    for (const twin of twins) if (twin.status === 'fulfilled') await twin.value.destroy();
  }
}
