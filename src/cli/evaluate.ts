import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import path from 'node:path';
import { createDetector } from '../geometry/detector.js';
import { writeFileAtomic } from '../io/files.js';
import { loadVolume } from '../io/load-volume.js';
import { evaluateRegistration, evaluateRegistrationAsync, evaluationCsv, type EvaluationRun, type EvaluationSummary, type StrategyName } from '../registration/evaluate.js';
import type { RobustOptions } from '../registration/strategy.js';
import type { SimilarityName } from '../metrics/index.js';
import type { RendererName } from '../render/renderer.js';
import { encodeRasterPng } from '../viz/encode.js';
import { plotLines } from '../viz/plot.js';
import { DRR } from '../drr.js';
import { viewPose } from '../geometry/views.js';
import { parametersFromPose, type PoseParameters } from '../geometry/pose.js';
import { addDetectorOptions, addGeometryOptions, detectorOptionsFrom, geometryOptionsFrom, parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { TUTORIAL_ROTATION } from './pose-options.js';
import { withAtomicOutputs } from './command-outputs.js';
import { requireBoundedWork } from './validate.js';
import { requireFiniteValues } from '../validation.js';
import { evaluateOnQueue } from '../queue/evaluate-jobs.js';
import { parseQueueUrl } from '../queue/connection.js';
import { DrrkitError } from '../errors.js';
import { WebGPUPoseAnswerer } from '../render/webgpu/webgpu-answerer.js';
import { addBackendOption, openWebGPUDevice } from './backend.js';

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
    .option('--ct <file|folder|example|head|pelvis>', 'CT volume: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM (a file or a folder holding a series), "example" (the built-in chest CT) or a procedural phantom: "head", "pelvis"', 'example');
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
    .option('--candidates <n>', 'robust: search grid points refined on the coarsest level (default 6)')
    .option('--candidate-iterations <n>', 'robust: iterations of each candidate on the coarsest level (default 10)')
    .addOption(new Option('--refine-optimizer <name>', 'robust: optimizer of the coarse-to-fine refinement (default lbfgs)').choices(['adam', 'lbfgs']))
    .option('--search-coarsening <n>', 'robust: the search renders on the coarsest level coarsened this many times more (default 2; 1: on the coarsest level)')
    .addOption(new Option('--coarse-renderer <name>', 'robust: renderer of the coarse pyramid levels (default joseph; same: --renderer\'s); the finest level always uses --renderer').choices(['joseph', 'siddon', 'trilinear', 'same']))
    .option('--refine-pixels <n>', 'robust: pixels rendered per refinement render, a fixed random subset (default 1250; 0: all)')
    .option('--rotation-tolerance <degrees>', 'robust: a level is settled when the rotation moves less than this (default 0.005)…')
    .option('--translation-tolerance <mm>', 'robust: …and the translation less than this (default 0.01)…')
    .option('--patience <n>', 'robust: …for this many iterations (default 5)')
    .option('--rotation-range <a,b,c>', 'half-widths of the random rotation offsets, degrees', '45,60,60')
    .option('--translation-range <low,high>', 'range of the random translation offsets, mm', '-30,31')
    .addOption(new Option('--similarity <name>', 'robust strategy: similarity to maximise (gradient_ncc tolerates contrast mismatch, e.g. real X-rays)').choices(['ncc', 'local_ncc', 'multiscale_ncc', 'gradient_ncc', 'mi']).default('ncc'))
    .addOption(new Option('--target-renderer <name>', 'model mismatch: renderer of the target').choices(['siddon', 'trilinear', 'joseph']))
    .option('--target-oversampling <k>', 'model mismatch: render the target on a k× finer detector, then bin')
    .addOption(new Option('--target-intensity <model>', 'model mismatch: beer-lambert renders μ from HU as I₀·exp(−∫μ) (with --target-photons noise), then −log').choices(['line-integral', 'beer-lambert']))
    .option('--target-photons <n>', 'model mismatch: incident photons per pixel for Beer–Lambert noise')
    .option('--out-dir <dir>', 'where to write summary.json, runs.csv and capture-range.png (all or nothing)', 'output/evaluate')
    .option('--queue <url>', 'run the registrations on workers (drrkit worker) through Redis: redis://host:port/db; the CT must be a path every worker sees')
    .option('--block-size <runs>', 'with --queue: registrations per job', '5')
    .action(withAtomicOutputs(async (options: RawOptions) => {
      const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
      if (text('queue') !== undefined) parseQueueUrl(text('queue')!);
      if (text('queue') !== undefined && text('backend') !== undefined && text('backend') !== 'cpu') {
        throw new DrrkitError('--backend with --queue: the workers choose where they render; run the evaluation here without --queue to use WebGPU', '--backend');
      }
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
            renderer: (text('targetRenderer') ?? 'siddon') as RendererName,
            oversampling: text('targetOversampling') ? parseInteger(text('targetOversampling')!, '--target-oversampling') : 1,
            intensity: (text('targetIntensity') ?? 'line-integral') as 'line-integral' | 'beer-lambert',
            photons: text('targetPhotons') ? parseNumberList(text('targetPhotons')!, '--target-photons', 1)[0] : undefined,
            seed,
          }
        : undefined;
      const similarity = (text('similarity') ?? 'ncc') as SimilarityName;
      const volume = await loadVolume(String(options.ct));
      const seedDetector = detectorOptionsFrom(options);
      requireBoundedWork(volume, seedDetector.height * (seedDetector.width ?? seedDetector.height), seedDetector.sampling, seedDetector.renderer);
      let defaultTruth: PoseParameters;
      if (geometry.world) {
        const probe = new DRR(volume, { ...detector, threads: 1 });
        const orientation = (probe.camera.detector as { orientation: 'AP' | 'PA' | 'none' }).orientation;
        const pose = viewPose(geometry.view, orientation, geometry.sod ?? (probe.camera.detector as { sdd: number }).sdd / 2, probe.center);
        defaultTruth = parametersFromPose(pose, 'euler_angles', 'ZYX');
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
        candidates: text('candidates') !== undefined ? parseInteger(text('candidates')!, '--candidates') : undefined,
        candidateIterations: text('candidateIterations') !== undefined ? parseInteger(text('candidateIterations')!, '--candidate-iterations') : undefined,
        refineOptimizer: text('refineOptimizer') as 'adam' | 'lbfgs' | undefined,
        refinePixels: text('refinePixels') !== undefined ? parseInteger(text('refinePixels')!, '--refine-pixels') : undefined,
        searchCoarsening: text('searchCoarsening') !== undefined ? parseInteger(text('searchCoarsening')!, '--search-coarsening') : undefined,
        coarseRenderer: text('coarseRenderer') as RobustOptions['coarseRenderer'],
        rotationToleranceDegrees: text('rotationTolerance') !== undefined ? parseNumber(text('rotationTolerance')!, '--rotation-tolerance') : undefined,
        translationToleranceMm: text('translationTolerance') !== undefined ? parseNumber(text('translationTolerance')!, '--translation-tolerance') : undefined,
        patience: text('patience') !== undefined ? parseInteger(text('patience')!, '--patience') : undefined,
      };
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar({ format: `evaluate ${strategy} {bar} {value}/{total} | success {success} | median {median} s`, stream: process.stderr }, cliProgress.Presets.shades_classic)
        : undefined;
      bar?.start(runs, 0, { success: '-', median: '-' });
      const finished: EvaluationRun[] = [];
      const evaluation = {
        volume, detector, truth, runs, seed, strategy, rotationRangeDegrees: rotationRange, translationRangeMm: translationRange,
        targetModel, robust,
      };
      const queue = text('queue');
      const device = queue === undefined ? await openWebGPUDevice(text('backend') ?? 'cpu') : null;
      if (device !== null) process.stdout.write(`rendering on WebGPU (${device.description}${device.software ? ', software' : ''})\n`);
      const answerer = device === null ? null : new WebGPUPoseAnswerer(device);
      let outcome: { runs: EvaluationRun[]; summary: EvaluationSummary };
      try {
        outcome = await (queue !== undefined
          ? evaluateOnQueue(queue, String(options.ct), evaluation, { blockSize: parseInteger(text('blockSize') ?? '5', '--block-size'), onRun: (run) => onRun(run) })
          : answerer !== null
            ? evaluateRegistrationAsync({ ...evaluation, onRun: (run) => onRun(run) }, answerer)
            : Promise.resolve(evaluateRegistration({ ...evaluation, onRun: (run) => onRun(run) })));
      } finally {
        await answerer?.destroy();
      }
      const { runs: results, summary } = outcome;
      function onRun(run: EvaluationRun): void {
        finished.push(run);
        const successes = finished.filter((entry) => entry.error.mTRE < 2).length;
        const times = finished.map((entry) => entry.seconds).sort((a, b) => a - b);
        bar?.update(finished.length, { success: `${successes}/${finished.length}`, median: times[Math.floor(times.length / 2)].toFixed(2) });
      }
      bar?.stop();
      requireFiniteValues([summary.median.mTRE, summary.median.rotationDegrees, summary.median.translationMm, summary.percentile95.mTRE], 'evaluate: the summary');
      const outDirectory = String(options.outDir);
      const details = { ct: volume.source, geometry: geometry.world ? 'world' : 'seed', view: geometry.world ? geometry.view : undefined, similarity, targetModel, seed, detector, robust, rotationRangeDegrees: rotationRange, translationRangeMm: translationRange, trueRotation: Array.from(truth.rotation), trueTranslation: Array.from(truth.translation) };
      await writeFileAtomic(path.join(outDirectory, 'summary.json'), new TextEncoder().encode(`${JSON.stringify({ ...summary, ...details }, null, 2)}\n`));
      await writeFileAtomic(path.join(outDirectory, 'runs.csv'), new TextEncoder().encode(evaluationCsv(results)));
      await writeFileAtomic(path.join(outDirectory, 'capture-range.png'), captureRangePlot(summary));
      process.stdout.write(`${formatSummary(summary)}\nwrote summary.json, runs.csv and capture-range.png to ${outDirectory}/\n`);
    }));
  addBackendOption(command);
  return command;
}
