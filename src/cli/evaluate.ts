import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import path from 'node:path';
import { createDetector } from '../geometry/detector.js';
import { writeFileAtomic } from '../io/files.js';
import { loadVolume } from '../io/load-volume.js';
import { evaluateRegistration, evaluationCsv, type EvaluationRun, type EvaluationSummary, type StrategyName } from '../registration/evaluate.js';
import type { SimilarityName } from '../metrics/index.js';
import { encodeRasterPng } from '../viz/encode.js';
import { plotLines } from '../viz/plot.js';
import { DRR } from '../drr.js';
import { viewPose } from '../geometry/views.js';
import { convertRotation } from '../geometry/rotation.js';
import type { PoseParameters } from '../geometry/pose.js';
import { addDetectorOptions, addGeometryOptions, detectorOptionsFrom, geometryOptionsFrom, parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { TUTORIAL_ROTATION } from './pose-options.js';

/** Success rate against initial mTRE: per-bin rates and the cumulative rate up to each bin. */
function captureRangePlot(summary: EvaluationSummary): Uint8Array {
  const bins = summary.captureRange;
  let runs = 0, successes = 0;
  const cumulative = bins.map((bin) => { runs += bin.runs; successes += bin.successes; return { x: bin.initialMTREmm + 1, y: (100 * successes) / runs }; });
  return encodeRasterPng(plotLines({
    title: `capture range (${summary.strategy}): success (mTRE < 2 mm) vs initial mTRE`,
    xLabel: 'initial mTRE (mm, 1 mm bins)',
    yLabel: 'success (%)',
    series: [
      { name: 'per bin', values: bins.map((bin) => ({ x: bin.initialMTREmm + 0.5, y: (100 * bin.successes) / bin.runs })) },
      { name: 'all starts up to this mTRE', values: cumulative },
    ],
    yRange: [0, 105],
    width: 900,
    height: 500,
  }));
}

/** One line per figure of the summary. */
export function formatSummary(summary: EvaluationSummary): string {
  const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
  return [
    `${summary.strategy}: ${summary.runs} runs — success (mTRE < 1 / 2 / 10 mm): ${percent(summary.successRate.below1mm)} / ${percent(summary.successRate.below2mm)} / ${percent(summary.successRate.below10mm)}`,
    `  median: mTRE ${summary.median.mTRE.toFixed(3)} mm, rotation ${summary.median.rotationDegrees.toFixed(3)}°, translation ${summary.median.translationMm.toFixed(3)} mm, mPD ${summary.median.mPD.toFixed(3)} mm, ${summary.median.seconds.toFixed(2)} s, ${summary.median.iterations} iterations`,
    `  95th percentile: mTRE ${summary.percentile95.mTRE.toFixed(3)} mm, rotation ${summary.percentile95.rotationDegrees.toFixed(3)}°, translation ${summary.percentile95.translationMm.toFixed(3)} mm, ${summary.percentile95.seconds.toFixed(2)} s`,
    `  verdicts: ${summary.verdicts.reportedConverged} of ${summary.runs} reported converged, ${summary.verdicts.convergedButWrong} of them wrong (mTRE ≥ 2 mm); ${summary.verdicts.failedButRight} reported failed were right`,
  ].join('\n');
}

/** `drrkit evaluate`: N registrations from random starts around a known pose, with honest error statistics. */
export function evaluateCommand(): Command {
  const command = new Command('evaluate')
    .description('measure registration accuracy: N registrations from random starts around a known true pose')
    .option('--ct <file|example>', 'CT volume: a NIfTI file (.nii, .nii.gz) or "example"', 'example');
  addDetectorOptions(command, { sdr: '300', height: '100', delx: '8' });
  addGeometryOptions(command)
    .option('--runs <n>', 'number of registrations', '20')
    .option('--seed <n>', 'seed of the random starts (NumPy-compatible)', '0')
    .addOption(new Option('--strategy <name>', 'robust (search + coarse-to-fine) or tutorial (the tutorial\'s Adam loop)').choices(['robust', 'tutorial']).default('robust'))
    .option('--true-rotation <a,b,c>', 'true pose, ZYX Euler radians (default the tutorial\'s π,0,π/2 in seed geometry; --view in world geometry)')
    .option('--true-translation <x,y,z>', 'true translation, mm (default the volume centre in seed geometry; --view\'s in world geometry)')
    .option('--search-step <degrees>', 'robust: spacing of the rotation search grid', '15')
    .option('--accept-ncc <score>', 'robust: the final similarity a run needs to be reported converged (default 0.995 for ncc; none for the others)')
    .option('--refine-candidates <n>', 'robust: candidates refined to full resolution before a run is reported failed', '3')
    .option('--rotation-range <a,b,c>', 'half-widths of the random rotation offsets, degrees', '45,60,60')
    .option('--translation-range <low,high>', 'range of the random translation offsets, mm', '-30,31')
    .addOption(new Option('--similarity <name>', 'robust strategy: similarity to maximise (gradient_ncc tolerates contrast mismatch, e.g. real X-rays)').choices(['ncc', 'local_ncc', 'multiscale_ncc', 'gradient_ncc', 'mi']).default('ncc'))
    .addOption(new Option('--target-renderer <name>', 'model mismatch: renderer of the target').choices(['siddon', 'trilinear']))
    .option('--target-oversampling <k>', 'model mismatch: render the target on a k× finer detector, then bin')
    .addOption(new Option('--target-intensity <model>', 'model mismatch: beer-lambert renders μ from HU as I₀·exp(−∫μ) (with --target-photons noise), then −log').choices(['line-integral', 'beer-lambert']))
    .option('--target-photons <n>', 'model mismatch: incident photons per pixel for Beer–Lambert noise')
    .option('--out-dir <dir>', 'where to write summary.json, runs.csv and capture-range.png', 'output/evaluate')
    .action(async (options: RawOptions) => {
      const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
      createDetector(detectorOptionsFrom(options));
      const geometry = geometryOptionsFrom(options);
      const detector = geometry.drrOptions;
      const runs = parseInteger(text('runs') ?? '20', '--runs');
      const seed = parseInteger(text('seed') ?? '0', '--seed');
      const strategy = (text('strategy') ?? 'robust') as StrategyName;
      const rotationRange = parseNumberList(text('rotationRange') ?? '45,60,60', '--rotation-range', 3) as [number, number, number];
      const translationRange = parseNumberList(text('translationRange') ?? '-30,31', '--translation-range', 2) as [number, number];
      const targetModel = text('targetRenderer') || text('targetOversampling') || text('targetIntensity') || text('targetPhotons')
        ? {
            renderer: (text('targetRenderer') ?? 'siddon') as 'siddon' | 'trilinear',
            oversampling: text('targetOversampling') ? parseInteger(text('targetOversampling')!, '--target-oversampling') : 1,
            intensity: (text('targetIntensity') ?? 'line-integral') as 'line-integral' | 'beer-lambert',
            photons: text('targetPhotons') ? parseNumberList(text('targetPhotons')!, '--target-photons', 1)[0] : undefined,
            seed,
          }
        : undefined;
      const similarity = (text('similarity') ?? 'ncc') as SimilarityName;
      const volume = await loadVolume(String(options.ct));
      let defaultTruth: PoseParameters;
      if (geometry.world) {
        const probe = new DRR(volume, { ...detector, threads: 1 });
        const orientation = (probe.camera.detector as { orientation: 'AP' | 'PA' | 'none' }).orientation;
        const pose = viewPose(geometry.view, orientation, geometry.sod ?? (probe.camera.detector as { sdd: number }).sdd / 2, probe.center);
        defaultTruth = { rotation: convertRotation(pose.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX'), translation: pose.translation, parameterization: 'euler_angles', convention: 'ZYX' };
      } else {
        const centre = [0, 1, 2].map((axis) => (volume.shape[axis] * volume.spacing[axis]) / 2);
        defaultTruth = { rotation: Float64Array.from(TUTORIAL_ROTATION), translation: Float64Array.from(centre), parameterization: 'euler_angles', convention: 'ZYX' };
      }
      const truth = {
        rotation: Float64Array.from(text('trueRotation') ? parseNumberList(text('trueRotation')!, '--true-rotation', 3) : defaultTruth.rotation),
        translation: Float64Array.from(text('trueTranslation') ? parseNumberList(text('trueTranslation')!, '--true-translation', 3) : defaultTruth.translation),
        parameterization: 'euler_angles' as const,
        convention: 'ZYX' as const,
      };
      const robust = {
        similarity,
        searchStepDegrees: parseNumber(text('searchStep') ?? '15', '--search-step'),
        acceptScore: text('acceptNcc') !== undefined ? parseNumber(text('acceptNcc')!, '--accept-ncc') : undefined,
        refineCandidates: parseInteger(text('refineCandidates') ?? '3', '--refine-candidates'),
      };
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar({ format: `evaluate ${strategy} {bar} {value}/{total} | success {success} | median {median} s`, stream: process.stderr }, cliProgress.Presets.shades_classic)
        : undefined;
      bar?.start(runs, 0, { success: '-', median: '-' });
      const finished: EvaluationRun[] = [];
      const { runs: results, summary } = evaluateRegistration({
        volume, detector, truth, runs, seed, strategy, rotationRangeDegrees: rotationRange, translationRangeMm: translationRange,
        targetModel, robust,
        onRun: (run) => {
          finished.push(run);
          const successes = finished.filter((entry) => entry.error.mTRE < 2).length;
          const times = finished.map((entry) => entry.seconds).sort((a, b) => a - b);
          bar?.update(finished.length, { success: `${successes}/${finished.length}`, median: times[Math.floor(times.length / 2)].toFixed(2) });
        },
      });
      bar?.stop();
      const outDirectory = String(options.outDir);
      const details = { ct: volume.source, geometry: geometry.world ? 'world' : 'seed', view: geometry.world ? geometry.view : undefined, similarity, targetModel, seed, detector, robust, rotationRangeDegrees: rotationRange, translationRangeMm: translationRange, trueRotation: Array.from(truth.rotation), trueTranslation: Array.from(truth.translation) };
      await writeFileAtomic(path.join(outDirectory, 'summary.json'), new TextEncoder().encode(`${JSON.stringify({ ...summary, ...details }, null, 2)}\n`));
      await writeFileAtomic(path.join(outDirectory, 'runs.csv'), new TextEncoder().encode(evaluationCsv(results)));
      await writeFileAtomic(path.join(outDirectory, 'capture-range.png'), captureRangePlot(summary));
      process.stdout.write(`${formatSummary(summary)}\nwrote summary.json, runs.csv and capture-range.png to ${outDirectory}/\n`);
    });
  return command;
}
