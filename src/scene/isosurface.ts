/**
 * Isosurfaces by surface nets (Gibson 1998, the "naive" variant of Mikola Lysenko's write-up):
 * one vertex per grid cell that the surface crosses, at the mean of the crossings on the cell's
 * twelve edges, and one quad (two triangles) per voxel edge whose ends lie on opposite sides of
 * the level. Plain TypeScript over typed arrays, so it runs in a Web Worker as well as in Node.
 */

/** A triangle mesh: vertex positions (x, y, z, …) and triangle vertex indices. */
export interface TriangleMesh {
  /** Vertex positions, three numbers each. */
  positions: Float32Array;
  /** Triangles, three vertex indices each. */
  indices: Uint32Array;
}

/**
 * The surface where `values` (i fastest, `shape`) crosses `level`, with values outside the grid
 * taken as below the level so every surface closes. Vertices are in voxel index units (voxel
 * (i, j, k) has its centre at (i, j, k)); map them to mm with {@link transformMesh}. Quads face
 * from the inside (≥ level) to the outside.
 */
export function surfaceNets(values: ArrayLike<number>, shape: readonly [number, number, number], level: number): TriangleMesh {
  const [nx, ny, nz] = shape;
  // Cells are the boxes between voxel centres, including a ring outside the grid: cell (a, b, c)
  // has corners at voxels (a − 1 … a, b − 1 … b, c − 1 … c), a ∈ [0, nx].
  const cx = nx + 1, cy = ny + 1, cz = nz + 1;
  const cellVertex = new Int32Array(cx * cy * cz).fill(-1);
  const inside = (i: number, j: number, k: number): boolean =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && values[i + nx * (j + ny * k)] >= level;
  const value = (i: number, j: number, k: number): number =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz ? values[i + nx * (j + ny * k)] : -Infinity;
  let positions = new Float32Array(3 * 4096);
  let vertexCount = 0;
  const corner = new Float64Array(8);
  for (let c = 0; c < cz; c++) {
    for (let b = 0; b < cy; b++) {
      for (let a = 0; a < cx; a++) {
        let mask = 0;
        for (let n = 0; n < 8; n++) {
          const i = a - 1 + (n & 1), j = b - 1 + ((n >> 1) & 1), k = c - 1 + ((n >> 2) & 1);
          corner[n] = value(i, j, k);
          if (corner[n] >= level) mask |= 1 << n;
        }
        if (mask === 0 || mask === 255) continue;
        let sx = 0, sy = 0, sz = 0, crossings = 0;
        // The 12 edges: pairs of corners differing in one bit.
        for (let n = 0; n < 8; n++) {
          for (let bit = 1; bit < 8; bit <<= 1) {
            const m = n | bit;
            if (m === n) continue;
            const inN = (mask >> n) & 1, inM = (mask >> m) & 1;
            if (inN === inM) continue;
            const vn = corner[n], vm = corner[m];
            // Crossing along the edge; outside-the-grid corners (−∞) put it at the inside corner.
            let t = vn === -Infinity ? 1 : vm === -Infinity ? 0 : (level - vn) / (vm - vn);
            if (!(t >= 0)) t = 0; else if (t > 1) t = 1;
            const x0 = n & 1, y0 = (n >> 1) & 1, z0 = (n >> 2) & 1;
            const x1 = m & 1, y1 = (m >> 1) & 1, z1 = (m >> 2) & 1;
            sx += x0 + t * (x1 - x0); sy += y0 + t * (y1 - y0); sz += z0 + t * (z1 - z0);
            crossings++;
          }
        }
        if (3 * (vertexCount + 1) > positions.length) { const grown = new Float32Array(positions.length * 2); grown.set(positions); positions = grown; }
        positions[3 * vertexCount] = a - 1 + sx / crossings;
        positions[3 * vertexCount + 1] = b - 1 + sy / crossings;
        positions[3 * vertexCount + 2] = c - 1 + sz / crossings;
        cellVertex[a + cx * (b + cy * c)] = vertexCount++;
      }
    }
  }
  // One quad per voxel edge (between voxel (i, j, k) and its +axis neighbour) that crosses the
  // level: the four cells around that edge.
  let indices = new Uint32Array(6 * 4096);
  let indexCount = 0;
  const cell = (a: number, b: number, c: number): number => cellVertex[a + cx * (b + cy * c)];
  const quad = (v0: number, v1: number, v2: number, v3: number, flip: boolean): void => {
    if (v0 < 0 || v1 < 0 || v2 < 0 || v3 < 0) return;
    if (indexCount + 6 > indices.length) { const grown = new Uint32Array(indices.length * 2); grown.set(indices); indices = grown; }
    if (flip) { indices.set([v0, v3, v2, v0, v2, v1], indexCount); } else { indices.set([v0, v1, v2, v0, v2, v3], indexCount); }
    indexCount += 6;
  };
  for (let k = -1; k < nz; k++) {
    for (let j = -1; j < ny; j++) {
      for (let i = -1; i < nx; i++) {
        const here = inside(i, j, k);
        // Edge along x from (i, j, k) to (i+1, j, k): cells (i+1, j..j+1, k..k+1).
        if (j >= 0 && k >= 0 && here !== inside(i + 1, j, k)) {
          quad(cell(i + 1, j, k), cell(i + 1, j + 1, k), cell(i + 1, j + 1, k + 1), cell(i + 1, j, k + 1), !here);
        }
        if (i >= 0 && k >= 0 && here !== inside(i, j + 1, k)) {
          quad(cell(i, j + 1, k), cell(i, j + 1, k + 1), cell(i + 1, j + 1, k + 1), cell(i + 1, j + 1, k), !here);
        }
        if (i >= 0 && j >= 0 && here !== inside(i, j, k + 1)) {
          quad(cell(i, j, k + 1), cell(i + 1, j, k + 1), cell(i + 1, j + 1, k + 1), cell(i, j + 1, k + 1), !here);
        }
      }
    }
  }
  return { positions: positions.slice(0, 3 * vertexCount), indices: indices.slice(0, indexCount) };
}

/**
 * Maps a mesh's vertices by an affine x ↦ M·x + t (row-major 3×3 `linear`), in place; reverses
 * the triangles when M mirrors (negative determinant) so they keep facing outwards.
 */
export function transformMesh(mesh: TriangleMesh, linear: ArrayLike<number>, translation: ArrayLike<number>): TriangleMesh {
  const p = mesh.positions;
  for (let v = 0; v < p.length; v += 3) {
    const x = p[v], y = p[v + 1], z = p[v + 2];
    p[v] = linear[0] * x + linear[1] * y + linear[2] * z + translation[0];
    p[v + 1] = linear[3] * x + linear[4] * y + linear[5] * z + translation[1];
    p[v + 2] = linear[6] * x + linear[7] * y + linear[8] * z + translation[2];
  }
  const determinant = linear[0] * (linear[4] * linear[8] - linear[5] * linear[7]) - linear[1] * (linear[3] * linear[8] - linear[5] * linear[6]) + linear[2] * (linear[3] * linear[7] - linear[4] * linear[6]);
  if (determinant < 0) {
    const t = mesh.indices;
    for (let f = 0; f < t.length; f += 3) { const swap = t[f + 1]; t[f + 1] = t[f + 2]; t[f + 2] = swap; }
  }
  return mesh;
}
