/**
 * The speed machinery changes no result: worker threads, empty-space skipping and volume
 * pyramids. (No timing here: `npm run bench` measures speed.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { DRR, type Pose } from '../src/drr.js';
import { createDetector, rayGridForPose, type RayGrid } from '../src/geometry/detector.js';
import { densityGridFromArray, type DensityGrid } from '../src/render/density-grid.js';
import { buildEmptySpace, octantCubeSizes, type EmptySpace } from '../src/render/empty-space.js';
import { renderSiddon, renderSiddonWithRayGradients } from '../src/render/siddon.js';
import { renderTrilinear, renderTrilinearWithRayGradients, type TrilinearSampling } from '../src/render/trilinear.js';
import { renderJoseph, renderJosephWithRayGradients } from '../src/render/joseph.js';
import { withCompactStorage } from '../src/render/compact-density.js';
import { RenderPool } from '../src/render/render-pool.js';
import { closeRenderPool, sharedRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { densityVolume, downsampleVolume } from '../src/volume/pyramid.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { correlation, eulerZYX, repositoryRoot, seededRandom } from './helpers.js';
import { assertBitIdentical, euler } from './kernel-helpers.js';

/**
 * A 37×29×23 grid (sizes no block size divides) of 1.3×0.9×2.1 mm voxels at origin (−5, 3, 7),
 * or of 1 mm voxels at the origin: mostly empty, with scattered blobs, a one-voxel line, single
 * voxels on the grid's faces and corners, a negative spot and −0 voxels.
 */
function sparseGrid(isotropic = false): DensityGrid {
  const shape = [37, 29, 23] as const;
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  const at = (i: number, j: number, k: number) => i + shape[0] * (j + shape[1] * k);
  const random = seededRandom(11);
  for (let blob = 0; blob < 6; blob++) {
    const ci = random() * shape[0], cj = random() * shape[1], ck = random() * shape[2], radius = 1 + random() * 3;
    for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++) {
      const distance = Math.hypot(i - ci, j - cj, k - ck);
      if (distance < radius) data[at(i, j, k)] = 0.2 + random();
    }
  }
  for (let i = 3; i < 30; i++) data[at(i, 20, 5)] = 0.5;
  data[at(0, 0, 0)] = 1; data[at(36, 28, 22)] = 2; data[at(0, 14, 22)] = 0.7; data[at(18, 0, 11)] = 0.3;
  data[at(25, 5, 18)] = -0.4; data[at(26, 5, 18)] = -0.4;
  data[at(10, 10, 10)] = -0; data[at(11, 10, 10)] = -0;
  // Isotropic unit voxels at the origin make crossings of different axes tie exactly.
  return isotropic ? densityGridFromArray(data, shape, [1, 1, 1], [0, 0, 0]) : densityGridFromArray(data, shape, [1.3, 0.9, 2.1], [-5, 3, 7]);
}

/**
 * Unit voxels at the origin, 37×29×23, zero outside [5, 30) × [5, 24) × [3, 19) and inside it a
 * checkerboard of 4³ blocks, full ones holding distinct values: empty blocks to skip right next
 * to occupied ones, and an occupied box whose faces tie with voxel planes of other axes.
 */
function checkerGrid(): DensityGrid {
  const shape = [37, 29, 23] as const;
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let k = 3; k < 19; k++) for (let j = 5; j < 24; j++) for (let i = 5; i < 30; i++) {
    if (((i >> 2) + (j >> 2) + (k >> 2)) % 2 === 0) data[i + shape[0] * (j + shape[1] * k)] = 0.5 + ((i * 7 + j * 13 + k * 29) % 17) / 17;
  }
  return densityGridFromArray(data, shape, [1, 1, 1], [0, 0, 0]);
}

/**
 * Rays whose crossings of different axes tie exactly (equal components of the ray give
 * identical crossing values): along the x = y diagonal plane, and through voxel corners.
 */
function tiedRays(): Array<{ name: string; rays: RayGrid }> {
  const make = (name: string, source: number[], firstPixel: number[], rowStep: number[], columnStep: number[], height: number, width: number) =>
    ({ name, rays: { source: Float64Array.from(source), firstPixel: Float64Array.from(firstPixel), rowStep: Float64Array.from(rowStep), columnStep: Float64Array.from(columnStep), height, width } });
  return [
    make('x = y diagonals', [-7, -7, -7], [40, 40, 14], [-1, -1, 0], [0, 0, 1], 14, 14),
    make('x = y diagonals, backwards', [44, 44, 30], [-3, -3, 20], [1, 1, 0], [0, 0, -1], 14, 14),
    make('x = z diagonals from inside', [12, 9, 12], [40, -10, 40], [0, 3, 0], [-2, 0, -2], 12, 12),
    make('through corners', [-3, -2, -4], [33, 34, 32], [1, 1, 1], [-1, -1, -1], 9, 9),
  ];
}

