/**
 * What a registration run leaves behind for a person: the numbers (result.json,
 * trajectory.csv), the images (target, final DRR, side-by-side with overlay and difference),
 * a plot of the loss and the six pose parameters, and an animation of the run (GIF and WebP).
 */
import path from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DrrkitError } from '../errors.js';
import { requireFiniteValues } from '../validation.js';
import { convertRotation, type EulerConvention, type Parameterization } from '../geometry/rotation.js';
import type { PoseParameters } from '../geometry/pose.js';
import { writeFileAtomic } from '../io/files.js';
import { encodeFloatTiff, encodePng, type Image2D } from '../io/image.js';
import { comparisonFrame, encodeAnimatedWebp, encodeGif, registrationFrame } from '../viz/animation.js';
import { sideBySide } from '../viz/compose.js';
import { encodeRasterPng } from '../viz/encode.js';
import { plotRegistrationTrajectory, type PoseTrajectory, type PoseValues } from '../viz/plot.js';
import type { Raster } from '../viz/raster.js';
import { overlayImages, differenceRaster, sharedWindow } from '../viz/compose.js';
import { register, registerAsync, type IterationRecord, type RegisterOptions, type RegistrationResult } from './register.js';
import type { AsyncDifferentiableRenderer, AsyncRegistration, Registration } from './registration.js';

/** WebP settings for animations: lossy, fast (a run's animation encodes in about a second). */
const ANIMATION_WEBP = { delayMs: 60, loop: true, quality: 80, method: 1 } as const;

/** A finished run with the DRR of every iteration (for the animation). */
export interface RecordedRun {
  /** Run name, e.g. "SGD + momentum". */
  label: string;
  /** The loop's result. */
  result: RegistrationResult;
  /** Number of iterations with an image (the trajectory's length). */
  frameCount: number;
  /** The moving DRR at iteration `index` (kept from the run, or rendered again at its recorded pose). */
  imageAt(index: number): Float32Array;
  /** The DRR at the final pose. */
  finalImage: Float32Array;
}

/** How the run's parameters are to be read and named. */
export interface ParameterNaming {
  parameterization: Parameterization;
  convention: EulerConvention;
  /** Write angles (Euler, axis-angle, se3_log_map rotation numbers) in degrees instead of radians (the CLI's --degrees); default: the output settings, else false. */
  degrees?: boolean;
}

/** Animation formats {@link writeRunOutputs} can write. */
export type AnimationFormat = 'gif' | 'webp';

/** Output settings a command applies to every run it writes (see {@link withOutputSettings}). */
export interface OutputSettings {
  /** Animations to write (default both; [] for none: saves most of the writing time). */
  animation?: readonly AnimationFormat[];
  /** Angles in degrees (the CLI's --degrees). */
  degrees?: boolean;
}

/** The settings in force for the current command. */
const outputSettings = new AsyncLocalStorage<OutputSettings>();

/** Runs `body` with `settings` applied to every {@link writeRunOutputs} / {@link writeComparisonOutputs} inside it. */
export function withOutputSettings<T>(settings: OutputSettings, body: () => Promise<T>): Promise<T> {
  return outputSettings.run(settings, body);
}

/** Parses "gif,webp", "gif", "none" (or false from --no-animation) into formats; throws a DrrkitError naming --animation. */
export function parseAnimationFormats(value: unknown): AnimationFormat[] {
  if (value === false || value === 'none' || value === '') return [];
  const names = String(value ?? 'gif,webp').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  for (const name of names) if (name !== 'gif' && name !== 'webp' && name !== 'none') throw new DrrkitError(`--animation: unknown format "${name.slice(0, 20)}"; use gif, webp, both as gif,webp, or none`, '--animation');
  return [...new Set(names.filter((name): name is AnimationFormat => name === 'gif' || name === 'webp'))];
}

