/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node: a GPUDevice from the optional `webgpu` package (Dawn's node bindings, which
 * ship their prebuilt binary inside the package). Imported only by Node code (the CLI, tests,
 * benchmarks); the backend itself is platform-neutral.
 *
 * Adapters tried, in order:
 * - 'native': Dawn's default backend (Vulkan on Linux, Metal on macOS, D3D12 on Windows) — a
 *   real GPU on its vendor driver.
 * - 'opengles': Dawn's OpenGL ES backend in compatibility mode; on a machine without a GPU this
 *   is Mesa's llvmpipe (CPU), reached headless with EGL_PLATFORM=surfaceless (set here when
 *   unset). Debian packages: libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri.
 */
import { DrrkitError } from '../../errors.js';
import { describeAdapter, requestRenderDevice, type WebGPUDeviceInfo } from './webgpu-backend.js';

/** Which Dawn backend to use: the native one, OpenGL ES, or the first that gives an adapter. */
export type NodeWebGPUBackend = 'native' | 'opengles' | 'any';

/** Options for {@link nodeWebGPUDevice}. */
export interface NodeWebGPUOptions {
  /** Default 'any': native first, then OpenGL ES. */
  backend?: NodeWebGPUBackend;
  /** Accept a software adapter (llvmpipe, SwiftShader, lavapipe); default true. */
  allowSoftware?: boolean;
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: Promise<DawnModule | null> | null = null;

/**
 * Every Dawn instance created here, kept alive: when a `GPU` object is garbage-collected Dawn
 * tears down its instance, and its adapters' devices then hang or abort.
 */
const instances: GPU[] = [];

/** The `webgpu` package, or null when it is not installed (it is an optional dependency). */
function loadDawn(): Promise<DawnModule | null> {
  dawn ??= import('webgpu').then((module) => module as unknown as DawnModule, () => null);
  return dawn;
}

/** One adapter of one Dawn backend, or null. */
async function adapterOf(module: DawnModule, backend: 'native' | 'opengles'): Promise<GPUAdapter | null> {
  if (backend === 'opengles') {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const gpu = module.create(['backend=opengles']);
    instances.push(gpu);
    return gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions).catch(() => null);
  }
  const gpu = module.create([]);
  instances.push(gpu);
  return gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
}

/**
 * A WebGPU device in Node, or null when no adapter fits (package absent, no GPU, no Mesa, or
 * only a software adapter with `allowSoftware: false`). The caller owns the device: call
 * `device.destroy()` when done, or the process may stay alive.
 */
export async function nodeWebGPUDevice(options: NodeWebGPUOptions = {}): Promise<WebGPUDeviceInfo | null> {
  const module = await loadDawn();
  if (module === null) return null;
  // Dawn's classes (GPUBufferUsage, …) as globals, as in a browser.
  for (const [name, value] of Object.entries(module.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const backend = options.backend ?? 'any';
  const order: ('native' | 'opengles')[] = backend === 'any' ? ['native', 'opengles'] : [backend];
  for (const name of order) {
    const adapter = await adapterOf(module, name);
    if (adapter === null) continue;
    const { description, software } = describeAdapter(adapter);
    if (software && options.allowSoftware === false) continue;
    const device = await requestRenderDevice(adapter);
    return { device, description, software, backend: name === 'native' ? 'dawn-native' : 'dawn-opengles' };
  }
  return null;
}

/** Like {@link nodeWebGPUDevice}, but a DrrkitError naming the reason instead of null. */
export async function requireNodeWebGPUDevice(options: NodeWebGPUOptions = {}): Promise<WebGPUDeviceInfo> {
  if ((await loadDawn()) === null) {
    throw new DrrkitError('WebGPU: the optional package "webgpu" is not installed (npm install webgpu)', 'backend');
  }
  const info = await nodeWebGPUDevice(options);
  if (info === null) {
    throw new DrrkitError(
      'WebGPU: no adapter found (no GPU driver for Dawn, and no Mesa OpenGL ES: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)',
      'backend',
    );
  }
  return info;
}
