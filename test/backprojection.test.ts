import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { WorldDRR } from '../src/world-drr.js';
import type { RayGrid } from '../src/geometry/detector.js';
import { densityGridFromArray, type DensityGrid } from '../src/render/density-grid.js';
import { renderPixels, type RenderSettings } from '../src/render/renderer.js';
import { VolumeProjector, projectorForGrid, volumeGradient } from '../src/render/backprojection.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { createVolume } from '../src/volume/volume.js';
import { eulerZYX, seededRandom } from './helpers.js';

after(() => closeRenderPool());

/** A small volume with an oblique affine and random HU, so both cameras see a non-trivial grid. */
function obliqueVolume() {
  const shape = [20, 18, 16] as const, spacing = [2.5, 2, 3];
  const random = seededRandom(5);
  const data = new Float32Array(shape[0] * shape[1] * shape[2]).map(() => -1000 + 2000 * random());
  const rotation = eulerZYX(0.4, -0.2, 0.3);
  const affine = new Float64Array(16);
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) affine[4 * row + column] = rotation[3 * row + column] * spacing[column];
  }
  affine[3] = -20; affine[7] = 15; affine[11] = -5; affine[15] = 1;
  return createVolume({ data, shape: [...shape], spacing: [spacing[0], spacing[1], spacing[2]], affine, source: 'oblique' });
}

const volume = obliqueVolume();
const SETTINGS: Record<string, RenderSettings> = {
  siddon: { renderer: 'siddon', sampling: {} },
  'trilinear (step)': { renderer: 'trilinear', sampling: {} },
  'trilinear (samples)': { renderer: 'trilinear', sampling: { samplesPerRay: 37 } },
  joseph: { renderer: 'joseph', sampling: {} },
};

/** Both cameras' rays: the seed camera's from DRR.rays(pose), the pinhole's from WorldDRR.rays(pose). */
function cameras(): { name: string; grid: DensityGrid; rays: RayGrid }[] {
  const seed = new DRR(volume, { sdr: 200, height: 23, width: 19, delx: 3.1, threads: 1 });
  const seedRays = seed.rays({ rotation: eulerZYX(Math.PI + 0.2, 0.15, Math.PI / 2 - 0.1), translation: Float64Array.from(seed.center, (value, axis) => value + [3, -4, 2][axis]) });
  const world = new WorldDRR(volume, { sdd: 600, height: 21, width: 25, delx: 2.3, dely: 2.1, x0: 2, y0: -1, orientation: 'AP' });
  const pose = world.defaultPose();
  const worldRays = world.rays({ rotation: eulerZYX(0.1, -0.2, 0.05), translation: Float64Array.of(pose.translation[0] + 4, pose.translation[1], pose.translation[2] - 3) });
  return [
    { name: 'seed camera', grid: seed.grid, rays: seedRays },
    { name: 'world camera', grid: world.grid, rays: worldRays },
  ];
}

function randomField(count: number, seed: number, low = 0): Float64Array {
  const random = seededRandom(seed);
  return new Float64Array(count).map(() => low + random());
}