/** Ray grids that graze, tie and miss: along voxel planes and faces, through voxel corners, from inside, and away. */
function awkwardRays(grid: DensityGrid): Array<{ name: string; rays: RayGrid }> {
  const [nx, ny, nz] = grid.shape, [dx, dy, dz] = grid.spacing, [ox, oy, oz] = grid.origin;
  const grids: Array<{ name: string; rays: RayGrid }> = [];
  const make = (name: string, source: number[], firstPixel: number[], rowStep: number[], columnStep: number[], height = 9, width = 9) =>
    grids.push({ name, rays: { source: Float64Array.from(source), firstPixel: Float64Array.from(firstPixel), rowStep: Float64Array.from(rowStep), columnStep: Float64Array.from(columnStep), height, width } });
  // Rays in the planes x = o + 5·dx and z = o + 7·dz (b_x = 0 or b_z = 0 for the first row / column), along voxel faces and edges.
  make('along voxel planes', [ox + 5 * dx, oy - 40, oz + 7 * dz], [ox + 5 * dx, oy + ny * dy + 40, oz + 7 * dz], [dx, 0, 0], [0, 0, dz], 12, 12);
  // The same on the volume's own faces (x = low face, z = high face) and just outside them.
  make('along the volume faces', [ox, oy - 40, oz + nz * dz], [ox, oy + ny * dy + 40, oz + nz * dz], [-dx / 2, 0, 0], [0, 0, -dz / 2]);
  // Diagonals through voxel corners: every crossing is a three-way tie.
  make('through voxel corners', [ox - 3 * dx, oy - 3 * dy, oz - 3 * dz], [ox + (nx + 3) * dx, oy + (ny + 3) * dy, oz + (nz + 3) * dz], [0, dy, 0], [0, 0, dz], 7, 7);
  // Source inside the volume, and pixels inside it.
  make('source inside', [ox + 17.3 * dx, oy + 11.1 * dy, oz + 9.7 * dz], [ox - 20, oy - 10, oz + 80], [2, 0.5, 0], [0.3, 0, -3], 11, 11);
  make('pixels inside', [ox - 60, oy - 50, oz - 40], [ox + 4 * dx, oy + 3 * dy, oz + 2 * dz], [dx * 2.5, 0, 0], [0, dy * 2.5, dz], 10, 10);
  // Missing: pointing away, and passing beside the volume.
  make('pointing away', [ox - 30, oy - 30, oz - 30], [ox - 200, oy - 150, oz - 100], [3, 0, 0], [0, 3, 0]);
  make('passing beside', [ox - 30, oy + ny * dy + 0.5, oz - 30], [ox + nx * dx + 30, oy + ny * dy + 0.5, oz + nz * dz + 30], [0, 1, 0], [1, 0, 0]);
  return grids;
}

type Kernels = {
  name: string;
  forward: (grid: DensityGrid, rays: RayGrid, out: Float32Array, emptySpace: EmptySpace | null) => void;
  gradients: (grid: DensityGrid, rays: RayGrid, out: Float32Array, rayGradients: Float64Array, emptySpace: EmptySpace | null) => void;
};

function trilinearKernels(sampling: TrilinearSampling, label: string): Kernels {
  return {
    name: `trilinear (${label})`,
    forward: (grid, rays, out, emptySpace) => renderTrilinear(grid, rays, sampling, out, 0, 0, rays.height * rays.width, emptySpace),
    gradients: (grid, rays, out, rayGradients, emptySpace) => renderTrilinearWithRayGradients(grid, rays, sampling, out, rayGradients, 0, 0, rays.height * rays.width, emptySpace),
  };
}

