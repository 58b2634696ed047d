import type { DRR } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { multiplyMatrix3, transposeMatrix3 } from '../geometry/matrix3.js';
import { poseFromParameters } from '../geometry/pose.js';
import { composeTransforms, type RigidTransform } from '../geometry/rigid-transform.js';
import type { EulerConvention, Parameterization } from '../geometry/rotation.js';
import type { Similarity } from '../metrics/similarity.js';
import { parameterGradientFromTransform } from '../render/pose-gradient.js';
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

  constructor(
    drr: DRR,
    rotation: ArrayLike<number>,
    translation: ArrayLike<number>,
    views: readonly RigidTransform[],
    options: { parameterization?: Parameterization; convention?: EulerConvention } = {},
  ) {
    super(drr, rotation, translation, options);
    if (views.length === 0) throw new DrrkitError('a multi-view registration needs at least one view', 'views');
    this.views = views;
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
    const pixels = this.drr.pixelCount;
    if (fixed.length !== this.targetLength) throw new DrrkitError(`the targets have ${fixed.length} pixels; ${this.views.length} views need ${this.targetLength}`, 'target');
    const shape = { height: this.drr.camera.height, width: this.drr.camera.width };
    const image = new Float32Array(this.targetLength);
    const rotationGradient = new Float64Array(9), translationGradient = new Float64Array(3);
    let score = 0;
    const transforms = this.viewTransforms();
    transforms.forEach((transform, index) => {
      const view = this.views[index];
      const rendered = this.drr.renderWithRayGradients(transform);
      image.set(rendered.image, index * pixels);
      const fixedView = Array.prototype.slice.call(fixed, index * pixels, (index + 1) * pixels) as number[];
      const result = similarity.scoreWithGradient(fixedView, rendered.image, shape, 1);
      score += result.score[0] / this.views.length;
      const weights = result.gradient.map((value) => value / this.views.length);
      const gradient = this.drr.transformGradient(transform, rendered.rayGradients, weights);
      // ∂L/∂R += ∂L/∂R_k · R_Vᵀ + ∂L/∂t_k ⊗ t_V ;  ∂L/∂t += ∂L/∂t_k
      const product = multiplyMatrix3(gradient.rotation, transposeMatrix3(view.rotation));
      for (let row = 0; row < 3; row++) {
        for (let column = 0; column < 3; column++) {
          rotationGradient[3 * row + column] += product[3 * row + column] + gradient.translation[row] * view.translation[column];
        }
        translationGradient[row] += gradient.translation[row];
      }
    });
    const parameters = parameterGradientFromTransform(this.pose, { rotation: rotationGradient, translation: translationGradient });
    return { score, image, rotationGradient: parameters.rotation, translationGradient: parameters.translation };
  }
}
