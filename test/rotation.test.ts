import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrrkitError } from '../src/errors.js';
import {
  EULER_CONVENTIONS,
  PARAMETERIZATIONS,
  convertRotation,
  parameterCount,
  parametersFromRotationMatrix,
  rotationMatrixFromParameters,
  rotationMatrixJacobian,
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

function uniform(random: () => number, low: number, high: number): number {
  return low + (high - low) * random();
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function gaussianVector(random: () => number, length: number, scale = 1): Float64Array {
  return Float64Array.from({ length }, () => scale * gaussian(random));
}

function multiply(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let k = 0; k < 3; k++) sum += a[3 * r + k] * b[3 * k + c];
    out[3 * r + c] = sum;
  }
  return out;
}

function transpose(m: ArrayLike<number>): Float64Array {
  return Float64Array.from([m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]);
}

function determinant(m: ArrayLike<number>): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

function rotationX(angle: number): Float64Array {
  const c = Math.cos(angle), s = Math.sin(angle);
  return Float64Array.from([1, 0, 0, 0, c, -s, 0, s, c]);
}
function rotationY(angle: number): Float64Array {
  const c = Math.cos(angle), s = Math.sin(angle);
  return Float64Array.from([c, 0, s, 0, 1, 0, -s, 0, c]);
}
function rotationZ(angle: number): Float64Array {
  const c = Math.cos(angle), s = Math.sin(angle);
  return Float64Array.from([c, -s, 0, s, c, 0, 0, 0, 1]);
}
const AXIS_ROTATIONS: Record<string, (angle: number) => Float64Array> = { X: rotationX, Y: rotationY, Z: rotationZ };

/** Standard unit-quaternion (w, x, y, z) → rotation matrix, written out independently. */
function matrixFromUnitQuaternion(q: ArrayLike<number>): Float64Array {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  return Float64Array.from([
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ]);
}

/** Rodrigues' formula for a rotation by `angle` about the unit `axis`. */
function matrixFromAxisAngle(axis: ArrayLike<number>, angle: number): Float64Array {
  const n = Math.hypot(axis[0], axis[1], axis[2]);
  const w = Math.cos(angle / 2), s = Math.sin(angle / 2) / n;
  return matrixFromUnitQuaternion([w, s * axis[0], s * axis[1], s * axis[2]]);
}

function randomUnitQuaternion(random: () => number): Float64Array {
  const q = gaussianVector(random, 4);
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  for (let i = 0; i < 4; i++) q[i] /= n;
  return q;
}

function randomRotation(random: () => number): Float64Array {
  return matrixFromUnitQuaternion(randomUnitQuaternion(random));
}

/** Random rotations plus hard cases: identity, half turns, tiny angles, angles near π. */
function testRotations(random: () => number, count: number): Float64Array[] {
  const rotations: Float64Array[] = [];
  for (let i = 0; i < count; i++) rotations.push(randomRotation(random));
  rotations.push(matrixFromAxisAngle([1, 0, 0], 0));
  for (const axis of [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, -2, 3]]) {
    for (const angle of [Math.PI, Math.PI - 1e-9, Math.PI - 1e-6, 1e-12, 1e-8, 1e-4, 0.0199, 0.0201, Math.PI / 2]) {
      rotations.push(matrixFromAxisAngle(axis, angle));
    }
  }
  for (let i = 0; i < 10; i++) {
    rotations.push(matrixFromAxisAngle(gaussianVector(random, 3), Math.PI - 10 ** -uniform(random, 3, 9)));
    rotations.push(matrixFromAxisAngle(gaussianVector(random, 3), 10 ** -uniform(random, 3, 12)));
  }
  // Near gimbal lock for every Euler convention.
  for (const convention of EULER_CONVENTIONS) {
    const taitBryan = convention[0] !== convention[2];
    for (const singular of taitBryan ? [Math.PI / 2, -Math.PI / 2] : [0, Math.PI]) {
      for (const offset of [1e-4, -1e-4, 1e-6, -1e-6]) {
        rotations.push(eulerByHand(convention, [uniform(random, -3, 3), singular + offset, uniform(random, -3, 3)]));
      }
    }
  }
  return rotations;
}

