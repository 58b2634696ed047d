import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { poseFromParameters, type PoseParameters } from '../src/geometry/pose.js';
import { applyProjectionMatrix, projectionMatrix, projectPoint, unprojectPixel } from '../src/geometry/projection.js';
import { cameraToWorld, createWorldDetector, intrinsicMatrix, orientationMatrix, poseFromCameraToWorld } from '../src/geometry/world-camera.js';
import { voxelToWorld, worldToVoxel, volumeFrame } from '../src/geometry/world-frame.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { WorldDRR } from '../src/world-drr.js';
import { eulerZYX, seededRandom } from './helpers.js';

/** Row-major affine from a rotation (row-major), spacing and origin. */
function affineOf(rotation: ArrayLike<number>, spacing: number[], origin: number[]): Float64Array {
  const affine = new Float64Array(16);
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) affine[4 * row + column] = rotation[3 * row + column] * spacing[column];
    affine[4 * row + 3] = origin[row];
  }
  affine[15] = 1;
  return affine;
}

const MARKERS: [number, number, number][] = [[7, 30, 22], [33, 11, 9], [20, 21, 31], [36, 34, 36]];

/** A zero volume with single-voxel markers at asymmetric places, on an oblique grid. */
function markerVolume(): Volume {
  const shape: [number, number, number] = [40, 42, 44];
  const spacing = [1.2, 1, 0.9];
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  MARKERS.forEach(([i, j, k], index) => { data[i + shape[0] * (j + shape[1] * k)] = 10 + index; });
  const rotation = eulerZYX(0.4, -0.3, 0.7);
  return createVolume({ data, shape, spacing: [spacing[0], spacing[1], spacing[2]], affine: affineOf(rotation, spacing, [-14, 25, -3]), source: 'markers' });
}

/** Intensity-weighted centroid of the image in a (2r+1)² window around (row, column). */
function centroid(image: Float32Array, width: number, height: number, row: number, column: number, radius = 4): { row: number; column: number; sum: number } {
  let sum = 0, sumRow = 0, sumColumn = 0;
  for (let r = Math.round(row) - radius; r <= Math.round(row) + radius; r++) {
    for (let c = Math.round(column) - radius; c <= Math.round(column) + radius; c++) {
      if (r < 0 || c < 0 || r >= height || c >= width) continue;
      const value = image[r * width + c];
      sum += value; sumRow += value * r; sumColumn += value * c;
    }
  }
  return { row: sumRow / sum, column: sumColumn / sum, sum };
}

describe('world geometry: oblique volumes render where the projection helpers say', () => {
  const volume = markerVolume();
  const poses: PoseParameters[] = [
    { rotation: Float64Array.of(0, 0, 0), translation: Float64Array.of(0, 400, 0), parameterization: 'euler_angles', convention: 'ZYX' },
    { rotation: Float64Array.of(0.6, 0.2, -0.4), translation: Float64Array.of(12, 380, -9), parameterization: 'euler_angles', convention: 'ZYX' },
  ];
  for (const orientation of ['AP', 'PA', 'none'] as const) {
    for (const [index, pose] of poses.entries()) {
      test(`${orientation}, pose ${index}: every marker lands within 0.5 pixel of its projection`, () => {
        const [x, y, z] = pose.translation; // written for AP: the source in front of the patient
        const translation = orientation === 'none' ? Float64Array.of(x, z, -y) : orientation === 'PA' ? Float64Array.of(x, -y, z) : pose.translation;
        const drr = new WorldDRR(volume, { sdd: 800, height: 96, width: 110, delx: 2.2, dely: 1.8, x0: 3, y0: -2, orientation, density: 'raw' });
        const posed = { ...pose, translation };
        const image = drr.render(posed);
        const frame = volumeFrame(volume.affine, volume.shape);
        const transform = poseFromParameters(posed);
        const matrix = projectionMatrix(drr.detector, transform);
        for (const marker of MARKERS) {
          const world = voxelToWorld(frame, marker);
          const predicted = drr.project(posed, world);
          const viaMatrix = applyProjectionMatrix(matrix, world);
          assert.ok(Math.abs(viaMatrix[0] - predicted[0]) < 1e-9 && Math.abs(viaMatrix[1] - predicted[1]) < 1e-9, 'P·X disagrees with the ray-grid projection');
          const found = centroid(image, 110, 96, predicted[0], predicted[1]);
          assert.ok(found.sum > 5, `no marker near (${predicted[0].toFixed(2)}, ${predicted[1].toFixed(2)})`);
          const error = Math.hypot(found.row - predicted[0], found.column - predicted[1]);
          assert.ok(error < 0.5, `marker ${marker}: centroid (${found.row.toFixed(3)}, ${found.column.toFixed(3)}) vs predicted (${predicted[0].toFixed(3)}, ${predicted[1].toFixed(3)}): ${error.toFixed(3)} px`);
        }
      });
    }
  }

  test('AP: the patient\'s right is on the image\'s left and the head at the top; PA mirrors left and right', () => {
    const shape: [number, number, number] = [21, 21, 21];
    /** The pixel (row, column) where a single voxel (i, j, k) of a 21³ cube lands. */
    const landing = (orientation: 'AP' | 'PA', voxel: [number, number, number]): [number, number] => {
      const data = new Float32Array(21 ** 3);
      data[voxel[0] + 21 * (voxel[1] + 21 * voxel[2])] = 1;
      const cube = createVolume({ data, shape, spacing: [2, 2, 2], source: 'axes' });
      const drr = new WorldDRR(cube, { sdd: 1000, height: 41, delx: 2, orientation, density: 'raw' });
      const image = drr.render(drr.defaultPose(500));
      let best = 0;
      for (let index = 1; index < image.length; index++) if (image[index] > image[best]) best = index;
      return [Math.floor(best / 41), best % 41];
    };
    for (const orientation of ['AP', 'PA'] as const) {
      const [rightRow, rightColumn] = landing(orientation, [18, 10, 10]); // +x in RAS: the patient's right
      const [headRow, headColumn] = landing(orientation, [10, 10, 18]); // +z: superior
      assert.ok(headRow < 20 && headColumn === 20, `${orientation}: head at (${headRow}, ${headColumn})`);
      assert.equal(rightRow, 20);
      if (orientation === 'AP') assert.ok(rightColumn < 20, `AP: patient's right at column ${rightColumn}`);
      else assert.ok(rightColumn > 20, `PA: patient's right at column ${rightColumn}`);
    }
  });

  test('voxel ↔ world and pixel ↔ ray round trips; K and the camera transform are consistent', () => {
    const frame = volumeFrame(volume.affine, volume.shape);
    const index = [3.25, 17.5, 40.75];
    worldToVoxel(frame, voxelToWorld(frame, index)).forEach((value, axis) => assert.ok(Math.abs(value - index[axis]) < 1e-9));
    const detector = createWorldDetector({ sdd: 900, height: 30, width: 40, delx: 0.7, dely: 0.8, x0: 1, y0: 2, orientation: 'AP', reverseXAxis: true });
    const transform = poseFromParameters({ rotation: Float64Array.of(0.1, 0.5, -0.2), translation: Float64Array.of(5, 500, 7), parameterization: 'euler_angles', convention: 'ZYX' });
    const drr = new WorldDRR(volume, { ...detector });
    const rays = drr.worldRays(transform);
    const point = unprojectPixel(rays, 12.3, 27.9, 431);
    const projected = projectPoint(rays, point);
    assert.ok(Math.abs(projected.row - 12.3) < 1e-9 && Math.abs(projected.column - 27.9) < 1e-9);
    const k = intrinsicMatrix(detector);
    assert.ok(Math.abs(Math.abs(k[0]) - 900 / 0.7) < 1e-9 && k[0] < 0 && Math.abs(k[2] - (20 - 1 / 0.7)) < 1e-9 && Math.abs(k[5] - (15 - 2 / 0.8)) < 1e-9);
    const round = poseFromCameraToWorld(detector, cameraToWorld(detector, transform));
    round.rotation.forEach((value, i) => assert.ok(Math.abs(value - transform.rotation[i]) < 1e-12));
    round.translation.forEach((value, i) => assert.ok(Math.abs(value - transform.translation[i]) < 1e-9));
    const o = orientationMatrix('AP');
    assert.ok(Math.abs(o[0] * (o[4] * o[8] - o[5] * o[7]) - o[1] * (o[3] * o[8] - o[5] * o[6]) + o[2] * (o[3] * o[7] - o[4] * o[6]) - 1) < 1e-12, 'AP is a rotation');
  });
});

