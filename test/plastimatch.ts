/**
 * An independent renderer for cross-checks: plastimatch's `drr -i exact` (Siddon) on a DRR's own
 * density grid, with the geometry taken from the DRR's grid-frame rays — so any camera of drrkit
 * can be compared with it. Test helper, not part of the library.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DRR, Pose } from '../src/drr.js';
import { writeNifti } from '../src/io/nifti.js';
import { createVolume } from '../src/volume/volume.js';

/** Whether `plastimatch` is on the PATH. */
export function plastimatchAvailable(): boolean {
  return !spawnSync('plastimatch', ['--version'], { encoding: 'utf8' }).error;
}

const cross = (a: ArrayLike<number>, b: ArrayLike<number>): number[] => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const unit = (a: ArrayLike<number>): number[] => { const n = Math.hypot(a[0], a[1], a[2]); return [a[0] / n, a[1] / n, a[2] / n]; };

/**
 * Renders `drr`'s densities at `pose` with plastimatch (line integrals, row-major like drrkit's
 * image), or returns null when plastimatch is not installed. Pixels must be square.
 */
export async function renderWithPlastimatch(drr: DRR, pose: Pose): Promise<Float32Array | null> {
  if (!plastimatchAvailable()) return null;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'drrkit-plastimatch-'));
  try {
    const grid = drr.grid;
    const [nx, ny, nz] = grid.shape, [dx, dy, dz] = grid.spacing;
    const px = nx + 2, pxy = px * (ny + 2);
    const densities = new Float32Array(nx * ny * nz);
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) densities[i + nx * (j + ny * k)] = grid.data[i + 1 + px * (j + 1) + pxy * (k + 1)];
    // ITK reads NIfTI's RAS as LPS (x, y negated): these negative columns make its world the grid frame.
    const affine = Float64Array.of(-dx, 0, 0, -dx / 2, 0, -dy, 0, -dy / 2, 0, 0, dz, dz / 2, 0, 0, 0, 1);
    const input = path.join(directory, 'densities.nii');
    await writeNifti(input, createVolume({ data: densities, shape: [nx, ny, nz], spacing: [dx, dy, dz], affine }));
    const rays = drr.rays(pose);
    const { height, width } = rays;
    const rowPitch = Math.hypot(...rays.rowStep), columnPitch = Math.hypot(...rays.columnStep);
    let normal = unit(cross(rays.rowStep, rays.columnStep));
    const toSource = [0, 1, 2].map((axis) => rays.source[axis] - rays.firstPixel[axis]);
    if (dot(normal, toSource) < 0) normal = normal.map((value) => -value);
    const sid = dot(normal, toSource), sad = sid / 2;
    const isocenter = [0, 1, 2].map((axis) => rays.source[axis] - sad * normal[axis]);
    // Where the principal ray (the perpendicular from the source) meets the detector, in pixels.
    const foot = [0, 1, 2].map((axis) => rays.source[axis] - sid * normal[axis] - rays.firstPixel[axis]);
    const centreRow = dot(foot, rays.rowStep) / rowPitch ** 2, centreColumn = dot(foot, rays.columnStep) / columnPitch ** 2;
    const up = unit(rays.rowStep).map((value) => -value);
    const flipColumns = dot(rays.columnStep, cross(up, normal)) < 0;
    const args = ['drr', '-t', 'raw', '-P', 'none', '-i', 'exact', '-r', `${height} ${width}`, '-z', `${height * rowPitch} ${width * columnPitch}`,
      '--sad', String(sad), '--sid', String(sid), '-n', normal.join(' '), '--vup', up.join(' '), '-o', isocenter.join(' '),
      '-c', `${centreRow} ${flipColumns ? width - 1 - centreColumn : centreColumn}`, '-O', path.join(directory, 'out'), '-I', input];
    const result = spawnSync('plastimatch', args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (result.status !== 0) throw new Error(`plastimatch drr failed: ${result.stderr || result.stdout}`);
    const file = readdirSync(directory).find((entry) => entry.startsWith('out') && entry.endsWith('.raw'));
    const bytes = readFileSync(path.join(directory, file!));
    const image = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (!flipColumns) return image;
    const flipped = new Float32Array(image.length);
    for (let row = 0; row < height; row++) for (let column = 0; column < width; column++) flipped[row * width + column] = image[row * width + width - 1 - column];
    return flipped;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
