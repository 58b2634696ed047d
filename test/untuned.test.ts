/**
 * CTs the robust strategy was not tuned on: the procedural head and pelvis phantoms (Hounsfield
 * values and RAS orientation through their affines), the LIDC variants (crop, flip, clip keep
 * world positions), a small registration on the head phantom, and honest failure: when every
 * start is hopeless, every run is reported failed with its reason — never converged — in
 * `evaluateRegistration` and in `drrkit register` (exit status 3, result.json).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { loadVolume } from '../src/io/load-volume.js';
import { writeNifti } from '../src/io/nifti.js';
import { evaluateRegistration } from '../src/registration/evaluate.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { HEAD_PHANTOM_SHAPE, loadPhantom } from '../src/volume/phantoms.js';
import { clipVolume, cropVolume, flipVolume } from '../src/volume/variants.js';
import { createVolume, volumeRange, type Volume } from '../src/volume/volume.js';
import { repositoryRoot } from './helpers.js';

after(() => closeRenderPool());

/** The value of the voxel nearest to a world (RAS, mm) point, found by inverting the affine by hand. */
function valueAtRas(volume: Volume, point: readonly [number, number, number]): number {
  const a = volume.affine;
  const m = [[a[0], a[1], a[2]], [a[4], a[5], a[6]], [a[8], a[9], a[10]]];
  const r = [point[0] - a[3], point[1] - a[7], point[2] - a[11]];
  const determinant = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const solve = (column: number) => {
    const replaced = m.map((row, index) => row.map((value, c) => (c === column ? r[index] : value)));
    return (replaced[0][0] * (replaced[1][1] * replaced[2][2] - replaced[1][2] * replaced[2][1]) - replaced[0][1] * (replaced[1][0] * replaced[2][2] - replaced[1][2] * replaced[2][0])
      + replaced[0][2] * (replaced[1][0] * replaced[2][1] - replaced[1][1] * replaced[2][0])) / determinant;
  };
  const index = [0, 1, 2].map((axis) => Math.round(solve(axis)));
  const [nx, ny, nz] = volume.shape;
  assert.ok(index.every((value, axis) => value >= 0 && value < [nx, ny, nz][axis]), `RAS ${point.join(', ')} lies inside ${volume.source}`);
  return volume.data[index[0] + nx * (index[1] + ny * index[2])];
}

/** RAS of a point given in the phantoms' patient frame (x LEFT, y POSTERIOR, z SUPERIOR): RAS x points right, y anterior. */
const ras = (left: number, posterior: number, superior: number): [number, number, number] => [-left, -posterior, superior];