function eulerByHand(convention: string, angles: ArrayLike<number>): Float64Array {
  return multiply(
    AXIS_ROTATIONS[convention[0]](angles[0]),
    multiply(AXIS_ROTATIONS[convention[1]](angles[1]), AXIS_ROTATIONS[convention[2]](angles[2])),
  );
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

function assertProperRotation(m: ArrayLike<number>, tolerance: number, label: string): void {
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  assertClose(multiply(transpose(m), m), identity, tolerance, `${label}: RᵀR`);
  assert.ok(Math.abs(determinant(m) - 1) <= tolerance, `${label}: det = ${determinant(m)}`);
}

function packSymmetric(a: ArrayLike<number>): Float64Array {
  const rows = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3], columns = [0, 1, 2, 3, 1, 2, 3, 2, 3, 3];
  return Float64Array.from(rows, (row, index) => a[4 * row + columns[index]]);
}

function outerProduct(q: ArrayLike<number>, scale: number): Float64Array {
  const out = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) out[4 * i + j] = scale * q[i] * q[j];
  return out;
}

/** Random parameters in the canonical range of `parameterization` (unique preimage of R). */
function canonicalParameters(random: () => number, parameterization: Parameterization, convention: EulerConvention): Float64Array {
  switch (parameterization) {
    case 'euler_angles': {
      const taitBryan = convention[0] !== convention[2];
      const middle = taitBryan ? uniform(random, -Math.PI / 2 + 1e-3, Math.PI / 2 - 1e-3) : uniform(random, 1e-3, Math.PI - 1e-3);
      return Float64Array.from([uniform(random, -Math.PI, Math.PI), middle, uniform(random, -Math.PI, Math.PI)]);
    }
    case 'axis_angle':
    case 'se3_log_map': {
      const axis = gaussianVector(random, 3);
      const angle = uniform(random, 0, Math.PI - 1e-6) / Math.hypot(axis[0], axis[1], axis[2]);
      return axis.map((value) => value * angle);
    }
    case 'quaternion': {
      const q = randomUnitQuaternion(random);
      return q[0] < 0 ? q.map((value) => -value) : q;
    }
    case 'matrix':
    case 'rotation_9d':
      return randomRotation(random);
    case 'rotation_6d':
      return randomRotation(random).slice(0, 6);
    case 'rotation_10d':
      return packSymmetric(outerProduct(randomUnitQuaternion(random), -1));
    case 'quaternion_adjugate':
      return packSymmetric(outerProduct(randomUnitQuaternion(random), 1));
  }
}

/** Hard canonical parameters: gimbal-lock-ish Euler angles and extreme axis–angle magnitudes. */
function hardCanonicalParameters(random: () => number, parameterization: Parameterization, convention: EulerConvention): Float64Array[] {
  const list: Float64Array[] = [];
  if (parameterization === 'euler_angles') {
    const taitBryan = convention[0] !== convention[2];
    const middles = taitBryan
      ? [Math.PI / 2 - 1e-6, -Math.PI / 2 + 1e-6, Math.PI / 2 - 1e-4, -Math.PI / 2 + 1e-4, 0]
      : [1e-6, Math.PI - 1e-6, 1e-4, Math.PI - 1e-4, Math.PI / 2];
    for (const middle of middles) list.push(Float64Array.from([uniform(random, -3, 3), middle, uniform(random, -3, 3)]));
  }
  if (parameterization === 'axis_angle' || parameterization === 'se3_log_map') {
    for (const angle of [0, 1e-12, 1e-8, 1e-4, 0.0199, 0.02, 0.0201, 1, Math.PI - 1e-4, Math.PI - 1e-7, Math.PI - 1e-9]) {
      const axis = gaussianVector(random, 3);
      const n = Math.hypot(axis[0], axis[1], axis[2]);
      list.push(axis.map((value) => (value * angle) / n));
    }
  }
  return list;
}