/** True when the naming asks for degrees and the parameterization's numbers are angles. */
function inDegrees(naming: ParameterNaming): boolean {
  const degrees = naming.degrees ?? outputSettings.getStore()?.degrees ?? false;
  return degrees && (naming.parameterization === 'euler_angles' || naming.parameterization === 'axis_angle' || naming.parameterization === 'se3_log_map');
}

/** Rotation numbers in the naming's unit (radians → degrees when asked). */
function rotationOut(values: ArrayLike<number>, naming: ParameterNaming): number[] {
  const scale = inDegrees(naming) ? 180 / Math.PI : 1;
  return Array.from(values, (value) => value * scale);
}

/** Column names of the rotation parameters: alpha, beta, gamma for Euler angles, else rotation_0…. */
export function rotationParameterNames(naming: ParameterNaming, count: number): string[] {
  if (naming.parameterization === 'euler_angles') return ['alpha', 'beta', 'gamma'];
  return Array.from({ length: count }, (_, index) => `rotation_${index}`);
}

/** The trajectory as CSV: iteration, rotation parameters, bx, by, bz, loss, seconds (the tutorial's DataFrame). */
export function trajectoryCsv(trajectory: readonly IterationRecord[], naming: ParameterNaming): string {
  const rotationNames = rotationParameterNames(naming, trajectory[0]?.rotation.length ?? 3);
  const lines = [['iteration', ...rotationNames, 'bx', 'by', 'bz', 'loss', 'seconds'].join(',')];
  for (const row of trajectory) {
    lines.push([row.iteration, ...rotationOut(row.rotation, naming), ...row.translation, row.loss, row.seconds.toFixed(6)].map(String).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** A run's trajectory as plot columns; rotations are shown as ZYX Euler angles whatever the parameterization. */
export function plotTrajectory(run: RecordedRun, naming: ParameterNaming): PoseTrajectory {
  const rows = run.result.trajectory;
  const euler = rows.map((row) =>
    naming.parameterization === 'euler_angles' && naming.convention === 'ZYX'
      ? row.rotation
      : Array.from(convertRotation(row.rotation, naming.parameterization, 'euler_angles', naming.convention, 'ZYX')),
  );
  const scale = naming.degrees ?? outputSettings.getStore()?.degrees ? 180 / Math.PI : 1;
  return {
    alpha: euler.map((angles) => angles[0] * scale),
    beta: euler.map((angles) => angles[1] * scale),
    gamma: euler.map((angles) => angles[2] * scale),
    bx: rows.map((row) => row.translation[0]),
    by: rows.map((row) => row.translation[1]),
    bz: rows.map((row) => row.translation[2]),
    loss: rows.map((row) => row.loss),
    label: run.label,
  };
}

/** The true pose as plot reference values (ZYX Euler angles and translation). */
export function plotTruth(pose: PoseParameters, degrees = outputSettings.getStore()?.degrees ?? false): PoseValues {
  const scale = degrees ? 180 / Math.PI : 1;
  const euler = pose.parameterization === 'euler_angles' && (pose.convention ?? 'ZYX') === 'ZYX'
    ? pose.rotation
    : convertRotation(pose.rotation, pose.parameterization, 'euler_angles', pose.convention ?? 'ZYX', 'ZYX');
  return { alpha: euler[0] * scale, beta: euler[1] * scale, gamma: euler[2] * scale, bx: pose.translation[0], by: pose.translation[1], bz: pose.translation[2] };
}

/** Indices of at most `limit` frames spread over `count` iterations, always including the last. */
export function frameIndices(count: number, limit: number): number[] {
  if (count <= limit) return Array.from({ length: count }, (_, index) => index);
  const indices = Array.from({ length: limit }, (_, index) => Math.round((index * (count - 1)) / (limit - 1)));
  return [...new Set(indices)];
}

/** Fixed | final DRR | overlay | |difference|, with captions. */
export function finalComparison(fixed: Image2D, final: Image2D): Raster {
  const window = sharedWindow([fixed, final]);
  return sideBySide(
    [fixed, final, overlayImages(fixed, final, { window }), differenceRaster(fixed, final)],
    ['target', 'final DRR', 'overlay: target magenta, DRR green', '|difference|'],
    { window, scale: Math.max(1, Math.round(256 / Math.max(fixed.width, fixed.height))) },
  );
}

/** Options for {@link writeRunOutputs}. */
export interface RunOutputOptions extends ParameterNaming {
  /** The target image. */
  fixed: Image2D;
  /** The true pose, when known (synthetic targets): drawn in the plot and written to result.json. */
  truth?: PoseParameters;
  /** Extra fields for result.json (inputs, settings). */
  details?: Record<string, unknown>;
  /** Most frames in the animation (default 80; long runs are subsampled evenly). */
  maximumFrames?: number;
  /** Whole-number magnification of the images in the animation (default 2). */
  displayScale?: number;
  /** Frame delay in ms (default 60). */
  frameDelayMs?: number;
  /** Animations to write (default: the output settings, else GIF and WebP). */
  animation?: readonly AnimationFormat[];
}

/** Writes result.json, trajectory.csv, target/final images, comparison.png, plot.png and animation.gif/.webp into `directory`. Returns the paths written. */
export async function writeRunOutputs(directory: string, run: RecordedRun, options: RunOutputOptions): Promise<string[]> {
  const { fixed } = options;
  const shape = { height: fixed.height, width: fixed.width };
  const final: Image2D = { data: run.finalImage, ...shape };
  const naming = { parameterization: options.parameterization, convention: options.convention, degrees: options.degrees };
  requireFiniteValues(run.result.rotation, `${run.label}: the final rotation`, 'the registration diverged; try smaller learning rates or another start');
  requireFiniteValues(run.result.translation, `${run.label}: the final translation`, 'the registration diverged; try smaller learning rates or another start');
  requireFiniteValues(run.finalImage, `${run.label}: the final DRR`);
  const animation = options.animation ?? outputSettings.getStore()?.animation ?? ['gif', 'webp'];
  const written: string[] = [];
  const write = async (name: string, bytes: Uint8Array | string) => {
    const file = path.join(directory, name);
    await writeFileAtomic(file, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
    written.push(file);
  };
  const { result } = run;
  await write('result.json', `${JSON.stringify({
    label: run.label,
    converged: result.converged,
    stopReason: result.stopReason,
    iterations: result.iterations,
    finalLoss: result.finalLoss,
    optimizer: result.optimizer,
    parameterization: options.parameterization,
    convention: options.convention,
    rotationNames: rotationParameterNames(naming, result.rotation.length),
    angleUnit: inDegrees(naming) ? 'degrees' : 'radians',
    finalRotation: rotationOut(result.rotation, naming),
    finalTranslation: Array.from(result.translation),
    trueRotation: options.truth ? rotationOut(options.truth.rotation, naming) : undefined,
    trueTranslation: options.truth ? Array.from(options.truth.translation) : undefined,
    seconds: result.seconds,
    iterationsPerSecond: result.iterationsPerSecond,
    ...options.details,
  }, null, 2)}\n`);
  await write('trajectory.csv', trajectoryCsv(result.trajectory, naming));
  await write('target.png', encodePng(fixed));
  await write('target.tif', encodeFloatTiff(fixed));
  await write('final.png', encodePng(final));
  await write('final.tif', encodeFloatTiff(final));
  await write('comparison.png', encodeRasterPng(finalComparison(fixed, final)));
  const degrees = naming.degrees ?? outputSettings.getStore()?.degrees ?? false;
  await write('plot.png', encodeRasterPng(plotRegistrationTrajectory(plotTrajectory(run, naming), {
    title: `${run.label}: NCC and pose parameters per iteration`,
    truth: options.truth ? plotTruth(options.truth, degrees) : undefined,
    rotationUnit: degrees ? '°' : 'rad',
  })));
  if (animation.length === 0) return written;
  const frames = frameIndices(run.frameCount, options.maximumFrames ?? 80).map((index) =>
    registrationFrame({
      fixed,
      moving: { data: run.imageAt(index), ...shape },
      iteration: index,
      loss: result.trajectory[index].loss,
      label: run.label,
      extraPanels: ['overlay'],
      scale: options.displayScale ?? 2,
    }),
  );
  const delayMs = options.frameDelayMs ?? 60;
  if (animation.includes('gif')) await write('animation.gif', encodeGif(frames, { delayMs, loop: true }));
  if (animation.includes('webp')) await write('animation.webp', await encodeAnimatedWebp(frames, ANIMATION_WEBP));
  return written;
}

/** Writes comparison.gif/.webp (all runs side by side, frame by frame) and plot.png (all runs overlaid) into `directory`. */
export async function writeComparisonOutputs(
  directory: string,
  runs: readonly RecordedRun[],
  options: ParameterNaming & { fixed: Image2D; truth?: PoseParameters; maximumFrames?: number; frameDelayMs?: number },
): Promise<string[]> {
  const { fixed } = options;
  const animation = outputSettings.getStore()?.animation ?? ['gif', 'webp'];
  const degrees = options.degrees ?? outputSettings.getStore()?.degrees ?? false;
  const shape = { height: fixed.height, width: fixed.width };
  const longest = Math.max(...runs.map((run) => run.frameCount));
  const frames = animation.length === 0 ? [] : frameIndices(longest, options.maximumFrames ?? 80).map((index) =>
    comparisonFrame(
      runs.map((run) => {
        const at = Math.min(index, run.frameCount - 1);
        return { label: run.label, moving: { data: run.imageAt(at), ...shape }, iteration: at, loss: run.result.trajectory[at].loss };
      }),
      fixed,
      { title: 'target and moving DRRs, one column per optimizer', scale: 2 },
    ),
  );
  const written: string[] = [];
  const write = async (name: string, bytes: Uint8Array) => {
    const file = path.join(directory, name);
    await writeFileAtomic(file, bytes);
    written.push(file);
  };
  const delayMs = options.frameDelayMs ?? 60;
  if (animation.includes('gif')) await write('comparison.gif', encodeGif(frames, { delayMs, loop: true }));
  if (animation.includes('webp')) await write('comparison.webp', await encodeAnimatedWebp(frames, ANIMATION_WEBP));
  await write('plot.png', encodeRasterPng(plotRegistrationTrajectory(runs.map((run) => plotTrajectory(run, options)), {
    title: 'NCC and pose parameters per iteration',
    truth: options.truth ? plotTruth(options.truth, degrees) : undefined,
    rotationUnit: degrees ? '°' : 'rad',
  })));
  return written;
}

/** Runs {@link registerAsync} (WebGPU) and keeps every iteration's DRR and the final DRR for the outputs above. */
export async function registerAndRecordAsync(
  registration: Registration<AsyncDifferentiableRenderer> | AsyncRegistration,
  fixed: ArrayLike<number>,
  options: RegisterOptions,
  label: string,
): Promise<RecordedRun> {
  const images: Float32Array[] = [];
  const result = await registerAsync(registration, fixed, {
    ...options,
    onIteration: (record, evaluation) => {
      images.push(Float32Array.from(evaluation.image));
      return options.onIteration?.(record, evaluation);
    },
  });
  const finalImage = await (registration as AsyncRegistration).renderAsync();
  return { label, result, frameCount: images.length, imageAt: (index) => images[index], finalImage };
}

/** Runs {@link register} and keeps every iteration's DRR and the final DRR for the outputs above. */
export function registerAndRecord(
  registration: Registration,
  fixed: ArrayLike<number>,
  options: RegisterOptions,
  label: string,
): RecordedRun {
  const images: Float32Array[] = [];
  const result = register(registration, fixed, {
    ...options,
    onIteration: (record, evaluation) => {
      images.push(Float32Array.from(evaluation.image));
      return options.onIteration?.(record, evaluation);
    },
  });
  return { label, result, frameCount: images.length, imageAt: (index) => images[index], finalImage: registration.render() };
}
