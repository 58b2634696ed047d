/**
 * One validation layer for the CLI's flags. Every number a person types is parsed strictly
 * (decimal notation only: `0x10`, `Infinity`, `1_000` and empty values are refused) and held to a
 * physical range from src/validation.ts before any file is read or any work starts.
 *
 * The rules live in one table, {@link FLAG_RULES}, keyed by commander's attribute name of the
 * flag (`--stop-ncc` → `stopNcc`). A flag has one meaning across commands, so one rule serves
 * every command that has it; the program runs {@link validateFlags} in a `preAction` hook for
 * whichever subcommand runs (src/cli/program.ts), so commands need no validation code of their
 * own. To validate a new flag (a `--backend`, a new command's option), add a rule here:
 *
 * ```ts
 * workers: { flag: '--workers', range: { min: 1, max: 256, integer: true } },
 * similarity: { flag: '--similarity', check: (text) => { ... throw new DrrkitError(...) } },
 * ```
 *
 * A rule checks one number (`range`), a comma-separated list (`count`, `range` for each value,
 * `ordered` for low ≤ high), and/or runs `check` with every option for cross-flag rules
 * (angles under --degrees). Values that commander fills in from defaults are checked too.
 * {@link requireBoundedWork} bounds the work a volume + detector + sampling implies; commands
 * call it once the volume is loaded.
 */
import { DrrkitError } from '../errors.js';
import type { Volume } from '../volume/volume.js';
import { parameterCount, requireRotationMatrix, rotationMatrixFromParameters, type EulerConvention, type Parameterization } from '../geometry/rotation.js';
import { describeRange, inRange, MAXIMUM_DETECTOR_PIXELS, PHYSICAL_RANGES, requireBoundedTrilinearSampling, type Range } from '../validation.js';

/** Raw option values as commander hands them over. */
type Options = Record<string, unknown>;

/** How one flag is checked. */
export interface FlagRule {
  /** The flag as typed, for messages ("--stop-ncc"). */
  readonly flag: string;
  /** Range of the value (of each value for lists). */
  readonly range?: Range;
  /** For lists: how many comma-separated values (a number, or the accepted counts). */
  readonly count?: number | readonly number[];
  /** For lists of low,high pairs: each high must not be below its low ("low,high" or "xlow,xhigh,ylow,yhigh,…"). */
  readonly ordered?: boolean;
  /** Extra check with every option at hand (throws a DrrkitError). */
  readonly check?: (text: string, options: Options) => void;
}

/** Decimal numbers only: sign, digits, optional fraction and exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one number written in decimal notation; NaN for anything else ("0x10", "Infinity", "", "1,5"). */
export function strictNumber(text: string): number {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : NaN;
}

/** Parses a comma-separated list of decimal numbers, naming the flag and the value when one is not a finite number. */
export function parseStrictList(text: string, flag: string): number[] {
  const parts = text.split(',');
  return parts.map((part, index) => {
    const value = strictNumber(part);
    if (!Number.isFinite(value)) {
      const shown = part.trim() === '' ? '(empty)' : `"${part.trim().slice(0, 40)}"`;
      throw new DrrkitError(`${flag}: value ${index + 1} ${shown} is not a finite decimal number`, flag);
    }
    return value;
  });
}

/** A whole number ≥ 0 that NumPy accepts as a seed. */
const SEED: Range = { min: 0, max: 2 ** 32 - 1, integer: true };
/** Half-widths of rotation searches, degrees. */
const HALF_RANGE_DEGREES: Range = { min: 0, max: 180, unit: '°' };
/** Iteration counts. */
const ITERATIONS: Range = { min: 1, max: 1e6, integer: true };
/** Learning rates. */
const LEARNING_RATE: Range = { min: 0, minExclusive: true, max: 1e6 };
/** A frame index. */
const FRAME: Range = { min: 0, max: 1e6, integer: true };

