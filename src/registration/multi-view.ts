import type { DRR } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { multiplyMatrix3, transposeMatrix3 } from '../geometry/matrix3.js';
import { poseFromParameters } from '../geometry/pose.js';
import { composeTransforms, type RigidTransform } from '../geometry/rigid-transform.js';
import type { EulerConvention, Parameterization } from '../geometry/rotation.js';
import type { Similarity } from '../metrics/similarity.js';
import { parameterGradientFromTransform, type TransformGradient } from '../render/pose-gradient.js';
import type { Pose } from '../drr.js';
import { Registration, type RegistrationEvaluation } from './registration.js';

/**
 * Registration of one pose to several X-rays taken at known relative geometries (e.g. an AP and a
 * lateral view from a C-arm rotated 90° about the patient). The pose being optimised is that of
 * view 0; view k sits at pose ∘ V_k, where V_k maps camera k's coordinates to camera 0's
 * (V_0 is the identity). The target is the views' images back to back, and the score is the mean
 * of the per-view similarities.
 *
 * Gradient: with R_k = R·R_V and t_k = R·t_V + t,
 *   ∂L/∂R = Σ_k (∂L/∂R_k·R_Vᵀ + ∂L/∂t_k ⊗ t_V),   ∂L/∂t = Σ_k ∂L/∂t_k.
 */
export class MultiViewRegistration extends Registration {
  /** Camera k → camera 0 transforms, one per view (the first is normally the identity). */
  readonly views: readonly RigidTransform[];
  /** The DRR (any camera: its `transformGradient` gives each view's chain rule). */
  declare readonly drr: DRR;
  /** The DRR's twin on an asynchronous renderer (a WebGPUDRR), for {@link evaluateAsync}; null: CPU only. */
  readonly device: MultiViewDevice | null;

  constructor(
    drr: DRR,
    rotation: ArrayLike<number>,
    translation: ArrayLike<number>,
    views: readonly RigidTransform[],
    options: { parameterization?: Parameterization; convention?: EulerConvention; device?: MultiViewDevice } = {},
  ) {
    super(drr, rotation, translation, options);
    if (views.length === 0) throw new DrrkitError('a multi-view registration needs at least one view', 'views');
    this.views = views;
    this.device = options.device ?? null;
  }

  override get targetLength(): number {
    return this.views.length * this.drr.pixelCount;
  }

  /** The camera-to-world transform of every view at the current pose. */
  viewTransforms(): RigidTransform[] {
    const pose = poseFromParameters(this.pose);
    return this.views.map((view) => composeTransforms(pose, view));
  }

  /** The DRRs of all views at the current pose, back to back. */
  override render(): Float32Array {
    return this.drr.render(this.viewTransforms());
  }

  override evaluate(fixed: ArrayLike<number>, similarity: Similarity): RegistrationEvaluation {
    const sum = this.#views(fixed, similarity);
    this.viewTransforms().forEach((transform, index) => {
      const rendered = this.drr.renderWithRayGradients(transform);
      const weights = sum.score(index, rendered.image);
      sum.add(index, this.drr.transformGradient(transform, rendered.rayGradients, weights));
    });
    return sum.result();
  }

  /** {@link evaluate} with the views rendered on {@link device} (two submissions per view). */
  override async evaluateAsync(fixed: ArrayLike<number>, similarity: Similarity): Promise<RegistrationEvaluation> {
    const device = this.#requireDevice();
    const sum = this.#views(fixed, similarity);
    const transforms = this.viewTransforms();
    for (const [index, transform] of transforms.entries()) {
      const weights = sum.score(index, await device.renderForGradientAsync(transform));
      sum.add(index, await device.transformGradientAsync(transform, weights));
    }
    return sum.result();
  }

  /** {@link render} on {@link device}. */
  override renderAsync(): Promise<Float32Array> {
    return this.#requireDevice().renderAsync(this.viewTransforms());
  }

  #requireDevice(): MultiViewDevice {
    if (this.device === null) throw new DrrkitError('this multi-view registration has no asynchronous renderer: give `device` (a WebGPUDRR of its DRR)', 'device');
    return this.device;
  }

  /**
   * The per-view bookkeeping of an evaluation: `score(k, image)` scores view k and returns its
   * pixel weights (the mean of the views' similarities), `add(k, ∂L/∂(R_k, t_k))` pulls view k's
   * gradient back to the pose of view 0, `result()` gives the evaluation.
   */
  #views(fixed: ArrayLike<number>, similarity: Similarity) {
    const pixels = this.drr.pixelCount, count = this.views.length;
    if (fixed.length !== this.targetLength) throw new DrrkitError(`the targets have ${fixed.length} pixels; ${count} views need ${this.targetLength}`, 'target');
    const shape = { height: this.drr.camera.height, width: this.drr.camera.width };
    const image = new Float32Array(this.targetLength);
    const rotationGradient = new Float64Array(9), translationGradient = new Float64Array(3);
    let score = 0;
    return {
      score: (index: number, rendered: Float32Array): Float64Array => {
        image.set(rendered, index * pixels);
        const fixedView = Array.prototype.slice.call(fixed, index * pixels, (index + 1) * pixels) as number[];
        const result = similarity.scoreWithGradient(fixedView, rendered, shape, 1);
        score += result.score[0] / count;
        return result.gradient.map((value) => value / count);
      },
      add: (index: number, gradient: TransformGradient): void => {
        const view = this.views[index];
        // ∂L/∂R += ∂L/∂R_k · R_Vᵀ + ∂L/∂t_k ⊗ t_V ;  ∂L/∂t += ∂L/∂t_k
        const product = multiplyMatrix3(gradient.rotation, transposeMatrix3(view.rotation));
        for (let row = 0; row < 3; row++) {
          for (let column = 0; column < 3; column++) {
            rotationGradient[3 * row + column] += product[3 * row + column] + gradient.translation[row] * view.translation[column];
          }
          translationGradient[row] += gradient.translation[row];
        }
      },
      result: (): RegistrationEvaluation => {
        const parameters = parameterGradientFromTransform(this.pose, { rotation: rotationGradient, translation: translationGradient });
        return { score, image, rotationGradient: parameters.rotation, translationGradient: parameters.translation };
      },
    };
  }
}

/** What a multi-view registration needs of an asynchronous renderer of its DRR (a WebGPUDRR has it). */
export interface MultiViewDevice {
  renderAsync(poses: Pose | readonly Pose[]): Promise<Float32Array>;
  renderForGradientAsync(pose: Pose): Promise<Float32Array>;
  transformGradientAsync(pose: Pose, pixelWeights: ArrayLike<number>): Promise<TransformGradient>;
}
