/**
 * The producer side of the queue: put a command's jobs on the BullMQ queue, wait until every one
 * is done (reporting progress and handing each result over as it arrives), and turn a failed job
 * into one clear error. Job ids are chosen by the caller, so a producer started again for the same
 * work re-attaches to jobs that are still queued, running or finished instead of adding copies.
 */
import { Job, Queue } from 'bullmq';
import { DrrkitError } from '../errors.js';
import { checkQueueConnection, parseQueueUrl, QUEUE_NAME } from './connection.js';

/** One job to run. */
export interface QueuedJob {
  /** Unique id (no colons). */
  id: string;
  /** 'generate-shard' or 'evaluate-block'. */
  name: string;
  /** JSON-serialisable job description. */
  data: unknown;
  /** How messages name the job ("shard shard-00003.npy"). */
  label: string;
}

/** Callbacks of {@link runOnQueue}. */
export interface QueueCallbacks {
  /** A job's result, as soon as it is completed (awaited before the job is forgotten). */
  onResult(index: number, result: unknown): void | Promise<void>;
  /** The progress (a number each job reports, e.g. samples rendered) summed over the running jobs. */
  onProgress?(runningProgress: number): void;
  /** How long to wait between looks at the queue, ms (default 250). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `jobs` on the queue at `url` and resolves when all are completed; a DrrkitError naming the
 * job and the worker's message when one fails (its remaining jobs are then removed from the queue).
 */
export async function runOnQueue(url: string, jobs: readonly QueuedJob[], callbacks: QueueCallbacks): Promise<void> {
  await checkQueueConnection(url);
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url) });
  queue.on('error', () => undefined); // connection trouble: ioredis reconnects; the polls below report what matters
  const pending = new Set(jobs.map((_, index) => index));
  try {
    // A job left failed by an earlier producer would fail this one at once: start it afresh.
    for (const job of jobs) {
      const existing = await Job.fromId(queue, job.id);
      if (existing && (await existing.getState()) === 'failed') await existing.remove();
    }
    await queue.addBulk(jobs.map((job) => ({
      name: job.name,
      data: job.data,
      opts: { jobId: job.id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } },
    })));
    while (pending.size > 0) {
      let running = 0;
      for (const index of [...pending]) {
        // The state first, then the job: a job read before it completes carries no result yet.
        const state = await queue.getJobState(jobs[index].id);
        const job = state === 'unknown' ? undefined : await Job.fromId(queue, jobs[index].id);
        if (!job) throw new DrrkitError(`${jobs[index].label}: the job vanished from the queue (removed by another client?)`, '--queue');
        if (state === 'completed') {
          await callbacks.onResult(index, job.returnvalue);
          pending.delete(index);
          await job.remove().catch(() => undefined);
        } else if (state === 'failed') {
          throw new DrrkitError(`${jobs[index].label} failed on a worker: ${job.failedReason ?? 'no reason given'}`, '--queue');
        } else if (state === 'active' && typeof job.progress === 'number') {
          running += job.progress;
        }
      }
      callbacks.onProgress?.(running);
      if (pending.size > 0) await sleep(callbacks.pollMs ?? 250);
    }
  } catch (error) {
    for (const index of pending) {
      const job = await Job.fromId(queue, jobs[index].id).catch(() => undefined);
      await job?.remove().catch(() => undefined); // a job a worker holds stays; it ends on its own
    }
    throw error;
  } finally {
    await queue.close();
  }
}
