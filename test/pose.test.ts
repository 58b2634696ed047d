import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrrkitError } from '../src/errors.js';
import { parametersFromPose, poseFromParameters, poseJacobian, type PoseParameters } from '../src/geometry/pose.js';
import {
  EULER_CONVENTIONS,
  PARAMETERIZATIONS,
  parameterCount,
  rotationMatrixFromParameters,
  type EulerConvention,
  type Parameterization,
} from '../src/geometry/rotation.js';

// ---------------------------------------------------------------------------------------------
// Test helpers (independent of the code under test)

/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function gaussianVector(random: () => number, length: number, scale = 1): Float64Array {
  return Float64Array.from({ length }, () => scale * gaussian(random));
}

function randomRotation(random: () => number): Float64Array {
  const q = gaussianVector(random, 4);
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  return Float64Array.from([
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ]);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  const difference = maxDifference(actual, expected);
  assert.ok(
    difference <= tolerance,
    `${label}: differs by ${difference.toExponential(3)} (> ${tolerance})\n  actual   ${Array.from(actual).join(', ')}\n  expected ${Array.from(expected).join(', ')}`,
  );
}

/**
 * The 4×4 matrix exponential of the se(3) twist [[ [ω]ₓ, v ], [0, 0]] by its power series
 * (scaling and squaring), as an independent reference for se3_exp_map.
 */
function twistExponential(omega: ArrayLike<number>, v: ArrayLike<number>): { rotation: Float64Array; translation: Float64Array } {
  const squarings = 6;
  const scale = 2 ** -squarings;
  const x = [
    0, -omega[2], omega[1], v[0],
    omega[2], 0, -omega[0], v[1],
    -omega[1], omega[0], 0, v[2],
    0, 0, 0, 0,
  ].map((value) => value * scale);
  const multiply4 = (a: number[], b: number[]) => {
    const out = new Array<number>(16).fill(0);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) out[4 * r + c] += a[4 * r + k] * b[4 * k + c];
    return out;
  };
  let result = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  let term = result.slice();
  for (let n = 1; n < 30; n++) {
    term = multiply4(term, x).map((value) => value / n);
    result = result.map((value, index) => value + term[index]);
  }
  for (let s = 0; s < squarings; s++) result = multiply4(result, result);
  return {
    rotation: Float64Array.from([result[0], result[1], result[2], result[4], result[5], result[6], result[8], result[9], result[10]]),
    translation: Float64Array.from([result[3], result[7], result[11]]),
  };
}

function randomParameters(random: () => number, parameterization: Parameterization, convention: EulerConvention): PoseParameters {
  let rotation: Float64Array;
  switch (parameterization) {
    case 'euler_angles':
      rotation = Float64Array.from({ length: 3 }, () => (random() * 2 - 1) * Math.PI);
      break;
    case 'axis_angle':
    case 'se3_log_map':
      rotation = gaussianVector(random, 3, 1.2);
      break;
    default:
      rotation = gaussianVector(random, parameterCount(parameterization));
  }
  return { rotation, translation: gaussianVector(random, 3, 100), parameterization, convention };
}

function conventionsFor(parameterization: Parameterization): readonly EulerConvention[] {
  return parameterization === 'euler_angles' ? EULER_CONVENTIONS : ['ZYX'];
}

/** Checks every block of poseJacobian against central finite differences of poseFromParameters. */
function assertPoseJacobianMatches(parameters: PoseParameters, label: string): void {
  const jacobian = poseJacobian(parameters);
  const pose = poseFromParameters(parameters);
  assertClose(jacobian.transform.rotation, pose.rotation, 1e-15, `${label}: rotation`);
  assertClose(jacobian.transform.translation, pose.translation, 1e-12, `${label}: translation`);
  const rotationCount = parameters.rotation.length;
  const check = (analytic: Float64Array, numeric: Float64Array, block: string) => {
    assert.equal(analytic.length, numeric.length, `${label}: ${block} size`);
    for (let index = 0; index < analytic.length; index++) {
      const error = Math.abs(analytic[index] - numeric[index]);
      assert.ok(
        error <= 1e-6 * Math.max(1, Math.abs(numeric[index])),
        `${label}: ${block}[${index}] = ${analytic[index]}, finite differences give ${numeric[index]}`,
      );
    }
  };
  const differences = (which: 'rotation' | 'translation') => {
    const values = parameters[which];
    const n = values.length;
    const byRotation = new Float64Array(9 * n), byTranslation = new Float64Array(3 * n);
    for (let j = 0; j < n; j++) {
      const step = 1e-6 * Math.max(1, Math.abs(values[j]));
      const plus = Float64Array.from(values), minus = Float64Array.from(values);
      plus[j] += step;
      minus[j] -= step;
      const posePlus = poseFromParameters({ ...parameters, [which]: plus });
      const poseMinus = poseFromParameters({ ...parameters, [which]: minus });
      for (let k = 0; k < 9; k++) byRotation[k * n + j] = (posePlus.rotation[k] - poseMinus.rotation[k]) / (2 * step);
      for (let k = 0; k < 3; k++) byTranslation[k * n + j] = (posePlus.translation[k] - poseMinus.translation[k]) / (2 * step);
    }
    return { byRotation, byTranslation };
  };
  const rotationDifferences = differences('rotation');
  const translationDifferences = differences('translation');
  assert.equal(jacobian.rotationByRotation.length, 9 * rotationCount);
  check(jacobian.rotationByRotation, rotationDifferences.byRotation, 'rotationByRotation');
  check(jacobian.translationByRotation, rotationDifferences.byTranslation, 'translationByRotation');
  check(jacobian.rotationByTranslation, translationDifferences.byRotation, 'rotationByTranslation');
  check(jacobian.translationByTranslation, translationDifferences.byTranslation, 'translationByTranslation');
}