/** Central finite differences of the rotation matrix (9×n), for checking only. */
function finiteDifferenceJacobian(values: Float64Array, parameterization: Parameterization, convention: EulerConvention): Float64Array {
  const n = values.length;
  const jacobian = new Float64Array(9 * n);
  for (let j = 0; j < n; j++) {
    const step = 1e-6 * Math.max(1, Math.abs(values[j]));
    const plus = Float64Array.from(values), minus = Float64Array.from(values);
    plus[j] += step;
    minus[j] -= step;
    const rPlus = rotationMatrixFromParameters(plus, parameterization, convention);
    const rMinus = rotationMatrixFromParameters(minus, parameterization, convention);
    for (let k = 0; k < 9; k++) jacobian[k * n + j] = (rPlus[k] - rMinus[k]) / (2 * step);
  }
  return jacobian;
}

function assertJacobianMatches(values: Float64Array, parameterization: Parameterization, convention: EulerConvention, label: string): void {
  const { matrix, jacobian } = rotationMatrixJacobian(values, parameterization, convention);
  assertClose(matrix, rotationMatrixFromParameters(values, parameterization, convention), 1e-15, `${label}: matrix`);
  const numeric = finiteDifferenceJacobian(values, parameterization, convention);
  assert.equal(jacobian.length, 9 * parameterCount(parameterization));
  for (let index = 0; index < jacobian.length; index++) {
    const error = Math.abs(jacobian[index] - numeric[index]);
    assert.ok(
      error <= 1e-6 * Math.max(1, Math.abs(numeric[index])),
      `${label}: ∂R[${Math.floor(index / values.length)}]/∂p[${index % values.length}] = ${jacobian[index]}, finite differences give ${numeric[index]}`,
    );
  }
}

/** Random non-degenerate parameters for Jacobian checks (not necessarily canonical). */
function generalParameters(random: () => number, parameterization: Parameterization): Float64Array {
  switch (parameterization) {
    case 'euler_angles':
      return Float64Array.from({ length: 3 }, () => uniform(random, -Math.PI, Math.PI));
    case 'axis_angle':
    case 'se3_log_map':
      return gaussianVector(random, 3, 1.2);
    case 'quaternion':
      return gaussianVector(random, 4, 1.5);
    default:
      return gaussianVector(random, parameterCount(parameterization));
  }
}

const CONVENTION_FOR_OTHERS: EulerConvention = 'ZYX';

function conventionsFor(parameterization: Parameterization): readonly EulerConvention[] {
  return parameterization === 'euler_angles' ? EULER_CONVENTIONS : [CONVENTION_FOR_OTHERS];
}

// ---------------------------------------------------------------------------------------------
// Tests

test('parameterCount and the lists of names', () => {
  const expected: Record<Parameterization, number> = {
    euler_angles: 3, axis_angle: 3, quaternion: 4, matrix: 9, rotation_6d: 6,
    rotation_9d: 9, rotation_10d: 10, quaternion_adjugate: 10, se3_log_map: 3,
  };
  assert.equal(PARAMETERIZATIONS.length, 9);
  for (const parameterization of PARAMETERIZATIONS) assert.equal(parameterCount(parameterization), expected[parameterization]);
  assert.equal(EULER_CONVENTIONS.length, 12);
  assert.equal(new Set(EULER_CONVENTIONS).size, 12);
});

test('Euler matrices equal products of hand-written axis rotations for all 12 conventions', () => {
  const random = mulberry32(1);
  for (const convention of EULER_CONVENTIONS) {
    for (let trial = 0; trial < 50; trial++) {
      const angles = Float64Array.from({ length: 3 }, () => uniform(random, -2 * Math.PI, 2 * Math.PI));
      const matrix = rotationMatrixFromParameters(angles, 'euler_angles', convention);
      assertClose(matrix, eulerByHand(convention, angles), 1e-14, `${convention} ${Array.from(angles)}`);
    }
  }
  // The default convention is ZYX.
  const angles = [0.3, -0.7, 1.1];
  assertClose(rotationMatrixFromParameters(angles, 'euler_angles'), eulerByHand('ZYX', angles), 1e-15, 'default convention');
});

test('golden Euler ZYX values', () => {
  const flip = rotationMatrixFromParameters([Math.PI, 0, Math.PI / 2], 'euler_angles', 'ZYX');
  // (x, y, z) → (−x, z, y).
  assertClose(flip, [-1, 0, 0, 0, 0, 1, 0, 1, 0], 1e-15, 'ZYX (π, 0, π/2)');
  const r = rotationMatrixFromParameters([(3 * Math.PI) / 4, Math.PI / 6, Math.PI / 3], 'euler_angles', 'ZYX');
  assertClose(r.slice(0, 3), [-0.6123724, -0.6597396, 0.4355957], 1e-7, 'first row');
  assertClose(r.slice(6, 9), [-0.5, 0.75, 0.4330127], 1e-7, 'third row');
});

