import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDetector, rayGridForPose } from '../src/geometry/detector.js';
import { densityGridFromArray, type DensityGrid } from '../src/render/density-grid.js';
import { renderSiddon } from '../src/render/siddon.js';
import { renderTrilinear } from '../src/render/trilinear.js';
import { eulerZYX, seededRandom } from './helpers.js';
import { boxPhantom, chordInBox, chordInSphere } from './kernel-helpers.js';

/** A sphere voxelised with partial-volume fractions (4³ sub-samples in boundary voxels). */
function spherePhantom(radius: number, density: number): { grid: DensityGrid; centre: number[] } {
  const n = 96, spacing = 1, origin = [0, 0, 0];
  const centre = [48.3, 47.6, 48.1];
  const data = new Float32Array(n * n * n);
  const sub = 4;
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++) {
        const distance = Math.hypot(i + 0.5 - centre[0], j + 0.5 - centre[1], k + 0.5 - centre[2]);
        let fraction: number;
        if (distance < radius - 0.9) fraction = 1;
        else if (distance > radius + 0.9) fraction = 0;
        else {
          let inside = 0;
          for (let c = 0; c < sub; c++) for (let b = 0; b < sub; b++) for (let a = 0; a < sub; a++) {
            const x = i + (a + 0.5) / sub, y = j + (b + 0.5) / sub, z = k + (c + 0.5) / sub;
            if (Math.hypot(x - centre[0], y - centre[1], z - centre[2]) < radius) inside++;
          }
          fraction = inside / sub ** 3;
        }
        data[i + n * (j + n * k)] = fraction * density;
      }
  return { grid: densityGridFromArray(data, [n, n, n], [spacing, spacing, spacing], origin as [number, number, number]), centre };
}

const obliquePoses = (() => {
  const random = seededRandom(7);
  const poses = [];
  for (let p = 0; p < 5; p++) {
    poses.push({ a: (random() - 0.5) * 2 * Math.PI, b: (random() - 0.5) * Math.PI * 0.9, c: (random() - 0.5) * 2 * Math.PI, jitter: [random() - 0.5, random() - 0.5, random() - 0.5] });
  }
  return poses;
})();

describe('Siddon renderer', () => {
  test('line integrals through a uniform box equal chord length × density (1e-4 relative) at oblique poses', () => {
    const { grid, low, high } = boxPhantom(0.8);
    const detector = createDetector({ sdr: 200, height: 41, width: 37, delx: 2.1, dely: 1.9 });
    const centre = [0, 1, 2].map((axis) => (low[axis] + high[axis]) / 2);
    let checked = 0;
    for (const pose of obliquePoses) {
      const rotation = eulerZYX(pose.a, pose.b, pose.c);
      const translation = Float64Array.from(centre.map((value, axis) => value + pose.jitter[axis] * 10));
      const rays = rayGridForPose(detector, { rotation, translation });
      const image = new Float32Array(detector.height * detector.width);
      renderSiddon(grid, rays, image);
      for (let r = 0; r < detector.height; r++) for (let c = 0; c < detector.width; c++) {
        const pixel = [0, 1, 2].map((axis) => rays.firstPixel[axis] + r * rays.rowStep[axis] + c * rays.columnStep[axis]);
        const b = pixel.map((value, axis) => value - rays.source[axis]);
        const expected = 0.8 * chordInBox(rays.source, b, low, high);
        const actual = image[r * detector.width + c];
        if (expected > 1) { assert.ok(Math.abs(actual - expected) <= 1e-4 * expected, `pixel ${r},${c}: ${actual} vs ${expected}`); checked++; }
        else assert.ok(Math.abs(actual - expected) <= 1e-4 * 0.8 * 100, `grazing pixel ${r},${c}: ${actual} vs ${expected}`);
      }
    }
    assert.ok(checked > 2000, `only ${checked} rays crossed the box`);
  });

  test('axis-aligned rays and rays that miss the volume', () => {
    const { grid, low, high } = boxPhantom(1);
    const detector = createDetector({ sdr: 500, height: 5, delx: 1 });
    // Identity rotation: rays run along −x through the box centre; the centre pixel's ray is axis-parallel.
    const translation = Float64Array.of((low[0] + high[0]) / 2, (low[1] + high[1]) / 2, (low[2] + high[2]) / 2);
    const image = new Float32Array(25);
    renderSiddon(grid, rayGridForPose(detector, { rotation: eulerZYX(0, 0, 0), translation }), image);
    assert.ok(Math.abs(image[12] - (high[0] - low[0])) < 1e-9, `centre ray ${image[12]}`);
    // Far away: every ray misses.
    renderSiddon(grid, rayGridForPose(detector, { rotation: eulerZYX(0, 0, 0), translation: Float64Array.of(0, 5000, 0) }), image);
    assert.ok(image.every((value) => value === 0));
  });
});

describe('trilinear renderer', () => {
  test('line integrals through a uniform sphere equal chord length × density (0.5%) at oblique poses', () => {
    const radius = 40;
    const { grid, centre } = spherePhantom(radius, 0.6);
    const detector = createDetector({ sdr: 150, height: 24, width: 24, delx: 4 });
    let checked = 0;
    for (const pose of obliquePoses.slice(0, 3)) {
      const rotation = eulerZYX(pose.a, pose.b, pose.c);
      const translation = Float64Array.from(centre.map((value, axis) => value + pose.jitter[axis] * 8));
      const rays = rayGridForPose(detector, { rotation, translation });
      const image = new Float32Array(detector.height * detector.width);
      renderTrilinear(grid, rays, { stepMm: 0.25 }, image);
      for (let r = 0; r < detector.height; r++) for (let c = 0; c < detector.width; c++) {
        const pixel = [0, 1, 2].map((axis) => rays.firstPixel[axis] + r * rays.rowStep[axis] + c * rays.columnStep[axis]);
        const b = pixel.map((value, axis) => value - rays.source[axis]);
        const chord = chordInSphere(rays.source, b, centre, radius);
        if (chord < 0.6 * 2 * radius) continue; // keep rays well inside the sphere (impact parameter ≲ 0.8 R)
        const expected = 0.6 * chord, actual = image[r * detector.width + c];
        assert.ok(Math.abs(actual - expected) <= 0.005 * expected, `pixel ${r},${c}: ${actual} vs ${expected}`);
        checked++;
      }
    }
    assert.ok(checked > 300, `only ${checked} rays checked`);
  });

  test('a fixed number of samples per ray converges to the same integral', () => {
    const { grid, low, high } = boxPhantom(1);
    const detector = createDetector({ sdr: 300, height: 9, delx: 3 });
    const translation = Float64Array.of((low[0] + high[0]) / 2, (low[1] + high[1]) / 2, (low[2] + high[2]) / 2);
    const rays = rayGridForPose(detector, { rotation: eulerZYX(0.3, 0.2, 0.1), translation });
    const fine = new Float32Array(81), fixed = new Float32Array(81);
    renderTrilinear(grid, rays, { stepMm: 0.1 }, fine);
    renderTrilinear(grid, rays, { samplesPerRay: 2000 }, fixed);
    for (let p = 0; p < 81; p++) assert.ok(Math.abs(fine[p] - fixed[p]) <= 1e-3 * Math.max(1, fine[p]), `pixel ${p}`);
  });
});
