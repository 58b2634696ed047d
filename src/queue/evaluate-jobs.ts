/**
 * `drrkit evaluate --queue`: an evaluation split into blocks of runs, one job each. Every block
 * draws the same starts as the whole evaluation (`only` in evaluateRegistration), so the merged
 * runs — in run order — are those of a run without the queue, and so is their summary (times aside).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { AnyDRROptions } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { summarizeEvaluation, type EvaluationOptions, type EvaluationRun, type EvaluationSummary } from '../registration/evaluate.js';
import { runOnQueue, type QueuedJob } from './producer.js';

/** An 'evaluate-block' job: the evaluation's settings (no volume: the worker reads `ct`) and its block of runs. */
export interface EvaluateBlockJob {
  ct: string;
  first: number;
  count: number;
  runs: number;
  seed: number;
  strategy: NonNullable<EvaluationOptions['strategy']>;
  detector: AnyDRROptions | undefined;
  truth: { rotation: number[]; translation: number[]; parameterization: string; convention?: string } | undefined;
  rotationRangeDegrees: [number, number, number] | undefined;
  translationRangeMm: [number, number] | undefined;
  targetModel: EvaluationOptions['targetModel'];
  robust: EvaluationOptions['robust'];
}

/** The evaluation options of a job (everything but the volume), with `threads` render threads. */
export function evaluationOptionsFromJob(job: EvaluateBlockJob, threads: number | undefined): Omit<EvaluationOptions, 'volume'> {
  const truth = job.truth === undefined ? undefined : {
    rotation: Float64Array.from(job.truth.rotation),
    translation: Float64Array.from(job.truth.translation),
    parameterization: job.truth.parameterization as 'euler_angles',
    convention: job.truth.convention as 'ZYX' | undefined,
  };
  const detector = job.detector === undefined ? undefined : ({ ...job.detector, threads } as AnyDRROptions);
  return {
    detector, truth, runs: job.runs, seed: job.seed, strategy: job.strategy, rotationRangeDegrees: job.rotationRangeDegrees,
    translationRangeMm: job.translationRangeMm, targetModel: job.targetModel, robust: job.robust,
  };
}

/**
 * Runs an evaluation on the queue at `url` in blocks of `blockSize` runs; `ct` is the CT's path
 * (made absolute: every worker must see it) or 'example'.
 */
export async function evaluateOnQueue(
  url: string,
  ct: string,
  options: Omit<EvaluationOptions, 'volume' | 'onRun' | 'only' | 'target' | 'targetPoints'>,
  settings: { blockSize: number; onRun?: (run: EvaluationRun) => void },
): Promise<{ runs: EvaluationRun[]; summary: EvaluationSummary }> {
  const total = options.runs ?? 20;
  if (!Number.isInteger(total) || total < 1) throw new DrrkitError(`runs must be a whole number ≥ 1, got ${total}`, 'runs');
  if (!Number.isInteger(settings.blockSize) || settings.blockSize < 1) throw new DrrkitError(`--block-size: expected a whole number ≥ 1, got ${settings.blockSize}`, '--block-size');
  const location = ct === 'example' ? ct : path.resolve(ct);
  const { threads: _threads, ...detector } = (options.detector ?? {}) as AnyDRROptions & { threads?: number };
  void _threads;
  const truth = options.truth === undefined ? undefined : {
    rotation: Array.from(options.truth.rotation), translation: Array.from(options.truth.translation),
    parameterization: options.truth.parameterization, convention: options.truth.convention,
  };
  const run = randomUUID();
  const jobs: QueuedJob[] = [];
  for (let first = 0; first < total; first += settings.blockSize) {
    const count = Math.min(settings.blockSize, total - first);
    const data: EvaluateBlockJob = {
      ct: location, first, count, runs: total, seed: options.seed ?? 0, strategy: options.strategy ?? 'robust',
      detector: options.detector === undefined ? undefined : (detector as AnyDRROptions), truth,
      rotationRangeDegrees: options.rotationRangeDegrees, translationRangeMm: options.translationRangeMm,
      targetModel: options.targetModel, robust: options.robust,
    };
    jobs.push({ id: `evaluate-${run}-${first}`, name: 'evaluate-block', data, label: `evaluation runs ${first}…${first + count - 1}` });
  }
  const results: EvaluationRun[] = [];
  await runOnQueue(url, jobs, {
    onResult: (_index, value) => {
      const block = value as EvaluationRun[];
      for (const entry of block) {
        results.push(entry);
        settings.onRun?.(entry);
      }
    },
  });
  results.sort((a, b) => a.index - b.index);
  if (results.length !== total || results.some((entry, index) => entry.index !== index)) {
    throw new DrrkitError(`the queue returned ${results.length} of ${total} runs`, '--queue');
  }
  return { runs: results, summary: summarizeEvaluation(options.strategy ?? 'robust', results) };
}
