/**
 * Rendering benchmark: prints one JSON line per case (volume, renderer, detector size,
 * forward or forward + ray gradients, ms per DRR, DRRs per second).
 *
 *   npm run bench                 # all cases
 *   node dist/bench/render.bench.js --quick
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRR } from '../src/drr.js';
import { readNifti } from '../src/io/nifti.js';
import type { RendererName } from '../src/render/renderer.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import type { Volume } from '../src/volume/volume.js';

const quick = process.argv.includes('--quick');
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedCT = path.resolve(repositoryRoot, '..', 'shared', 'data', 'lidc2-chest-ct.nii.gz');

/** Runs `work` repeatedly for about `seconds` after a warm-up; returns the median ms per call. */
function time(work: () => void, seconds: number): { milliseconds: number; repetitions: number } {
  for (let i = 0; i < 3; i++) work();
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline || samples.length < 5) {
    const start = performance.now();
    work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { milliseconds: samples[Math.floor(samples.length / 2)], repetitions: samples.length };
}

async function main(): Promise<void> {
  const volumes: Array<{ name: string; volume: Volume; pose: { rotation: number[] } }> = [
    { name: 'example', volume: loadExampleCT(), pose: { rotation: [Math.PI, 0, Math.PI / 2] } },
  ];
  if (existsSync(sharedCT)) volumes.push({ name: 'lidc2', volume: await readNifti(sharedCT), pose: { rotation: [Math.PI / 2, 0, Math.PI / 2] } });
  else process.stderr.write(`bench: ${sharedCT} absent; benchmarking the example CT only\n`);
  const sizes = quick ? [100] : [100, 200, 256, 512];
  const renderers: RendererName[] = ['siddon', 'trilinear'];
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version };
  for (const { name, volume, pose } of volumes) {
    for (const renderer of renderers) {
      for (const size of sizes) {
        const drr = new DRR(volume, { sdr: 300, height: size, delx: (8 * 100) / size, renderer });
        const parameters = {
          rotation: Float64Array.from(pose.rotation),
          translation: Float64Array.from(drr.center),
          parameterization: 'euler_angles' as const,
          convention: 'ZYX' as const,
        };
        const seconds = quick ? 0.5 : size >= 512 ? 2 : 1;
        for (const mode of ['forward', 'forward+gradient'] as const) {
          const result = time(() => (mode === 'forward' ? drr.render(parameters) : drr.renderWithRayGradients(parameters)), seconds);
          process.stdout.write(
            JSON.stringify({
              benchmark: 'render', volume: name, shape: volume.shape, renderer, detector: `${size}x${size}`, mode,
              threads: 1, ms_per_drr: Number(result.milliseconds.toFixed(3)), drrs_per_second: Number((1000 / result.milliseconds).toFixed(1)),
              repetitions: result.repetitions, ...machine,
            }) + '\n',
          );
        }
      }
    }
  }
}

await main();
