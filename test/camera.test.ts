import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { PinholeCamera, SeedCamera, type Camera } from '../src/geometry/camera.js';
import type { RayGrid } from '../src/geometry/detector.js';
import { multiplyMatrix3, transposeMatrix3, applyMatrix3 } from '../src/geometry/matrix3.js';
import type { RigidTransform } from '../src/geometry/rigid-transform.js';
import { parseView, viewPose } from '../src/geometry/views.js';
import { binImage } from '../src/registration/strategy.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { createVolume } from '../src/volume/volume.js';
import { correlation, eulerZYX, relativeL2 } from './helpers.js';

const pose: RigidTransform = { rotation: eulerZYX(2.9, 0.2, 1.4), translation: Float64Array.of(170, 185, 160) };

/** Largest absolute difference between the twelve numbers of two ray grids. */
function rayDifference(a: RayGrid, b: RayGrid): number {
  let worst = 0;
  for (const key of ['source', 'firstPixel', 'rowStep', 'columnStep'] as const) {
    for (let axis = 0; axis < 3; axis++) worst = Math.max(worst, Math.abs(a[key][axis] - b[key][axis]));
  }
  return worst;
}

/** The world position of pixel (row, column) of a ray grid. */
function pixelPoint(rays: RayGrid, row: number, column: number): number[] {
  return [0, 1, 2].map((axis) => rays.firstPixel[axis] + row * rays.rowStep[axis] + column * rays.columnStep[axis]);
}

describe('cameras', () => {
  const seed = new SeedCamera({ sdr: 300, height: 30, width: 26, delx: 7, dely: 9, x0: 4, y0: -3, reverseXAxis: true });
  const pinhole = new PinholeCamera({ sdd: 900, height: 30, width: 26, delx: 2.5, dely: 3, x0: 5, y0: -2, reverseXAxis: true, orientation: 'PA' });
  const cameras: Array<[string, Camera]> = [['seed', seed], ['pinhole', pinhole]];

  test('a pinhole camera placed like a seed C-arm gives the same rays and the same image', () => {
    const sdr = 300;
    const seedCamera = new SeedCamera({ sdr, height: 40, width: 36, delx: 12, dely: 11 });
    // Seed camera: source (sdr, 0, 0), rows +y (delx), columns +z (dely), detector x = −sdr.
    // Pinhole ('none'): source at 0, columns +x (delx), rows +y (dely), detector z = sdd.
    const pinholeCamera = new PinholeCamera({ sdd: 2 * sdr, height: 40, width: 36, delx: 11, dely: 12, orientation: 'none' });
    const m = Float64Array.of(0, 0, -1, 0, 1, 0, 1, 0, 0); // pinhole camera axes → seed camera axes
    const rotation = multiplyMatrix3(pose.rotation, m);
    const source = applyMatrix3(pose.rotation, [sdr, 0, 0]);
    const q = [source[0] + pose.translation[0], source[1] + pose.translation[1], source[2] + pose.translation[2]];
    const pinholePose = { rotation, translation: applyMatrix3(transposeMatrix3(rotation), q) };
    assert.ok(rayDifference(seedCamera.rays(pose), pinholeCamera.rays(pinholePose)) < 1e-9);
    const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
    for (const renderer of ['siddon', 'trilinear'] as const) {
      const a = new DRR(volume, { camera: seedCamera, renderer, threads: 1 }).render(pose);
      const b = new DRR(volume, { camera: pinholeCamera, frame: 'seed', renderer, threads: 1 }).render(pinholePose);
      assert.ok(relativeL2(b, a) < 1e-6, `${renderer}: relative L2 ${relativeL2(b, a)}`);
    }
  });

  for (const [name, camera] of cameras) {
    test(`${name}: cropped, binned and subdivided cameras put pixels where the full camera has them`, () => {
      const full = camera.rays(pose);
      const crop = camera.cropped({ row: 5, column: 3, height: 11, width: 17 }).rays(pose);
      assert.equal(crop.height, 11);
      assert.ok(Math.max(...pixelPoint(crop, 2, 4).map((value, axis) => Math.abs(value - pixelPoint(full, 7, 7)[axis]))) < 1e-9);
      assert.ok(rayDifference({ ...crop, firstPixel: Float64Array.from(pixelPoint(full, 5, 3)) }, crop) < 1e-9);
      const binned = camera.binned(4).rays(pose);
      assert.deepEqual([binned.height, binned.width], [7, 6]);
      // Binned pixel (1, 2) is the mean of full pixels rows 4…7, columns 8…11.
      const mean = [0, 0, 0];
      for (let r = 4; r < 8; r++) for (let c = 8; c < 12; c++) pixelPoint(full, r, c).forEach((value, axis) => { mean[axis] += value / 16; });
      assert.ok(Math.max(...pixelPoint(binned, 1, 2).map((value, axis) => Math.abs(value - mean[axis]))) < 1e-9);
      assert.ok(rayDifference(camera.subdivided(3).binned(3).rays(pose), full) < 1e-9);
      assert.throws(() => camera.cropped({ row: 25, column: 0, height: 10, width: 5 }), /not inside/);
    });
  }
});