describe('procedural phantoms', () => {
  test('head: loads by name, sane Hounsfield units, anatomy where the RAS affine says (face anterior, fillings on the left, vertex up)', async () => {
    const head = await loadVolume('head');
    assert.equal(head.source, 'head');
    assert.deepEqual([...head.shape], [...HEAD_PHANTOM_SHAPE]);
    assert.ok(head.data.every(Number.isFinite));
    const { min, max } = volumeRange(head);
    assert.equal(min, -1000);
    assert.ok(max >= 2800 && max <= 3071, `max ${max} HU: enamel and amalgam, within the 12-bit CT range`);
    assert.equal(valueAtRas(head, [110, 110, 110]), -1000, 'air in the corner');
    const whiteMatter = valueAtRas(head, ras(30, 10, 60));
    assert.ok(whiteMatter > 15 && whiteMatter < 45, `brain ${whiteMatter} HU`);
    const diploe = valueAtRas(head, ras(0, 8, 110.5));
    assert.ok(diploe > 400 && diploe < 1800, `skull vertex ${diploe} HU (superior)`);
    assert.ok(valueAtRas(head, ras(0, 8, -110.5)) < 200, 'no skull at the bottom of the volume (the neck)');
    // Anterior: the nose. The same distance posterior: air behind the occiput.
    assert.ok(valueAtRas(head, ras(0, -100, -4)) > -200, 'nose in front (RAS +y)');
    assert.equal(valueAtRas(head, ras(0, 100, -4)), -1000, 'air behind the head (RAS −y)');
    // Both globes anterior, in their orbits.
    for (const side of [-1, 1]) {
      const globe = valueAtRas(head, ras(side * 32, -76, 14));
      assert.ok(globe > -20 && globe < 60, `globe ${globe} HU`);
    }
    // Amalgam in the upper-left first molar (patient left = RAS −x); the right one has none.
    const angle = Math.PI - (12.5 * Math.PI) / 16;
    const molar: [number, number, number] = [38 * Math.cos(angle), -6 - 52 * Math.sin(angle), -40];
    assert.ok(valueAtRas(head, ras(molar[0], molar[1], molar[2])) > 3000, 'amalgam filling on the left');
    assert.ok(valueAtRas(head, ras(-molar[0], molar[1], molar[2])) < 3000, 'no filling on the right');
  });

  test('pelvis: sane Hounsfield units and orientation (caecal gas on the right, bladder anterior); the same anatomy on a coarser grid; deterministic', () => {
    const options = { shape: [112, 112, 50] as [number, number, number], spacing: [3.2, 3.2, 5] as [number, number, number] };
    const pelvis = loadPhantom('pelvis', options);
    assert.deepEqual(pelvis.data, loadPhantom('pelvis', options).data, 'deterministic');
    const { min, max } = volumeRange(pelvis);
    assert.equal(min, -1000);
    assert.ok(max > 700 && max <= 1600, `max ${max} HU (cortical bone)`);
    for (const side of [-1, 1]) {
      const femoralHead = valueAtRas(pelvis, ras(side * 92, -4, -38));
      assert.ok(femoralHead > 200, `femoral head ${femoralHead} HU`);
    }
    const bladder = valueAtRas(pelvis, ras(0, -58, -50));
    assert.ok(bladder > -10 && bladder < 30, `bladder ${bladder} HU`);
    assert.ok(valueAtRas(pelvis, ras(-84, -34, 74)) < -500, 'caecal gas on the patient\'s right (RAS +x)');
    assert.ok(valueAtRas(pelvis, ras(84, -34, 74)) > -200, 'no gas at the mirrored point on the left');
    const sacrum = valueAtRas(pelvis, ras(1, 66, 30));
    assert.ok(sacrum > 200, `sacrum ${sacrum} HU (posterior)`);
    assert.throws(() => loadPhantom('knee'), /unknown phantom "knee"/);
  });
});

describe('CT variants', () => {
  // A small CT with a non-trivial affine (axes permuted and flipped, an origin), values = index.
  const shape: [number, number, number] = [5, 4, 3];
  const data = Float32Array.from({ length: 60 }, (_, index) => index);
  const volume = createVolume({ data, shape, spacing: [2, 3, 4], affine: Float64Array.from([0, -3, 0, 10, -2, 0, 0, 20, 0, 0, 4, -30, 0, 0, 0, 1]), source: 'tiny' });
  const world = (v: Volume, i: number, j: number, k: number) => [0, 1, 2].map((row) => v.affine[4 * row] * i + v.affine[4 * row + 1] * j + v.affine[4 * row + 2] * k + v.affine[4 * row + 3]);
  const value = (v: Volume, i: number, j: number, k: number) => v.data[i + v.shape[0] * (j + v.shape[1] * k)];

  test('crop, flip and clip keep every voxel at its world position', () => {
    const cropped = cropVolume(volume, [1, 2, 1], [3, 2, 2]);
    assert.deepEqual([...cropped.shape], [3, 2, 2]);
    assert.equal(value(cropped, 0, 0, 0), value(volume, 1, 2, 1));
    assert.deepEqual(world(cropped, 2, 1, 1), world(volume, 3, 3, 2));
    assert.equal(value(cropped, 2, 1, 1), value(volume, 3, 3, 2));
    for (const axis of [0, 1, 2] as const) {
      const flipped = flipVolume(volume, axis);
      for (const [i, j, k] of [[0, 0, 0], [4, 1, 2], [2, 3, 1]]) {
        const index = [i, j, k];
        index[axis] = shape[axis] - 1 - index[axis];
        assert.equal(value(flipped, index[0], index[1], index[2]), value(volume, i, j, k));
        assert.deepEqual(world(flipped, index[0], index[1], index[2]), world(volume, i, j, k));
      }
    }
    const clipped = clipVolume(volume, { minimum: 5, maximum: 40 });
    assert.deepEqual([volumeRange(clipped).min, volumeRange(clipped).max], [5, 40]);
    assert.equal(value(clipped, 2, 1, 1), value(volume, 2, 1, 1));
    assert.throws(() => cropVolume(volume, [3, 0, 0], [3, 1, 1]), /does not fit/);
  });
});

