/**
 * Targets that were not rendered the way drrkit renders during registration — to test that
 * registration survives model mismatch, as it must with real X-rays:
 * - a different renderer (Siddon's exact path vs trilinear interpolation),
 * - a finer detector binned down (each target pixel integrates several rays),
 * - Beer–Lambert physics on linear attenuation coefficients (μ from HU, not DiffDRR's
 *   normalised densities) with photon noise, preprocessed by the usual −log(I/I₀).
 */
import { cameraFromOptions, DRR, type AnyDRROptions } from '../drr.js';
import { requirePositive } from '../errors.js';
import type { PoseParameters } from '../geometry/pose.js';
import type { RendererName } from '../render/renderer.js';
import { hounsfieldToAttenuation } from '../volume/intensity.js';
import { createVolume, type Volume } from '../volume/volume.js';
import { NumpyRandom } from './random.js';
import { binImage } from './strategy.js';

/** How a mismatched target is made. */
export interface TargetModel {
  /** Renderer of the target (default 'siddon'). */
  renderer?: RendererName;
  /** Render the target on a detector this many times finer, then bin (default 1). */
  oversampling?: number;
  /** 'line-integral' (densities as the registration uses them) or 'beer-lambert' (μ from HU, photons, −log). */
  intensity?: 'line-integral' | 'beer-lambert';
  /** Beer–Lambert: incident photons per (fine) pixel; noise is Poisson-like with this I₀ (default: no noise). */
  photons?: number;
  /** Seed of the noise (default 0). */
  seed?: number;
}

/** Renders a target X-ray at `pose` with `model`, on `detector`'s pixel grid. */
export function renderTargetWithModel(volume: Volume, detector: AnyDRROptions, pose: PoseParameters, model: TargetModel): Float32Array {
  const factor = model.oversampling ?? 1;
  requirePositive(factor, 'target oversampling');
  const camera = cameraFromOptions(detector);
  const height = camera.height, width = camera.width;
  const fine: AnyDRROptions = { ...detector, camera: camera.subdivided(factor), renderer: model.renderer ?? 'siddon' };
  let image: Float32Array;
  if ((model.intensity ?? 'line-integral') === 'beer-lambert') {
    const attenuation = createVolume({ data: hounsfieldToAttenuation(volume), shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: `${volume.source} (μ)` });
    const lineIntegrals = new DRR(attenuation, { ...fine, density: 'raw', intensity: 'line-integral' }).render(pose);
    const photons = model.photons;
    const random = new NumpyRandom(model.seed ?? 0);
    image = new Float32Array(lineIntegrals.length);
    for (let pixel = 0; pixel < image.length; pixel++) {
      const transmitted = Math.exp(-lineIntegrals[pixel]);
      let fraction = transmitted;
      if (photons !== undefined) {
        // Poisson(I₀·T) ≈ Normal(I₀·T, I₀·T), at least one photon.
        const mean = photons * transmitted;
        const gaussian = Math.sqrt(-2 * Math.log(1 - random.randomSample())) * Math.cos(2 * Math.PI * random.randomSample());
        fraction = Math.max(1, mean + Math.sqrt(mean) * gaussian) / photons;
      }
      image[pixel] = -Math.log(fraction);
    }
  } else {
    image = new DRR(volume, fine).render(pose);
  }
  return factor === 1 ? image : binImage(image, height * factor, width * factor, factor).data;
}