describe('one DRR for every camera', () => {
  const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
  const setups = [
    { name: 'seed', options: { sdr: 300, height: 24, width: 20, delx: 16, dely: 18 }, pose },
    { name: 'pinhole', options: { sdd: 1000, height: 24, width: 20, delx: 8, dely: 7, orientation: 'AP' as const }, pose: { rotation: eulerZYX(0.2, -0.1, 0.15), translation: Float64Array.of(5, 520, -8) } },
  ];

  for (const { name, options, pose: at } of setups) {
    test(`${name}: sparse renders equal the full render at the listed pixels, with matching gradients, on any thread count`, () => {
      const full = new DRR(volume, { ...options, threads: 1 });
      const image = full.render(at);
      const pixels = [0, 7, 33, 101, 250, 479];
      for (const threads of [1, 2]) {
        const drr = new DRR(volume, { ...options, threads });
        drr.render(at); // the second render skips empty space
        const sparse = drr.render(at, { pixels });
        for (let pixel = 0; pixel < image.length; pixel++) assert.equal(sparse[pixel], pixels.includes(pixel) ? image[pixel] : 0);
        const weights = new Float64Array(image.length).map((_, index) => Math.sin(index));
        const dense = full.renderWithRayGradients(at);
        const masked = weights.map((value, index) => (pixels.includes(index) ? value : 0));
        const expected = full.transformGradient(at, dense.rayGradients, masked);
        const sparseRender = drr.renderWithRayGradients(at, { pixels });
        const got = drr.transformGradient(at, sparseRender.rayGradients, weights, { pixels });
        for (let k = 0; k < 9; k++) assert.ok(Math.abs(got.rotation[k] - expected.rotation[k]) <= 1e-9 * (1 + Math.abs(expected.rotation[k])));
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(got.translation[k] - expected.translation[k]) <= 1e-9 * (1 + Math.abs(expected.translation[k])));
        drr.dispose();
      }
    });

    test(`${name}: a regional render equals that part of the full image`, () => {
      const drr = new DRR(volume, { ...options, threads: 1 });
      const image = drr.render(at);
      const region = { row: 3, column: 5, height: 9, width: 11 };
      const part = drr.render(at, { region });
      assert.equal(part.length, 99);
      let worst = 0, scale = 0;
      for (let r = 0; r < 9; r++) for (let c = 0; c < 11; c++) {
        const expected = image[(r + 3) * drr.camera.width + c + 5];
        worst = Math.max(worst, Math.abs(part[r * 11 + c] - expected));
        scale = Math.max(scale, Math.abs(expected));
      }
      assert.ok(worst <= 1e-5 * scale, `largest difference ${worst} of ${scale}`);
    });

    test(`${name}: a coarsened DRR renders the binned image`, () => {
      const drr = new DRR(volume, { ...options, threads: 1 });
      const coarse = drr.coarsened(2);
      assert.deepEqual([coarse.camera.height, coarse.camera.width], [12, 10]);
      const binned = binImage(drr.render(at), 24, 20, 2).data;
      const rendered = coarse.render(at);
      assert.ok(correlation(rendered, binned) > 0.98, `NCC ${correlation(rendered, binned)}`);
    });
  }

  test('maximum-intensity projection: the densest voxel on each ray, 0 off the volume, no gradient', () => {
    // A 20×20×20 volume of 1 with a 4×4×4 block of 5: rays through the block see 5, others 1.
    const data = new Float32Array(20 * 20 * 20).fill(1);
    for (let k = 8; k < 12; k++) for (let j = 8; j < 12; j++) for (let i = 8; i < 12; i++) data[i + 20 * (j + 20 * k)] = 5;
    const cube = createVolume({ data, shape: [20, 20, 20], spacing: [2, 2, 2] });
    for (const renderer of ['siddon', 'trilinear'] as const) {
      const drr = new DRR(cube, { sdr: 500, height: 21, delx: 8, renderer, reduce: 'max', density: 'raw', threads: 1, sampling: { stepMm: 0.25 } });
      const image = drr.render({ rotation: eulerZYX(0, 0, 0), translation: Float64Array.of(20, 20, 20) });
      assert.ok(Math.abs(image[10 * 21 + 10] - 5) < 1e-6, `${renderer}: centre ${image[10 * 21 + 10]}`);
      assert.ok(Math.abs(image[7 * 21 + 7] - 1) < 1e-6, `${renderer}: off the block ${image[7 * 21 + 7]}`);
      assert.equal(image[0], 0, `${renderer}: a ray that misses the volume`);
      assert.throws(() => drr.renderWithRayGradients({ rotation: eulerZYX(0, 0, 0), translation: Float64Array.of(20, 20, 20) }), /maximum-intensity/);
    }
  });
});

describe('named C-arm views', () => {
  test('AP with the AP orientation is the identity pose; PA and laterals put the source where they say', () => {
    const ap = viewPose('AP', 'AP', 500);
    assert.ok(Math.max(...ap.rotation.map((value, index) => Math.abs(value - [1, 0, 0, 0, 1, 0, 0, 0, 1][index]))) < 1e-12);
    assert.ok(Math.abs(ap.translation[1] - 500) < 1e-9);
    const camera = new PinholeCamera({ sdd: 1000, height: 10, delx: 1, orientation: 'AP' });
    const source = (view: string) => camera.rays(viewPose(view, 'AP', 500)).source;
    assert.ok(source('PA')[1] < -499, 'PA: source posterior');
    assert.ok(source('LL')[0] > 499, 'left lateral: detector on the left, source on the right (RAS +x)');
    assert.ok(source('RL')[0] < -499, 'right lateral: source on the left');
    assert.ok(source('CRA30')[2] < -200, 'cranial tilt: detector towards the head, source towards the feet');
    assert.deepEqual(parseView('rao20-cau10'), { primaryDegrees: -20, secondaryDegrees: -10 });
    assert.throws(() => parseView('LAO'), /unknown view/);
    assert.throws(() => parseView('LAO30LAO20'), /two primary/);
  });
});
