import type { Command } from 'commander';
import { Option } from 'commander';
import type { Pose } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { nodeWebGPUDevice, requireNodeWebGPUDevice } from '../render/webgpu/node.js';
import type { WebGPUDeviceInfo } from '../render/webgpu/webgpu-backend.js';
import { WebGPUDRR, type GpuRenderableDRR } from '../render/webgpu/webgpu-drr.js';

/** The render backends the CLI offers. */
export type BackendChoice = 'cpu' | 'webgpu' | 'auto';

/** Adds `--backend cpu|webgpu|auto` to a command. */
export function addBackendOption(command: Command): Command {
  return command.addOption(
    new Option('--backend <name>', 'where to render: cpu; webgpu (any WebGPU adapter, software ones included); auto (WebGPU on a real GPU, else cpu)')
      .choices(['cpu', 'webgpu', 'auto'])
      .default('cpu'),
  );
}

/**
 * The WebGPU device `choice` asks for, or null for the CPU: 'webgpu' needs an adapter (a
 * DrrkitError says why there is none), 'auto' takes a real (not software) adapter when there is one.
 */
export async function openWebGPUDevice(choice: string): Promise<WebGPUDeviceInfo | null> {
  if (choice !== 'cpu' && choice !== 'webgpu' && choice !== 'auto') throw new DrrkitError(`--backend: unknown backend "${choice}"; use cpu, webgpu or auto`, '--backend');
  if (choice === 'webgpu') return requireNodeWebGPUDevice();
  if (choice === 'auto') return nodeWebGPUDevice({ allowSoftware: false });
  return null;
}

/** A chosen backend: renders a CPU DRR's images (synchronously on the CPU, or on WebGPU). */
export interface RenderBackend {
  /** 'cpu' or 'webgpu'. */
  readonly name: 'cpu' | 'webgpu';
  /** For reports: "cpu", or "WebGPU (adapter)". */
  readonly description: string;
  /** One image per pose of `drr`. */
  render(drr: GpuRenderableDRR & { render(poses: Pose | readonly Pose[]): Float32Array }, poses: Pose | readonly Pose[]): Promise<Float32Array>;
  /** Releases the GPU device, if any. */
  close(): void;
}

/**
 * Opens the backend `choice`: 'webgpu' needs an adapter (a DrrkitError says why there is none);
 * 'auto' takes WebGPU only on a real (not software) adapter and otherwise the CPU.
 */
export async function openRenderBackend(choice: string): Promise<RenderBackend> {
  const info = await openWebGPUDevice(choice);
  if (info === null) {
    return { name: 'cpu', description: 'cpu', render: async (drr, poses) => drr.render(poses), close: () => undefined };
  }
  const device = info;
  return {
    name: 'webgpu',
    description: `WebGPU (${device.description}${device.software ? ', software' : ''})`,
    async render(drr, poses) {
      const gpu = await WebGPUDRR.create(drr, device);
      try {
        return await gpu.renderAsync(poses);
      } finally {
        await gpu.destroy();
      }
    },
    close: () => device.device.destroy(),
  };
}
