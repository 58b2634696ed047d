/**
 * Physical ranges of drrkit's numbers, and the checks that hold inputs and results to them. One
 * table ({@link PHYSICAL_RANGES}) says what a plausible distance, pixel size, voxel spacing,
 * position, angle or intensity is; readers, geometry constructors and the CLI's flag parser
 * (src/cli/validate.ts) all check against it, so a value that would overflow to Infinity, blank the
 * image or make the work unbounded (1e308, 1e-300, …) is refused with a message that names it.
 * {@link requireFiniteValues} checks computed outputs: a non-finite result is an error, never
 * garbage written with exit status 0.
 */
import { DrrkitError } from './errors.js';

/** An interval of accepted values. */
export interface Range {
  /** Smallest accepted value (inclusive unless `minExclusive`). */
  readonly min: number;
  /** Largest accepted value (inclusive unless `maxExclusive`). */
  readonly max: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
  /** Whole numbers only. */
  readonly integer?: boolean;
  /** Unit for messages ("mm"). */
  readonly unit?: string;
}

/** The accepted ranges, by kind of quantity. */
export const PHYSICAL_RANGES = {
  /** Source-to-detector, source-to-isocentre distances (sdd, sod, sdr): 1 mm to 100 m. */
  distanceMm: { min: 1, max: 1e5, unit: 'mm' },
  /** Detector pixel size (delx, dely). */
  pixelSizeMm: { min: 1e-4, max: 1e3, unit: 'mm' },
  /** Voxel spacing of a volume. */
  voxelSpacingMm: { min: 1e-4, max: 1e4, unit: 'mm' },
  /** Positions and translations (camera translation, principal-point offsets, volume origins): within 1 km. */
  positionMm: { min: -1e6, max: 1e6, unit: 'mm' },
  /** Rotation parameters in radians (angles beyond a few turns are almost surely degrees or a typo). */
  angleRadians: { min: -1e3, max: 1e3, unit: 'rad' },
  /** Rotation parameters in degrees. */
  angleDegrees: { min: -36000, max: 36000, unit: '°' },
  /** Detector rows or columns. */
  detectorSide: { min: 1, max: 16384, integer: true, unit: 'pixels' },
  /** Incident intensity I0 (float32 must hold I0·exp(−∫μ)). */
  incidentIntensity: { min: 0, minExclusive: true, max: 1e30 },
  /** Linear attenuation in 1/mm. */
  attenuationPerMm: { min: 0, minExclusive: true, max: 100, unit: '1/mm' },
  /** Voxel values of a volume after rescaling (HU, μ, counts): anything beyond is overflow. */
  voxelValue: { min: -1e12, max: 1e12 },
  /** Trilinear sample step. */
  sampleStepMm: { min: 1e-3, max: 1e5, unit: 'mm' },
  /** Fixed trilinear samples per ray. */
  samplesPerRay: { min: 1, max: 1e5, integer: true },
} as const satisfies Record<string, Range>;

/** Most trilinear samples along one ray (volume diagonal ÷ step). */
export const MAXIMUM_SAMPLES_PER_RAY = 100000;

/** Most detector pixels (height × width) in one image. */
export const MAXIMUM_DETECTOR_PIXELS = 64 * 1024 * 1024;

/**
 * Throws unless trilinear sampling of `volume` takes at most {@link MAXIMUM_SAMPLES_PER_RAY}
 * samples along a ray through the whole volume (its diagonal ÷ the step, or the fixed count).
 * `names` words the message (the CLI passes its flags).
 */
export function requireBoundedTrilinearSampling(
  volume: { readonly shape: readonly number[]; readonly spacing: readonly number[]; readonly source: string },
  sampling: { stepMm?: number; samplesPerRay?: number } | undefined,
  names: { step: string; samples: string } = { step: 'trilinear step', samples: 'samples per ray' },
): void {
  const diagonal = Math.hypot(...volume.shape.map((size, axis) => size * volume.spacing[axis]));
  const step = sampling?.stepMm ?? Math.min(...volume.spacing) / 2;
  const samples = sampling?.samplesPerRay ?? diagonal / step;
  if (!(samples <= MAXIMUM_SAMPLES_PER_RAY)) {
    const name = sampling?.samplesPerRay !== undefined ? names.samples : names.step;
    throw new DrrkitError(
      `${name}: ${Math.round(samples)} samples per ray through ${volume.source} (diagonal ${diagonal.toFixed(0)} mm) is more than ${MAXIMUM_SAMPLES_PER_RAY}; use a larger step`,
      name,
    );
  }
}

/** The range in words: "between 0.0001 and 1000 mm". */
export function describeRange(range: Range): string {
  const unit = range.unit ? ` ${range.unit}` : '';
  const low = range.minExclusive ? `greater than ${range.min}` : `at least ${range.min}`;
  const high = range.maxExclusive ? `less than ${range.max}` : `at most ${range.max}`;
  return `${range.integer ? 'a whole number ' : ''}${low} and ${high}${unit}`;
}

/** True when `value` lies in `range`. */
export function inRange(value: number, range: Range): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (range.integer && !Number.isInteger(value)) return false;
  if (range.minExclusive ? value <= range.min : value < range.min) return false;
  if (range.maxExclusive ? value >= range.max : value > range.max) return false;
  return true;
}

/** Returns `value` when it lies in `range`; otherwise throws a DrrkitError naming `what` and the range. */
export function requireInRange(value: number, range: Range, what: string): number {
  if (!inRange(value, range)) throw new DrrkitError(`${what} must be ${describeRange(range)}, got ${String(value)}`, what);
  return value;
}

/**
 * Throws a DrrkitError unless every value is finite: `what` names the result ("the DRR", "the
 * final pose"), `hint` says what to change. Use on computed outputs before they are written.
 */
export function requireFiniteValues(values: ArrayLike<number>, what: string, hint = 'check the geometry and intensity settings'): void {
  let bad = 0;
  for (let index = 0; index < values.length; index++) if (!Number.isFinite(values[index])) bad++;
  if (bad > 0) throw new DrrkitError(`${what}: ${bad} of ${values.length} values are not finite numbers (overflow or NaN); ${hint}`, what);
}

/**
 * Throws unless a volume's voxel values are finite and within {@link PHYSICAL_RANGES}.voxelValue
 * (a RescaleSlope or scl_slope of 1e38 overflows float32 to ±Infinity; an intercept of −1e38
 * blanks every image).
 */
export function requirePlausibleVoxelValues(data: ArrayLike<number>, source: string): void {
  const range = PHYSICAL_RANGES.voxelValue;
  let nonFinite = 0, extreme = 0, example = 0;
  for (let index = 0; index < data.length; index++) {
    const value = data[index];
    if (!Number.isFinite(value)) nonFinite++;
    else if (value < range.min || value > range.max) { extreme++; example = value; }
  }
  if (nonFinite > 0) {
    throw new DrrkitError(`${source}: ${nonFinite} values are not finite (NaN or ±Infinity; an overflowing rescale slope/intercept?)`, source);
  }
  if (extreme > 0) {
    throw new DrrkitError(`${source}: ${extreme} values lie beyond ±${range.max} (e.g. ${example.toExponential(3)}); the rescale slope/intercept look wrong`, source);
  }
}
