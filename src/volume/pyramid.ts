import { DrrkitError } from '../errors.js';
import { createVolume, type Volume } from './volume.js';

/**
 * A volume downsampled by an integer `factor`: each output voxel is the mean of a
 * factor × factor × factor block, and the spacing grows by `factor`. A size that does not divide
 * evenly keeps a last, partial block (averaged over the voxels it has) and its spacing is set so
 * the physical extent nx·dx stays the same — so DRRs of every pyramid level image the same box
 * in the seed world frame and poses carry over between levels unchanged.
 */
export function downsampleVolume(volume: Volume, factor: number): Volume {
  if (!Number.isInteger(factor) || factor < 1) throw new DrrkitError(`downsampling factor must be a whole number ≥ 1, got ${factor}`, 'factor');
  if (factor === 1) return volume;
  const [nx, ny, nz] = volume.shape;
  const mx = Math.ceil(nx / factor), my = Math.ceil(ny / factor), mz = Math.ceil(nz / factor);
  const sums = new Float64Array(mx * my * mz);
  const counts = new Uint16Array(mx * my * mz);
  const data = volume.data;
  for (let k = 0; k < nz; k++) {
    const kk = Math.floor(k / factor);
    for (let j = 0; j < ny; j++) {
      const rowOut = mx * (Math.floor(j / factor) + my * kk);
      const rowIn = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        const index = rowOut + Math.floor(i / factor);
        sums[index] += data[rowIn + i];
        counts[index]++;
      }
    }
  }
  const out = new Float32Array(mx * my * mz);
  for (let index = 0; index < out.length; index++) out[index] = sums[index] / counts[index];
  const spacing: [number, number, number] = [
    (nx * volume.spacing[0]) / mx,
    (ny * volume.spacing[1]) / my,
    (nz * volume.spacing[2]) / mz,
  ];
  // The affine keeps the same first-voxel corner; its columns scale with the new voxel size.
  const affine = Float64Array.from(volume.affine);
  for (let row = 0; row < 3; row++) {
    for (let axis = 0; axis < 3; axis++) affine[4 * row + axis] *= spacing[axis] / volume.spacing[axis];
    // Voxel centres move: the centre of output voxel 0 is half an output voxel in from the corner.
    let shift = 0;
    for (let axis = 0; axis < 3; axis++) shift += (volume.affine[4 * row + axis] / volume.spacing[axis]) * (spacing[axis] - volume.spacing[axis]) / 2;
    affine[4 * row + 3] += shift;
  }
  return createVolume({ data: out, shape: [mx, my, mz], spacing, affine, source: `${volume.source} (÷${factor})` });
}