/** Rotation numbers: angles in radians (or degrees with --degrees), with a warning for radians beyond 2π. */
function checkRotation(flag: string) {
  return (text: string, options: Options): void => {
    const parameterization = String(options.parameterization ?? 'euler_angles');
    const angles = parameterization === 'euler_angles' || parameterization === 'axis_angle' || parameterization === 'se3_log_map';
    const values = parseStrictList(text, flag);
    const degrees = options.degrees === true && angles;
    const rotationCount = parameterization === 'se3_log_map' ? 3 : values.length;
    const range = degrees ? PHYSICAL_RANGES.angleDegrees : angles ? PHYSICAL_RANGES.angleRadians : { min: -1e6, max: 1e6 };
    values.slice(0, rotationCount).forEach((value, index) => {
      if (!inRange(value, range)) throw new DrrkitError(`${flag}: value ${index + 1} must be ${describeRange(range)}, got ${value}`, flag);
    });
    // Whatever the parameterization, the numbers must make a proper rotation (a zero 3×3 matrix, a
    // zero quaternion or degenerate 6-D vectors do not).
    let count = values.length;
    try { count = parameterCount(parameterization as Parameterization); } catch { /* commander's choices report it */ }
    if (values.length === count) {
      const scaled = degrees ? values.map((value) => (value * Math.PI) / 180) : values;
      let matrix: ArrayLike<number>;
      try {
        matrix = rotationMatrixFromParameters(scaled, parameterization as Parameterization, String(options.convention ?? 'ZYX') as EulerConvention);
        requireRotationMatrix(matrix);
      } catch (error) {
        throw new DrrkitError(`${flag}: ${error instanceof Error ? error.message : String(error)}`, flag);
      }
      if (!Array.from(matrix).every(Number.isFinite)) throw new DrrkitError(`${flag}: the numbers do not define a rotation`, flag);
    }
    if (angles && !degrees && values.slice(0, rotationCount).some((value) => Math.abs(value) > 2 * Math.PI + 1e-9)) {
      warn(`${flag} ${text}: an angle exceeds 2π; angles are read in radians unless --degrees is given`);
    }
  };
}

/** Warnings already printed (each once). */
const warned = new Set<string>();

/** Prints `drrkit: warning: …` on stderr once per message. */
export function warn(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`drrkit: warning: ${message}\n`);
}

/** The rules, by commander attribute name; see the module comment. */
export const FLAG_RULES: Readonly<Record<string, FlagRule>> = {
  // Detector and rendering (render, register, evaluate).
  sdr: { flag: '--sdr', range: PHYSICAL_RANGES.distanceMm },
  sdd: { flag: '--sdd', range: PHYSICAL_RANGES.distanceMm },
  sod: { flag: '--sod', range: PHYSICAL_RANGES.distanceMm },
  height: { flag: '--height', range: PHYSICAL_RANGES.detectorSide },
  width: { flag: '--width', range: PHYSICAL_RANGES.detectorSide },
  delx: { flag: '--delx', range: PHYSICAL_RANGES.pixelSizeMm },
  dely: { flag: '--dely', range: PHYSICAL_RANGES.pixelSizeMm },
  x0: { flag: '--x0', range: PHYSICAL_RANGES.positionMm },
  y0: { flag: '--y0', range: PHYSICAL_RANGES.positionMm },
  step: { flag: '--step', range: PHYSICAL_RANGES.sampleStepMm },
  samples: { flag: '--samples', range: PHYSICAL_RANGES.samplesPerRay },
  boneMultiplier: { flag: '--bone-multiplier', range: { min: 0, max: 1e3 } },
  intrinsic: { flag: '--intrinsic', count: 9, range: { min: -1e9, max: 1e9 } },
  frame: { flag: '--frame', range: FRAME },
  i0: { flag: '--i0', range: PHYSICAL_RANGES.incidentIntensity },
  waterAttenuation: { flag: '--water-attenuation', range: PHYSICAL_RANGES.attenuationPerMm },
  // Poses.
  rotation: { flag: '--rotation', check: checkRotation('--rotation') },
  initRotation: { flag: '--init-rotation', check: checkRotation('--init-rotation') },
  targetPose: { flag: '--target-pose', check: (text, options) => {
    const values = parseStrictList(text, '--target-pose');
    const parameterization = String(options.parameterization ?? 'euler_angles');
    let rotationCount = 3;
    try { rotationCount = parameterCount(parameterization as Parameterization); } catch { /* commander's choices report it */ }
    checkRotation('--target-pose')(values.slice(0, rotationCount).join(','), options);
    values.slice(rotationCount).forEach((value) => { if (!inRange(value, PHYSICAL_RANGES.positionMm)) throw new DrrkitError(`--target-pose: translation ${value} must be ${describeRange(PHYSICAL_RANGES.positionMm)}`, '--target-pose'); });
  } },
  translation: { flag: '--translation', count: 3, range: PHYSICAL_RANGES.positionMm },
  initTranslation: { flag: '--init-translation', count: 3, range: PHYSICAL_RANGES.positionMm },
  trueRotation: { flag: '--true-rotation', count: 3, range: PHYSICAL_RANGES.angleRadians },
  trueTranslation: { flag: '--true-translation', count: 3, range: PHYSICAL_RANGES.positionMm },
  secondView: { flag: '--second-view', count: 3, range: { min: -360, max: 360, unit: '°' } },
  // Registration.
  seed: { flag: '--seed', range: SEED },
  maxIterations: { flag: '--max-iterations', range: ITERATIONS },
  stopNcc: { flag: '--stop-ncc', range: { min: -1, max: 1 } },
  lrRotation: { flag: '--lr-rotation', range: LEARNING_RATE },
  lrTranslation: { flag: '--lr-translation', range: LEARNING_RATE },
  momentum: { flag: '--momentum', range: { min: 0, max: 1, maxExclusive: true } },
  dampening: { flag: '--dampening', range: { min: 0, max: 1 } },
  searchRange: { flag: '--search-range', count: 3, range: HALF_RANGE_DEGREES },
  xrayFrame: { flag: '--xray-frame', range: FRAME },
  // Evaluation.
  runs: { flag: '--runs', range: { min: 1, max: 1e6, integer: true } },
  rotationRange: { flag: '--rotation-range', count: 3, range: HALF_RANGE_DEGREES },
  translationRange: { flag: '--translation-range', count: [2, 6], ordered: true, range: { min: -1e4, max: 1e4, unit: 'mm' } },
  targetOversampling: { flag: '--target-oversampling', range: { min: 1, max: 16, integer: true } },
  targetPhotons: { flag: '--target-photons', range: { min: 0, minExclusive: true, max: 1e15 } },
};

