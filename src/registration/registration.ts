import type { Pose } from '../drr.js';
import type { ParameterGradient } from '../render/pose-gradient.js';
import { DrrkitError } from '../errors.js';
import type { PoseParameters } from '../geometry/pose.js';
import { parameterCount, type EulerConvention, type Parameterization } from '../geometry/rotation.js';
import { requireFiniteValues } from '../geometry/rotation.js';
import type { Similarity } from '../metrics/similarity.js';
import { evaluateAsynchronously } from './pose-requests.js';

/** Score, image and gradient of one evaluation of the registration objective. */
export interface RegistrationEvaluation {
  /** Similarity between the fixed image and the DRR at the current pose (to maximise). */
  score: number;
  /** The DRR at the current pose. */
  image: Float32Array;
  /** ∂score/∂(rotation parameters). */
  rotationGradient: Float64Array;
  /** ∂score/∂(translation parameters). */
  translationGradient: Float64Array;
}

/**
 * What a registration needs from a renderer: images at poses, per-ray derivatives, and the chain
 * rule to pose parameters. The seed-geometry `DRR` and the file-geometry `WorldDRR` both provide it.
 */
export interface DifferentiableRenderer {
  /** Detector size in pixels. */
  readonly detector: { readonly height: number; readonly width: number };
  /** Pixels per image. */
  readonly pixelCount: number;
  /** One image per pose, [pose][row][column]. */
  render(poses: Pose | readonly Pose[]): Float32Array;
  /** One image and its per-ray derivatives (six numbers per pixel). */
  renderWithRayGradients(pose: Pose): { image: Float32Array; rayGradients: Float64Array };
  /** ∂loss/∂(pose parameters) from ray derivatives and ∂loss/∂pixel. */
  parameterGradient(pose: PoseParameters, rayGradients: Float64Array, pixelWeights: ArrayLike<number>): ParameterGradient;
}

/** What every renderer a {@link Registration} holds offers: the detector size. */
export interface RendererShape {
  /** Detector size in pixels. */
  readonly detector: { readonly height: number; readonly width: number };
  /** Pixels per image. */
  readonly pixelCount: number;
}

/**
 * An asynchronous differentiable renderer (the WebGPU backend's `WebGPUDRR`): images at poses,
 * and the pose gradient of a loss from ∂loss/∂pixel, reduced where the renderer runs.
 */
export interface AsyncDifferentiableRenderer extends RendererShape {
  /** One image per pose, [pose][row][column]. */
  renderAsync(poses: Pose | readonly Pose[]): Promise<Float32Array>;
  /** Renders one image and keeps its ray derivatives for the next {@link parameterGradientAsync}. */
  renderForGradientAsync(pose: Pose, call?: { pixels?: ArrayLike<number> }): Promise<Float32Array>;
  /** ∂loss/∂(pose parameters) of the last {@link renderForGradientAsync}, from ∂loss/∂pixel. */
  parameterGradientAsync(pose: PoseParameters, pixelWeights: ArrayLike<number>): Promise<ParameterGradient>;
  /** Whether {@link nccGradientAsync} may be used (WebGPUDRR: a line-integral model). */
  readonly supportsDeviceNcc?: boolean;
  /** Optional: DiffDRR's NCC against `fixed` and its pose gradient, in one pass where the renderer runs. */
  nccGradientAsync?(pose: PoseParameters, fixed: ArrayLike<number>, eps: number, call?: { pixels?: ArrayLike<number> }): Promise<{ score: number; image: Float32Array; gradient: ParameterGradient }>;
}

/**
 * What `registerAsync` runs: a registration whose objective and images come asynchronously — a
 * `Registration` of a WebGPU DRR, or a multi-view registration rendering on WebGPU.
 */
export interface AsyncRegistration extends Registration<RendererShape> {
  evaluateAsync(fixed: ArrayLike<number>, similarity: Similarity): Promise<RegistrationEvaluation>;
  renderAsync(): Promise<Float32Array>;
}

