/// <reference types="@webgpu/types" />
/**
 * The WebGPU render backend: the renderer contract of src/render/renderer.ts (a
 * {@link DensityGrid} plus {@link RayGrid}s of 12 numbers → images, and per-ray gradients) on a
 * GPUDevice. Platform-neutral: it imports neither Node nor the DOM; a device comes from
 * `nodeWebGPUDevice` (the `webgpu` package, Dawn) or `browserWebGPUDevice` (navigator.gpu).
 *
 * The volume is uploaded once, as one f32 storage buffer (the padded grid as the CPU kernels read
 * it). Per render only the rays go up (12 floats per pose) and the images come back; a batch of
 * poses is one submission. Gradients stay on the device: with per-pixel loss weights they are
 * reduced there to the 12 numbers of a {@link RayGridGradient} per pose.
 */
import { DrrkitError } from '../../errors.js';
import type { RayGrid } from '../../geometry/detector.js';
import type { DensityGrid } from '../density-grid.js';
import { buildEmptySpace } from '../empty-space.js';
import type { RayGridGradient } from '../../geometry/camera.js';
import type { RenderSettings } from '../renderer.js';
import { defaultTrilinearStep } from '../trilinear.js';
import {
  PARAMETER_WORDS,
  REDUCE_PARTIALS,
  REDUCE_PIXELS,
  SIDDON_FORWARD,
  SIDDON_GRADIENT,
  TRILINEAR_FORWARD,
  TRILINEAR_GRADIENT,
  WORKGROUP_SIZE,
} from './shaders.js';

// GPUBufferUsage and GPUMapMode values (the globals need not exist outside browsers).
const MAP_READ = 0x1, COPY_SRC = 0x4, COPY_DST = 0x8, UNIFORM = 0x40, STORAGE = 0x80;
const MAP_MODE_READ = 0x1;

/** A GPUDevice and what is known about the adapter it came from. */
export interface WebGPUDeviceInfo {
  /** The device the backend runs on. */
  readonly device: GPUDevice;
  /** Adapter description for reports: vendor, architecture, device, description. */
  readonly description: string;
  /** True for a CPU implementation (llvmpipe, SwiftShader, lavapipe, WARP) or a fallback adapter. */
  readonly software: boolean;
  /** The Dawn backend or "browser", for reports. */
  readonly backend: string;
}

/** Adapter fields that name a software (CPU) implementation. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render|warp/i;

/** A one-line description of an adapter, and whether it is a software implementation. */
export function describeAdapter(adapter: GPUAdapter): { description: string; software: boolean } {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((part): part is string => typeof part === 'string' && part.length > 0);
  const description = parts.length > 0 ? [...new Set(parts)].join(' / ') : 'unknown adapter';
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true
    || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { description, software: fallback || SOFTWARE_ADAPTER.test(description) };
}

/**
 * Requests a device from `adapter` with the largest storage-buffer limits it offers (the volume
 * is one storage buffer).
 */
export async function requestRenderDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const limits = adapter.limits;
  return adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    },
  });
}

/** Images of one batch, [pose][row][column]. */
export interface WebGPUImages {
  readonly images: Float32Array;
}

/** Which kernel a pipeline runs. */
type KernelName = 'forward' | 'gradient' | 'reducePixels' | 'reducePartials';

/** Buffers sized for a batch; grown on demand, reused between renders. */
interface BatchBuffers {
  poses: number;
  pixels: number;
  rays: GPUBuffer;
  images: GPUBuffer;
  imagesRead: GPUBuffer;
  rayGradients: GPUBuffer | null;
  rayGradientsRead: GPUBuffer | null;
  weights: GPUBuffer | null;
  partials: GPUBuffer | null;
  totals: GPUBuffer | null;
  totalsRead: GPUBuffer | null;
}