test('golden values of the other parameterizations', () => {
  const quarterTurnZ = [0, -1, 0, 1, 0, 0, 0, 0, 1];
  const h = Math.SQRT1_2;
  assertClose(rotationMatrixFromParameters([0, 0, Math.PI / 2], 'axis_angle'), quarterTurnZ, 1e-15, 'axis_angle');
  assertClose(rotationMatrixFromParameters([0, 0, Math.PI / 2], 'se3_log_map'), quarterTurnZ, 1e-15, 'se3_log_map');
  assertClose(rotationMatrixFromParameters([h, 0, 0, h], 'quaternion'), quarterTurnZ, 1e-15, 'quaternion');
  assertClose(rotationMatrixFromParameters([5 * h, 0, 0, 5 * h], 'quaternion'), quarterTurnZ, 1e-15, 'scaled quaternion');
  assertClose(rotationMatrixFromParameters([0, -3, 0, 2, 0.5, 0], 'rotation_6d'), quarterTurnZ, 1e-15, 'rotation_6d');
  assertClose(rotationMatrixFromParameters([0, -2, 0, 2, 0, 0, 0, 0, 2], 'rotation_9d'), quarterTurnZ, 1e-15, 'rotation_9d');
  assertClose(convertRotation([0, 0, Math.PI / 2], 'axis_angle', 'quaternion'), [h, 0, 0, h], 1e-15, 'axis_angle → quaternion');
  assertClose(convertRotation([h, 0, 0, h], 'quaternion', 'rotation_10d'), [-0.5, 0, 0, -0.5, 0, 0, 0, 0, 0, -0.5], 1e-15, 'quaternion → 10d');
  assertClose(convertRotation([h, 0, 0, h], 'quaternion', 'quaternion_adjugate'), [0.5, 0, 0, 0.5, 0, 0, 0, 0, 0, 0.5], 1e-15, 'quaternion → adjugate');
  // The identity 10D matrix diag(0, 1, 2, 3): smallest eigenvalue belongs to w → identity rotation.
  assertClose(rotationMatrixFromParameters([0, 0, 0, 0, 1, 0, 0, 2, 0, 3], 'rotation_10d'), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-15, '10d identity');
});

test('every parameterization round-trips matrix → parameters → matrix', () => {
  const random = mulberry32(2);
  const rotations = testRotations(random, 300);
  for (const parameterization of PARAMETERIZATIONS) {
    for (const convention of conventionsFor(parameterization)) {
      for (const rotation of rotations) {
        const parameters = parametersFromRotationMatrix(rotation, parameterization, convention);
        assert.equal(parameters.length, parameterCount(parameterization));
        const back = rotationMatrixFromParameters(parameters, parameterization, convention);
        assertClose(back, rotation, 1e-9, `${parameterization} ${convention} matrix round trip`);
      }
    }
  }
});

test('canonical parameters round-trip parameters → matrix → parameters', () => {
  const random = mulberry32(3);
  for (const parameterization of PARAMETERIZATIONS) {
    for (const convention of conventionsFor(parameterization)) {
      const cases: Float64Array[] = [];
      for (let trial = 0; trial < 300; trial++) cases.push(canonicalParameters(random, parameterization, convention));
      cases.push(...hardCanonicalParameters(random, parameterization, convention));
      for (const parameters of cases) {
        const matrix = rotationMatrixFromParameters(parameters, parameterization, convention);
        const back = parametersFromRotationMatrix(matrix, parameterization, convention);
        assertClose(back, parameters, 1e-9, `${parameterization} ${convention} parameter round trip`);
      }
    }
  }
});