describe('world geometry: the pose gradient matches finite differences', () => {
  // A smooth blob on an oblique grid, rendered with the trilinear renderer.
  const shape: [number, number, number] = [24, 22, 20];
  const spacing = [2, 2.2, 2.4];
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++) {
    const x = (i - 10) / 5, y = (j - 12) / 4, z = (k - 9) / 6;
    data[i + shape[0] * (j + shape[1] * k)] = Math.exp(-(x * x + y * y + z * z)) + 0.5 * Math.exp(-((x - 1.5) ** 2 + (y + 1) ** 2 + z * z) * 2);
  }
  const volume = createVolume({ data, shape, spacing: [spacing[0], spacing[1], spacing[2]], affine: affineOf(eulerZYX(-0.5, 0.25, 0.9), spacing, [-20, 10, 5]), source: 'blob' });
  for (const parameterization of ['euler_angles', 'se3_log_map'] as const) {
    for (const intensity of ['line-integral', 'beer-lambert'] as const) {
      test(`${parameterization}, ${intensity}`, () => {
        const drr = new WorldDRR(volume, {
          sdd: 700, height: 24, width: 28, delx: 1.6, dely: 1.4, orientation: 'AP', renderer: 'trilinear', sampling: { samplesPerRay: 2000 },
          density: 'raw', intensity, incidentIntensity: 2, reverseXAxis: true, x0: 2,
        });
        const random = seededRandom(7);
        const weights = Float64Array.from({ length: drr.pixelCount }, () => random() - 0.5);
        const pose: PoseParameters = {
          rotation: Float64Array.of(0.2, -0.15, 0.1), translation: Float64Array.of(6, 330, -4), parameterization, convention: 'ZYX',
        };
        const loss = (candidate: PoseParameters): number => {
          const image = drr.render(candidate);
          let total = 0;
          for (let pixel = 0; pixel < image.length; pixel++) total += weights[pixel] * image[pixel];
          return total;
        };
        const { rayGradients } = drr.renderWithRayGradients(pose);
        const analytic = drr.parameterGradient(pose, rayGradients, weights);
        const check = (which: 'rotation' | 'translation', step: number): void => {
          for (let index = 0; index < 3; index++) {
            const plus = { ...pose, [which]: Float64Array.from(pose[which]) };
            const minus = { ...pose, [which]: Float64Array.from(pose[which]) };
            plus[which][index] += step;
            minus[which][index] -= step;
            const numeric = (loss(plus) - loss(minus)) / (2 * step);
            const value = analytic[which][index];
            const scale = Math.max(...Array.from(analytic[which], Math.abs));
            assert.ok(Math.abs(value - numeric) <= 2e-3 * scale + 1e-9, `${which}[${index}]: analytic ${value}, numeric ${numeric}`);
          }
        };
        check('rotation', 1e-4);
        check('translation', 1e-3);
      });
    }
  }
});
