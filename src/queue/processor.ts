/**
 * The job processor of `drrkit worker`, run by BullMQ in a worker thread (a sandboxed processor),
 * so the worker's main thread stays free to renew job locks however long a render takes.
 *
 * - 'generate-shard': renders one shard of a dataset, writes its `.npy` atomically to the shared
 *   output folder and returns the shard's manifest records.
 * - 'evaluate-block': runs a block of an evaluation's registrations and returns their results.
 *
 * The CT (and DRRs) of the last dataset and evaluation are kept between jobs of this thread.
 * Errors in the input (an unreadable CT, bad flags) fail the job at once (no retries), with the
 * worker's host and process named in the message the producer prints.
 */
import os from 'node:os';
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import { UnrecoverableError, type SandboxedJob } from 'bullmq';
import { DrrkitError } from '../errors.js';
import { renderShard, shardName, type DatasetSpec } from '../dataset/dataset.js';
import { writeFileAtomic } from '../io/files.js';
import { loadVolume } from '../io/load-volume.js';
import { evaluateRegistration, type EvaluationOptions } from '../registration/evaluate.js';
import type { Volume } from '../volume/volume.js';
import { createDatasetRenderer, type DatasetRenderer } from '../cli/dataset-renderer.js';
import { evaluationOptionsFromJob, type EvaluateBlockJob } from './evaluate-jobs.js';

/** A 'generate-shard' job. */
export interface GenerateShardJob {
  directory: string;
  spec: DatasetSpec;
  shard: number;
}

const threads: number | undefined = typeof workerData?.threads === 'number' ? workerData.threads : undefined;
let cachedRenderer: { key: string; renderer: DatasetRenderer } | null = null;
let cachedVolume: { key: string; volume: Volume } | null = null;

async function rendererFor(spec: DatasetSpec): Promise<DatasetRenderer> {
  const key = JSON.stringify(spec.render);
  if (cachedRenderer?.key === key) return cachedRenderer.renderer;
  cachedRenderer?.renderer.setup.dispose();
  cachedRenderer = null; // let the old CT go before the next is loaded
  const renderer = await createDatasetRenderer(spec, threads);
  cachedRenderer = { key, renderer };
  return renderer;
}

async function generateShard(job: SandboxedJob<GenerateShardJob>): Promise<unknown> {
  const { directory, spec, shard } = job.data;
  const renderer = await rendererFor(spec);
  let reported = 0;
  const { bytes, records } = await renderShard(spec, renderer, shard, async (done, total) => {
    if (done === total || done - reported >= Math.max(1, Math.floor(total / 10))) {
      reported = done;
      await job.updateProgress(done);
    }
  });
  await writeFileAtomic(path.join(directory, shardName(shard)), bytes);
  return records;
}

async function evaluateBlock(job: SandboxedJob<EvaluateBlockJob>): Promise<unknown> {
  const { ct, first, count } = job.data;
  if (cachedVolume?.key !== ct) {
    cachedVolume = null;
    cachedVolume = { key: ct, volume: await loadVolume(ct) };
  }
  const options: EvaluationOptions = { ...evaluationOptionsFromJob(job.data, threads), volume: cachedVolume.volume, only: { first, count } };
  return evaluateRegistration(options).runs;
}

/** Processes one job (BullMQ calls this in the sandbox thread). */
export default async function processJob(job: SandboxedJob): Promise<unknown> {
  try {
    if (job.name === 'generate-shard') return await generateShard(job as SandboxedJob<GenerateShardJob>);
    if (job.name === 'evaluate-block') return await evaluateBlock(job as SandboxedJob<EvaluateBlockJob>);
    throw new DrrkitError(`unknown job kind "${job.name}" (a newer or older drrkit producer?)`, 'job');
  } catch (error) {
    const where = `worker ${os.hostname()} pid ${process.pid}`;
    if (error instanceof DrrkitError) throw new UnrecoverableError(`${error.message} (${where})`);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message} (${where})`);
  }
}
