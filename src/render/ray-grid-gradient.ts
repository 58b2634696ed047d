import type { RayGrid } from '../geometry/detector.js';
import type { RigidTransform } from '../geometry/rigid-transform.js';
import type { TransformGradient } from './pose-gradient.js';

/**
 * The gradient of a scalar loss with respect to the twelve numbers of a {@link RayGrid}: every
 * pixel's ray is a = source, b = firstPixel + row·rowStep + column·columnStep − source, so
 *   ∂L/∂source = Σₚ wₚ·(∂I/∂a − ∂I/∂b),   ∂L/∂firstPixel = Σₚ wₚ·∂I/∂b,
 *   ∂L/∂rowStep = Σₚ wₚ·row·∂I/∂b,         ∂L/∂columnStep = Σₚ wₚ·column·∂I/∂b,
 * with wₚ = ∂L/∂Iₚ. Whatever camera produced the rays, these twelve numbers carry everything
 * the chain rule to the pose needs — which lets a GPU backend read back 12 numbers per image.
 */
export interface RayGridGradient {
  /** ∂L/∂source. */
  readonly source: Float64Array;
  /** ∂L/∂firstPixel. */
  readonly firstPixel: Float64Array;
  /** ∂L/∂rowStep. */
  readonly rowStep: Float64Array;
  /** ∂L/∂columnStep. */
  readonly columnStep: Float64Array;
}

/**
 * Reduces per-pixel ray gradients (six numbers per pixel, as the CPU kernels write them) with
 * per-pixel weights ∂L/∂I to a {@link RayGridGradient}, in f64 on the CPU.
 */
export function rayGridGradientFromRays(
  rays: Pick<RayGrid, 'height' | 'width'>,
  rayGradients: ArrayLike<number>,
  pixelWeights: ArrayLike<number>,
  offset = 0,
): RayGridGradient {
  const source = new Float64Array(3), firstPixel = new Float64Array(3), rowStep = new Float64Array(3), columnStep = new Float64Array(3);
  const { height, width } = rays;
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const pixel = row * width + column;
      const weight = pixelWeights[offset + pixel];
      if (weight === 0) continue;
      const g = 6 * (offset + pixel);
      for (let axis = 0; axis < 3; axis++) {
        const byB = weight * rayGradients[g + 3 + axis];
        source[axis] += weight * rayGradients[g + axis] - byB;
        firstPixel[axis] += byB;
        rowStep[axis] += row * byB;
        columnStep[axis] += column * byB;
      }
    }
  }
  return { source, firstPixel, rowStep, columnStep };
}

/** The twelve numbers of a ray grid, in the order source, firstPixel, rowStep, columnStep. */
function flatten(rays: RayGrid, out: Float64Array): Float64Array {
  for (let axis = 0; axis < 3; axis++) {
    out[axis] = rays.source[axis];
    out[3 + axis] = rays.firstPixel[axis];
    out[6 + axis] = rays.rowStep[axis];
    out[9 + axis] = rays.columnStep[axis];
  }
  return out;
}

/**
 * Chain rule from a {@link RayGridGradient} to the pose matrix, for any camera whose ray grid is
 * a polynomial of degree ≤ 2 in (R, t) — the seed C-arm (affine: a = R·s + t) and the world
 * pinhole camera (a = M·R·t + m) alike. `raysAt` maps a pose to its ray grid (the camera's
 * `rays`). Each of the twelve partial derivatives of the ray grid is the central difference
 * (F(x + e) − F(x − e))/2 with a unit step, which is exact for such polynomials (only rounding
 * remains), so no camera needs its own adjoint code.
 */
export function transformGradientFromRayGridGradient(
  raysAt: (pose: RigidTransform) => RayGrid,
  pose: RigidTransform,
  gradient: RayGridGradient,
): TransformGradient {
  const g = new Float64Array(12);
  for (let axis = 0; axis < 3; axis++) {
    g[axis] = gradient.source[axis];
    g[3 + axis] = gradient.firstPixel[axis];
    g[6 + axis] = gradient.rowStep[axis];
    g[9 + axis] = gradient.columnStep[axis];
  }
  const plus = new Float64Array(12), minus = new Float64Array(12);
  const derivative = (perturb: (sign: number) => RigidTransform): number => {
    flatten(raysAt(perturb(1)), plus);
    flatten(raysAt(perturb(-1)), minus);
    let total = 0;
    for (let q = 0; q < 12; q++) total += g[q] * 0.5 * (plus[q] - minus[q]);
    return total;
  };
  const rotation = new Float64Array(9), translation = new Float64Array(3);
  for (let k = 0; k < 9; k++) {
    rotation[k] = derivative((sign) => {
      const moved = Float64Array.from(pose.rotation);
      moved[k] += sign;
      return { rotation: moved, translation: pose.translation };
    });
  }
  for (let k = 0; k < 3; k++) {
    translation[k] = derivative((sign) => {
      const moved = Float64Array.from(pose.translation);
      moved[k] += sign;
      return { rotation: pose.rotation, translation: moved };
    });
  }
  return { rotation, translation };
}