// ---------------------------------------------------------------------------------------------
// Tests

test('poseFromParameters uses the rotation parameterization and copies the translation', () => {
  const random = mulberry32(21);
  for (const parameterization of PARAMETERIZATIONS) {
    if (parameterization === 'se3_log_map') continue;
    for (const convention of conventionsFor(parameterization)) {
      const parameters = randomParameters(random, parameterization, convention);
      const pose = poseFromParameters(parameters);
      assertClose(pose.rotation, rotationMatrixFromParameters(parameters.rotation, parameterization, convention), 0, parameterization);
      assertClose(pose.translation, parameters.translation, 0, `${parameterization} translation`);
      assert.notEqual(pose.translation, parameters.translation, 'translation is copied, not aliased');
    }
  }
  // Euler angles default to ZYX.
  const pose = poseFromParameters({ rotation: Float64Array.from([Math.PI, 0, Math.PI / 2]), translation: new Float64Array(3), parameterization: 'euler_angles' });
  assertClose(pose.rotation, [-1, 0, 0, 0, 0, 1, 0, 1, 0], 1e-15, 'default ZYX');
});

test('se3_log_map golden value and agreement with the matrix exponential', () => {
  const quarter = poseFromParameters({
    rotation: Float64Array.from([0, 0, Math.PI / 2]),
    translation: Float64Array.from([1, 0, 0]),
    parameterization: 'se3_log_map',
  });
  assertClose(quarter.rotation, [0, -1, 0, 1, 0, 0, 0, 0, 1], 1e-15, 'R = Rz(π/2)');
  assertClose(quarter.translation, [2 / Math.PI, 2 / Math.PI, 0], 1e-15, 't = V·v');
  const identity = poseFromParameters({ rotation: new Float64Array(3), translation: Float64Array.from([3, -4, 5]), parameterization: 'se3_log_map' });
  assertClose(identity.translation, [3, -4, 5], 0, 'ω = 0 leaves v unchanged');

  const random = mulberry32(22);
  for (const angle of [1e-12, 1e-6, 1e-3, 0.0199, 0.0201, 0.1999, 0.2, 0.2001, 1, 2, Math.PI - 1e-6, 3.5]) {
    for (let trial = 0; trial < 5; trial++) {
      const axis = gaussianVector(random, 3);
      const n = Math.hypot(axis[0], axis[1], axis[2]);
      const omega = axis.map((value) => (value * angle) / n);
      const v = gaussianVector(random, 3, 50);
      const pose = poseFromParameters({ rotation: omega, translation: v, parameterization: 'se3_log_map' });
      const reference = twistExponential(omega, v);
      assertClose(pose.rotation, reference.rotation, 1e-13, `rotation at angle ${angle}`);
      assertClose(pose.translation, reference.translation, 1e-11, `translation at angle ${angle}`);
    }
  }
});

test('poses round-trip pose → parameters → pose for every parameterization', () => {
  const random = mulberry32(23);
  for (const parameterization of PARAMETERIZATIONS) {
    for (const convention of conventionsFor(parameterization)) {
      for (let trial = 0; trial < 100; trial++) {
        const pose = { rotation: randomRotation(random), translation: gaussianVector(random, 3, 200) };
        const parameters = parametersFromPose(pose, parameterization, convention);
        assert.equal(parameters.parameterization, parameterization);
        assert.equal(parameters.rotation.length, parameterCount(parameterization));
        const back = poseFromParameters(parameters);
        assertClose(back.rotation, pose.rotation, 1e-9, `${parameterization} ${convention} rotation`);
        assertClose(back.translation, pose.translation, 1e-9 * 200, `${parameterization} ${convention} translation`);
      }
    }
  }
});

