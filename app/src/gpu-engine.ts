/**
 * WebGPU in the app's engine worker: opens an adapter, checks on each volume that the WGSL
 * kernels render what the CPU kernels render, and then renders and registers on the GPU.
 *
 * Policy (the page's `?webgpu=` parameter): 'auto' (default) renders on WebGPU only with a real
 * (hardware) adapter — a software one (SwiftShader, llvmpipe) is slower than the CPU workers —
 * and 'force' with any adapter; 'off' never opens one. Either way the page is told which renders.
 */
import type { DRR } from '../../src/drr.js';
import type { PoseParameters } from '../../src/geometry/pose.js';
import { describeAdapter, requestRenderDevice, type WebGPUDeviceInfo } from '../../src/render/webgpu/webgpu-backend.js';
import { WebGPUDRR } from '../../src/render/webgpu/webgpu-drr.js';
import { WebGPUPoseAnswerer } from '../../src/render/webgpu/webgpu-answerer.js';

/** How the app uses WebGPU. */
export type GpuPolicy = 'auto' | 'force' | 'off';

/** What the page shows about WebGPU. */
export interface GpuReport {
  /** 'renders': WebGPU renders; 'available': an adapter, but the CPU workers render; 'none': no adapter. */
  state: 'renders' | 'available' | 'none';
  /** Adapter description ('' when none). */
  adapter: string;
  /** Whether the adapter is a software one. */
  software: boolean;
  /** Relative L2 distance between a WebGPU and a CPU render of a test view (NaN before a volume). */
  check: number;
  /** Why WebGPU does not render, when it does not. */
  note: string;
}

/** Largest relative L2 distance from the CPU image at which WebGPU is trusted to render. */
const CHECK_TOLERANCE = 1e-4;

/** The engine's WebGPU state: one device, one WebGPUDRR per CPU DRR. */
export class GpuEngine {
  readonly policy: GpuPolicy;
  #device: WebGPUDeviceInfo | null = null;
  /** An adapter the policy does not render on (a software one under 'auto'): described, no device opened. */
  #idleAdapter: { description: string; software: boolean } | null = null;
  #source: DRR | null = null;
  #gpu: WebGPUDRR | null = null;
  #check = NaN;
  #note = '';

  private constructor(policy: GpuPolicy) {
    this.policy = policy;
  }

  /** Opens an adapter as `policy` allows (never throws: without WebGPU the report says so). */
  static async open(policy: GpuPolicy): Promise<GpuEngine> {
    const engine = new GpuEngine(policy);
    if (policy === 'off') return engine;
    try {
      const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
      const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null) : null;
      if (adapter === null) return engine;
      const { description, software } = describeAdapter(adapter);
      // A device on a software adapter costs CPU time the workers need: open one only when asked to.
      if (software && policy !== 'force') {
        engine.#idleAdapter = { description, software };
        return engine;
      }
      engine.#device = { device: await requestRenderDevice(adapter), description, software, backend: 'browser' };
    } catch (error) {
      engine.#note = `no device: ${error instanceof Error ? error.message : String(error)}`;
    }
    return engine;
  }

  /** Whether WebGPU renders (an adapter the policy accepts, whose check passed). */
  get renders(): boolean {
    const device = this.#device;
    if (device === null || (device.software && this.policy !== 'force')) return false;
    return !(this.#check > CHECK_TOLERANCE) && this.#note === '';
  }

  /** What the page shows. */
  report(): GpuReport {
    const device = this.#device;
    const idle = this.#idleAdapter;
    if (idle !== null) return { state: 'available', adapter: idle.description, software: idle.software, check: NaN, note: 'software adapter: the CPU workers are faster (?webgpu=force renders on it)' };
    if (device === null) return { state: 'none', adapter: '', software: false, check: NaN, note: this.#note || (this.policy === 'off' ? 'off' : 'no adapter') };
    const note = this.#note || (device.software && this.policy !== 'force' ? 'software adapter: the CPU workers are faster' : '');
    return { state: this.renders ? 'renders' : 'available', adapter: device.description, software: device.software, check: this.#check, note };
  }

  /**
   * Uploads `drr`'s volume (once per DRR) and renders `pose` on both backends: the check that
   * decides whether WebGPU renders. Returns the report.
   */
  async prepare(drr: DRR, pose: PoseParameters): Promise<GpuReport> {
    // A software adapter the policy will not render on is not worth a volume upload.
    if (this.#device === null || (this.#device.software && this.policy !== 'force')) return this.report();
    try {
      const gpu = await this.drrFor(drr);
      const expected = drr.render(pose);
      const actual = await gpu.renderAsync(pose);
      let difference = 0, norm = 0;
      for (let i = 0; i < expected.length; i++) { difference += (actual[i] - expected[i]) ** 2; norm += expected[i] ** 2; }
      this.#check = Math.sqrt(difference / norm);
      this.#note = this.#check > CHECK_TOLERANCE ? `WebGPU image differs from the CPU one (relative L2 ${this.#check.toExponential(1)})` : '';
    } catch (error) {
      this.#note = `WebGPU failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    return this.report();
  }

  /** The WebGPU twin of `drr` (its volume uploaded once per DRR). */
  async drrFor(drr: DRR): Promise<WebGPUDRR> {
    if (this.#source === drr && this.#gpu !== null) return this.#gpu;
    await this.#gpu?.destroy();
    this.#gpu = null;
    this.#gpu = await WebGPUDRR.create(drr, this.#device!);
    this.#source = drr;
    return this.#gpu;
  }

  /**
   * A pose-request answerer on this engine's device, for one registration with the robust
   * strategy (it makes WebGPU twins of the pyramid's levels; destroy it afterwards).
   */
  poseAnswerer(): WebGPUPoseAnswerer {
    if (this.#device === null) throw new Error('WebGPU: no device');
    return new WebGPUPoseAnswerer(this.#device);
  }

  /** One image of `drr` at `pose` on the GPU. */
  async render(drr: DRR, pose: PoseParameters): Promise<Float32Array> {
    return (await this.drrFor(drr)).renderAsync(pose);
  }
}
