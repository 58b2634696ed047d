import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anatomicalPlanes, directionLetters, patientAxisAssignment, samplePlane, voxelToPlane, type SlicePlane } from '../src/geometry/anatomical-planes.js';
import { volumeFrame } from '../src/geometry/world-frame.js';
import { readNifti } from '../src/io/nifti.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { SHARED_ABSENT, sharedPath } from './helpers.js';

/** The LIDC chest CT's direction: voxel axes point patient-left, anterior, inferior (affine diag(−1.40625, 1.40625, −2.5)). */
const LIDC_DIRECTION = Float64Array.of(-1, 0, 0, 0, 1, 0, 0, 0, -1);

/** The LIDC direction turned 30° about the patient's S axis: an oblique volume. */
function obliqueDirection(degrees: number): Float64Array {
  const c = Math.cos((degrees * Math.PI) / 180), s = Math.sin((degrees * Math.PI) / 180);
  // Rz · diag(−1, 1, −1), row-major.
  return Float64Array.of(-c, -s, 0, -s, c, 0, 0, 0, -1);
}

const byName = (planes: SlicePlane[], name: string) => planes.find((plane) => plane.name === name)!;

describe('anatomical planes from the affine', () => {
  test('the LIDC CT (voxel axes L, A, I): axial, coronal and sagittal with radiological edge letters', () => {
    const planes = anatomicalPlanes(LIDC_DIRECTION);
    assert.deepEqual(planes.map((plane) => plane.name), ['axial', 'coronal', 'sagittal']);
    const axial = byName(planes, 'axial'), coronal = byName(planes, 'coronal'), sagittal = byName(planes, 'sagittal');
    // Axial: k held fixed; i (towards the left) runs left → right as stored; j (anterior) flipped so anterior is up.
    assert.deepEqual([axial.normalAxis, axial.columnAxis, axial.columnFlip, axial.rowAxis, axial.rowFlip], [2, 0, false, 1, true]);
    assert.deepEqual(axial.edges, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
    // Coronal: j fixed; k (inferior) runs top → bottom as stored.
    assert.deepEqual([coronal.normalAxis, coronal.columnAxis, coronal.columnFlip, coronal.rowAxis, coronal.rowFlip], [1, 0, false, 2, false]);
    assert.deepEqual(coronal.edges, { left: 'R', right: 'L', top: 'S', bottom: 'I' });
    // Sagittal: i fixed; anterior on the left, so j is flipped.
    assert.deepEqual([sagittal.normalAxis, sagittal.columnAxis, sagittal.columnFlip, sagittal.rowAxis, sagittal.rowFlip], [0, 1, true, 2, false]);
    assert.deepEqual(sagittal.edges, { left: 'A', right: 'P', top: 'S', bottom: 'I' });
    assert.ok(planes.every((plane) => !plane.oblique));
  });

  test('the shared LIDC file itself gives the same views', { skip: sharedPath('data/lidc2-chest-ct.nii.gz') ? false : SHARED_ABSENT }, async () => {
    const volume = await readNifti(sharedPath('data/lidc2-chest-ct.nii.gz')!);
    const frame = volumeFrame(volume.affine, volume.shape, volume.source);
    assert.equal(frame.orientationCode, 'LAI');
    assert.deepEqual(anatomicalPlanes(frame.direction), anatomicalPlanes(LIDC_DIRECTION));
  });

  test('the example CT (voxel axes P, L, I: permuted) puts each plane on the right voxel axis', () => {
    const volume = loadExampleCT({ shape: [8, 8, 8], spacing: [4, 4, 4] });
    const planes = anatomicalPlanes(volumeFrame(volume.affine, volume.shape).direction);
    const axial = byName(planes, 'axial'), coronal = byName(planes, 'coronal'), sagittal = byName(planes, 'sagittal');
    assert.deepEqual([axial.normalAxis, axial.columnAxis, axial.rowAxis], [2, 1, 0]);
    assert.deepEqual([coronal.normalAxis, coronal.columnAxis, coronal.rowAxis], [0, 1, 2]);
    assert.deepEqual([sagittal.normalAxis, sagittal.columnAxis, sagittal.rowAxis], [1, 0, 2]);
    // i runs anterior → posterior, which is already top → bottom in the axial view; and left → right in the sagittal.
    assert.equal(axial.rowFlip, false);
    assert.equal(sagittal.columnFlip, false);
    for (const plane of planes) assert.equal(`${plane.edges.left}${plane.edges.right}${plane.edges.top}${plane.edges.bottom}`, { axial: 'RLAP', coronal: 'RLSI', sagittal: 'APSI' }[plane.name]);
  });

  test('an oblique volume (30° about S) keeps its axes and labels its edges with two letters', () => {
    const planes = anatomicalPlanes(obliqueDirection(30));
    const axial = byName(planes, 'axial');
    assert.deepEqual([axial.normalAxis, axial.columnAxis, axial.rowAxis], [2, 0, 1]);
    // Screen right runs along voxel axis i = (−cos 30°, −sin 30°, 0): mostly left, partly posterior.
    assert.deepEqual(axial.edges, { left: 'RA', right: 'LP', top: 'AL', bottom: 'PR' });
    assert.equal(axial.oblique, true);
    // The coronal and sagittal views show k top → bottom, which is not oblique: their vertical edges keep one letter.
    assert.equal(byName(planes, 'coronal').edges.top, 'S');
    assert.equal(byName(planes, 'sagittal').edges.bottom, 'I');
    assert.equal(byName(planes, 'sagittal').edges.left, 'AL');
    // A tilt smaller than the letter threshold still gets the main letter only, but is flagged oblique.
    const slight = byName(anatomicalPlanes(obliqueDirection(3)), 'axial');
    assert.deepEqual(slight.edges, { left: 'R', right: 'L', top: 'A', bottom: 'P' });
    assert.equal(slight.oblique, true);
  });

  test('the assignment is the best of the six, and bad input is refused', () => {
    // Columns: i mostly S, j mostly R, k mostly −A.
    const direction = Float64Array.of(0.1, 0.99, 0, 0, 0, -1, 0.99, -0.1, 0);
    const { voxelAxis, sign } = patientAxisAssignment(direction);
    assert.deepEqual(voxelAxis, [1, 2, 0]);
    assert.deepEqual(sign, [1, -1, 1]);
    assert.equal(directionLetters([0, 0, -3]), 'I');
    assert.equal(directionLetters([0.3, -1, 0]), 'PR');
    assert.throws(() => directionLetters([0, 0, 0]), /non-zero/);
    assert.throws(() => anatomicalPlanes([1, 0, 0]), /9 numbers/);
  });

  test('sampled slices show the same anatomy whichever way the voxels are stored', () => {
    // A 13 × 17 × 11 mm patient box at 1 mm (odd sizes: the central voxel planes sit at 0 in every
    // storage order); each voxel holds a code of its octant: 1 if left, + 2 if anterior, + 4 if superior.
    const size = [13, 17, 11];
    const code = (x: number, y: number, z: number) => (x < 0 ? 1 : 0) + (y > 0 ? 2 : 0) + (z > 0 ? 4 : 0);
    /** Stores the box with voxel axis a pointing along patient axis axes[a] with sign signs[a]. */
    function store(axes: number[], signs: number[]) {
      const shape = axes.map((axis) => size[axis]);
      const data = new Float32Array(shape[0] * shape[1] * shape[2]);
      const direction = new Float64Array(9);
      for (let a = 0; a < 3; a++) direction[3 * axes[a] + a] = signs[a];
      for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++) {
        const patient = [0, 0, 0];
        [i, j, k].forEach((index, a) => { patient[axes[a]] = signs[a] * (index - (shape[a] - 1) / 2); });
        data[i + shape[0] * (j + shape[1] * k)] = code(patient[0], patient[1], patient[2]);
      }
      return { data, shape, direction };
    }
    const layouts = [
      store([0, 1, 2], [1, 1, 1]), // RAS
      store([0, 1, 2], [-1, 1, -1]), // LAI, like the LIDC CT
      store([1, 0, 2], [-1, -1, -1]), // PLI, like the example CT
      store([2, 0, 1], [1, 1, -1]), // S, R, P: an unusual permutation
    ];
    const images = layouts.map(({ data, shape, direction }) => anatomicalPlanes(direction).map((plane) => samplePlane(data, shape, [1, 1, 1], plane, 17)));
    const corner = (image: { data: Float32Array; width: number; height: number }, right: boolean, top: boolean) =>
      image.data[(top ? 0 : image.height - 1) * image.width + (right ? image.width - 1 : 0)];
    for (const [axial, coronal, sagittal] of images) {
      assert.deepEqual([axial.width, axial.height, coronal.width, coronal.height, sagittal.width, sagittal.height], [13, 17, 13, 11, 17, 11]);
      // Axial (z = 0): patient left on the screen's right, anterior at the top.
      assert.deepEqual([corner(axial, true, true), corner(axial, false, true), corner(axial, true, false), corner(axial, false, false)], [3, 2, 1, 0]);
      // Coronal (y = 0): left on the right, superior at the top.
      assert.deepEqual([corner(coronal, true, true), corner(coronal, false, true), corner(coronal, true, false), corner(coronal, false, false)], [5, 4, 1, 0]);
      // Sagittal (x = 0): anterior on the left, superior at the top.
      assert.deepEqual([corner(sagittal, false, true), corner(sagittal, true, true), corner(sagittal, false, false), corner(sagittal, true, false)], [6, 4, 2, 0]);
    }
    // And the whole pictures are identical, pixel for pixel, for every storage order.
    for (const plane of [0, 1, 2]) {
      for (const planes of images.slice(1)) assert.deepEqual(planes[plane].data, images[0][plane].data, `${images[0][plane].plane.name} view`);
    }
  });

  test('voxelToPlane: a voxel towards the patient\'s left lands on the right of the axial view', () => {
    const [axial] = anatomicalPlanes(LIDC_DIRECTION);
    const shape = [256, 256, 133], spacing = [1.40625, 1.40625, 2.5];
    const centre = [127.5, 127.5, 66];
    assert.ok(voxelToPlane(axial, shape, spacing, centre).every((value) => value === 0), 'the centre voxel is the view centre');
    const [u, v] = voxelToPlane(axial, shape, spacing, [centre[0] + 10, centre[1] + 4, centre[2]]);
    assert.ok(Math.abs(u - 14.0625) < 1e-12, `10 voxels towards the left is 14.06 mm to the right (${u})`);
    assert.ok(Math.abs(v + 5.625) < 1e-12, `4 voxels anterior is 5.63 mm up (${v})`);
  });
});
