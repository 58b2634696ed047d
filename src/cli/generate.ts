import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DrrkitError } from '../errors.js';
import {
  checkDatasetSpec, finishedShard, readDatasetSpec, renderShard, shardCount, shardName, shardRange, specDifferences, writeDatasetSpec,
  writeManifest, writePart, type DatasetSpec, type ManifestRecord,
} from '../dataset/dataset.js';
import { checkPoseDistribution, type PoseDistribution, type TranslationRanges } from '../dataset/pose-distribution.js';
import { writeFileAtomic } from '../io/files.js';
import { parseQueueUrl } from '../queue/connection.js';
import { runOnQueue, type QueuedJob } from '../queue/producer.js';
import { createDatasetRenderer } from './dataset-renderer.js';
import { parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { addRenderFlags, flag, planRender, renderFlagsOf } from './render-setup.js';

/** Parses angles: a comma list ("-30,0,30") or an inclusive range "from:to:step" ("-30:30:15"). */
export function parseAngleList(text: string, flagName: string): number[] {
  if (!text.includes(':')) return parseNumberList(text, flagName);
  const parts = text.split(':');
  if (parts.length !== 3) throw new DrrkitError(`${flagName}: expected from:to:step or a comma-separated list, got "${text}"`, flagName);
  const [from, to, step] = parts.map((part) => parseNumber(part, flagName));
  if (!(step > 0) || to < from) throw new DrrkitError(`${flagName}: "${text}" needs from ≤ to and a step > 0`, flagName);
  const count = Math.floor((to - from) / step + 1e-9) + 1;
  if (count > 100000) throw new DrrkitError(`${flagName}: "${text}" gives ${count} angles; at most 100000`, flagName);
  return Array.from({ length: count }, (_, index) => from + index * step);
}

/** Parses --translation-range: "low,high" for every axis, or six numbers xl,xh,yl,yh,zl,zh. */
export function parseTranslationRanges(text: string): TranslationRanges {
  const values = parseNumberList(text, '--translation-range');
  if (values.length === 2) return [[values[0], values[1]], [values[0], values[1]], [values[0], values[1]]];
  if (values.length === 6) return [[values[0], values[1]], [values[2], values[3]], [values[4], values[5]]];
  throw new DrrkitError(`--translation-range: expected low,high or six numbers (x, y, z ranges), got ${values.length} numbers`, '--translation-range');
}

/** A low,high range flag (one number: low = high). */
function parseRange(text: string, flagName: string): [number, number] {
  const values = parseNumberList(text, flagName);
  if (values.length === 1) return [values[0], values[0]];
  if (values.length === 2) return [values[0], values[1]];
  throw new DrrkitError(`${flagName}: expected low,high (or one number), got ${values.length} numbers`, flagName);
}

/** The pose distribution the flags describe. */
export function poseDistributionFrom(options: RawOptions): PoseDistribution {
  const kind = String(options.poses ?? 'box');
  const translationDefault = kind === 'box' ? '-30,31' : '0,0';
  const translationRangeMm = parseTranslationRanges(flag(options, 'translationRange') ?? translationDefault);
  let distribution: PoseDistribution;
  if (kind === 'box') {
    distribution = { kind, rotationRangeDegrees: parseNumberList(flag(options, 'rotationRange') ?? '45,60,60', '--rotation-range', 3) as [number, number, number], translationRangeMm };
  } else if (kind === 'cone') {
    distribution = {
      kind, coneAngleDegrees: parseNumber(flag(options, 'coneAngle') ?? '30', '--cone-angle'),
      rollRangeDegrees: parseNumber(flag(options, 'rollRange') ?? '0', '--roll-range'), translationRangeMm,
    };
  } else if (kind === 'carm') {
    if (options.geometry !== 'world' && flag(options, 'xrayDicom') === undefined) throw new DrrkitError('--poses carm needs --geometry world (a pinhole C-arm)', '--poses');
    const sdd = flag(options, 'sdd') !== undefined ? parseNumber(flag(options, 'sdd')!, '--sdd') : 2 * parseNumber(flag(options, 'sdr') ?? '300', '--sdr');
    const sod = flag(options, 'sod') !== undefined ? parseNumber(flag(options, 'sod')!, '--sod') : sdd / 2;
    distribution = {
      kind,
      primaryDegrees: parseAngleList(flag(options, 'primaryAngles') ?? '0', '--primary-angles'),
      secondaryDegrees: parseAngleList(flag(options, 'secondaryAngles') ?? '0', '--secondary-angles'),
      angleJitterDegrees: parseNumber(flag(options, 'angleJitter') ?? '0', '--angle-jitter'),
      sddRangeMm: flag(options, 'sddRange') !== undefined ? parseRange(flag(options, 'sddRange')!, '--sdd-range') : null,
      sodRangeMm: flag(options, 'sodRange') !== undefined ? parseRange(flag(options, 'sodRange')!, '--sod-range') : [sod, sod],
      translationRangeMm,
    };
  } else {
    throw new DrrkitError(`--poses: unknown distribution "${kind}"; use box, cone or carm`, '--poses');
  }
  checkPoseDistribution(distribution);
  return distribution;
}

/** The render flags of a dataset, with file paths made absolute (workers elsewhere must find them). */
function absoluteRenderFlags(options: RawOptions): Record<string, string | boolean> {
  const flags = renderFlagsOf(options) as Record<string, string | boolean>;
  for (const key of ['ct', 'labels', 'xrayDicom']) {
    const value = flags[key];
    if (typeof value === 'string' && !(key === 'ct' && value === 'example')) flags[key] = path.resolve(value);
  }
  return flags;
}

/** A progress bar on a terminal (nothing in a pipe) showing samples, samples/s and ETA. */
function progressBar(total: number, already: number): { update(done: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: 'generate {bar} {value}/{total} samples | {rate} samples/s | ETA {eta_formatted}', stream: process.stderr, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(total, already, { rate: '-' });
  return {
    update(done: number): void {
      const seconds = (performance.now() - started) / 1000;
      bar.update(Math.min(total, done), { rate: seconds > 0 ? ((done - already) / seconds).toFixed(1) : '-' });
    },
    stop: () => bar.stop(),
  };
}

/** Checks that DIR either holds this dataset (with --resume) or no dataset at all. */
async function prepareDirectory(directory: string, spec: DatasetSpec, resume: boolean): Promise<'new' | 'resume' | 'complete'> {
  const existing = await readDatasetSpec(directory);
  if (existing === null) {
    const names = await readdir(directory).catch(() => [] as string[]);
    if (names.some((name) => /^shard-\d+\.npy$/.test(name) || name === 'manifest.jsonl')) {
      throw new DrrkitError(`${directory}: holds shards or a manifest but no dataset.json; choose an empty --out-dir`, directory);
    }
    return 'new';
  }
  if (!resume) throw new DrrkitError(`${directory}: already holds a dataset (dataset.json); add --resume to finish it, or choose another --out-dir`, directory);
  const differences = specDifferences(existing, spec);
  if (differences.length > 0) throw new DrrkitError(`${directory}: --resume with other settings than the dataset there (${differences.join(', ')})`, directory);
  try {
    const lines = (await readFile(path.join(directory, 'manifest.jsonl'), 'utf8')).split('\n').filter((line) => line.length > 0);
    if (lines.length === spec.count) return 'complete';
  } catch {
    // no manifest yet
  }
  return 'resume';
}

/** `drrkit generate`: a dataset of DRRs at random poses, as float32 .npy shards and a JSON-lines manifest. */
export function generateCommand(): Command {
  const command = new Command('generate').description('generate a dataset of DRRs at random poses: float32 .npy shards and DIR/manifest.jsonl');
  addRenderFlags(command)
    .requiredOption('--out-dir <dir>', 'output folder (with --queue: a path every worker sees, e.g. a shared file system)')
    .requiredOption('--count <n>', 'number of samples')
    .option('--shard-size <k>', 'samples per .npy shard (and per queue job)', '128')
    .option('--seed <n>', 'seed: sample i depends only on (seed, i), however the work is split', '0')
    .addOption(new Option('--poses <distribution>', 'box: the tutorial\'s box around the pose; cone: beam directions within a cone around the pose\'s beam; carm: LAO/RAO × CRA/CAU grid (world geometry)').choices(['box', 'cone', 'carm']).default('box'))
    .option('--rotation-range <a,b,c>', 'box: half-widths of the ZYX Euler angle offsets, degrees (default the tutorial\'s 45,60,60)')
    .option('--translation-range <ranges>', 'translation offsets, mm: low,high for every axis or xl,xh,yl,yh,zl,zh (default -30,31 for box, 0,0 otherwise; box: added to the pose translation, cone/carm: a shift of the whole C-arm in world mm)')
    .option('--cone-angle <degrees>', 'cone: half-angle of the cone of beam directions (default 30)')
    .option('--roll-range <degrees>', 'cone: half-width of the in-plane roll (default 0)')
    .option('--primary-angles <list>', 'carm: primary angles, degrees, LAO + / RAO −: a list (-30,0,30) or from:to:step (default 0)')
    .option('--secondary-angles <list>', 'carm: secondary angles, degrees, CRA + / CAU −: a list or from:to:step (default 0)')
    .option('--angle-jitter <degrees>', 'carm: half-width of a uniform jitter of both angles (default 0)')
    .option('--sdd-range <low,high>', 'carm: source-to-detector distance range, mm (default --sdd)')
    .option('--sod-range <low,high>', 'carm: source-to-isocentre distance range, mm (default --sod)')
    .option('--resume', 'finish the dataset in --out-dir (same flags): keeps its finished shards', false)
    .option('--queue <url>', 'render on workers (drrkit worker) through Redis: redis://host:port/db')
    .option('--threads <n>', 'render threads (default: every core; without --queue only)')
    .action(async (options: RawOptions) => {
      const directory = path.resolve(String(options.outDir));
      const spec: DatasetSpec = {
        format: 'drrkit-dataset',
        version: 1,
        count: parseInteger(String(options.count), '--count'),
        shardSize: parseInteger(String(options.shardSize ?? '128'), '--shard-size'),
        seed: parseInteger(String(options.seed ?? '0'), '--seed'),
        poses: poseDistributionFrom(options),
        render: absoluteRenderFlags(options),
      };
      checkDatasetSpec(spec);
      const queue = flag(options, 'queue');
      if (queue !== undefined) parseQueueUrl(queue);
      const threads = flag(options, 'threads') !== undefined ? parseInteger(flag(options, 'threads')!, '--threads') : undefined;
      if (queue !== undefined && threads !== undefined) throw new DrrkitError('--threads: with --queue each worker chooses its threads (drrkit worker --threads)', '--threads');
      await planRender({ ...spec.render }); // the detector and flags, checked before anything is written
      const state = await prepareDirectory(directory, spec, options.resume === true);
      if (state === 'complete') {
        process.stdout.write(`${directory}: the dataset is already complete (${spec.count} samples)\n`);
        return;
      }
      if (state === 'new') await writeDatasetSpec(directory, spec);

      const shards = shardCount(spec);
      const remaining: number[] = [];
      let already = 0;
      for (let index = 0; index < shards; index++) {
        if ((await finishedShard(directory, spec, index)) === null) remaining.push(index);
        else already += shardRange(spec, index).count;
      }
      const started = performance.now();
      const bar = progressBar(spec.count, already);
      let finished = already;
      try {
        if (queue === undefined) {
          const renderer = await createDatasetRenderer(spec, threads);
          try {
            for (const index of remaining) {
              const { bytes, records } = await renderShard(spec, renderer, index, (done) => bar.update(finished + done));
              await writeFileAtomic(path.join(directory, shardName(index)), bytes);
              await writePart(directory, index, records);
              finished += records.length;
            }
          } finally {
            renderer.setup.dispose();
          }
        } else {
          const key = createHash('sha256').update(`${directory}\n${JSON.stringify(spec)}`).digest('hex').slice(0, 16);
          const jobs: QueuedJob[] = remaining.map((index) => ({
            id: `generate-${key}-${index}`,
            name: 'generate-shard',
            data: { directory, spec, shard: index },
            label: `shard ${shardName(index)}`,
          }));
          process.stderr.write(`queued ${jobs.length} shard job(s) on ${queue}; waiting for drrkit worker(s)\n`);
          await runOnQueue(queue, jobs, {
            onResult: async (jobIndex, value) => {
              const index = remaining[jobIndex];
              const records = value as ManifestRecord[];
              const range = shardRange(spec, index);
              if (!Array.isArray(records) || records.length !== range.count || records.some((record, offset) => record.id !== range.first + offset)) {
                throw new DrrkitError(`shard ${shardName(index)}: a worker returned ${Array.isArray(records) ? records.length : 'no'} records for ${range.count} samples`, '--queue');
              }
              await writePart(directory, index, records);
              finished += records.length;
            },
            onProgress: (running) => bar.update(finished + running),
          });
        }
      } finally {
        bar.stop();
      }
      const written = await writeManifest(directory, spec);
      const seconds = (performance.now() - started) / 1000;
      const made = spec.count - already;
      process.stdout.write(
        `wrote ${written} samples in ${shards} shard(s) and manifest.jsonl to ${directory}/` +
          ` (${made} rendered in ${seconds.toFixed(1)} s, ${(made / Math.max(seconds, 1e-9)).toFixed(1)} samples/s${already > 0 ? `; ${already} kept from before` : ''})\n`,
      );
    });
  return command;
}
