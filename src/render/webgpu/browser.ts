/// <reference types="@webgpu/types" />
/** WebGPU in a browser or a Web Worker: a GPUDevice from `navigator.gpu`. */
import { describeAdapter, requestRenderDevice, type WebGPUDeviceInfo } from './webgpu-backend.js';

/**
 * A WebGPU device from `navigator.gpu`, or null when WebGPU is unavailable or no adapter is
 * given (the app then renders on CPU workers). `allowSoftware: false` refuses software adapters
 * (SwiftShader) — default true.
 */
export async function browserWebGPUDevice(options: { allowSoftware?: boolean } = {}): Promise<WebGPUDeviceInfo | null> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (adapter === null) return null;
  const { description, software } = describeAdapter(adapter);
  if (software && options.allowSoftware === false) return null;
  const device = await requestRenderDevice(adapter);
  return { device, description, software, backend: 'browser' };
}
