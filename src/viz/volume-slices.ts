/**
 * The three middle slices of a volume as gray images with square pixels in mm.
 */
import { resizeNearest, grayToRaster, type GrayImage, type Raster } from './raster.js';

/** One named slice. */
export interface VolumeSlice {
  /** Which grid plane: 'i-j' (k fixed; axial for a CT stored in slices), 'i-k' (j fixed) or 'j-k' (i fixed). */
  name: 'i-j' | 'i-k' | 'j-k';
  /** The values; the i-k and j-k slices have k = 0 at the bottom. */
  image: GrayImage;
  /** Pixel size of each axis in mm (rows, columns). */
  pixelSize: [number, number];
}

/** The middle slice along each axis of `values` (i fastest) of `shape`. */
export function middleSlices(values: ArrayLike<number>, shape: readonly [number, number, number], spacing: readonly [number, number, number]): VolumeSlice[] {
  const [nx, ny, nz] = shape;
  const at = (i: number, j: number, k: number): number => values[i + nx * (j + ny * k)];
  const ci = Math.floor(nx / 2), cj = Math.floor(ny / 2), ck = Math.floor(nz / 2);
  const axial = new Float32Array(nx * ny), coronal = new Float32Array(nx * nz), sagittal = new Float32Array(ny * nz);
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) axial[j * nx + i] = at(i, j, ck);
  for (let k = 0; k < nz; k++) for (let i = 0; i < nx; i++) coronal[(nz - 1 - k) * nx + i] = at(i, cj, k);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) sagittal[(nz - 1 - k) * ny + j] = at(ci, j, k);
  return [
    { name: 'i-j', image: { data: axial, height: ny, width: nx }, pixelSize: [spacing[1], spacing[0]] },
    { name: 'i-k', image: { data: coronal, height: nz, width: nx }, pixelSize: [spacing[2], spacing[0]] },
    { name: 'j-k', image: { data: sagittal, height: nz, width: ny }, pixelSize: [spacing[2], spacing[1]] },
  ];
}

/** A slice as a raster windowed to [min, max], resized so one raster pixel is `millimetres` mm. */
export function sliceRaster(slice: VolumeSlice, min: number, max: number, millimetres: number): Raster {
  const raster = grayToRaster(slice.image, { min, max });
  const width = Math.max(1, Math.round((slice.image.width * slice.pixelSize[1]) / millimetres));
  const height = Math.max(1, Math.round((slice.image.height * slice.pixelSize[0]) / millimetres));
  return resizeNearest(raster, width, height);
}