test('se3_log_map parameters round-trip parameters → pose → parameters', () => {
  const random = mulberry32(24);
  const angles = [0, 1e-10, 1e-5, 0.0199, 0.1999, 0.2001, 1, Math.PI - 1e-3, Math.PI - 1e-7];
  for (let trial = 0; trial < 200; trial++) {
    const axis = gaussianVector(random, 3);
    const n = Math.hypot(axis[0], axis[1], axis[2]);
    const angle = trial < angles.length ? angles[trial] : random() * (Math.PI - 1e-6);
    const parameters: PoseParameters = {
      rotation: axis.map((value) => (value * angle) / n),
      translation: gaussianVector(random, 3, 100),
      parameterization: 'se3_log_map',
    };
    const back = parametersFromPose(poseFromParameters(parameters), 'se3_log_map');
    assertClose(back.rotation, parameters.rotation, 1e-9, `ω at angle ${angle}`);
    assertClose(back.translation, parameters.translation, 1e-9 * 100, `v at angle ${angle}`);
  }
  // Euler parameters keep their convention.
  const euler = parametersFromPose({ rotation: randomRotation(random), translation: new Float64Array(3) }, 'euler_angles', 'XZX');
  assert.equal(euler.convention, 'XZX');
});

test('poseJacobian agrees with central finite differences', () => {
  const random = mulberry32(25);
  for (const parameterization of PARAMETERIZATIONS) {
    for (const convention of conventionsFor(parameterization)) {
      for (let trial = 0; trial < 15; trial++) {
        assertPoseJacobianMatches(randomParameters(random, parameterization, convention), `${parameterization} ${convention}`);
      }
    }
  }
  // se3_log_map across the series switches and near π.
  for (const angle of [0, 1e-8, 1e-3, 0.0199, 0.0201, 0.1999, 0.2001, 1.5, Math.PI - 1e-3]) {
    for (let trial = 0; trial < 3; trial++) {
      const axis = gaussianVector(random, 3);
      const n = Math.hypot(axis[0], axis[1], axis[2]);
      assertPoseJacobianMatches(
        { rotation: axis.map((value) => (value * angle) / n), translation: gaussianVector(random, 3, 100), parameterization: 'se3_log_map' },
        `se3_log_map angle ${angle}`,
      );
    }
  }
});

test('poseJacobian blocks have the documented shapes and trivial parts', () => {
  const random = mulberry32(26);
  for (const parameterization of PARAMETERIZATIONS) {
    const parameters = randomParameters(random, parameterization, 'ZYX');
    const jacobian = poseJacobian(parameters);
    const n = parameterCount(parameterization);
    assert.equal(jacobian.rotationByRotation.length, 9 * n);
    assert.equal(jacobian.translationByRotation.length, 3 * n);
    assert.equal(jacobian.translationByTranslation.length, 9);
    assert.equal(jacobian.rotationByTranslation.length, 27);
    assert.ok(jacobian.rotationByTranslation.every((value) => value === 0));
    if (parameterization !== 'se3_log_map') {
      assert.ok(jacobian.translationByRotation.every((value) => value === 0));
      assertClose(jacobian.translationByTranslation, [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, 'identity');
    }
  }
});

test('bad pose input throws DrrkitError', () => {
  const throwsDrrkit = (run: () => unknown, pattern: RegExp) =>
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof DrrkitError, `expected DrrkitError, got ${String(error)}`);
      assert.match(error.message, pattern);
      return true;
    });
  const good = { rotation: Float64Array.from([0.1, 0.2, 0.3]), translation: Float64Array.from([1, 2, 3]) };
  throwsDrrkit(() => poseFromParameters({ ...good, translation: Float64Array.from([1, Number.NaN, 3]), parameterization: 'axis_angle' }), /translation parameter 1 is NaN/);
  throwsDrrkit(() => poseJacobian({ ...good, translation: Float64Array.from([1, 2, Infinity]), parameterization: 'se3_log_map' }), /translation parameter 2 is Infinity/);
  throwsDrrkit(() => poseFromParameters({ ...good, translation: Float64Array.from([1, 2]), parameterization: 'axis_angle' }), /translation needs 3 numbers, got 2/);
  throwsDrrkit(() => poseFromParameters({ ...good, parameterization: 'quaternion' }), /quaternion rotation needs 4 numbers, got 3/);
  throwsDrrkit(() => poseFromParameters({ ...good, parameterization: 'euler_angles', convention: 'XXY' as EulerConvention }), /unknown Euler convention "XXY"/);
  throwsDrrkit(() => poseJacobian({ ...good, parameterization: 'se3' as Parameterization }), /unknown rotation parameterization "se3"/);
  throwsDrrkit(
    () => parametersFromPose({ rotation: Float64Array.from([2, 0, 0, 0, 1, 0, 0, 0, 1]), translation: new Float64Array(3) }, 'se3_log_map'),
    /not a proper rotation/,
  );
  throwsDrrkit(
    () => parametersFromPose({ rotation: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), translation: Float64Array.from([0, Number.NaN, 0]) }, 'axis_angle'),
    /translation element 1 is NaN/,
  );
});
