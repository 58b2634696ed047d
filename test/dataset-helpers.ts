/** Helpers of the dataset and queue tests: a small CT phantom on disk and the CLI. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNifti } from '../src/io/nifti.js';
import { decodeNpy } from '../src/dataset/npy.js';
import { createVolume } from '../src/volume/volume.js';
import { repositoryRoot } from './helpers.js';

/** The built CLI. */
export const CLI = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');

/** Runs the CLI to the end. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

/** Starts the CLI in the background. */
export function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI in the background and resolves with its exit status and output. */
export function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = startCli(args);
  let stdout = '', stderr = '';
  child.stdout!.on('data', (chunk) => { stdout += chunk; });
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** Writes a 24×20×16 HU phantom (soft tissue with a bone block, 4 mm voxels, oblique-free RAS affine) as NIfTI. */
export function writePhantom(file: string): string {
  const [nx, ny, nz] = [24, 20, 16];
  const data = new Float32Array(nx * ny * nz).fill(-1000);
  for (let k = 2; k < nz - 2; k++) for (let j = 3; j < ny - 3; j++) for (let i = 2; i < nx - 2; i++) data[i + nx * (j + ny * k)] = 40 + 3 * i - 2 * j + k;
  for (let k = 5; k < 9; k++) for (let j = 6; j < 10; j++) for (let i = 13; i < 18; i++) data[i + nx * (j + ny * k)] = 900;
  const affine = Float64Array.of(4, 0, 0, -48, 0, 4, 0, -40, 0, 0, 4, -32, 0, 0, 0, 1);
  writeFileSync(file, encodeNifti(createVolume({ data, shape: [nx, ny, nz], spacing: [4, 4, 4], affine, source: 'phantom' })));
  return file;
}

/** A dataset read back: per-sample arrays (by id) and manifest records. */
export interface LoadedDataset {
  samples: Float32Array[];
  sampleShape: number[];
  records: Array<Record<string, unknown> & { id: number; shard: string; index: number }>;
}

/** Reads every shard (through the manifest) of a dataset folder. */
export function loadDataset(directory: string): LoadedDataset {
  const records = readFileSync(path.join(directory, 'manifest.jsonl'), 'utf8').split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));
  const shards = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const name of readdirSync(directory).filter((entry) => /^shard-\d+\.npy$/.test(entry))) {
    const { data, shape } = decodeNpy(new Uint8Array(readFileSync(path.join(directory, name))), name);
    shards.set(name, { data: data as Float32Array, shape });
  }
  const samples = records.map((record) => {
    const shard = shards.get(record.shard)!;
    const size = shard.shape.slice(1).reduce((a: number, b: number) => a * b, 1);
    return shard.data.slice(record.index * size, (record.index + 1) * size);
  });
  const first = shards.values().next().value;
  return { samples, sampleShape: first ? first.shape.slice(1) : [], records };
}