/**
 * A DRR whose camera pose is a set of parameters being optimised — DiffDRR's `Registration`
 * module. `rotation` and `translation` are the live parameter vectors: optimizers update them in
 * place, and each render reads them.
 */
export class Registration<Renderer extends RendererShape = DifferentiableRenderer> {
  /** The DRR generator (volume, detector, renderer). */
  readonly drr: Renderer;
  /** Rotation parameters in `parameterization` (radians for angles). */
  readonly rotation: Float64Array;
  /** Translation parameters (mm). */
  readonly translation: Float64Array;
  /** How `rotation` is read. */
  readonly parameterization: Parameterization;
  /** Euler axis order when `parameterization` is 'euler_angles'. */
  readonly convention: EulerConvention;

  constructor(
    drr: Renderer,
    rotation: ArrayLike<number>,
    translation: ArrayLike<number>,
    options: { parameterization?: Parameterization; convention?: EulerConvention } = {},
  ) {
    this.drr = drr;
    this.parameterization = options.parameterization ?? 'euler_angles';
    this.convention = options.convention ?? 'ZYX';
    requireFiniteValues(rotation, parameterCount(this.parameterization), 'rotation parameter', 'initial rotation');
    requireFiniteValues(translation, 3, 'translation parameter', 'initial translation');
    this.rotation = Float64Array.from(rotation);
    this.translation = Float64Array.from(translation);
  }

  /** The current pose (sharing the live parameter arrays). */
  get pose(): PoseParameters {
    return { rotation: this.rotation, translation: this.translation, parameterization: this.parameterization, convention: this.convention };
  }

  /** A copy of the current pose, safe to keep. */
  snapshot(): PoseParameters {
    return { ...this.pose, rotation: Float64Array.from(this.rotation), translation: Float64Array.from(this.translation) };
  }

  /** Number of target pixels `evaluate` expects (one detector image). */
  get targetLength(): number {
    return this.drr.pixelCount;
  }

  /** Renders the DRR at the current pose. */
  render(this: Registration<DifferentiableRenderer>): Float32Array {
    return this.drr.render(this.pose);
  }

  /** {@link render} on an asynchronous renderer (WebGPU). */
  renderAsync(this: Registration<AsyncDifferentiableRenderer>): Promise<Float32Array> {
    return this.drr.renderAsync(this.pose);
  }

  /**
   * Renders at the current pose, scores the DRR against `fixed` with `similarity`, and
   * returns the score with its analytic gradient with respect to the pose parameters
   * (renderer ray derivatives → ∂score/∂pixel → chain rule through the parameterization).
   */
  evaluate(this: Registration<DifferentiableRenderer>, fixed: ArrayLike<number>, similarity: Similarity): RegistrationEvaluation {
    const pose = this.checkedPose();
    const { image, rayGradients } = this.drr.renderWithRayGradients(pose);
    const shape = { height: this.drr.detector.height, width: this.drr.detector.width };
    const { score, gradient } = similarity.scoreWithGradient(fixed, image, shape, 1);
    const parameters = this.drr.parameterGradient(pose, rayGradients, gradient);
    return { score: score[0], image, rotationGradient: parameters.rotation, translationGradient: parameters.translation };
  }

  /**
   * {@link evaluate} on an asynchronous renderer (WebGPU): render, score on this thread, then the
   * pose gradient from ∂score/∂pixel, reduced by the renderer — or, for NCC where the renderer
   * offers it, all of it in one device submission (see `evaluateAsynchronously`).
   */
  async evaluateAsync(this: Registration<AsyncDifferentiableRenderer>, fixed: ArrayLike<number>, similarity: Similarity): Promise<RegistrationEvaluation> {
    return evaluateAsynchronously(this.drr, this.checkedPose(), fixed, similarity);
  }

  /** The current pose, after checking it is finite. */
  protected checkedPose(): PoseParameters {
    if (!this.rotation.every(Number.isFinite) || !this.translation.every(Number.isFinite)) {
      throw new DrrkitError('the pose became non-finite during optimisation (learning rate too large?)', 'pose');
    }
    return this.pose;
  }
}