/** Checks one flag's text against its rule; throws a DrrkitError naming the flag. */
export function validateFlag(text: string, rule: FlagRule, options: Options = {}): void {
  if (rule.range || rule.count !== undefined) {
    const values = parseStrictList(text, rule.flag);
    const counts = rule.count === undefined ? [1] : typeof rule.count === 'number' ? [rule.count] : rule.count;
    if (!counts.includes(values.length)) {
      throw new DrrkitError(`${rule.flag}: expected ${counts.join(' or ')} comma-separated number${counts[0] === 1 ? '' : 's'}, got ${values.length}`, rule.flag);
    }
    if (rule.range) {
      values.forEach((value, index) => {
        if (!inRange(value, rule.range!)) {
          throw new DrrkitError(`${rule.flag}: ${values.length > 1 ? `value ${index + 1} ` : ''}must be ${describeRange(rule.range!)}, got ${text.split(',')[index].trim()}`, rule.flag);
        }
      });
    }
    if (rule.ordered && values.some((value, index) => index % 2 === 1 && value < values[index - 1])) {
      throw new DrrkitError(`${rule.flag}: the values must be in increasing order (low,high), got ${text}`, rule.flag);
    }
  }
  rule.check?.(text, options);
}

/** Checks every option that has a rule in `rules` (default {@link FLAG_RULES}): string values, and each value of a repeated flag. */
export function validateFlags(options: Options, rules: Readonly<Record<string, FlagRule>> = FLAG_RULES): void {
  for (const [name, rule] of Object.entries(rules)) {
    const value = options[name] as unknown;
    if (typeof value === 'string') validateFlag(value, rule, options);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') validateFlag(item, rule, options);
  }
}

/**
 * Bounds the work of rendering `volume` on a detector of `pixels` pixels: at most
 * {@link MAXIMUM_DETECTOR_PIXELS} pixels and, for the trilinear renderer, at most
 * {@link MAXIMUM_SAMPLES_PER_RAY} samples along a ray through the whole volume.
 */
export function requireBoundedWork(volume: Volume, pixels: number, sampling: { stepMm?: number; samplesPerRay?: number } | undefined, renderer: string | undefined): void {
  if (pixels > MAXIMUM_DETECTOR_PIXELS) throw new DrrkitError(`the detector has ${pixels} pixels, more than ${MAXIMUM_DETECTOR_PIXELS}`, '--height');
  if (renderer === 'trilinear') requireBoundedTrilinearSampling(volume, sampling, { step: '--step', samples: '--samples' });
}