const KERNELS: Kernels[] = [
  {
    name: 'Siddon',
    forward: (grid, rays, out, emptySpace) => renderSiddon(grid, rays, out, 0, 0, rays.height * rays.width, emptySpace),
    gradients: (grid, rays, out, rayGradients, emptySpace) => renderSiddonWithRayGradients(grid, rays, out, rayGradients, 0, 0, rays.height * rays.width, emptySpace),
  },
  trilinearKernels({}, 'default step'),
  trilinearKernels({ samplesPerRay: 57 }, '57 samples per ray'),
  {
    name: 'Joseph',
    forward: (grid, rays, out, emptySpace) => renderJoseph(grid, rays, out, 0, 0, rays.height * rays.width, emptySpace),
    gradients: (grid, rays, out, rayGradients, emptySpace) => renderJosephWithRayGradients(grid, rays, out, rayGradients, 0, 0, rays.height * rays.width, emptySpace),
  },
  {
    name: 'Joseph (16-bit storage)',
    forward: (grid, rays, out, emptySpace) => renderJoseph(withCompactStorage(grid, { storage: 'uint16' }), rays, out, 0, 0, rays.height * rays.width, emptySpace),
    gradients: (grid, rays, out, rayGradients, emptySpace) => renderJosephWithRayGradients(withCompactStorage(grid, { storage: 'uint16' }), rays, out, rayGradients, 0, 0, rays.height * rays.width, emptySpace),
  },
];

/** Renders `rays` with and without skipping (and every block size) and asserts identical images and ray gradients. */
function assertSkippingChangesNothing(grid: DensityGrid, rays: RayGrid, kernels: Kernels, what: string, shifts = [1, 2, 3]): { nonZero: number } {
  const count = rays.height * rays.width;
  const image = new Float32Array(count), gradients = new Float64Array(6 * count), gradientImage = new Float32Array(count);
  kernels.forward(grid, rays, image, null);
  kernels.gradients(grid, rays, gradientImage, gradients, null);
  assertBitIdentical(gradientImage, image, `${what}: image with gradients vs without`);
  for (const blockShift of shifts) {
    const emptySpace = buildEmptySpace(grid, { blockShift });
    const skipped = new Float32Array(count), skippedGradients = new Float64Array(6 * count), skippedGradientImage = new Float32Array(count);
    kernels.forward(grid, rays, skipped, emptySpace);
    kernels.gradients(grid, rays, skippedGradientImage, skippedGradients, emptySpace);
    assertBitIdentical(skipped, image, `${what}, blocks of ${1 << blockShift}: image`);
    assertBitIdentical(skippedGradientImage, image, `${what}, blocks of ${1 << blockShift}: image (gradient pass)`);
    assertBitIdentical(skippedGradients, gradients, `${what}, blocks of ${1 << blockShift}: ray gradients`);
  }
  return { nonZero: image.filter((value) => value !== 0).length };
}