test('Euler angles come back in pytorch3d ranges', () => {
  const random = mulberry32(4);
  for (const convention of EULER_CONVENTIONS) {
    const taitBryan = convention[0] !== convention[2];
    for (let trial = 0; trial < 100; trial++) {
      const angles = parametersFromRotationMatrix(randomRotation(random), 'euler_angles', convention);
      assert.ok(Math.abs(angles[0]) <= Math.PI && Math.abs(angles[2]) <= Math.PI, `${convention}: outer angles in [−π, π]`);
      if (taitBryan) assert.ok(Math.abs(angles[1]) <= Math.PI / 2, `${convention}: middle angle in [−π/2, π/2]`);
      else assert.ok(angles[1] >= 0 && angles[1] <= Math.PI, `${convention}: middle angle in [0, π]`);
    }
  }
});

test('Euler angles in exact gimbal lock reproduce the matrix with the third angle 0', () => {
  const random = mulberry32(11);
  for (const convention of EULER_CONVENTIONS) {
    const taitBryan = convention[0] !== convention[2];
    for (const middle of taitBryan ? [Math.PI / 2, -Math.PI / 2] : [0, Math.PI]) {
      const rotation = eulerByHand(convention, [uniform(random, -3, 3), middle, uniform(random, -3, 3)]);
      const angles = parametersFromRotationMatrix(rotation, 'euler_angles', convention);
      assert.ok(Math.abs(angles[2]) < 1e-9, `${convention}: third angle ${angles[2]}`);
      assert.ok(Math.abs(angles[1] - middle) < 1e-7, `${convention}: middle angle ${angles[1]}`);
      assertClose(rotationMatrixFromParameters(angles, 'euler_angles', convention), rotation, 1e-12, `${convention} in gimbal lock`);
    }
  }
});

test('convertRotation agrees across parameterizations', () => {
  const random = mulberry32(5);
  for (let trial = 0; trial < 50; trial++) {
    const rotation = randomRotation(random);
    const angles = parametersFromRotationMatrix(rotation, 'euler_angles', 'XYZ');
    let values: Float64Array = angles;
    let from: Parameterization = 'euler_angles';
    let fromConvention: EulerConvention = 'XYZ';
    for (const to of PARAMETERIZATIONS) {
      const toConvention: EulerConvention = 'ZXZ';
      values = convertRotation(values, from, to, fromConvention, toConvention);
      assertClose(rotationMatrixFromParameters(values, to, toConvention), rotation, 1e-9, `${from} → ${to}`);
      from = to;
      fromConvention = toConvention;
    }
  }
});

test('projected parameterizations give proper rotations for arbitrary input', () => {
  const random = mulberry32(6);
  const projected: Parameterization[] = ['quaternion', 'rotation_6d', 'rotation_9d', 'rotation_10d', 'quaternion_adjugate'];
  for (const parameterization of projected) {
    for (let trial = 0; trial < 300; trial++) {
      const scale = 10 ** uniform(random, -3, 3);
      const values = gaussianVector(random, parameterCount(parameterization), scale);
      const matrix = rotationMatrixFromParameters(values, parameterization);
      assertProperRotation(matrix, 1e-12, `${parameterization} ${Array.from(values)}`);
    }
  }
  // Degenerate but allowed inputs still give a proper rotation.
  assertProperRotation(rotationMatrixFromParameters(new Float64Array(9), 'rotation_9d'), 1e-12, 'zero 9d');
  assertProperRotation(rotationMatrixFromParameters([-1, 0, 0, 0, -1, 0, 0, 0, -1], 'rotation_9d'), 1e-12, '−I 9d');
  assertProperRotation(rotationMatrixFromParameters(new Float64Array(10), 'rotation_10d'), 1e-12, 'zero 10d');
});

test('rotation_9d is the special-orthogonal Procrustes projection', () => {
  const random = mulberry32(7);
  for (let trial = 0; trial < 200; trial++) {
    const m = gaussianVector(random, 9);
    const r = rotationMatrixFromParameters(m, 'rotation_9d');
    // Stationarity: RᵀM is symmetric.
    const rtm = multiply(transpose(r), m);
    assertClose(rtm, transpose(rtm), 1e-12, 'RᵀM symmetric');
    // Optimality: no nearby rotation is closer to M.
    const distance = (candidate: ArrayLike<number>) => maxFrobenius(candidate, m);
    const best = distance(r);
    for (let probe = 0; probe < 20; probe++) {
      const nudge = matrixFromAxisAngle(gaussianVector(random, 3), uniform(random, 1e-3, 0.5));
      assert.ok(distance(multiply(r, nudge)) >= best - 1e-12, 'a perturbed rotation is not closer');
    }
    // Rotations are fixed points.
    const rotation = randomRotation(random);
    assertClose(rotationMatrixFromParameters(rotation, 'rotation_9d'), rotation, 1e-14, '9d of a rotation');
  }
});

function maxFrobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (a[i] - b[i]) ** 2;
  return sum;
}

test('rotation_10d picks the eigenvector of the smallest eigenvalue', () => {
  const random = mulberry32(8);
  for (let trial = 0; trial < 200; trial++) {
    const values = gaussianVector(random, 10);
    const a = new Float64Array(16);
    const rows = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3], columns = [0, 1, 2, 3, 1, 2, 3, 2, 3, 3];
    for (let index = 0; index < 10; index++) {
      a[4 * rows[index] + columns[index]] = values[index];
      a[4 * columns[index] + rows[index]] = values[index];
    }
    const q = parametersFromRotationMatrix(rotationMatrixFromParameters(values, 'rotation_10d'), 'quaternion');
    const aq = [0, 1, 2, 3].map((row) => a[4 * row] * q[0] + a[4 * row + 1] * q[1] + a[4 * row + 2] * q[2] + a[4 * row + 3] * q[3]);
    const lambda = aq[0] * q[0] + aq[1] * q[1] + aq[2] * q[2] + aq[3] * q[3];
    assertClose(aq, Array.from(q, (value) => lambda * value), 1e-9, 'A q = λ q');
    for (let probe = 0; probe < 50; probe++) {
      const x = randomUnitQuaternion(random);
      let form = 0;
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) form += x[i] * a[4 * i + j] * x[j];
      assert.ok(form >= lambda - 1e-12, 'λ is the smallest eigenvalue');
    }
  }
});

test('quaternion_adjugate takes the row of largest norm', () => {
  const random = mulberry32(9);
  for (let trial = 0; trial < 100; trial++) {
    const q = randomUnitQuaternion(random);
    const scale = uniform(random, -5, 5);
    const values = packSymmetric(outerProduct(q, scale));
    assertClose(rotationMatrixFromParameters(values, 'quaternion_adjugate'), matrixFromUnitQuaternion(q), 1e-12, 'adjugate of q qᵀ');
  }
});

test('every Jacobian agrees with central finite differences', () => {
  const random = mulberry32(10);
  for (const parameterization of PARAMETERIZATIONS) {
    for (const convention of conventionsFor(parameterization)) {
      for (let trial = 0; trial < 40; trial++) {
        assertJacobianMatches(generalParameters(random, parameterization), parameterization, convention, `${parameterization} ${convention}`);
      }
      for (let trial = 0; trial < 10; trial++) {
        assertJacobianMatches(canonicalParameters(random, parameterization, convention), parameterization, convention, `${parameterization} ${convention} canonical`);
      }
    }
  }
  // Small and near-π angles, on both sides of the Taylor-series switch.
  for (const parameterization of ['axis_angle', 'se3_log_map'] as const) {
    for (const angle of [0, 1e-9, 1e-3, 0.0199, 0.0201, 0.5, Math.PI - 1e-3, Math.PI + 0.3]) {
      const axis = gaussianVector(random, 3);
      const n = Math.hypot(axis[0], axis[1], axis[2]);
      assertJacobianMatches(axis.map((value) => (value * angle) / n), parameterization, 'ZYX', `${parameterization} angle ${angle}`);
    }
  }
  // Near-singular Euler angles (away from the exact singularity the map is smooth).
  for (const convention of EULER_CONVENTIONS) {
    const taitBryan = convention[0] !== convention[2];
    for (const middle of taitBryan ? [Math.PI / 2 - 1e-3, -Math.PI / 2] : [0, Math.PI - 1e-3]) {
      assertJacobianMatches(Float64Array.from([0.4, middle, -1.3]), 'euler_angles', convention, `${convention} near gimbal lock`);
    }
  }
  // Perturbations of canonical 10D / adjugate parameters (repeated non-selected eigenvalues).
  for (let trial = 0; trial < 10; trial++) {
    const q = randomUnitQuaternion(random);
    assertJacobianMatches(packSymmetric(outerProduct(q, -1)), 'rotation_10d', 'ZYX', '10d at −q qᵀ');
    assertJacobianMatches(packSymmetric(outerProduct(q, 2)), 'quaternion_adjugate', 'ZYX', 'adjugate at 2 q qᵀ');
    assertJacobianMatches(randomRotation(random), 'rotation_9d', 'ZYX', '9d at a rotation');
  }
});