describe('registration on an untuned CT, and honest failure', () => {
  // The head at half resolution and a small detector keep these fast; the anatomy is the same.
  const head = loadPhantom('head', { shape: [96, 96, 62], spacing: [2.5, 2.5, 4] });
  const detector = { sdr: 300, height: 48, delx: 16 };
  const truth = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.of(120, 120, 124), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };

  test('head phantom: the robust strategy succeeds from the tutorial\'s random starts and says so', () => {
    const { runs, summary } = evaluateRegistration({ volume: head, detector, truth, runs: 3, seed: 2026 });
    for (const run of runs) {
      assert.ok(run.error.mTRE < 2, `run ${run.index}: mTRE ${run.error.mTRE.toFixed(2)} mm (final NCC ${run.finalScore.toFixed(5)})`);
      assert.equal(run.converged, true, `run ${run.index}: ${run.reason}`);
    }
    assert.deepEqual(summary.verdicts, { reportedConverged: 3, convergedButWrong: 0, failedButRight: 0 });
  });

  test('a target no pose of the CT can produce (the pelvis seen by a head CT): every run reported failed, with the reason', () => {
    const pelvis = loadPhantom('pelvis', { shape: [112, 112, 50], spacing: [3.2, 3.2, 5] });
    const target = new DRR(pelvis, detector).render({ ...truth, translation: Float64Array.of(179.2, 179.2, 125) });
    const { runs, summary } = evaluateRegistration({
      volume: head, detector, truth, target, runs: 3, seed: 7,
      robust: { rotationRangeDegrees: [0, 0, 0], candidates: 1, refineCandidates: 2, maxIterationsPerLevel: 40 },
    });
    for (const run of runs) {
      assert.equal(run.converged, false, `run ${run.index} ended at NCC ${run.finalScore.toFixed(5)}`);
      assert.match(run.reason, /below the acceptance level 0\.995 after 1 candidate|implausible pose/);
    }
    assert.equal(summary.verdicts.reportedConverged, 0);
    assert.equal(summary.verdicts.convergedButWrong, 0);
  });

  test('starts far outside a disabled search (the target seen from the opposite side): every run reported failed', () => {
    // The target is the head turned 180° about the first Euler axis; the starts lie within 10° of
    // the other side and the search is off, so no local ascent can reach it.
    const turned = { ...truth, rotation: Float64Array.of(0, 0, Math.PI / 2) };
    const target = new DRR(head, detector).render(turned);
    const { runs, summary } = evaluateRegistration({
      volume: head, detector, truth, target, runs: 3, seed: 11, rotationRangeDegrees: [10, 10, 10], translationRangeMm: [-5, 5],
      robust: { rotationRangeDegrees: [0, 0, 0], candidates: 1, refineCandidates: 1, maxIterationsPerLevel: 40 },
    });
    for (const run of runs) {
      assert.equal(run.converged, false, `run ${run.index} ended at NCC ${run.finalScore.toFixed(5)}`);
      assert.ok(run.reason.length > 0);
      assert.ok(run.finalScore < 0.995, `final NCC ${run.finalScore}`);
    }
    assert.equal(summary.verdicts.convergedButWrong, 0);
    assert.equal(summary.verdicts.reportedConverged, 0);
  });

  test('drrkit register on a hopeless start: exit status 3, result.json says converged: false and why', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'drrkit-hopeless-'));
    try {
      const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
      const ct = path.join(out, 'head.nii');
      await writeNifti(ct, head);
      const result = spawnSync(process.execPath, [
        cli, 'register', '--ct', ct, '--height', '32', '--delx', '24',
        '--target-pose', '3.14159,0,1.5708', '--init-rotation', '0,0,1.5708',
        '--search-range', '0,0,0', '--refine-candidates', '1', '--out-dir', path.join(out, 'result'),
      ], { encoding: 'utf8' });
      assert.equal(result.status, 3, `exit status ${result.status}\n${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /FAILED: /);
      const json = JSON.parse(readFileSync(path.join(out, 'result', 'result.json'), 'utf8')) as { converged: boolean; reason: string };
      assert.equal(json.converged, false);
      assert.match(json.reason, /below the acceptance level|implausible pose/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