describe('empty-space skipping changes no value', () => {
  let example: DRR;
  before(() => { example = new DRR(loadExampleCT(), { sdr: 300, height: 36, width: 32, delx: 22, threads: 1, emptySpaceSkipping: false }); });

  for (const kernels of KERNELS) {
    test(`${kernels.name}: images and ray gradients bit-identical on the example CT at several poses`, () => {
      const [x, y, z] = example.center;
      const poses = [euler(Math.PI, 0, Math.PI / 2, [x, y, z]), euler(Math.PI / 2, 0, Math.PI / 2, [x, y, z]), euler(2.3, 0.5, 1.0, [x + 20, y - 15, z + 30]), euler(0.4, -0.7, 2.2, [x - 80, y + 60, z - 40])];
      let nonZero = 0;
      for (const pose of poses) nonZero += assertSkippingChangesNothing(example.grid, example.rays(pose), kernels, 'example CT', [2]).nonZero;
      assert.ok(nonZero > 1000, `only ${nonZero} non-zero pixels`);
    });

    test(`${kernels.name}: bit-identical on a sparse volume at random poses, for 2-, 4- and 8-voxel blocks`, () => {
      const grid = sparseGrid();
      const detector = createDetector({ sdr: 120, height: 23, width: 19, delx: 3.1, dely: 2.7 });
      const random = seededRandom(5);
      let nonZero = 0;
      for (let trial = 0; trial < 6; trial++) {
        const rotation = eulerZYX((random() - 0.5) * 6.3, (random() - 0.5) * 3, (random() - 0.5) * 6.3);
        const translation = Float64Array.of(19 + (random() - 0.5) * 30, 16 + (random() - 0.5) * 20, 31 + (random() - 0.5) * 40);
        nonZero += assertSkippingChangesNothing(grid, rayGridForPose(detector, { rotation, translation }), kernels, `sparse volume, pose ${trial}`).nonZero;
      }
      assert.ok(nonZero > 100, `only ${nonZero} non-zero pixels`);
    });

    test(`${kernels.name}: bit-identical for rays that graze, tie, start or end inside, and miss`, () => {
      for (const isotropic of [false, true]) {
        const grid = sparseGrid(isotropic);
        for (const { name, rays } of awkwardRays(grid)) {
          const { nonZero } = assertSkippingChangesNothing(grid, rays, kernels, `${name}${isotropic ? ' (unit voxels)' : ''}`);
          if (name === 'pointing away' || name === 'passing beside') assert.equal(nonZero, 0, `${name}: rays that miss must be 0`);
        }
      }
      const checker = checkerGrid();
      for (const { name, rays } of [...tiedRays(), ...awkwardRays(checker)]) assertSkippingChangesNothing(checker, rays, kernels, `${name} (checkerboard)`);
    });
  }

  test('an all-zero volume renders zeros with skipping', () => {
    const grid = densityGridFromArray(new Float32Array(8 * 9 * 10), [8, 9, 10], [1, 1, 1]);
    const rays = rayGridForPose(createDetector({ sdr: 50, height: 5, delx: 2 }), { rotation: eulerZYX(0.3, 0.2, 0.1), translation: Float64Array.of(4, 4.5, 5) });
    for (const kernels of KERNELS) assertSkippingChangesNothing(grid, rays, kernels, `${kernels.name}, all zero`);
  });

  test('the octant fields give the largest empty cube from each block in each direction (against brute force)', () => {
    const [nx, ny, nz] = [7, 6, 5];
    const random = seededRandom(2);
    const occupancy = new Uint8Array(nx * ny * nz).map(() => (random() < 0.12 ? 0 : 1));
    const fields = octantCubeSizes(occupancy, nx, ny, nz);
    const count = nx * ny * nz;
    for (let octant = 0; octant < 8; octant++) {
      const sign = [octant & 1 ? 1 : -1, octant & 2 ? 1 : -1, octant & 4 ? 1 : -1];
      for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
        // Once the cube covers the grid's whole forward part, the size is unbounded: stored as 255.
        const largest = Math.max(nx, ny, nz);
        let size = 0;
        grow: for (; size <= largest; size++) {
          // Does the cube of side size + 1 stay empty? Check its new shell (blocks outside the grid are empty).
          for (let c = 0; c <= size; c++) for (let b = 0; b <= size; b++) for (let a = 0; a <= size; a++) {
            if (a !== size && b !== size && c !== size) continue;
            const bi = i + sign[0] * a, bj = j + sign[1] * b, bk = k + sign[2] * c;
            if (bi < 0 || bj < 0 || bk < 0 || bi >= nx || bj >= ny || bk >= nz) continue;
            if (occupancy[bi + nx * (bj + ny * bk)] === 0) break grow;
          }
        }
        assert.equal(fields[octant * count + i + nx * (j + ny * k)], size > largest ? 255 : size, `octant ${octant}, block ${i},${j},${k}`);
      }
    }
  });

  test('the occupied boxes bound the non-zero voxels (and their half-voxel trilinear support)', () => {
    const emptySpace = buildEmptySpace(sparseGrid());
    assert.deepEqual(Array.from(emptySpace.voxelBounds), [0, 0, 0, 37, 29, 23]);
    assert.deepEqual(Array.from(emptySpace.cellBounds), [0, 0, 0, 38, 30, 24]);
    const small = new Float32Array(10 * 10 * 10);
    small[3 + 10 * (4 + 10 * 5)] = 1;
    const box = buildEmptySpace(densityGridFromArray(small, [10, 10, 10], [1, 1, 1]));
    assert.deepEqual(Array.from(box.voxelBounds), [3, 4, 5, 4, 5, 6]);
    assert.deepEqual(Array.from(box.cellBounds), [3, 4, 5, 5, 6, 7]);
  });
});

