/**
 * Smoothed isotropic total variation of a volume and its gradient.
 *
 * TV(x) = Σᵥ √(Δᵢx² + Δⱼx² + Δₖx² + ε²) with forward differences Δᵢx = x(i+1) − x(i) (zero
 * across the far faces), in voxel units. ε keeps it differentiable where the volume is flat.
 */

/**
 * Returns TV(x) for `values` of `shape` (i fastest) and, when `gradient` is given, writes
 * ∂TV/∂x into it (overwriting).
 */
export function totalVariation(values: ArrayLike<number>, shape: readonly [number, number, number], epsilon = 1e-3, gradient?: Float64Array): number {
  const [nx, ny, nz] = shape;
  const sx = 1, sy = nx, sz = nx * ny;
  const epsilon2 = epsilon * epsilon;
  if (gradient) gradient.fill(0);
  let total = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = i + nx * (j + ny * k);
        const x = values[v];
        const dx = i + 1 < nx ? values[v + sx] - x : 0;
        const dy = j + 1 < ny ? values[v + sy] - x : 0;
        const dz = k + 1 < nz ? values[v + sz] - x : 0;
        const norm = Math.sqrt(dx * dx + dy * dy + dz * dz + epsilon2);
        total += norm;
        if (gradient) {
          const inverse = 1 / norm;
          gradient[v] -= (dx + dy + dz) * inverse;
          if (i + 1 < nx) gradient[v + sx] += dx * inverse;
          if (j + 1 < ny) gradient[v + sy] += dy * inverse;
          if (k + 1 < nz) gradient[v + sz] += dz * inverse;
        }
      }
    }
  }
  return total;
}