/**
 * One density grid on one GPUDevice with one renderer (Siddon or trilinear). Every method is
 * asynchronous and calls are queued, so they may overlap safely; `destroy()` frees the buffers
 * (the device stays the caller's).
 */
export class WebGPUBackend {
  /** The device. */
  readonly device: GPUDevice;
  /** Adapter description (for reports). */
  readonly description: string;
  /** Renderer and sampling. */
  readonly settings: RenderSettings;
  /** Unpadded grid shape. */
  readonly shape: readonly [number, number, number];
  /** The grid origin (world mm); rays are shifted by it before upload. */
  readonly origin: readonly [number, number, number];
  readonly #volume: GPUBuffer;
  readonly #parameters: GPUBuffer;
  readonly #parameterWords: ArrayBuffer;
  readonly #pipelines = new Map<KernelName, GPUComputePipeline>();
  /**
   * Two independent sets: one for forward renders, one for gradient renders (whose ray gradients
   * stay resident for a later reduction), so a forward batch in between never disturbs them.
   */
  #buffers: { forward: BatchBuffers | null; gradient: BatchBuffers | null } = { forward: null, gradient: null };
  #queue: Promise<unknown> = Promise.resolve();
  /** Poses and pixels of the last `renderForGradient` (whose ray gradients are on the device). */
  #resident: { poses: number; height: number; width: number } | null = null;
  #destroyed = false;

