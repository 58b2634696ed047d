import { DrrkitError } from '../errors.js';
import { hounsfieldToAttenuation, type AttenuationOptions } from './intensity.js';
import type { Volume } from './volume.js';

/**
 * How voxel values become densities:
 * - `'diffdrr'` (default for line integrals): DiffDRR v0.3's conversion — HU thresholds for
 *   air/soft tissue/bone, bone × `boneAttenuationMultiplier`, then min–max normalised to [0, 1].
 * - `'minmax'`: min–max normalisation only.
 * - `'raw'`: the voxel values as they are.
 * - `'attenuation'` (default for 'beer-lambert' and 'negative-log'): HU → μ in 1/mm.
 */
export type DensityMode = 'diffdrr' | 'minmax' | 'raw' | 'attenuation';


/** Options of {@link hounsfieldToDensity}. */
export interface HounsfieldToDensityOptions {
  /** Factor applied to bone voxels (HU > boneThreshold) before normalising. Default 1.0. */
  boneAttenuationMultiplier?: number;
  /** Voxels with HU ≤ this are air. Default −800. */
  airThreshold?: number;
  /** Voxels with HU > this are bone. Default 350. */
  boneThreshold?: number;
}

/**
 * Min-max normalisation to [0, 1]: `out = (v − min) / (max − min)`, computed as DiffDRR does
 * (subtract the minimum, then divide by the new maximum). NaNs are ignored when finding the
 * range and stay NaN. A constant input (no finite, non-zero range) gives all zeros, never NaN.
 * Returns a new Float32Array in the same order; the input is not changed.
 */
export function minMaxNormalize(data: ArrayLike<number>): Float32Array {
  return normalizeInPlace(Float32Array.from(data));
}

/** {@link minMaxNormalize} applied to `values` itself; returns `values`. */
function normalizeInPlace(values: Float32Array): Float32Array {
  const length = values.length;
  let minimum = Infinity;
  let maximum = -Infinity;
  for (let index = 0; index < length; index++) {
    const value = values[index];
    if (value < minimum) minimum = value;
    if (value > maximum) maximum = value;
  }
  const range = maximum - minimum;
  if (!(range > 0) || !Number.isFinite(range)) {
    values.fill(0);
    return values;
  }
  const scale = 1 / range;
  for (let index = 0; index < length; index++) {
    const value = (values[index] - minimum) * scale;
    values[index] = value > 1 ? 1 : value; // guard against rounding just above 1
  }
  return values;
}

/**
 * DiffDRR v0.3's Hounsfield-unit → density conversion (`DRR._preprocess`), as an explicit step.
 *
 * Voxels are split by HU into three classes:
 * - air:         HU ≤ airThreshold (−800)
 * - soft tissue: airThreshold < HU ≤ boneThreshold (350)
 * - bone:        HU > boneThreshold
 *
 * and mapped to
 * - density[air]  = min(HU over soft tissue) (the overall minimum HU when there is no soft tissue),
 * - density[soft] = HU,
 * - density[bone] = HU × boneAttenuationMultiplier (default 1.0),
 *
 * then min-max normalised over the whole volume with {@link minMaxNormalize}:
 * `density = (density − min) / (max − min)`, so every value lies in [0, 1] (a constant result
 * gives all zeros). Returns a new Float32Array in the volume's voxel order.
 */
export function hounsfieldToDensity(volume: Volume, options: HounsfieldToDensityOptions = {}): Float32Array {
  const boneAttenuationMultiplier = options.boneAttenuationMultiplier ?? 1.0;
  const airThreshold = options.airThreshold ?? -800;
  const boneThreshold = options.boneThreshold ?? 350;
  const hounsfield = volume.data;
  const length = hounsfield.length;

  let softTissueMinimum = Infinity;
  let overallMinimum = Infinity;
  for (let index = 0; index < length; index++) {
    const value = hounsfield[index];
    if (value < overallMinimum) overallMinimum = value;
    if (value > airThreshold && value <= boneThreshold && value < softTissueMinimum) softTissueMinimum = value;
  }
  const airDensity = Number.isFinite(softTissueMinimum) ? softTissueMinimum : overallMinimum;

  const density = new Float32Array(length);
  for (let index = 0; index < length; index++) {
    const value = hounsfield[index];
    if (value <= airThreshold) density[index] = airDensity;
    else if (value > boneThreshold) density[index] = value * boneAttenuationMultiplier;
    else density[index] = value; // soft tissue (and NaN, which stays NaN)
  }
  return normalizeInPlace(density);
}

/** Converts voxel values to densities by the chosen mode. */
export function volumeDensities(volume: Volume, mode: DensityMode = 'diffdrr', boneAttenuationMultiplier = 1, attenuation: AttenuationOptions = {}): Float32Array {
  switch (mode) {
    case 'diffdrr': return hounsfieldToDensity(volume, { boneAttenuationMultiplier });
    case 'minmax': return minMaxNormalize(volume.data);
    case 'raw': return Float32Array.from(volume.data);
    case 'attenuation': return hounsfieldToAttenuation(volume, { boneAttenuationMultiplier, ...attenuation });
    default: throw new DrrkitError(`unknown density mode "${String(mode)}"; use diffdrr, minmax, raw or attenuation`, 'density');
  }
}
