/**
 * Shared by the kernel tests (render, speed, joseph): analytic chord lengths through a box and a
 * sphere, a box phantom of whole voxels, byte-for-byte equality of typed arrays, ZYX poses.
 */
import assert from 'node:assert/strict';
import type { Pose } from '../src/drr.js';
import { densityGridFromArray } from '../src/render/density-grid.js';

/** Length of the part of segment a→a+b (α ∈ [0,1]) inside an axis-aligned box. */
export function chordInBox(a: ArrayLike<number>, b: ArrayLike<number>, low: number[], high: number[]): number {
  let entry = 0, exit = 1;
  for (let axis = 0; axis < 3; axis++) {
    if (b[axis] === 0) { if (a[axis] < low[axis] || a[axis] > high[axis]) return 0; continue; }
    const t1 = (low[axis] - a[axis]) / b[axis], t2 = (high[axis] - a[axis]) / b[axis];
    entry = Math.max(entry, Math.min(t1, t2));
    exit = Math.min(exit, Math.max(t1, t2));
  }
  return exit > entry ? (exit - entry) * Math.hypot(b[0], b[1], b[2]) : 0;
}

/** Length of the part of segment a→a+b inside a sphere. */
export function chordInSphere(a: ArrayLike<number>, b: ArrayLike<number>, centre: number[], radius: number): number {
  const ox = a[0] - centre[0], oy = a[1] - centre[1], oz = a[2] - centre[2];
  const bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  const ob = ox * b[0] + oy * b[1] + oz * b[2];
  const oo = ox * ox + oy * oy + oz * oz - radius * radius;
  const discriminant = ob * ob - bb * oo;
  if (discriminant <= 0) return 0;
  const root = Math.sqrt(discriminant);
  const entry = Math.max(0, (-ob - root) / bb), exit = Math.min(1, (-ob + root) / bb);
  return exit > entry ? (exit - entry) * Math.sqrt(bb) : 0;
}

/** A 48×40×44 grid of 2×2.5×3 mm voxels at origin (−10, 5, 20) holding a uniform box. */
export function boxPhantom(density: number) {
  const shape = [48, 40, 44] as const, spacing = [2, 2.5, 3] as const, origin = [-10, 5, 20] as const;
  const first = [8, 6, 9], last = [37, 31, 33]; // inclusive voxel ranges
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let k = first[2]; k <= last[2]; k++)
    for (let j = first[1]; j <= last[1]; j++)
      for (let i = first[0]; i <= last[0]; i++) data[i + shape[0] * (j + shape[1] * k)] = density;
  const low = [0, 1, 2].map((axis) => origin[axis] + first[axis] * spacing[axis]);
  const high = [0, 1, 2].map((axis) => origin[axis] + (last[axis] + 1) * spacing[axis]);
  return { grid: densityGridFromArray(data, shape, spacing, origin), low, high };
}

/** Byte-for-byte equality of two typed arrays (so −0 ≠ +0 and NaN payloads count). */
export function assertBitIdentical(actual: Float32Array | Float64Array, expected: Float32Array | Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const element = Math.floor(i / actual.BYTES_PER_ELEMENT);
      assert.fail(`${what}: element ${element} differs: ${actual[element]} vs ${expected[element]}`);
    }
  }
}

/** A ZYX Euler pose (radians, mm). */
export function euler(a: number, b: number, c: number, translation: readonly number[]): Pose {
  return { rotation: Float64Array.of(a, b, c), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' };
}