  private constructor(device: GPUDevice, grid: DensityGrid, settings: RenderSettings, description: string) {
    this.device = device;
    this.description = description;
    this.settings = settings;
    this.shape = [grid.shape[0], grid.shape[1], grid.shape[2]];
    this.origin = [grid.origin[0], grid.origin[1], grid.origin[2]];
    const bytes = grid.data.byteLength;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    if (bytes > limit) {
      throw new DrrkitError(
        `WebGPU: the ${grid.shape.join('×')} volume needs a ${(bytes / 2 ** 20).toFixed(0)} MiB storage buffer, ` +
          `more than this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB limit; downsample it or use the CPU backend`,
        'backend',
      );
    }
    // Written while mapped at creation: works whatever backs the data (a SharedArrayBuffer too).
    this.#volume = device.createBuffer({ size: Math.max(4, bytes), usage: STORAGE, mappedAtCreation: true, label: 'drrkit volume' });
    new Float32Array(this.#volume.getMappedRange()).set(grid.data);
    this.#volume.unmap();
    this.#parameterWords = new ArrayBuffer(4 * PARAMETER_WORDS);
    this.#parameters = device.createBuffer({ size: 4 * PARAMETER_WORDS, usage: UNIFORM | COPY_DST, label: 'drrkit parameters' });
    this.#writeStaticParameters(grid);
  }

  /**
   * Uploads `grid` to `device` and compiles the kernels for `settings`. Throws a DrrkitError when
   * the volume exceeds the device's storage-buffer limit or a kernel fails to compile.
   */
  static async create(device: GPUDevice, grid: DensityGrid, settings: RenderSettings, description = 'WebGPU'): Promise<WebGPUBackend> {
    const backend = new WebGPUBackend(device, grid, settings, description);
    const trilinear = settings.renderer === 'trilinear';
    await backend.#compile('forward', trilinear ? TRILINEAR_FORWARD : SIDDON_FORWARD);
    await backend.#compile('gradient', trilinear ? TRILINEAR_GRADIENT : SIDDON_GRADIENT);
    await backend.#compile('reducePixels', REDUCE_PIXELS);
    await backend.#compile('reducePartials', REDUCE_PARTIALS);
    return backend;
  }

  async #compile(name: KernelName, code: string): Promise<void> {
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code, label: `drrkit ${name}` });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: `drrkit ${name}` });
    const error = await device.popErrorScope();
    if (error) {
      const info = await module.getCompilationInfo();
      const messages = info.messages.map((message) => `${message.lineNum}:${message.linePos} ${message.message}`).join('; ');
      throw new DrrkitError(`WebGPU: the ${name} kernel did not compile: ${messages || error.message}`, 'backend');
    }
    this.#pipelines.set(name, pipeline);
  }

  /** Grid sizes, spacing, sampling and the occupied cells' box (for trilinear clipping). */
  #writeStaticParameters(grid: DensityGrid): void {
    const ints = new Int32Array(this.#parameterWords);
    const floats = new Float32Array(this.#parameterWords);
    const [nx, ny, nz] = grid.shape;
    const [dx, dy, dz] = grid.spacing;
    ints[0] = nx; ints[1] = ny; ints[2] = nz;
    ints[5] = nx + 2; ints[6] = (nx + 2) * (ny + 2);
    const sampling = this.settings.sampling;
    ints[7] = sampling.samplesPerRay !== undefined ? Math.max(1, Math.floor(sampling.samplesPerRay)) : 0;
    floats[8] = dx; floats[9] = dy; floats[10] = dz;
    floats[11] = sampling.stepMm ?? defaultTrilinearStep(grid);
    new Uint32Array(this.#parameterWords)[15] = this.settings.reduce === 'max' ? 1 : 0;
    if (this.settings.renderer === 'trilinear') {
      const empty = buildEmptySpace(grid);
      const bounds = empty.cellBounds;
      if (empty.occupied) {
        // Padded cell c covers [(c − ½)·d, (c + ½)·d] from the grid origin.
        floats[16] = (bounds[0] - 0.5) * dx; floats[17] = (bounds[1] - 0.5) * dy; floats[18] = (bounds[2] - 0.5) * dz;
        floats[20] = (bounds[3] - 0.5) * dx; floats[21] = (bounds[4] - 0.5) * dy; floats[22] = (bounds[5] - 0.5) * dz;
      } else {
        floats.fill(-1e30, 16, 23);
      }
    }
  }

  /** Runs `work` after every earlier call has finished. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    if (this.#destroyed) return Promise.reject(new DrrkitError('WebGPU: the backend was destroyed', 'backend'));
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Checks a batch: one detector size for every pose. */
  #checkRays(rays: readonly RayGrid[]): { height: number; width: number } {
    if (rays.length === 0) throw new DrrkitError('WebGPU: no rays to render', 'poses');
    const { height, width } = rays[0];
    for (const grid of rays) {
      if (grid.height !== height || grid.width !== width) throw new DrrkitError('WebGPU: every pose of a batch needs the same detector size', 'poses');
    }
    const groups = Math.ceil((height * width) / WORKGROUP_SIZE);
    const maximum = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups > maximum || rays.length > maximum) {
      throw new DrrkitError(`WebGPU: ${rays.length} image(s) of ${height}×${width} pixels exceed the adapter's dispatch limit`, 'detector');
    }
    return { height, width };
  }

  /** Buffers for `poses` images of `pixels` pixels (with gradient buffers when `gradients`). */
  #ensureBuffers(poses: number, pixels: number, gradients: boolean): BatchBuffers {
    const set = gradients ? 'gradient' : 'forward';
    let buffers = this.#buffers[set];
    const fits = buffers !== null && buffers.poses >= poses && buffers.pixels === pixels;
    if (!fits) {
      this.#freeBuffers(set);
      const count = Math.max(poses, buffers?.pixels === pixels ? buffers.poses : 0);
      const device = this.device;
      buffers = {
        poses: count,
        pixels,
        rays: device.createBuffer({ size: 48 * count, usage: STORAGE | COPY_DST, label: 'drrkit rays' }),
        images: device.createBuffer({ size: 4 * count * pixels, usage: STORAGE | COPY_SRC, label: 'drrkit images' }),
        imagesRead: device.createBuffer({ size: 4 * count * pixels, usage: MAP_READ | COPY_DST, label: 'drrkit images read' }),
        rayGradients: null, rayGradientsRead: null, weights: null, partials: null, totals: null, totalsRead: null,
      };
      this.#buffers[set] = buffers;
    }
    if (gradients && buffers!.rayGradients === null) {
      const device = this.device;
      const count = buffers!.poses;
      const blocks = Math.ceil(pixels / WORKGROUP_SIZE);
      buffers!.rayGradients = device.createBuffer({ size: 24 * count * pixels, usage: STORAGE | COPY_SRC, label: 'drrkit ray gradients' });
      buffers!.weights = device.createBuffer({ size: 4 * count * pixels, usage: STORAGE | COPY_DST, label: 'drrkit weights' });
      buffers!.partials = device.createBuffer({ size: 48 * count * blocks, usage: STORAGE, label: 'drrkit partial sums' });
      buffers!.totals = device.createBuffer({ size: 48 * count, usage: STORAGE | COPY_SRC, label: 'drrkit gradient sums' });
      buffers!.totalsRead = device.createBuffer({ size: 48 * count, usage: MAP_READ | COPY_DST, label: 'drrkit gradient sums read' });
    }
    return buffers!;
  }

  #freeBuffers(set: 'forward' | 'gradient'): void {
    const buffers = this.#buffers[set];
    if (buffers === null) return;
    for (const buffer of [buffers.rays, buffers.images, buffers.imagesRead, buffers.rayGradients, buffers.rayGradientsRead, buffers.weights, buffers.partials, buffers.totals, buffers.totalsRead]) {
      buffer?.destroy();
    }
    this.#buffers[set] = null;
    if (set === 'gradient') this.#resident = null;
  }

  /** Writes the rays (shifted to the grid origin; differences in f64) and the batch parameters. */
  #upload(rays: readonly RayGrid[], buffers: BatchBuffers, height: number, width: number): void {
    const data = new Float32Array(12 * rays.length);
    const [ox, oy, oz] = this.origin;
    rays.forEach((grid, pose) => {
      const base = 12 * pose;
      const origin = [ox, oy, oz];
      for (let axis = 0; axis < 3; axis++) {
        data[base + axis] = grid.source[axis] - origin[axis];
        data[base + 3 + axis] = grid.firstPixel[axis] - grid.source[axis];
        data[base + 6 + axis] = grid.rowStep[axis];
        data[base + 9 + axis] = grid.columnStep[axis];
      }
    });
    this.device.queue.writeBuffer(buffers.rays, 0, data);
    this.#writeBatchParameters(rays.length, height, width);
  }

  /** Writes the batch's size into the uniform block (before each submission that needs it). */
  #writeBatchParameters(poses: number, height: number, width: number): void {
    const ints = new Int32Array(this.#parameterWords);
    const words = new Uint32Array(this.#parameterWords);
    ints[3] = width; ints[4] = height;
    words[12] = poses;
    words[13] = Math.ceil((height * width) / WORKGROUP_SIZE);
    words[14] = height * width;
    this.device.queue.writeBuffer(this.#parameters, 0, this.#parameterWords);
  }

  #dispatch(encoder: GPUCommandEncoder, name: KernelName, entries: GPUBuffer[], x: number, y: number): void {
    const pipeline = this.#pipelines.get(name)!;
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: entries.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /** Copies `bytes` of `source` into the mappable `target` and reads them back as f32. */
  async #read(target: GPUBuffer, bytes: number): Promise<Float32Array> {
    await target.mapAsync(MAP_MODE_READ, 0, bytes);
    const copy = new Float32Array(target.getMappedRange(0, bytes).slice(0));
    target.unmap();
    return copy;
  }

  /** Encodes a render of the uploaded rays (forward or with ray gradients) and the image copy. */
  #encodeRender(encoder: GPUCommandEncoder, buffers: BatchBuffers, poses: number, pixels: number, gradients: boolean): void {
    if (gradients && this.settings.reduce === 'max') {
      throw new DrrkitError('a maximum-intensity projection has no pose gradient in drrkit; register with reduce "sum"', 'reduce');
    }
    const groups = Math.ceil(pixels / WORKGROUP_SIZE);
    if (gradients) {
      this.#dispatch(encoder, 'gradient', [this.#volume, this.#parameters, buffers.rays, buffers.images, buffers.rayGradients!], groups, poses);
    } else {
      this.#dispatch(encoder, 'forward', [this.#volume, this.#parameters, buffers.rays, buffers.images], groups, poses);
    }
    encoder.copyBufferToBuffer(buffers.images, 0, buffers.imagesRead, 0, 4 * poses * pixels);
  }

  /** Encodes the reduction of the resident ray gradients with the uploaded weights to 12 numbers per pose. */
  #encodeReduction(encoder: GPUCommandEncoder, buffers: BatchBuffers, poses: number, pixels: number): void {
    const groups = Math.ceil(pixels / WORKGROUP_SIZE);
    this.#dispatch(encoder, 'reducePixels', [buffers.rayGradients!, this.#parameters, buffers.weights!, buffers.partials!], groups, poses);
    this.#dispatch(encoder, 'reducePartials', [buffers.partials!, this.#parameters, buffers.totals!], poses, 1);
    encoder.copyBufferToBuffer(buffers.totals!, 0, buffers.totalsRead!, 0, 48 * poses);
  }

  /** Renders one image per ray grid in one submission; the result is [pose][row][column]. */
  render(rays: readonly RayGrid[]): Promise<Float32Array> {
    return this.#serialized(async () => {
      const { height, width } = this.#checkRays(rays);
      const pixels = height * width;
      const buffers = this.#ensureBuffers(rays.length, pixels, false);
      this.#upload(rays, buffers, height, width);
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, pixels, false);
      this.device.queue.submit([encoder.finish()]);
      return this.#read(buffers.imagesRead, 4 * rays.length * pixels);
    });
  }

  /**
   * Renders one image per ray grid and keeps every pixel's ray gradient on the device, for a
   * following {@link reduceRayGradients} (the registration loop: the loss weights depend on the
   * image). Returns the images.
   */
  renderForGradient(rays: readonly RayGrid[]): Promise<Float32Array> {
    return this.#serialized(async () => {
      const { height, width } = this.#checkRays(rays);
      const pixels = height * width;
      const buffers = this.#ensureBuffers(rays.length, pixels, true);
      this.#upload(rays, buffers, height, width);
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, pixels, true);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses: rays.length, height, width };
      return this.#read(buffers.imagesRead, 4 * rays.length * pixels);
    });
  }

  /**
   * Reduces the ray gradients of the last {@link renderForGradient} with per-pixel weights
   * ∂L/∂I ([pose][pixel]) on the device; reads back 12 numbers per pose.
   */
  reduceRayGradients(pixelWeights: ArrayLike<number>): Promise<RayGridGradient[]> {
    return this.#serialized(async () => {
      const resident = this.#resident;
      if (resident === null) throw new DrrkitError('WebGPU: reduceRayGradients needs a renderForGradient first', 'backend');
      const { poses, height, width } = resident;
      const pixels = height * width;
      if (pixelWeights.length !== poses * pixels) {
        throw new DrrkitError(`WebGPU: ${pixelWeights.length} pixel weights given for ${poses} image(s) of ${pixels} pixels`, 'weights');
      }
      const buffers = this.#buffers.gradient!;
      this.device.queue.writeBuffer(buffers.weights!, 0, Float32Array.from(pixelWeights));
      this.#writeBatchParameters(poses, height, width); // a render in between may have changed them
      const encoder = this.device.createCommandEncoder();
      this.#encodeReduction(encoder, buffers, poses, pixels);
      this.device.queue.submit([encoder.finish()]);
      return rayGridGradients(await this.#read(buffers.totalsRead!, 48 * poses), poses, height, width);
    });
  }

  /**
   * Renders with ray gradients and, in the same submission, reduces them with the given
   * per-pixel weights ([pose][pixel]): the images and 12 numbers per pose come back, never the
   * per-pixel gradients.
   */
  renderWithRayGridGradients(rays: readonly RayGrid[], pixelWeights: ArrayLike<number>): Promise<{ images: Float32Array; gradients: RayGridGradient[] }> {
    return this.#serialized(async () => {
      const { height, width } = this.#checkRays(rays);
      const pixels = height * width;
      if (pixelWeights.length !== rays.length * pixels) {
        throw new DrrkitError(`WebGPU: ${pixelWeights.length} pixel weights given for ${rays.length} image(s) of ${pixels} pixels`, 'weights');
      }
      const buffers = this.#ensureBuffers(rays.length, pixels, true);
      this.#upload(rays, buffers, height, width);
      this.device.queue.writeBuffer(buffers.weights!, 0, Float32Array.from(pixelWeights));
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, pixels, true);
      this.#encodeReduction(encoder, buffers, rays.length, pixels);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses: rays.length, height, width };
      const images = await this.#read(buffers.imagesRead, 4 * rays.length * pixels);
      const totals = await this.#read(buffers.totalsRead!, 48 * rays.length);
      return { images, gradients: rayGridGradients(totals, rays.length, height, width) };
    });
  }

  /**
   * Renders with per-pixel ray gradients and reads them back — (∂I/∂a, ∂I/∂b), six numbers per
   * pixel, [pose][pixel][6], as the CPU kernels write them (widened to f64).
   */
  renderWithRayGradients(rays: readonly RayGrid[]): Promise<{ images: Float32Array; rayGradients: Float64Array }> {
    return this.#serialized(async () => {
      const { height, width } = this.#checkRays(rays);
      const pixels = height * width;
      const buffers = this.#ensureBuffers(rays.length, pixels, true);
      buffers.rayGradientsRead ??= this.device.createBuffer({ size: 24 * buffers.poses * pixels, usage: MAP_READ | COPY_DST, label: 'drrkit ray gradients read' });
      this.#upload(rays, buffers, height, width);
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, pixels, true);
      encoder.copyBufferToBuffer(buffers.rayGradients!, 0, buffers.rayGradientsRead, 0, 24 * rays.length * pixels);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses: rays.length, height, width };
      const images = await this.#read(buffers.imagesRead, 4 * rays.length * pixels);
      const rayGradients = Float64Array.from(await this.#read(buffers.rayGradientsRead, 24 * rays.length * pixels));
      return { images, rayGradients };
    });
  }

  /** Frees this backend's buffers once queued work is done (the device is the caller's). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await this.#queue;
    this.#destroyed = true;
    this.#freeBuffers('forward');
    this.#freeBuffers('gradient');
    this.#volume.destroy();
    this.#parameters.destroy();
  }
}

/** The 12 totals per pose (rows and columns measured from the detector centre) → first-pixel form. */
function rayGridGradients(totals: Float32Array, poses: number, height: number, width: number): RayGridGradient[] {
  const rowCentre = (height - 1) / 2, columnCentre = (width - 1) / 2;
  const result: RayGridGradient[] = [];
  for (let pose = 0; pose < poses; pose++) {
    const base = 12 * pose;
    const source = new Float64Array(3), firstPixel = new Float64Array(3), rowStep = new Float64Array(3), columnStep = new Float64Array(3);
    for (let axis = 0; axis < 3; axis++) {
      source[axis] = totals[base + axis];
      firstPixel[axis] = totals[base + 3 + axis];
      rowStep[axis] = totals[base + 6 + axis] + rowCentre * firstPixel[axis];
      columnStep[axis] = totals[base + 9 + axis] + columnCentre * firstPixel[axis];
    }
    result.push({ source, firstPixel, rowStep, columnStep });
  }
  return result;
}
