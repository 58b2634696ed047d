/** Shared helpers for the test suite (not part of the library). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found by walking up from this file to drrkit's package.json. */
export function repositoryRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(directory, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'drrkit') return directory;
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('drrkit repository root not found');
    directory = parent;
  }
}

/** Path of a file under ../shared beside the repository, or undefined when absent. */
export function sharedPath(relative: string): string | undefined {
  const full = path.resolve(repositoryRoot(), '..', 'shared', relative);
  return existsSync(full) ? full : undefined;
}

/** The reason shown when a test skips for lack of ../shared. */
export const SHARED_ABSENT = 'needs ../shared beside the repository (absent here)';

/** A small deterministic random generator (mulberry32) returning numbers in [0, 1). */
export { seededRandom } from '../src/volume/shapes.js';

/** Rz(a)·Ry(b)·Rx(c), row-major, written out by hand (independent of the library). */
export function eulerZYX(a: number, b: number, c: number): Float64Array {
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b), cc = Math.cos(c), sc = Math.sin(c);
  return Float64Array.of(
    ca * cb, ca * sb * sc - sa * cc, ca * sb * cc + sa * sc,
    sa * cb, sa * sb * sc + ca * cc, sa * sb * cc - ca * sc,
    -sb, cb * sc, cb * cc,
  );
}

/** Normalised cross-correlation of two equal-length arrays (population statistics). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let meanA = 0, meanB = 0;
  for (let i = 0; i < a.length; i++) { meanA += a[i]; meanB += b[i]; }
  meanA /= a.length; meanB /= b.length;
  let covariance = 0, varianceA = 0, varianceB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] - meanA, y = b[i] - meanB;
    covariance += x * y; varianceA += x * x; varianceB += y * y;
  }
  return covariance / Math.sqrt(varianceA * varianceB);
}

/** ‖a − b‖ / ‖b‖. */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0, norm = 0;
  for (let i = 0; i < a.length; i++) { difference += (a[i] - b[i]) ** 2; norm += b[i] ** 2; }
  return Math.sqrt(difference / norm);
}
