/**
 * Peak memory of one typical use, in a fresh process: load a volume, build a DRR on all
 * threads, render 100×100 images with and without ray gradients. Prints one JSON line.
 * Run by render.bench.ts: `node dist/bench/memory-probe.js <example|path to .nii.gz>`.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { DRR } from '../src/drr.js';
import { readNifti } from '../src/io/nifti.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

const source = process.argv[2] ?? 'example';
const volume = source === 'example' ? loadExampleCT() : await readNifti(source);
const drr = new DRR(volume, { sdr: 300, height: 100, delx: 8, threads: os.availableParallelism() });
const pose = { rotation: Float64Array.of(Math.PI / 2, 0, Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
for (let i = 0; i < 20; i++) { drr.render(pose); drr.renderWithRayGradients(pose); }
const emptySpace = drr.emptySpaceFields()!;
/**
 * Peak resident memory in bytes: Linux's VmHWM (this process image only), else maxRSS — which
 * Linux keeps across exec, so a child of a big process would report its parent's peak.
 */
function peakResident(): number {
  if (existsSync('/proc/self/status')) {
    const match = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return process.resourceUsage().maxRSS * 1024;
}
const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
process.stdout.write(JSON.stringify({
  peak_rss_mib: mib(peakResident()),
  volume_mib: mib(volume.data.byteLength),
  density_grid_mib: mib(drr.grid.data.byteLength),
  empty_space_mib: mib(emptySpace.voxelCubes.byteLength + emptySpace.cellCubes.byteLength),
  threads: drr.threads,
}) + '\n');
closeRenderPool();
