/// <reference types="@webgpu/types" />
/**
 * The pose-level asynchronous API of the WebGPU backend: a {@link WebGPUDRR} renders a CPU
 * DRR's volume (the seed `DRR` or the world `WorldDRR`: their density grid, renderer and
 * camera) on a GPUDevice. It implements `AsyncDifferentiableRenderer`, so `registerAsync`
 * runs the registration loop on it with the optimizers and losses of the synchronous `register`.
 */
import type { DRR, Pose } from '../../drr.js';
import { DrrkitError } from '../../errors.js';
import type { RayGridGradient } from '../../geometry/camera.js';
import type { RayGrid } from '../../geometry/detector.js';
import type { PoseParameters } from '../../geometry/pose.js';
import type { AsyncDifferentiableRenderer } from '../../registration/registration.js';
import { applyIntensityModel, applyIntensityModelToRayGradients, type IntensityModel } from '../../volume/intensity.js';
import { parameterGradientFromTransform, type ParameterGradient, type TransformGradient } from '../pose-gradient.js';
import { WebGPUBackend, type WebGPUDeviceInfo } from './webgpu-backend.js';

/**
 * What a {@link WebGPUDRR} takes from a CPU DRR (any `DRR`, `WorldDRR` included): its grid,
 * settings, camera rays, intensity model and the chain rule from the 12 ray-grid numbers.
 */
export type GpuRenderableDRR = Pick<DRR, 'grid' | 'settings' | 'detector' | 'pixelCount' | 'rays' | 'intensity' | 'incidentIntensity' | 'transformGradientFromRayGrid'>;

/**
 * A CPU DRR's volume, renderer and camera on WebGPU. Images equal the CPU ones to f32 rounding
 * (about 1e-6 relative); a batch of poses renders in one submission.
 */
export class WebGPUDRR implements AsyncDifferentiableRenderer {
  /** The CPU DRR whose volume and camera this renders. */
  readonly source: GpuRenderableDRR;
  /** The kernels and buffers on the device. */
  readonly backend: WebGPUBackend;
  /** The device and its adapter. */
  readonly deviceInfo: WebGPUDeviceInfo;
  /** The image from the last {@link renderForGradientAsync} (for the intensity model's chain rule). */
  #gradientImage: Float32Array | null = null;

  private constructor(source: GpuRenderableDRR, backend: WebGPUBackend, deviceInfo: WebGPUDeviceInfo) {
    this.source = source;
    this.backend = backend;
    this.deviceInfo = deviceInfo;
  }

  /** Uploads `drr`'s density grid to the device and compiles its renderer's kernels. */
  static async create(drr: GpuRenderableDRR, deviceInfo: WebGPUDeviceInfo): Promise<WebGPUDRR> {
    const backend = await WebGPUBackend.create(deviceInfo.device, drr.grid, drr.settings, deviceInfo.description);
    return new WebGPUDRR(drr, backend, deviceInfo);
  }

  /** Detector size. */
  get detector(): { readonly height: number; readonly width: number } {
    return this.source.detector;
  }

  /** Pixels per image. */
  get pixelCount(): number {
    return this.source.pixelCount;
  }

  /** The intensity model of the source DRR. */
  get intensity(): IntensityModel {
    return this.source.intensity;
  }

  #rays(poses: Pose | readonly Pose[]): RayGrid[] {
    const list = Array.isArray(poses) ? (poses as readonly Pose[]) : [poses as Pose];
    return list.map((pose) => this.source.rays(pose));
  }

  #finish(images: Float32Array): Float32Array {
    return applyIntensityModel(images, this.intensity, this.source.incidentIntensity) as Float32Array;
  }

  /** One image per pose, [pose][row][column], in one submission. */
  async renderAsync(poses: Pose | readonly Pose[]): Promise<Float32Array> {
    return this.#finish(await this.backend.render(this.#rays(poses)));
  }

  /**
   * One image and, per pixel, (∂I/∂a, ∂I/∂b) — the CPU DRRs' `renderWithRayGradients`, read
   * back from the device (six numbers per pixel; prefer {@link parameterGradientAsync}, which
   * reads back twelve numbers per image).
   */
  async renderWithRayGradientsAsync(pose: Pose): Promise<{ image: Float32Array; rayGradients: Float64Array }> {
    const { images, rayGradients } = await this.backend.renderWithRayGradients(this.#rays(pose));
    const image = this.#finish(images);
    applyIntensityModelToRayGradients(image, rayGradients, this.intensity);
    return { image, rayGradients };
  }

  /** Renders one image and keeps its ray gradients on the device for {@link parameterGradientAsync}. */
  async renderForGradientAsync(pose: Pose): Promise<Float32Array> {
    const image = this.#finish(await this.backend.renderForGradient(this.#rays(pose)));
    this.#gradientImage = image;
    return image;
  }

  /** Per-pixel weights on the line integrals: ∂L/∂I times dI/d(line integral) (−I for Beer–Lambert). */
  #lineIntegralWeights(pixelWeights: ArrayLike<number>, image: Float32Array | null): ArrayLike<number> {
    if (this.intensity !== 'beer-lambert') return pixelWeights;
    if (image === null) throw new DrrkitError('WebGPU: a Beer–Lambert gradient needs its image', 'intensity');
    const weights = new Float32Array(pixelWeights.length);
    for (let pixel = 0; pixel < weights.length; pixel++) weights[pixel] = -image[pixel] * pixelWeights[pixel];
    return weights;
  }

  /** ∂L/∂(the 12 ray-grid numbers) of the last {@link renderForGradientAsync}, reduced on the device. */
  async rayGridGradientAsync(pixelWeights: ArrayLike<number>): Promise<RayGridGradient> {
    const [gradient] = await this.backend.reduceRayGradients(this.#lineIntegralWeights(pixelWeights, this.#gradientImage));
    return gradient;
  }

  /** ∂L/∂(rotation matrix, translation) of the last {@link renderForGradientAsync} at `pose`. */
  async transformGradientAsync(pose: Pose, pixelWeights: ArrayLike<number>): Promise<TransformGradient> {
    return this.source.transformGradientFromRayGrid(pose, await this.rayGridGradientAsync(pixelWeights));
  }

  /** ∂L/∂(pose parameters) of the last {@link renderForGradientAsync}, from ∂L/∂pixel. */
  async parameterGradientAsync(pose: PoseParameters, pixelWeights: ArrayLike<number>): Promise<ParameterGradient> {
    return parameterGradientFromTransform(pose, await this.transformGradientAsync(pose, pixelWeights));
  }

  /**
   * Images and pose-matrix gradients of a batch in one submission, for per-pixel weights known
   * before rendering ([pose][pixel]; line-integral models only, whose gradient does not depend
   * on the image).
   */
  async renderWithTransformGradientsAsync(poses: readonly Pose[], pixelWeights: ArrayLike<number>): Promise<{ images: Float32Array; gradients: TransformGradient[] }> {
    if (this.intensity === 'beer-lambert') throw new DrrkitError('WebGPU: one-submission gradients need a line-integral model; use renderForGradientAsync', 'intensity');
    const { images, gradients } = await this.backend.renderWithRayGridGradients(this.#rays(poses), pixelWeights);
    return {
      images: this.#finish(images),
      gradients: gradients.map((gradient, index) => this.source.transformGradientFromRayGrid(poses[index], gradient)),
    };
  }

  /** Frees the device buffers (the device stays the caller's). */
  destroy(): Promise<void> {
    return this.backend.destroy();
  }
}