test('bad input throws DrrkitError with a one-line message', () => {
  const throwsDrrkit = (run: () => unknown, pattern: RegExp) =>
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof DrrkitError, `expected DrrkitError, got ${String(error)}`);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes('\n'), 'one line');
      return true;
    });
  throwsDrrkit(() => rotationMatrixFromParameters([0, Number.NaN, 0], 'euler_angles', 'ZYX'), /rotation parameter 1 is NaN/);
  throwsDrrkit(() => rotationMatrixFromParameters([0, 0, Infinity], 'axis_angle'), /rotation parameter 2 is Infinity/);
  throwsDrrkit(() => rotationMatrixJacobian([0, 0, -Infinity, 1], 'quaternion'), /rotation parameter 2 is -Infinity/);
  throwsDrrkit(() => rotationMatrixFromParameters([0, 0], 'euler_angles'), /euler_angles rotation needs 3 numbers, got 2/);
  throwsDrrkit(() => rotationMatrixFromParameters([1, 0, 0, 0, 0], 'quaternion'), /quaternion rotation needs 4 numbers, got 5/);
  throwsDrrkit(() => rotationMatrixFromParameters([0, 0, 0], 'euler_angles', 'ZZY' as EulerConvention), /unknown Euler convention "ZZY"; use one of XYZ/);
  throwsDrrkit(() => parametersFromRotationMatrix([1, 0, 0, 0, 1, 0, 0, 0, 1], 'euler_angles', 'xyz' as EulerConvention), /unknown Euler convention "xyz"/);
  throwsDrrkit(() => rotationMatrixFromParameters([0, 0, 0], 'euler' as Parameterization), /unknown rotation parameterization "euler"; use one of euler_angles/);
  throwsDrrkit(() => parameterCount('rotation_5d' as Parameterization), /unknown rotation parameterization/);
  throwsDrrkit(() => convertRotation([0, 0, 0], 'axis_angle', 'nope' as Parameterization), /unknown rotation parameterization "nope"/);
  throwsDrrkit(() => rotationMatrixFromParameters([0, 0, 0, 0], 'quaternion'), /quaternion has zero norm/);
  throwsDrrkit(() => rotationMatrixFromParameters([1, 2, 3, 2, 4, 6], 'rotation_6d'), /rotation_6d vectors are parallel/);
  throwsDrrkit(() => rotationMatrixFromParameters([0, 0, 0, 1, 0, 0], 'rotation_6d'), /rotation_6d vector 1 is zero/);
  throwsDrrkit(() => rotationMatrixFromParameters(new Float64Array(10), 'quaternion_adjugate'), /quaternion_adjugate matrix is zero/);
  throwsDrrkit(() => rotationMatrixJacobian(new Float64Array(10), 'rotation_10d'), /rotation_10d: .*repeated/);
  throwsDrrkit(() => rotationMatrixJacobian(new Float64Array(9), 'rotation_9d'), /rotation_9d: .*repeated/);
  throwsDrrkit(() => parametersFromRotationMatrix([1, 0, 0, 0, 1, 0, 0, 0, 2], 'quaternion'), /not a proper rotation/);
  throwsDrrkit(() => parametersFromRotationMatrix([-1, 0, 0, 0, 1, 0, 0, 0, 1], 'axis_angle'), /not a proper rotation/);
  throwsDrrkit(() => parametersFromRotationMatrix([1, 0, 0, 0, 1, 0, 0, 0], 'axis_angle'), /rotation matrix needs 9 numbers, got 8/);
  throwsDrrkit(() => parametersFromRotationMatrix([1, 0, 0, 0, Number.NaN, 0, 0, 0, 1], 'matrix'), /rotation matrix element 4 is NaN/);
});
