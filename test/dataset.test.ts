import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PinholeCamera, SeedCamera } from '../src/geometry/camera.js';
import { poseFromParameters } from '../src/geometry/pose.js';
import { cArmCameraToWorld } from '../src/geometry/views.js';
import { beamDirection, samplePose, type PoseContext } from '../src/dataset/pose-distribution.js';
import { SampleRandom } from '../src/dataset/sample-random.js';
import { encodeNifti } from '../src/io/nifti.js';
import { createVolume } from '../src/volume/volume.js';
import { loadDataset, runCli, writePhantom } from './dataset-helpers.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-dataset-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const phantom = writePhantom(path.join(scratch, 'phantom.nii.gz'));
const small = ['--ct', phantom, '--height', '12', '--width', '10', '--delx', '14', '--threads', '1'];

describe('per-sample random streams', () => {
  test('a sample\'s numbers depend only on (seed, id), and look uniform', () => {
    const draw = (seed: number, id: number) => { const random = new SampleRandom(seed, id); return [random.random(), random.random(), random.nextUint32()]; };
    assert.deepEqual(draw(7, 12345), draw(7, 12345));
    assert.notDeepEqual(draw(7, 12345), draw(7, 12346));
    assert.notDeepEqual(draw(7, 12345), draw(8, 12345));
    assert.notDeepEqual(draw(0, 2 ** 40), draw(0, 0));
    let sum = 0, sumSquares = 0, below = 0;
    const n = 20000;
    for (let id = 0; id < n; id++) {
      const value = new SampleRandom(3, id).random();
      assert.ok(value >= 0 && value < 1);
      sum += value; sumSquares += value * value; if (value < 0.25) below++;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
    assert.ok(Math.abs(sumSquares / n - sum * sum / n / n - 1 / 12) < 0.005);
    assert.ok(Math.abs(below / n - 0.25) < 0.015);
  });
});

describe('pose distributions', () => {
  const seedCamera = new SeedCamera({ sdr: 300, height: 8, delx: 10 });
  const centre = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.of(48, 40, 32), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
  const context: PoseContext = { camera: seedCamera, isocenter: [48, 40, 32], centre };

  test('box: offsets within the half-widths and ranges, the tutorial\'s draw order', () => {
    const box = { kind: 'box' as const, rotationRangeDegrees: [45, 60, 60] as [number, number, number], translationRangeMm: [[-30, 31], [-30, 31], [-5, 5]] as [[number, number], [number, number], [number, number]] };
    for (let id = 0; id < 200; id++) {
      const { pose } = samplePose(box, context, 11, id);
      const random = new SampleRandom(11, id);
      const expected = [Math.PI + random.uniform(-Math.PI / 4, Math.PI / 4), random.uniform(-Math.PI / 3, Math.PI / 3), Math.PI / 2 + random.uniform(-Math.PI / 3, Math.PI / 3)];
      pose.rotation.forEach((value, axis) => assert.ok(Math.abs(value - expected[axis]) < 1e-12));
      assert.ok(Math.abs(pose.translation[0] - 48) <= 31 && Math.abs(pose.translation[2] - 32) <= 5);
    }
  });

  test('cone: beams uniform in solid angle within the cone, the source keeps its distance to the isocentre', () => {
    const cone = { kind: 'cone' as const, coneAngleDegrees: 40, rollRangeDegrees: 10, translationRangeMm: [[0, 0], [0, 0], [0, 0]] as [[number, number], [number, number], [number, number]] };
    const centrePlacement = seedCamera.cameraToWorld(poseFromParameters(centre));
    const centreBeam = beamDirection(seedCamera, centrePlacement);
    const n = 1500;
    let inner = 0;
    for (let id = 0; id < n; id++) {
      const { pose, parameters } = samplePose(cone, context, 5, id);
      const placement = seedCamera.cameraToWorld(poseFromParameters(pose));
      const beam = beamDirection(seedCamera, placement);
      const angle = Math.acos(Math.min(1, beam[0] * centreBeam[0] + beam[1] * centreBeam[1] + beam[2] * centreBeam[2])) * 180 / Math.PI;
      assert.ok(angle <= 40 + 1e-6, `angle ${angle}`);
      assert.ok(Math.abs(angle - parameters.tilt_degrees) < 1e-6);
      assert.ok(Math.abs(parameters.roll_degrees) <= 10);
      const source = seedCamera.rays(poseFromParameters(pose)).source;
      assert.ok(Math.abs(Math.hypot(source[0] - 48, source[1] - 40, source[2] - 32) - 300) < 1e-6);
      if (angle < 20) inner++;
    }
    // Uniform in solid angle: P(tilt < 20°) = (1 − cos 20°) / (1 − cos 40°) ≈ 0.2578.
    const expected = (1 - Math.cos(Math.PI / 9)) / (1 - Math.cos((2 * Math.PI) / 9));
    assert.ok(Math.abs(inner / n - expected) < 0.04, `fraction ${inner / n} vs ${expected}`);
  });

  test('carm: the grid in primary-major order, each sample the C-arm of its angles at its distances', () => {
    const camera = new PinholeCamera({ sdd: 1000, height: 8, delx: 10, orientation: 'AP' });
    const carm = {
      kind: 'carm' as const, primaryDegrees: [-30, 0, 30], secondaryDegrees: [-10, 10], angleJitterDegrees: 0,
      sddRangeMm: [900, 1100] as [number, number], sodRangeMm: [500, 600] as [number, number], translationRangeMm: [[0, 0], [0, 0], [0, 0]] as [[number, number], [number, number], [number, number]],
    };
    const pinholeContext: PoseContext = { camera, isocenter: [1, -2, 3], centre };
    for (let id = 0; id < 12; id++) {
      const sample = samplePose(carm, pinholeContext, 9, id);
      assert.equal(sample.parameters.primary_degrees, carm.primaryDegrees[Math.floor((id % 6) / 2)]);
      assert.equal(sample.parameters.secondary_degrees, carm.secondaryDegrees[id % 2]);
      assert.ok(sample.parameters.sdd_mm >= 900 && sample.parameters.sdd_mm <= 1100);
      assert.equal((sample.camera!.detector as { sdd: number }).sdd, sample.parameters.sdd_mm);
      const expected = cArmCameraToWorld({ primaryDegrees: sample.parameters.primary_degrees, secondaryDegrees: sample.parameters.secondary_degrees }, sample.parameters.sod_mm);
      const placement = sample.camera!.cameraToWorld(poseFromParameters(sample.pose));
      for (let i = 0; i < 9; i++) assert.ok(Math.abs(placement.rotation[i] - expected.rotation[i]) < 1e-9);
      [1, -2, 3].forEach((c, axis) => assert.ok(Math.abs(placement.translation[axis] - expected.translation[axis] - c) < 1e-9));
    }
    assert.throws(() => samplePose(carm, context, 9, 0), /--geometry world/);
  });
});

describe('drrkit generate', () => {
  test('samples do not depend on the shard size; the manifest describes each one', () => {
    const a = path.join(scratch, 'split-a'), b = path.join(scratch, 'split-b');
    const common = [...small, '--count', '11', '--seed', '42'];
    const first = runCli(['generate', ...common, '--shard-size', '3', '--out-dir', a]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /wrote 11 samples in 4 shard/);
    const second = runCli(['generate', ...common, '--shard-size', '7', '--out-dir', b]);
    assert.equal(second.status, 0, second.stderr);
    const [x, y] = [loadDataset(a), loadDataset(b)];
    assert.deepEqual(x.sampleShape, [12, 10]);
    assert.equal(x.records.length, 11);
    x.records.forEach((record, id) => {
      assert.equal(record.id, id);
      assert.equal(record.shard, `shard-0000${Math.floor(id / 3)}.npy`);
      assert.equal(record.index, id % 3);
      assert.equal(record.ct, phantom);
      assert.deepEqual(record.pose, y.records[id].pose);
      assert.deepEqual(record.camera_to_world, y.records[id].camera_to_world);
      assert.deepEqual(Array.from(x.samples[id]), Array.from(y.samples[id]));
      assert.ok(x.samples[id].some((value) => value > 0));
    });
    assert.notDeepEqual(Array.from(x.samples[0]), Array.from(x.samples[1]));
  });

  test('--resume re-renders only missing or damaged shards, removes stale temporary files, and gives the same bytes', () => {
    const directory = path.join(scratch, 'resume');
    const flags = [...small, '--count', '10', '--shard-size', '2', '--seed', '3', '--poses', 'cone', '--cone-angle', '20', '--out-dir', directory];
    assert.equal(runCli(['generate', ...flags]).status, 0);
    const original = Object.fromEntries(['manifest.jsonl', 'shard-00000.npy', 'shard-00002.npy', 'shard-00003.npy', 'shard-00004.npy'].map((name) => [name, readFileSync(path.join(directory, name))]));
    // An interrupted run: shards 0, 1, 3 finished (part files), 2 never written, 3 damaged, 4 written without its part, a stale temporary file.
    const records = readFileSync(path.join(directory, 'manifest.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    unlinkSync(path.join(directory, 'manifest.jsonl'));
    mkdirSync(path.join(directory, '.parts'));
    for (const shard of [0, 1, 3]) writeFileSync(path.join(directory, '.parts', `shard-0000${shard}.json`), JSON.stringify(records.slice(2 * shard, 2 * shard + 2)));
    unlinkSync(path.join(directory, 'shard-00002.npy'));
    truncateSync(path.join(directory, 'shard-00003.npy'), 200);
    writeFileSync(path.join(directory, '.shard-00002.npy.999.abc.tmp'), 'half a shard');
    const again = runCli(['generate', ...flags]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds a dataset.*--resume/);
    const resumed = runCli(['generate', ...flags, '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /6 rendered.*4 kept from before/);
    for (const [name, bytes] of Object.entries(original)) assert.ok(readFileSync(path.join(directory, name)).equals(bytes), name);
    assert.equal(existsSync(path.join(directory, '.shard-00002.npy.999.abc.tmp')), false);
    assert.equal(existsSync(path.join(directory, '.parts')), false);
    const complete = runCli(['generate', ...flags, '--resume']);
    assert.equal(complete.status, 0);
    assert.match(complete.stdout, /already complete/);
    const other = runCli(['generate', ...flags.map((value) => (value === '3' ? '4' : value)), '--resume']);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /--resume with other settings.*seed/);
  });

  test('labels as channels give [k, C, H, W] shards; bad flags fail before anything is written', () => {
    const [nx, ny, nz] = [24, 20, 16];
    const labels = new Float32Array(nx * ny * nz);
    for (let index = 0; index < labels.length; index++) labels[index] = index % nx < 12 ? 1 : 2;
    const affine = Float64Array.of(4, 0, 0, -48, 0, 4, 0, -40, 0, 0, 4, -32, 0, 0, 0, 1);
    const labelFile = path.join(scratch, 'labels.nii.gz');
    writeFileSync(labelFile, encodeNifti(createVolume({ data: labels, shape: [nx, ny, nz], spacing: [4, 4, 4], affine, source: 'labels' })));
    const directory = path.join(scratch, 'channels');
    const result = runCli(['generate', ...small, '--labels', labelFile, '--channels', '--count', '3', '--out-dir', directory]);
    assert.equal(result.status, 0, result.stderr);
    const data = loadDataset(directory);
    assert.deepEqual(data.sampleShape, [2, 12, 10]);
    assert.deepEqual(data.records[0].channels, [1, 2]);
    for (const [flags, message] of [
      [['--count', '0'], /--count: expected a whole number ≥ 1/],
      [['--count', '2', '--poses', 'carm'], /--poses carm needs --geometry world/],
      [['--count', '2', '--translation-range', '1,2,3'], /--translation-range: expected (low,high or six numbers|2 or 6 comma-separated numbers)/],
      [['--count', '2', '--queue', 'http://x'], /--queue: "http:\/\/x": expected a redis/],
    ] as const) {
      const target = path.join(scratch, `bad-${Math.random().toString(36).slice(2)}`);
      const bad = runCli(['generate', ...small, ...flags, '--out-dir', target]);
      assert.equal(bad.status, 1, bad.stderr);
      assert.match(bad.stderr, message);
      assert.match(bad.stderr, /^drrkit: /);
      assert.equal(existsSync(target), false);
    }
  });
});
