import { Command } from 'commander';
import { Worker } from 'bullmq';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DrrkitError } from '../errors.js';
import { checkQueueConnection, parseQueueUrl, QUEUE_NAME } from '../queue/connection.js';
import { parseInteger, parseNumber, type RawOptions } from './options.js';
import { flag } from './render-setup.js';

/** The sandboxed job processor (run in worker threads). */
const PROCESSOR = fileURLToPath(new URL('../queue/processor.js', import.meta.url));

/** `drrkit worker`: takes `generate` and `evaluate` jobs from the queue until stopped (SIGINT/SIGTERM finish the running jobs first). */
export function workerCommand(): Command {
  return new Command('worker')
    .description('take generate/evaluate jobs from a Redis queue and run them (stop with Ctrl-C: running jobs finish first)')
    .requiredOption('--queue <url>', 'the Redis of the producers: redis://host:port/db')
    .option('--concurrency <k>', 'jobs run at once, each in its own thread', '1')
    .option('--threads <n>', 'render threads per job (default: the cores divided by --concurrency)')
    .option('--lock-seconds <s>', 'job lock time: a job whose worker stops renewing it (killed, cut off) is retried elsewhere after about this long', '30')
    .action(async (options: RawOptions) => {
      const url = String(options.queue);
      const concurrency = parseInteger(String(options.concurrency ?? '1'), '--concurrency');
      if (concurrency < 1) throw new DrrkitError('--concurrency: must be ≥ 1', '--concurrency');
      const threads = flag(options, 'threads') !== undefined
        ? parseInteger(flag(options, 'threads')!, '--threads')
        : Math.max(1, Math.floor(os.availableParallelism() / concurrency));
      const lockMs = Math.round(1000 * parseNumber(String(options.lockSeconds ?? '30'), '--lock-seconds'));
      if (!(lockMs >= 1000)) throw new DrrkitError('--lock-seconds: must be ≥ 1', '--lock-seconds');
      await checkQueueConnection(url);
      const name = `${os.hostname()}:${process.pid}`;
      const worker = new Worker(QUEUE_NAME, PROCESSOR, {
        connection: parseQueueUrl(url),
        concurrency,
        useWorkerThreads: true,
        workerThreadsOptions: { workerData: { threads } },
        name,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: 10,
      });
      const log = (text: string) => process.stdout.write(`${new Date().toISOString()} ${text}\n`);
      worker.on('active', (job) => log(`${job.name} ${job.id} started`));
      worker.on('completed', (job) => log(`${job.name} ${job.id} done`));
      worker.on('failed', (job, error) => log(`${job?.name ?? 'job'} ${job?.id ?? ''} failed: ${error.message}`));
      worker.on('error', (error) => log(`queue error: ${error.message}`));
      await worker.waitUntilReady();
      log(`worker ${name} on ${url}: concurrency ${concurrency}, ${threads} render thread(s) per job`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          log('stopping: finishing the running jobs (signal again to quit at once)');
          void worker.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
