/**
 * Dataset generation benchmark: samples per second of `drrkit generate` in one process and on the
 * job queue with 1 and 2 workers, one JSON line per case on stdout, so the queue's overhead shows.
 *
 *   npm run bench:generate
 *   node dist/bench/generate.bench.js --ct ../shared/data/lidc2-chest-ct.nii.gz --count 1024 --size 128
 *
 * Every case renders the same samples (seed 1, the tutorial's box of poses, seed geometry, sdr 300,
 * size×size pixels over 800 mm) with one render thread per process or worker, and every case is
 * timed warm: the CT is loaded and the DRR built before the clock starts (in-process for the single
 * process; for the queue, the workers first run a warm-up dataset with the same render flags, which
 * their job threads keep). Queue cases are timed by the producer from enqueueing to the manifest.
 * Needs redis-server on the PATH for the queue cases (skipped with a message otherwise). The
 * machine may be shared: every line carries the 1-minute load average; compare lines of one run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatasetRenderer } from '../src/cli/dataset-renderer.js';
import { renderShard, shardCount, type DatasetSpec } from '../src/dataset/dataset.js';
import { REDIS_ABSENT, startRedis } from '../test/redis-server.js';

const argument = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
};
const ct = argument('ct', 'example');
const count = Number(argument('count', '512'));
const size = Number(argument('size', '128'));
const shardSize = Number(argument('shard-size', '64'));
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-generate-bench-'));
const flags = ['--ct', ct, '--sdr', '300', '--height', String(size), '--delx', String(800 / size), '--seed', '1', '--shard-size', String(shardSize)];
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...line, load1: Number(os.loadavg()[0].toFixed(2)), cores: os.availableParallelism() })}\n`);

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

async function singleProcess(): Promise<number> {
  const spec: DatasetSpec = {
    format: 'drrkit-dataset', version: 1, count, shardSize, seed: 1,
    poses: { kind: 'box', rotationRangeDegrees: [45, 60, 60], translationRangeMm: [[-30, 31], [-30, 31], [-30, 31]] },
    render: { ct: ct === 'example' ? ct : path.resolve(ct), sdr: '300', height: String(size), delx: String(800 / size), renderer: 'siddon', density: 'diffdrr' },
  };
  const renderer = await createDatasetRenderer(spec, 1);
  const started = performance.now();
  for (let index = 0; index < shardCount(spec); index++) await renderShard(spec, renderer, index);
  const seconds = (performance.now() - started) / 1000;
  renderer.setup.dispose();
  return count / seconds;
}

async function onQueue(url: string, workers: number): Promise<number> {
  const children: ChildProcess[] = [];
  for (let index = 0; index < workers; index++) {
    children.push(spawn(process.execPath, [cli, 'worker', '--queue', url, '--threads', '1'], { stdio: 'ignore' }));
  }
  try {
    // Warm-up: every worker loads the CT (two shards per worker, so each gets one).
    const warm = await run(['generate', ...flags, '--count', String(2 * workers * shardSize), '--out-dir', path.join(scratch, `warm-${workers}`), '--queue', url]);
    if (warm.status !== 0) throw new Error(warm.stderr);
    const started = performance.now();
    const timed = await run(['generate', ...flags, '--count', String(count), '--seed', '2', '--out-dir', path.join(scratch, `timed-${workers}`), '--queue', url]);
    if (timed.status !== 0) throw new Error(timed.stderr);
    return count / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(children.map((child) => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); })));
  }
}

try {
  const single = await singleProcess();
  print({ case: 'generate', mode: 'process', workers: 0, threads: 1, size, samples: count, samplesPerSecond: Number(single.toFixed(2)) });
  if (REDIS_ABSENT) {
    process.stderr.write(`queue cases skipped: ${REDIS_ABSENT}\n`);
  } else {
    const redis = await startRedis();
    try {
      const one = await onQueue(redis.url, 1);
      print({ case: 'generate', mode: 'queue', workers: 1, threads: 1, size, samples: count, samplesPerSecond: Number(one.toFixed(2)) });
      const two = await onQueue(redis.url, 2);
      print({ case: 'generate', mode: 'queue', workers: 2, threads: 1, size, samples: count, samplesPerSecond: Number(two.toFixed(2)) });
      print({ case: 'queue-overhead', size, oneWorkerVsProcess: Number((one / single).toFixed(4)), overheadPercent: Number((100 * (1 - one / single)).toFixed(2)), twoWorkersVsOne: Number((two / one).toFixed(3)) });
    } finally {
      await redis.stop();
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