/** A · x in float64 for densities x (grid order) on the geometry of `grid`. */
function forward(grid: DensityGrid, x: Float64Array, rays: RayGrid, settings: RenderSettings): Float64Array {
  const trial = densityGridFromArray(Float32Array.from(x), grid.shape, grid.spacing, grid.origin);
  const image = new Float64Array(rays.height * rays.width);
  renderPixels(trial, rays, settings, image);
  return image;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

describe('back-projection is the adjoint of each renderer', () => {
  for (const camera of cameras()) {
    for (const [name, settings] of Object.entries(SETTINGS)) {
      test(`${name}, ${camera.name}: ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ to 1e-5`, () => {
        const [nx, ny, nz] = camera.grid.shape;
        // x in float32 (what the grid holds), so A x sees exactly the x of the inner product.
        const x = Float64Array.from(Float32Array.from(randomField(nx * ny * nz, 17)));
        const y = randomField(camera.rays.height * camera.rays.width, 23, -0.5);
        const ax = forward(camera.grid, x, camera.rays, settings);
        const aty = volumeGradient(camera.grid, camera.rays, settings, y);
        const left = dot(ax, y), right = dot(x, aty);
        assert.ok(Math.abs(dot(ax, ax)) > 1, 'the rays cross the volume');
        const relative = Math.abs(left - right) / Math.abs(left);
        assert.ok(relative < 1e-5, `⟨Ax, y⟩ = ${left}, ⟨x, Aᵀy⟩ = ${right}, relative ${relative}`);
        // Aᵀ applied to a unit pixel is that pixel's row of A: ⟨A x⟩ₚ = ⟨x, Aᵀ eₚ⟩.
        const pixel = Math.floor(camera.rays.height / 2) * camera.rays.width + Math.floor(camera.rays.width / 2);
        const unit = new Float64Array(y.length); unit[pixel] = 1;
        const row = volumeGradient(camera.grid, camera.rays, settings, unit);
        assert.ok(Math.abs(dot(row, x) - ax[pixel]) <= 1e-9 * Math.abs(ax[pixel]));
      });
    }
  }

  test('threaded back-projection equals single-threaded with the same bands, and the projector forward pass equals the renderer', () => {
    for (const camera of cameras()) {
      for (const settings of Object.values(SETTINGS)) {
        const [nx, ny, nz] = camera.grid.shape;
        const y = randomField(camera.rays.height * camera.rays.width, 31, -0.5);
        const threaded = projectorForGrid(camera.grid, { settings, threads: 3, bands: 4, maximumPixels: 1024 });
        const single = projectorForGrid(camera.grid, { settings, threads: 1, bands: 4, maximumPixels: 1024 });
        const a = new Float64Array(nx * ny * nz), b = new Float64Array(nx * ny * nz);
        threaded.backproject(camera.rays, y, a);
        single.backproject(camera.rays, y, b);
        assert.deepEqual(a, b);
        const reference = volumeGradient(camera.grid, camera.rays, settings, y);
        for (let v = 0; v < a.length; v++) assert.ok(Math.abs(a[v] - reference[v]) <= 1e-9 * (1 + Math.abs(reference[v])));
        const image = new Float32Array(y.length), expected = new Float32Array(y.length);
        threaded.project(camera.rays, image);
        renderPixels(camera.grid, camera.rays, settings, expected);
        assert.deepEqual(image, expected);
        threaded.dispose(); single.dispose();
      }
    }
  });
});

describe('volume gradient of a loss', () => {
  test('NCC: back-projected image gradient matches central differences in the densities', () => {
    for (const camera of cameras()) {
      for (const settings of [SETTINGS.siddon, SETTINGS['trilinear (samples)'], SETTINGS.joseph]) {
        const [nx, ny, nz] = camera.grid.shape;
        const pixels = camera.rays.height * camera.rays.width;
        const x = Float64Array.from(Float32Array.from(randomField(nx * ny * nz, 41)));
        const target = forward(camera.grid, randomField(nx * ny * nz, 43), camera.rays, settings);
        const ncc = new NormalizedCrossCorrelation();
        const shape = { height: camera.rays.height, width: camera.rays.width };
        const loss = (densities: Float64Array): number => ncc.score(target, forward(camera.grid, densities, camera.rays, settings), shape)[0];
        const { gradient } = ncc.scoreWithGradient(target, forward(camera.grid, x, camera.rays, settings), shape);
        assert.equal(gradient.length, pixels);
        const analytic = volumeGradient(camera.grid, camera.rays, settings, gradient);
        // The voxels with the largest gradients and a few random ones.
        const order = Array.from(analytic.keys()).sort((a, b) => Math.abs(analytic[b]) - Math.abs(analytic[a]));
        const random = seededRandom(47);
        const voxels = [...order.slice(0, 4), ...Array.from({ length: 4 }, () => Math.floor(random() * analytic.length))];
        const scale = Math.abs(analytic[order[0]]);
        assert.ok(scale > 0);
        for (const voxel of voxels) {
          // float64 densities through a float32 grid: a step the grid can hold exactly enough.
          const step = 1 / 64;
          const plus = Float64Array.from(x), minus = Float64Array.from(x);
          plus[voxel] += step; minus[voxel] -= step;
          const numeric = (loss(plus) - loss(minus)) / (2 * step);
          assert.ok(Math.abs(numeric - analytic[voxel]) <= 1e-3 * scale, `voxel ${voxel}: analytic ${analytic[voxel]}, numeric ${numeric}`);
        }
      }
    }
  });

  test('the projector refuses mismatched buffers with a clear message', () => {
    const projector = new VolumeProjector([4, 4, 4], [1, 1, 1], [0, 0, 0], { threads: 1, maximumPixels: 16 });
    const rays = { source: Float64Array.of(-10, 2, 2), firstPixel: Float64Array.of(10, 0.5, 0.5), rowStep: Float64Array.of(0, 1, 0), columnStep: Float64Array.of(0, 0, 1), height: 5, width: 5 };
    assert.throws(() => projector.project(rays, new Float32Array(25)), /larger than the 16 pixels/);
    assert.throws(() => projector.setDensities(new Float32Array(5)), /5 densities for 4×4×4/);
  });
});