describe('worker threads change no value', () => {
  after(() => closeRenderPool());

  for (const renderer of ['siddon', 'trilinear'] as const) {
    test(`${renderer}: 1, 2 and 3 threads give bit-identical images and ray gradients; the workers take part`, async () => {
      const volume = loadExampleCT();
      const options = { sdr: 300, height: 40, width: 44, delx: 20, renderer };
      const [x, y, z] = new DRR(volume, { ...options, threads: 1 }).center;
      const poses = [euler(Math.PI, 0, Math.PI / 2, [x, y, z]), euler(2.3, 0.5, 1.0, [x + 20, y - 15, z + 30]), euler(0.4, -0.7, 2.2, [x - 80, y + 60, z - 40])];
      const single = new DRR(volume, { ...options, threads: 1 });
      const expectedImages = single.render(poses);
      const expectedGradients = poses.map((pose) => Float64Array.from(single.renderWithRayGradients(pose).rayGradients));
      const unskipped = new DRR(volume, { ...options, threads: 1, emptySpaceSkipping: false });
      assertBitIdentical(unskipped.render(poses), expectedImages, 'skipping off vs on, 1 thread');
      for (const threads of [2, 3]) {
        const drr = new DRR(volume, { ...options, threads });
        const pool = sharedRenderPool()!;
        const before = pool.workerChunks;
        // Workers start on the first render; keep rendering until they have taken part.
        for (let round = 0; round < 200 && pool.workerChunks === before; round++) {
          assertBitIdentical(drr.render(poses), expectedImages, `${threads} threads: images`);
          poses.forEach((pose, index) => {
            const { image, rayGradients } = drr.renderWithRayGradients(pose);
            assertBitIdentical(image, expectedImages.subarray(index * drr.pixelCount, (index + 1) * drr.pixelCount), `${threads} threads: image of pose ${index} (gradient pass)`);
            assertBitIdentical(rayGradients, expectedGradients[index], `${threads} threads: ray gradients of pose ${index}`);
          });
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.ok(pool.workerChunks > before, `${threads} threads: no worker rendered anything`);
        drr.dispose();
        // Still usable after dispose (re-registers with the pool).
        assertBitIdentical(drr.render(poses), expectedImages, `${threads} threads after dispose`);
        drr.dispose();
      }
    });
  }

  test('ray gradient buffers are reused across calls', () => {
    const drr = new DRR(loadExampleCT({}), { sdr: 300, height: 8, delx: 100, threads: 2 });
    const pose = euler(Math.PI, 0, Math.PI / 2, drr.center);
    const first = drr.renderWithRayGradients(pose), second = drr.renderWithRayGradients(pose);
    assert.equal(first.rayGradients, second.rayGradients);
    assert.notEqual(first.image, second.image);
    assert.ok(first.rayGradients.buffer instanceof SharedArrayBuffer);
    drr.dispose();
  });

  test('workers that fail to start leave renders correct, on the calling thread', async () => {
    const grid = sparseGrid();
    const rays = rayGridForPose(createDetector({ sdr: 120, height: 20, delx: 3 }), { rotation: eulerZYX(0.3, 0.2, 0.1), translation: Float64Array.of(19, 16, 31) });
    const expected = new Float32Array(400);
    renderSiddon(grid, rays, expected);
    const pool = new RenderPool((onFailure) => {
      const worker = new Worker('throw new Error("no render worker here")', { eval: true });
      worker.unref();
      worker.on('error', onFailure);
      return worker;
    });
    pool.ensureWorkers(2);
    const context = { grid, emptySpace: null, settings: { renderer: 'siddon' as const, sampling: {} }, image: new Float32Array(new SharedArrayBuffer(1600)), rayGradients: null };
    const id = pool.register(context);
    for (let round = 0; round < 20 && pool.usable; round++) {
      context.image.fill(NaN);
      pool.render(id, rays, false, 2);
      assertBitIdentical(context.image, expected, `round ${round}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(pool.failure !== null, 'the failure was not noticed');
    context.image.fill(NaN);
    pool.render(id, rays, false, 2);
    assertBitIdentical(context.image, expected, 'after the failure');
    pool.close();
  });

  test('a process that rendered with worker threads exits by itself, and after closeRenderPool', () => {
    const root = repositoryRoot();
    const script = `
      import { DRR } from ${JSON.stringify(path.join(root, 'dist/src/drr.js'))};
      import { closeRenderPool } from ${JSON.stringify(path.join(root, 'dist/src/render/worker-platform.js'))};
      import { loadExampleCT } from ${JSON.stringify(path.join(root, 'dist/src/volume/example-ct.js'))};
      const drr = new DRR(loadExampleCT(), { sdr: 300, height: 32, delx: 25, threads: 2 });
      const pose = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' };
      for (let i = 0; i < 20; i++) drr.render(pose);
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 20; i++) drr.renderWithRayGradients(pose);
      if (process.argv[2] === 'close') { closeRenderPool(); drr.render(pose); }
      console.log('rendered');`;
    for (const mode of ['leave', 'close']) {
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, mode], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(result.signal, null, `${mode}: the process did not exit (killed by ${result.signal})`);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /rendered/);
    }
  });
});

describe('volume pyramids', () => {
  let volume: Volume;
  before(() => { volume = loadExampleCT(); });

  test('downsampling keeps the physical extent, averages blocks, and handles sizes the factor does not divide', () => {
    for (const factor of [2, 3, 4]) {
      const coarse = downsampleVolume(volume, factor);
      for (let axis = 0; axis < 3; axis++) {
        assert.equal(coarse.shape[axis], Math.ceil(volume.shape[axis] / factor));
        assert.ok(Math.abs(coarse.shape[axis] * coarse.spacing[axis] - volume.shape[axis] * volume.spacing[axis]) < 1e-9, `axis ${axis}: extent changed`);
      }
    }
    // 5×4×3 of values i + 10j + 100k, halved: divisible axes average pairs; the odd axis straddles.
    const data = new Float32Array(5 * 4 * 3);
    for (let k = 0; k < 3; k++) for (let j = 0; j < 4; j++) for (let i = 0; i < 5; i++) data[i + 5 * (j + 4 * k)] = i + 10 * j + 100 * k;
    const small = downsampleVolume(createVolume({ data, shape: [5, 4, 3], spacing: [1, 2, 3] }), 2);
    assert.deepEqual(small.shape, [3, 2, 2]);
    assert.deepEqual(small.spacing, [5 / 3, 4, 4.5]);
    // Coarse i covers fine [0, 5/3), [5/3, 10/3), [10/3, 5); coarse j pairs; coarse k covers [0, 1.5), [1.5, 3).
    const expectI = [(1 * 0 + (2 / 3) * 1) / (5 / 3), ((1 / 3) * 1 + 1 * 2 + (1 / 3) * 3) / (5 / 3), ((2 / 3) * 3 + 1 * 4) / (5 / 3)];
    const expectJ = [5, 25], expectK = [(1 * 0 + 0.5 * 100) / 1.5, (0.5 * 100 + 1 * 200) / 1.5];
    for (let k = 0; k < 2; k++) for (let j = 0; j < 2; j++) for (let i = 0; i < 3; i++) {
      const actual = small.data[i + 3 * (j + 2 * k)], expected = expectI[i] + expectJ[j] + expectK[k];
      assert.ok(Math.abs(actual - expected) < 1e-4, `voxel ${i},${j},${k}: ${actual} vs ${expected}`);
    }
    assert.equal(downsampleVolume(volume, 1), volume);
    assert.throws(() => downsampleVolume(volume, 1.5), /whole number/);
  });

  test('the DRR of a 2× and 4× downsampled example CT matches the full one (NCC > 0.98), on a matching smaller detector', () => {
    const poses = [[Math.PI, 0, Math.PI / 2], [Math.PI / 2, 0, Math.PI / 2], [2.3, 0.5, 1.0]];
    const full = new DRR(volume, { sdr: 300, height: 100, delx: 8, threads: 1 });
    const densities = densityVolume(volume);
    for (const factor of [2, 4]) {
      const options = { sdr: 300, height: 100 / factor, delx: 8 * factor, threads: 1 };
      const byHounsfield = new DRR(downsampleVolume(volume, factor), options);
      const byDensity = new DRR(downsampleVolume(densities, factor), { ...options, density: 'raw' });
      for (const rotation of poses) {
        const pose = euler(rotation[0], rotation[1], rotation[2], full.center);
        // The full DRR binned to the coarse detector.
        const fine = full.render(pose), binned = new Float32Array(byHounsfield.pixelCount);
        const side = 100 / factor;
        for (let r = 0; r < 100; r++) for (let c = 0; c < 100; c++) binned[Math.floor(r / factor) * side + Math.floor(c / factor)] += fine[r * 100 + c] / (factor * factor);
        const hounsfieldScore = correlation(byHounsfield.render(pose), binned), densityScore = correlation(byDensity.render(pose), binned);
        assert.ok(hounsfieldScore > 0.98, `factor ${factor}, rotation ${rotation}: NCC ${hounsfieldScore} (HU averaged)`);
        assert.ok(densityScore > 0.99, `factor ${factor}, rotation ${rotation}: NCC ${densityScore} (densities averaged)`);
      }
    }
  });
});
