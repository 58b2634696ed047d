/**
 * The procedural-phantom toolkit: signed-distance shapes in mm (ellipsoids, lofts, tubes, boxes,
 * plates, unions, differences, offsets), anatomical structures painted with Hounsfield layers
 * and a one-voxel soft edge, and the voxel grid in drrkit's phantom layout (i anterior →
 * posterior, j right → left, k head → feet; patient frame x LEFT, y POSTERIOR, z SUPERIOR,
 * centred on the volume). Shared by the example chest CT and the head and pelvis phantoms.
 */
// ───────────────────────────── random numbers ─────────────────────────────

/** mulberry32: a small, fast, seeded 32-bit PRNG returning numbers in [0, 1) (the phantoms' seeding). */
export function mulberry32(seed: number): () => number {
  return seededRandom(Math.floor(seed) ^ 0x6d2b79f5);
}

/** mulberry32 started from the 32-bit state `seed` (pixel subsets, benchmark and test poses). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ───────────────────────────── small vector helpers ─────────────────────────────

/** A point or direction in the patient frame, mm. */
export type Vector3 = [number, number, number];

/** a + b. */
export function add(a: Vector3, b: Vector3): Vector3 { return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]; }
/** a − b. */
export function subtractVectors(a: Vector3, b: Vector3): Vector3 { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
/** a · factor. */
export function scale(a: Vector3, factor: number): Vector3 { return [a[0] * factor, a[1] * factor, a[2] * factor]; }
/** Dot product. */
export function dot(a: Vector3, b: Vector3): number { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
/** Cross product a × b. */
export function cross(a: Vector3, b: Vector3): Vector3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
/** Euclidean length. */
export function norm(a: Vector3): number { return Math.hypot(a[0], a[1], a[2]); }
/** a scaled to unit length (a zero vector stays zero). */
export function normalize(a: Vector3): Vector3 { const length = norm(a) || 1; return [a[0] / length, a[1] / length, a[2] / length]; }
/** a with x multiplied by `side` (±1): the point on the patient's other side. */
export function mirrorX(a: Vector3, side: number): Vector3 { return [a[0] * side, a[1], a[2]]; }

/** Rotates `vector` about the unit `axis` by `angle` radians (Rodrigues). */
export function rotateAbout(vector: Vector3, axis: Vector3, angle: number): Vector3 {
  const cosine = Math.cos(angle), sine = Math.sin(angle);
  const along = dot(axis, vector) * (1 - cosine);
  const perpendicular = cross(axis, vector);
  return [
    vector[0] * cosine + perpendicular[0] * sine + axis[0] * along,
    vector[1] * cosine + perpendicular[1] * sine + axis[1] * along,
    vector[2] * cosine + perpendicular[2] * sine + axis[2] * along,
  ];
}

/** A unit vector perpendicular to `direction`. */
export function anyPerpendicular(direction: Vector3): Vector3 {
  const helper: Vector3 = Math.abs(direction[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  return normalize(cross(direction, helper));
}

// ───────────────────────────── shapes (signed distance, mm) ─────────────────────────────

/** Axis-aligned box in the patient frame: [minX, maxX, minY, maxY, minZ, maxZ] in mm. */
export type Bounds = readonly [number, number, number, number, number, number];

/** Bounds of a shape without limits (a half space). */
export const UNBOUNDED: Bounds = [-1e5, 1e5, -1e5, 1e5, -1e5, 1e5];

/**
 * The painter skips runs of voxels along i using the distance (sphere tracing); the distances
 * are approximate, so it trusts only this fraction of them.
 */
export const LIPSCHITZ_SAFETY = 0.6;

/**
 * Distance beyond which composite shapes stop refining and return a lower bound. It must exceed
 * the painter's reach (the largest outward layer, 4 mm, plus the soft edge) so that any voxel
 * the painter blends gets an exact value.
 */
export const FAR_OUTSIDE = 10;

/** Widest soft edge in mm (keeps the painter's reach below {@link FAR_OUTSIDE} on coarse grids). */
export const MAXIMUM_SOFTNESS = 3;

/** A solid given by an (approximate) signed distance in mm: negative inside, positive outside. */
export interface Shape {
  readonly bounds: Bounds;
  distance(x: number, y: number, z: number): number;
}

/** 2-D ellipse distance approximation (exact for circles, good near the boundary). */
export function ellipseDistance(u: number, v: number, radiusU: number, radiusV: number): number {
  const a = u / radiusU, b = v / radiusV;
  const k0 = Math.sqrt(a * a + b * b);
  const c = a / radiusU, d = b / radiusV;
  const k1 = Math.sqrt(c * c + d * d);
  return k1 > 1e-12 ? (k0 * (k0 - 1)) / k1 : -Math.min(radiusU, radiusV);
}

/** Combines a cross-section distance with a slab distance into a capped solid's distance. */
export function capDistance(sectionDistance: number, slabDistance: number): number {
  if (sectionDistance > 0 && slabDistance > 0) return Math.hypot(sectionDistance, slabDistance);
  return Math.max(sectionDistance, slabDistance);
}

/** An ellipsoid with semi-axes `radii` along the orthonormal `axes` (default: x, y, z). */
export class Ellipsoid implements Shape {
  readonly bounds: Bounds;
  private readonly center: Vector3;
  private readonly radii: Vector3;
  private readonly axes: readonly [Vector3, Vector3, Vector3];

  constructor(center: Vector3, radii: Vector3, axes: readonly [Vector3, Vector3, Vector3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) {
    this.center = center;
    this.radii = radii;
    this.axes = axes;
    const half = [0, 1, 2].map((world) =>
      Math.hypot(radii[0] * axes[0][world], radii[1] * axes[1][world], radii[2] * axes[2][world]));
    this.bounds = [center[0] - half[0], center[0] + half[0], center[1] - half[1], center[1] + half[1], center[2] - half[2], center[2] + half[2]];
  }

  /** An ellipsoid whose first semi-axis `radii[0]` runs along `direction`. */
  static along(center: Vector3, direction: Vector3, radii: Vector3): Ellipsoid {
    const first = normalize(direction);
    const second = anyPerpendicular(first);
    return new Ellipsoid(center, radii, [first, second, cross(first, second)]);
  }

  distance(x: number, y: number, z: number): number {
    const px = x - this.center[0], py = y - this.center[1], pz = z - this.center[2];
    const [a, b, c] = this.axes;
    const [ra, rb, rc] = this.radii;
    const u = (px * a[0] + py * a[1] + pz * a[2]) / ra;
    const v = (px * b[0] + py * b[1] + pz * b[2]) / rb;
    const w = (px * c[0] + py * c[1] + pz * c[2]) / rc;
    const k0 = Math.sqrt(u * u + v * v + w * w);
    const k1 = Math.sqrt((u / ra) ** 2 + (v / rb) ** 2 + (w / rc) ** 2);
    return k1 > 1e-12 ? (k0 * (k0 - 1)) / k1 : -Math.min(ra, rb, rc);
  }
}

/** An elliptic cylinder along z: centre, semi-axes in x and y, half height. */
export class EllipticCylinder implements Shape {
  readonly bounds: Bounds;
  constructor(private readonly center: Vector3, private readonly radiusX: number, private readonly radiusY: number, private readonly halfHeight: number) {
    this.bounds = [center[0] - radiusX, center[0] + radiusX, center[1] - radiusY, center[1] + radiusY, center[2] - halfHeight, center[2] + halfHeight];
  }
  distance(x: number, y: number, z: number): number {
    const section = ellipseDistance(x - this.center[0], y - this.center[1], this.radiusX, this.radiusY);
    return capDistance(section, Math.abs(z - this.center[2]) - this.halfHeight);
  }
}

/** One cross-section of a {@link Loft}: at height z, an ellipse centred (x, y) with semi-axes. */
export interface LoftSection { z: number; x: number; y: number; radiusX: number; radiusY: number }

/**
 * A solid swept along z through elliptical cross-sections, linearly interpolated between the
 * given sections and capped flat at the lowest and highest one. With `flatBack` the posterior
 * half (y above the centre) is a superellipse of exponent 3 instead of an ellipse.
 */
export class Loft implements Shape {
  readonly bounds: Bounds;
  private readonly sections: LoftSection[];
  private cachedZ = Number.NaN;
  private centerX = 0; private centerY = 0; private radiusX = 1; private radiusY = 1; private slab = 0;

  constructor(sections: LoftSection[], private readonly flatBack = false) {
    this.sections = [...sections].sort((a, b) => a.z - b.z);
    const s = this.sections;
    this.bounds = [
      Math.min(...s.map((c) => c.x - c.radiusX)), Math.max(...s.map((c) => c.x + c.radiusX)),
      Math.min(...s.map((c) => c.y - c.radiusY)), Math.max(...s.map((c) => c.y + c.radiusY)),
      s[0].z, s[s.length - 1].z,
    ];
  }

  private sectionAt(z: number): void {
    this.cachedZ = z;
    const s = this.sections;
    const last = s.length - 1;
    let lower = s[0], upper = s[0], t = 0;
    if (z <= s[0].z) { lower = upper = s[0]; } else if (z >= s[last].z) { lower = upper = s[last]; } else {
      let index = 0;
      while (s[index + 1].z < z) index++;
      lower = s[index]; upper = s[index + 1];
      t = (z - lower.z) / (upper.z - lower.z);
    }
    this.centerX = lower.x + (upper.x - lower.x) * t;
    this.centerY = lower.y + (upper.y - lower.y) * t;
    this.radiusX = Math.max(0.5, lower.radiusX + (upper.radiusX - lower.radiusX) * t);
    this.radiusY = Math.max(0.5, lower.radiusY + (upper.radiusY - lower.radiusY) * t);
    this.slab = Math.max(s[0].z - z, z - s[last].z);
  }

  distance(x: number, y: number, z: number): number {
    if (z !== this.cachedZ) this.sectionAt(z);
    const u = x - this.centerX, v = y - this.centerY;
    let section: number;
    if (!this.flatBack || v <= 0) {
      section = ellipseDistance(u, v, this.radiusX, this.radiusY);
    } else {
      // Superellipse F = (|a|³ + |b|³)^(1/3) = 1, distance ≈ (F − 1) / |∇F|.
      const a = Math.abs(u) / this.radiusX, b = v / this.radiusY;
      const level = Math.cbrt(a * a * a + b * b * b);
      if (level < 1e-9) section = -Math.min(this.radiusX, this.radiusY);
      else {
        const factor = 1 / (level * level);
        const gradientX = (factor * a * a) / this.radiusX, gradientY = (factor * b * b) / this.radiusY;
        section = (level - 1) / Math.sqrt(gradientX * gradientX + gradientY * gradientY);
      }
    }
    return capDistance(section, this.slab);
  }
}

/** A box with rounded edges: centre, half sizes, edge radius. */
export class RoundedBox implements Shape {
  readonly bounds: Bounds;
  constructor(private readonly center: Vector3, private readonly half: Vector3, private readonly radius: number) {
    this.bounds = [center[0] - half[0], center[0] + half[0], center[1] - half[1], center[1] + half[1], center[2] - half[2], center[2] + half[2]];
  }
  distance(x: number, y: number, z: number): number {
    const r = this.radius;
    const qx = Math.abs(x - this.center[0]) - (this.half[0] - r);
    const qy = Math.abs(y - this.center[1]) - (this.half[1] - r);
    const qz = Math.abs(z - this.center[2]) - (this.half[2] - r);
    const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0), Math.max(qz, 0));
    return outside + Math.min(Math.max(qx, qy, qz), 0) - r;
  }
}

/** A flat plate: the triangle (a, b, c) thickened by `halfThickness` on both sides. */
export class TrianglePlate implements Shape {
  readonly bounds: Bounds;
  private readonly ba: Vector3; private readonly cb: Vector3; private readonly ac: Vector3; private readonly normal: Vector3;
  constructor(private readonly a: Vector3, private readonly b: Vector3, private readonly c: Vector3, private readonly halfThickness: number) {
    this.ba = subtractVectors(b, a); this.cb = subtractVectors(c, b); this.ac = subtractVectors(a, c);
    this.normal = cross(this.ba, this.ac);
    const h = halfThickness;
    this.bounds = [
      Math.min(a[0], b[0], c[0]) - h, Math.max(a[0], b[0], c[0]) + h,
      Math.min(a[1], b[1], c[1]) - h, Math.max(a[1], b[1], c[1]) + h,
      Math.min(a[2], b[2], c[2]) - h, Math.max(a[2], b[2], c[2]) + h,
    ];
  }
  distance(x: number, y: number, z: number): number {
    // Inigo Quilez's unsigned distance to a triangle, written out without temporaries.
    const { a, b, c, ba, cb, ac, normal: n } = this;
    const pax = x - a[0], pay = y - a[1], paz = z - a[2];
    const pbx = x - b[0], pby = y - b[1], pbz = z - b[2];
    const pcx = x - c[0], pcy = y - c[1], pcz = z - c[2];
    let squared: number;
    if (edgeSide(ba, n, pax, pay, paz) + edgeSide(cb, n, pbx, pby, pbz) + edgeSide(ac, n, pcx, pcy, pcz) < 2) {
      squared = Math.min(edgeDistanceSquared(ba, pax, pay, paz), edgeDistanceSquared(cb, pbx, pby, pbz), edgeDistanceSquared(ac, pcx, pcy, pcz));
    } else {
      const along = n[0] * pax + n[1] * pay + n[2] * paz;
      squared = (along * along) / (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    }
    return Math.sqrt(squared) - this.halfThickness;
  }
}

/** Which side of the triangle edge `edge` (in the plane with normal `normal`) the point lies on: ±1 or 0. */
export function edgeSide(edge: Vector3, normal: Vector3, px: number, py: number, pz: number): number {
  return Math.sign((edge[1] * normal[2] - edge[2] * normal[1]) * px + (edge[2] * normal[0] - edge[0] * normal[2]) * py
    + (edge[0] * normal[1] - edge[1] * normal[0]) * pz);
}

/** Squared distance from p (relative to the edge's start) to the edge segment. */
export function edgeDistanceSquared(edge: Vector3, px: number, py: number, pz: number): number {
  const t = Math.min(1, Math.max(0, (edge[0] * px + edge[1] * py + edge[2] * pz) / (edge[0] * edge[0] + edge[1] * edge[1] + edge[2] * edge[2])));
  const rx = edge[0] * t - px, ry = edge[1] * t - py, rz = edge[2] * t - pz;
  return rx * rx + ry * ry + rz * rz;
}

/** The half space `normal · p ≤ offset` (normal of unit length). */
export class HalfSpace implements Shape {
  readonly bounds = UNBOUNDED;
  constructor(private readonly normal: Vector3, private readonly offset: number) {}
  distance(x: number, y: number, z: number): number {
    return this.normal[0] * x + this.normal[1] * y + this.normal[2] * z - this.offset;
  }
}

/** Distance from a point to an axis-aligned box (≤ the distance to any shape inside it; ≤ 0 inside). */
export function boxDistance(bounds: Bounds, x: number, y: number, z: number): number {
  return Math.max(bounds[0] - x, x - bounds[1], bounds[2] - y, y - bounds[3], bounds[4] - z, z - bounds[5]);
}

/** Points inside any of the parts. */
export class Union implements Shape {
  readonly bounds: Bounds;
  constructor(private readonly parts: Shape[]) {
    this.bounds = [0, 1, 2, 3, 4, 5].map((index) =>
      index % 2 === 0 ? Math.min(...parts.map((p) => p.bounds[index])) : Math.max(...parts.map((p) => p.bounds[index]))) as unknown as Bounds;
  }
  distance(x: number, y: number, z: number): number {
    let result = Infinity;
    for (const part of this.parts) {
      if (boxDistance(part.bounds, x, y, z) >= result) continue; // cannot be nearer
      result = Math.min(result, part.distance(x, y, z));
    }
    return result;
  }
}

/** Points inside all of the parts. */
export class Intersection implements Shape {
  readonly bounds: Bounds;
  constructor(private readonly parts: Shape[]) {
    this.bounds = [0, 1, 2, 3, 4, 5].map((index) =>
      index % 2 === 0 ? Math.max(...parts.map((p) => p.bounds[index])) : Math.min(...parts.map((p) => p.bounds[index]))) as unknown as Bounds;
  }
  distance(x: number, y: number, z: number): number {
    let result = -Infinity;
    for (const part of this.parts) {
      result = Math.max(result, part.distance(x, y, z));
      if (result > FAR_OUTSIDE) break;
    }
    return result;
  }
}

/** Points inside `base` and outside every one of `removed`. */
export class Difference implements Shape {
  readonly bounds: Bounds;
  constructor(private readonly base: Shape, private readonly removed: Shape[]) { this.bounds = base.bounds; }
  distance(x: number, y: number, z: number): number {
    let result = this.base.distance(x, y, z);
    for (const part of this.removed) {
      if (result > FAR_OUTSIDE) break;
      if (boxDistance(part.bounds, x, y, z) >= -result) continue; // −distance cannot exceed result
      result = Math.max(result, -part.distance(x, y, z));
    }
    return result;
  }
}

/** `shape` grown by `margin` mm (shrunk when negative). */
export class Offset implements Shape {
  readonly bounds: Bounds;
  constructor(private readonly shape: Shape, private readonly margin: number) {
    const b = shape.bounds, m = Math.max(0, margin);
    this.bounds = [b[0] - m, b[1] + m, b[2] - m, b[3] + m, b[4] - m, b[5] + m];
  }
  distance(x: number, y: number, z: number): number { return this.shape.distance(x, y, z) - this.margin; }
}

/**
 * A set of tapered tubes: segments from (a, radiusA) to (b, radiusB). Painted segment by segment
 * into a distance buffer (see {@link Canvas}); `distance` is for occasional point queries.
 */
export class TubeSet implements Shape {
  /** x0 y0 z0 r0 x1 y1 z1 r1 per segment. */
  readonly segments: number[] = [];

  get bounds(): Bounds {
    const s = this.segments;
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity, minZ = Infinity, maxZ = -Infinity;
    for (let index = 0; index < s.length; index += 4) {
      const r = s[index + 3];
      minX = Math.min(minX, s[index] - r); maxX = Math.max(maxX, s[index] + r);
      minY = Math.min(minY, s[index + 1] - r); maxY = Math.max(maxY, s[index + 1] + r);
      minZ = Math.min(minZ, s[index + 2] - r); maxZ = Math.max(maxZ, s[index + 2] + r);
    }
    return [minX, maxX, minY, maxY, minZ, maxZ];
  }

  /** Adds one segment. */
  addSegment(a: Vector3, radiusA: number, b: Vector3, radiusB: number): void {
    this.segments.push(a[0], a[1], a[2], radiusA, b[0], b[1], b[2], radiusB);
  }

  /** Adds a smooth tube through control points [x, y, z, radius] (Catmull-Rom, ~`step` mm pieces). */
  addCurve(controlPoints: readonly (readonly [number, number, number, number])[], step = 4): void {
    const points = controlPoints;
    let previous: readonly number[] = points[0];
    for (let span = 0; span < points.length - 1; span++) {
      const p0 = points[Math.max(0, span - 1)], p1 = points[span], p2 = points[span + 1], p3 = points[Math.min(points.length - 1, span + 2)];
      const length = Math.hypot(p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]);
      const pieces = Math.max(1, Math.ceil(length / step));
      for (let piece = 1; piece <= pieces; piece++) {
        const t = piece / pieces, t2 = t * t, t3 = t2 * t;
        const point: [number, number, number, number] = [0, 0, 0, 0];
        for (let c = 0; c < 4; c++) {
          point[c] = 0.5 * (2 * p1[c] + (-p0[c] + p2[c]) * t + (2 * p0[c] - 5 * p1[c] + 4 * p2[c] - p3[c]) * t2
            + (-p0[c] + 3 * p1[c] - 3 * p2[c] + p3[c]) * t3);
        }
        this.addSegment([previous[0], previous[1], previous[2]], previous[3], [point[0], point[1], point[2]], point[3]);
        previous = point;
      }
    }
  }

  distance(x: number, y: number, z: number): number {
    let result = Infinity;
    const s = this.segments;
    for (let index = 0; index < s.length; index += 8) result = Math.min(result, segmentDistance(s, index, x, y, z));
    return result;
  }
}

/** Distance from (x, y, z) to the tapered segment starting at `segments[index]`. */
export function segmentDistance(segments: readonly number[], index: number, x: number, y: number, z: number): number {
  const ax = segments[index], ay = segments[index + 1], az = segments[index + 2], ar = segments[index + 3];
  const ex = segments[index + 4] - ax, ey = segments[index + 5] - ay, ez = segments[index + 6] - az;
  const px = x - ax, py = y - ay, pz = z - az;
  const lengthSquared = ex * ex + ey * ey + ez * ez;
  let t = lengthSquared > 0 ? (px * ex + py * ey + pz * ez) / lengthSquared : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const dx = px - ex * t, dy = py - ey * t, dz = pz - ez * t;
  return Math.sqrt(dx * dx + dy * dy + dz * dz) - (ar + (segments[index + 7] - ar) * t);
}

// ───────────────────────────── structures and painting ─────────────────────────────

/** One Hounsfield layer: voxels deeper than `inset` mm inside the shape get `hounsfield`. */
export interface Layer { inset: number; hounsfield: number }

/** A named anatomical structure: a shape and its layers, outermost (smallest inset) first. */
export interface Structure { name: string; shape: Shape; layers: Layer[] }

/** A structure of one Hounsfield value. */
export function solid(name: string, shape: Shape, hounsfield: number): Structure {
  return { name, shape, layers: [{ inset: 0, hounsfield }] };
}

/** Hounsfield units of cancellous (trabecular) bone, the default core of {@link bone}. */
export const CANCELLOUS_BONE_HOUNSFIELD = 300;

/** A bone: cortical shell of `cortexThickness` mm around a cancellous core. */
export function bone(name: string, shape: Shape, cortex: number, cortexThickness = 1.5, cancellous: number = CANCELLOUS_BONE_HOUNSFIELD): Structure {
  return { name, shape, layers: [{ inset: 0, hounsfield: cortex }, { inset: cortexThickness, hounsfield: cancellous }] };
}

/** The voxel grid and its mapping to the patient frame (mm, centred). */
export class Grid {
  readonly nx: number; readonly ny: number; readonly nz: number;
  readonly dx: number; readonly dy: number; readonly dz: number;
  readonly voxelCount: number;
  /** Width of the soft edge in mm (about one voxel, at most {@link MAXIMUM_SOFTNESS}). */
  readonly softness: number;
  private readonly halfY: number; private readonly halfX: number; private readonly halfZ: number;

  constructor(shape: readonly number[], spacing: readonly number[]) {
    [this.nx, this.ny, this.nz] = shape;
    [this.dx, this.dy, this.dz] = spacing;
    this.voxelCount = this.nx * this.ny * this.nz;
    this.halfY = (this.nx * this.dx) / 2; this.halfX = (this.ny * this.dy) / 2; this.halfZ = (this.nz * this.dz) / 2;
    this.softness = Math.min(MAXIMUM_SOFTNESS, Math.max(0.5, 0.8 * Math.cbrt(this.dx * this.dy * this.dz)));
  }

  /** Posterior coordinate (mm) of index i. */
  y(i: number): number { return (i + 0.5) * this.dx - this.halfY; }
  /** Left coordinate (mm) of index j. */
  x(j: number): number { return (j + 0.5) * this.dy - this.halfX; }
  /** Superior coordinate (mm) of index k. */
  z(k: number): number { return this.halfZ - (k + 0.5) * this.dz; }

  /** Inclusive index ranges [i0, i1, j0, j1, k0, k1] covering `bounds`; empty when i0 > i1 etc. */
  indexRange(bounds: Bounds): [number, number, number, number, number, number] {
    const clampIndex = (value: number, count: number) => Math.min(count - 1, Math.max(0, value));
    return [
      clampIndex(Math.ceil((bounds[2] + this.halfY) / this.dx - 0.5), this.nx), clampIndex(Math.floor((bounds[3] + this.halfY) / this.dx - 0.5), this.nx),
      clampIndex(Math.ceil((bounds[0] + this.halfX) / this.dy - 0.5), this.ny), clampIndex(Math.floor((bounds[1] + this.halfX) / this.dy - 0.5), this.ny),
      clampIndex(Math.ceil((this.halfZ - bounds[5]) / this.dz - 0.5), this.nz), clampIndex(Math.floor((this.halfZ - bounds[4]) / this.dz - 0.5), this.nz),
    ];
  }
}

/** `bounds` grown by `margin` mm on every side. */
export function expandBounds(bounds: Bounds, margin: number): Bounds {
  return [bounds[0] - margin, bounds[1] + margin, bounds[2] - margin, bounds[3] + margin, bounds[4] - margin, bounds[5] + margin];
}

/** Blends the structure's layers into `target` at one voxel with signed distance `distance`. */
export function blendLayers(current: number, distance: number, layers: Layer[], softness: number): number {
  let value = current;
  for (let index = 0; index < layers.length; index++) {
    const layer = layers[index];
    const alpha = 0.5 - (distance + layer.inset) / softness;
    if (alpha <= 0) break;
    value += (layer.hounsfield - value) * (alpha >= 1 ? 1 : alpha);
  }
  return value;
}

/**
 * Paints structures into a Hounsfield-unit array, each only inside its bounding box. Tubes are
 * drawn segment by segment into a distance buffer (kept at +∞ between tubes) whose touched
 * voxels are listed, so that a sparse tree costs only the voxels near it.
 */
export class Canvas {
  private readonly distances: Float32Array;
  private touched = new Int32Array(1 << 16);
  private touchedCount = 0;

  constructor(readonly grid: Grid, readonly target: Float32Array) {
    this.distances = new Float32Array(grid.voxelCount).fill(Infinity);
  }

  paint(structure: Structure): void {
    if (structure.shape instanceof TubeSet) this.paintTubes(structure.shape, structure.layers);
    else this.paintShape(structure.shape, structure.layers);
  }

  private paintShape(shape: Shape, layers: Layer[]): void {
    const { grid, target } = this;
    const softness = grid.softness;
    const threshold = Math.max(0, -layers[0].inset) + softness; // beyond this no layer has weight
    const innermost = layers[layers.length - 1];
    const { nx, ny } = grid;
    const [i0, i1, j0, j1, k0, k1] = grid.indexRange(expandBounds(shape.bounds, threshold));
    for (let k = k0; k <= k1; k++) {
      const z = grid.z(k);
      for (let j = j0; j <= j1; j++) {
        const x = grid.x(j);
        const row = nx * (j + ny * k);
        for (let i = i0; i <= i1; i++) {
          const distance = shape.distance(x, grid.y(i), z);
          if (distance >= threshold) {
            // Outside: the surface is at least `distance` away, so skip the voxels in between.
            i += Math.floor((LIPSCHITZ_SAFETY * (distance - threshold)) / grid.dx);
            continue;
          }
          const depth = -(distance + innermost.inset) - softness / 2;
          if (depth > 0) {
            // Deep inside the innermost layer: every voxel within `depth` gets its value as is.
            const last = Math.min(i1, i + Math.floor((LIPSCHITZ_SAFETY * depth) / grid.dx));
            target.fill(innermost.hounsfield, row + i, row + last + 1);
            i = last;
            continue;
          }
          target[row + i] = blendLayers(target[row + i], distance, layers, softness);
        }
      }
    }
  }

  private paintTubes(tubes: TubeSet, layers: Layer[]): void {
    const { grid, target, distances } = this;
    const softness = grid.softness;
    const threshold = Math.max(0, -layers[0].inset) + softness;
    const { nx, ny } = grid;
    const segments = tubes.segments;
    this.touchedCount = 0;
    for (let index = 0; index < segments.length; index += 8) {
      const reach = Math.max(segments[index + 3], segments[index + 7]) + threshold;
      const [a0, a1, b0, b1, c0, c1] = grid.indexRange([
        Math.min(segments[index], segments[index + 4]) - reach, Math.max(segments[index], segments[index + 4]) + reach,
        Math.min(segments[index + 1], segments[index + 5]) - reach, Math.max(segments[index + 1], segments[index + 5]) + reach,
        Math.min(segments[index + 2], segments[index + 6]) - reach, Math.max(segments[index + 2], segments[index + 6]) + reach,
      ]);
      for (let k = c0; k <= c1; k++) {
        const z = grid.z(k);
        for (let j = b0; j <= b1; j++) {
          const x = grid.x(j);
          const row = nx * (j + ny * k);
          for (let i = a0; i <= a1; i++) {
            const distance = segmentDistance(segments, index, x, grid.y(i), z);
            if (distance >= threshold) continue;
            const voxel = row + i;
            const previous = distances[voxel];
            if (previous === Infinity) this.touch(voxel);
            if (distance < previous) distances[voxel] = distance;
          }
        }
      }
    }
    for (let n = 0; n < this.touchedCount; n++) {
      const voxel = this.touched[n];
      target[voxel] = blendLayers(target[voxel], distances[voxel], layers, softness);
      distances[voxel] = Infinity;
    }
  }

  private touch(voxel: number): void {
    if (this.touchedCount === this.touched.length) {
      const grown = new Int32Array(this.touched.length * 2);
      grown.set(this.touched);
      this.touched = grown;
    }
    this.touched[this.touchedCount++] = voxel;
  }
}
