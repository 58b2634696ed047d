/**
 * Realistic intensities: Hounsfield units → linear attenuation μ (1/mm) with per-tissue control,
 * and the intensity models that turn a line integral into a pixel value.
 *
 * - `'line-integral'` (default, DiffDRR-compatible): the pixel is p = ∫ density ds (mm × density).
 * - `'beer-lambert'`: the detected intensity I = I0·exp(−∫ μ ds) — bright where nothing
 *   attenuates, like a raw (unprocessed) X-ray.
 * - `'negative-log'`: −ln(I/I0) = ∫ μ ds, what a log-transformed (processed) X-ray shows: the
 *   same number as the line integral of μ, offered by name so that a rendering and a preprocessed
 *   X-ray (`--log`) are on the same scale.
 *
 * With `'beer-lambert'` and `'negative-log'` the densities should be attenuation coefficients in
 * 1/mm ({@link hounsfieldToAttenuation}); with the DiffDRR density (normalised to [0, 1]) the
 * exponent has no physical scale.
 */
import { DrrkitError } from '../errors.js';
import type { Volume } from './volume.js';

/** How a line integral becomes a pixel value. */
export type IntensityModel = 'line-integral' | 'beer-lambert' | 'negative-log';

/** All intensity models, for validation and help texts. */
export const INTENSITY_MODELS: readonly IntensityModel[] = ['line-integral', 'beer-lambert', 'negative-log'];

/** Checks an intensity model name from user input. */
export function parseIntensityModel(name: string): IntensityModel {
  if ((INTENSITY_MODELS as readonly string[]).includes(name)) return name as IntensityModel;
  throw new DrrkitError(`unknown intensity model "${name}"; use one of ${INTENSITY_MODELS.join(', ')}`, 'intensity');
}

/** Linear attenuation of water in 1/mm used by default: about 0.02/mm (0.2/cm), an effective energy near 60–70 keV. */
export const WATER_ATTENUATION_PER_MM = 0.02;

/** Options of {@link hounsfieldToAttenuation}. */
export interface AttenuationOptions {
  /** μ of water in 1/mm (default {@link WATER_ATTENUATION_PER_MM}). */
  waterAttenuation?: number;
  /** Voxels with HU above this are bone (default 350, as DiffDRR). */
  boneThreshold?: number;
  /** Factor on μ of bone voxels (default 1; DiffDRR's `bone_attenuation_multiplier`). */
  boneAttenuationMultiplier?: number;
  /** Voxels with HU at or below this are air (default −800). */
  airThreshold?: number;
  /** Factor on μ of air voxels (default 1; 0 removes air, the table and the scanner surroundings' noise). */
  airAttenuationMultiplier?: number;
  /** Factor on μ of soft tissue, airThreshold < HU ≤ boneThreshold (default 1). */
  softTissueAttenuationMultiplier?: number;
}

/**
 * Hounsfield units → linear attenuation coefficient in 1/mm:
 * μ = μ_water·(1 + HU/1000), clamped at 0 (HU ≤ −1000 is vacuum), then multiplied per tissue
 * class (air ≤ airThreshold < soft tissue ≤ boneThreshold < bone) by the matching multiplier.
 * The line integral of μ through a body is then −ln(I/I0) of a monochromatic beam.
 * Returns a new Float32Array in the volume's voxel order.
 */
export function hounsfieldToAttenuation(volume: Volume, options: AttenuationOptions = {}): Float32Array {
  const water = options.waterAttenuation ?? WATER_ATTENUATION_PER_MM;
  if (!(water > 0) || !Number.isFinite(water)) throw new DrrkitError(`water attenuation must be a positive number of 1/mm, got ${water}`, 'water attenuation');
  const boneThreshold = options.boneThreshold ?? 350;
  const airThreshold = options.airThreshold ?? -800;
  const bone = options.boneAttenuationMultiplier ?? 1;
  const air = options.airAttenuationMultiplier ?? 1;
  const soft = options.softTissueAttenuationMultiplier ?? 1;
  for (const [name, value] of [['bone multiplier', bone], ['air multiplier', air], ['soft-tissue multiplier', soft]] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) throw new DrrkitError(`${name} must be a finite number ≥ 0, got ${value}`, name);
  }
  const hounsfield = volume.data;
  const out = new Float32Array(hounsfield.length);
  const scale = water / 1000;
  for (let index = 0; index < hounsfield.length; index++) {
    const value = hounsfield[index];
    let mu = water + value * scale;
    if (!(mu > 0)) mu = 0; // also NaN → 0
    out[index] = mu * (value > boneThreshold ? bone : value <= airThreshold ? air : soft);
  }
  return out;
}

/**
 * Applies an intensity model to line integrals in place: 'line-integral' and 'negative-log' keep
 * p; 'beer-lambert' gives I0·exp(−p). Returns `image`.
 */
export function applyIntensityModel(image: Float32Array | Float64Array, model: IntensityModel, incidentIntensity = 1): Float32Array | Float64Array {
  if (model === 'beer-lambert') {
    for (let index = 0; index < image.length; index++) image[index] = incidentIntensity * Math.exp(-image[index]);
  } else if (model !== 'line-integral' && model !== 'negative-log') {
    parseIntensityModel(String(model));
  }
  return image;
}

/**
 * Scales per-pixel ray derivatives for an intensity model, in place: for 'beer-lambert',
 * ∂I/∂ray = −I·∂p/∂ray where `image` already holds I; the other models leave them unchanged.
 */
export function applyIntensityModelToRayGradients(
  image: ArrayLike<number>,
  rayGradients: Float64Array,
  model: IntensityModel,
): Float64Array {
  if (model !== 'beer-lambert') return rayGradients;
  for (let pixel = 0; pixel < image.length; pixel++) {
    const factor = -image[pixel];
    for (let k = 0; k < 6; k++) rayGradients[6 * pixel + k] *= factor;
  }
  return rayGradients;
}
