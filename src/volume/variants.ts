/**
 * New CTs from an existing one, each with an affine that keeps every voxel at its place in the
 * patient frame: a cropped box, a mirror along a grid axis (the voxel order reversed, the world
 * positions unchanged) and a clip of the values (e.g. bone flattened to soft tissue). With
 * `downsampleVolume` (src/volume/pyramid.ts) they make CTs a registration method was not tuned on.
 */
import { DrrkitError } from '../errors.js';
import { createVolume, type Volume } from './volume.js';

/**
 * The box of voxels `start` … `start + size − 1` (per axis) as a new volume. The affine moves its
 * origin to voxel `start`, so every kept voxel has the same world position as before.
 */
export function cropVolume(volume: Volume, start: readonly [number, number, number], size: readonly [number, number, number]): Volume {
  const [nx, ny] = volume.shape;
  for (let axis = 0; axis < 3; axis++) {
    if (!Number.isInteger(start[axis]) || !Number.isInteger(size[axis]) || start[axis] < 0 || size[axis] < 1 || start[axis] + size[axis] > volume.shape[axis]) {
      throw new DrrkitError(`${volume.source}: crop ${start.join(',')} + ${size.join('×')} does not fit in ${volume.shape.join('×')} along axis ${axis}`, 'crop');
    }
  }
  const [sx, sy, sz] = size;
  const data = new Float32Array(sx * sy * sz);
  for (let k = 0; k < sz; k++) for (let j = 0; j < sy; j++) {
    const from = start[0] + nx * (start[1] + j + ny * (start[2] + k));
    data.set(volume.data.subarray(from, from + sx), sx * (j + sy * k));
  }
  const affine = Float64Array.from(volume.affine);
  for (let row = 0; row < 3; row++) {
    affine[4 * row + 3] += volume.affine[4 * row] * start[0] + volume.affine[4 * row + 1] * start[1] + volume.affine[4 * row + 2] * start[2];
  }
  return createVolume({ data, shape: [sx, sy, sz], spacing: volume.spacing, affine, source: `${volume.source} (cropped ${start.join(',')}+${size.join('×')})` });
}

/**
 * The volume with its voxel order reversed along `axis` (0, 1 or 2) and the affine's column for
 * that axis negated (its origin moved to the old last voxel): the same anatomy at the same world
 * positions, stored mirrored. Geometry that ignores the affine (the seed camera) sees a mirror image.
 */
export function flipVolume(volume: Volume, axis: 0 | 1 | 2): Volume {
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new DrrkitError(`flip axis must be 0, 1 or 2, got ${axis}`, 'axis');
  const [nx, ny, nz] = volume.shape;
  const data = new Float32Array(volume.data.length);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const fi = axis === 0 ? nx - 1 - i : i, fj = axis === 1 ? ny - 1 - j : j, fk = axis === 2 ? nz - 1 - k : k;
    data[i + nx * (j + ny * k)] = volume.data[fi + nx * (fj + ny * fk)];
  }
  const affine = Float64Array.from(volume.affine);
  const last = volume.shape[axis] - 1;
  for (let row = 0; row < 3; row++) {
    affine[4 * row + 3] += volume.affine[4 * row + axis] * last;
    affine[4 * row + axis] = -volume.affine[4 * row + axis];
  }
  return createVolume({ data, shape: volume.shape, spacing: volume.spacing, affine, source: `${volume.source} (flipped along axis ${axis})` });
}

/**
 * The volume with its values clipped to [`minimum`, `maximum`] (either may be omitted): e.g. a
 * soft-tissue-only CT, every bone voxel set to the soft-tissue level.
 */
export function clipVolume(volume: Volume, range: { minimum?: number; maximum?: number }): Volume {
  const minimum = range.minimum ?? -Infinity, maximum = range.maximum ?? Infinity;
  if (Number.isNaN(minimum) || Number.isNaN(maximum) || minimum > maximum) {
    throw new DrrkitError(`clip range ${minimum}…${maximum} is not a range`, 'clip');
  }
  const data = new Float32Array(volume.data.length);
  for (let index = 0; index < data.length; index++) {
    const value = volume.data[index];
    data[index] = value < minimum ? minimum : value > maximum ? maximum : value;
  }
  return createVolume({ data, shape: volume.shape, spacing: volume.spacing, affine: Float64Array.from(volume.affine), source: `${volume.source} (clipped to ${minimum}…${maximum})` });
}
