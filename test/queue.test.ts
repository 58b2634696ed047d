import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadDataset, runCli, runCliAsync, startCli, writePhantom } from './dataset-helpers.js';
import { REDIS_ABSENT, startRedis, type RedisServer } from './redis-server.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-queue-'));
const phantom = writePhantom(path.join(scratch, 'phantom.nii.gz'));
let redis: RedisServer | undefined;
const workers: Array<{ child: ChildProcess; log: () => string }> = [];

/** Starts `drrkit worker` and collects its log. */
function startWorker(url: string): { child: ChildProcess; log: () => string } {
  const child = startCli(['worker', '--queue', url, '--threads', '1', '--lock-seconds', '2']);
  let text = '';
  child.stdout!.on('data', (chunk) => { text += chunk; });
  child.stderr!.on('data', (chunk) => { text += chunk; });
  const worker = { child, log: () => text };
  workers.push(worker);
  return worker;
}

async function until(condition: () => boolean, what: string, seconds = 120): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the job queue (BullMQ on a loopback redis-server)', { skip: REDIS_ABSENT }, () => {
  before(async () => { redis = await startRedis(); });
  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('generate --queue with 3 workers, one SIGKILLed mid-job: complete, no duplicates, bit-identical to one process', async () => {
    const flags = ['--ct', phantom, '--geometry', 'world', '--poses', 'carm', '--primary-angles', '-40:40:20', '--secondary-angles', '-10,10',
      '--sdd-range', '900,1100', '--sod-range', '500,600', '--angle-jitter', '2', '--height', '24', '--width', '20', '--delx', '6',
      '--count', '36', '--shard-size', '3', '--seed', '2026'];
    const local = path.join(scratch, 'local'), queued = path.join(scratch, 'queued');
    const single = runCli(['generate', ...flags, '--threads', '1', '--out-dir', local]);
    assert.equal(single.status, 0, single.stderr);

    const victim = startWorker(redis!.url);
    await until(() => /worker .* on redis/.test(victim.log()), 'the first worker to start');
    const producer = runCliAsync(['generate', ...flags, '--out-dir', queued, '--queue', redis!.url]);
    // Kill the first worker as soon as it holds a job (loading the CT in its thread: mid-job).
    await until(() => /generate-shard \S+ started/.test(victim.log()), 'a job on the first worker');
    const killedJob = /generate-shard (\S+) started/.exec(victim.log())![1];
    victim.child.kill('SIGKILL');
    startWorker(redis!.url);
    startWorker(redis!.url);
    const result = await producer;
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(victim.log(), new RegExp(`${killedJob} done`));
    assert.ok(workers.slice(1).some((worker) => worker.log().includes(`${killedJob} done`)), 'the killed job was retried on another worker');

    const [a, b] = [loadDataset(local), loadDataset(queued)];
    assert.equal(b.records.length, 36);
    assert.deepEqual(b.records.map((record) => record.id), Array.from({ length: 36 }, (_, id) => id));
    assert.ok(readFileSync(path.join(local, 'manifest.jsonl')).equals(readFileSync(path.join(queued, 'manifest.jsonl'))));
    const shards = readdirSync(local).filter((name) => name.endsWith('.npy')).sort();
    assert.deepEqual(readdirSync(queued).filter((name) => name.endsWith('.npy')).sort(), shards);
    for (const name of shards) assert.ok(readFileSync(path.join(local, name)).equals(readFileSync(path.join(queued, name))), name);
    assert.deepEqual(readdirSync(queued).filter((name) => name.startsWith('.')), []);
    assert.deepEqual(a.sampleShape, [24, 20]);
  });

  test('a CT the workers cannot read fails the producer with the worker\'s message, not a hang', async () => {
    if (workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null).length === 0) startWorker(redis!.url);
    const broken = path.join(scratch, 'broken.nii.gz');
    writeFileSync(broken, 'this is not a CT');
    const result = await runCliAsync(['generate', '--ct', broken, '--count', '4', '--shard-size', '2', '--height', '8', '--delx', '10', '--out-dir', path.join(scratch, 'broken'), '--queue', redis!.url]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^drrkit: shard shard-0000\d\.npy failed on a worker: .*broken\.nii\.gz.*\(worker .* pid \d+\)$/m);
    assert.match(result.stderr, /^queued 2 shard job\(s\) on redis:/);
  });

  test('evaluate --queue gives the summary and runs of evaluate without the queue (times aside)', async () => {
    const flags = ['evaluate', '--ct', phantom, '--runs', '5', '--seed', '7', '--strategy', 'tutorial', '--height', '16', '--delx', '10',
      '--rotation-range', '8,8,8', '--translation-range', '-6,6'];
    const plain = path.join(scratch, 'evaluate-plain'), queued = path.join(scratch, 'evaluate-queued');
    const [first, second] = await Promise.all([
      runCliAsync([...flags, '--out-dir', plain]),
      runCliAsync([...flags, '--out-dir', queued, '--queue', redis!.url, '--block-size', '2']),
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(second.status, 0, second.stderr);
    const withoutTimes = (file: string) => {
      const summary = JSON.parse(readFileSync(file, 'utf8'));
      delete summary.median.seconds;
      delete summary.percentile95.seconds;
      return summary;
    };
    assert.deepEqual(withoutTimes(path.join(queued, 'summary.json')), withoutTimes(path.join(plain, 'summary.json')));
    const rows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((line) => {
      const cells = line.split(',');
      cells.splice(21, 1); // seconds
      return cells.join(',');
    });
    assert.deepEqual(rows(path.join(queued, 'runs.csv')), rows(path.join(plain, 'runs.csv')));
    assert.equal(rows(path.join(plain, 'runs.csv')).length, 6);
  });
});
