/**
 * A 3-D scene of a render's geometry, as plain data for a viewer (three.js in the app and in the
 * page `drrkit scene` writes): the CT as an isosurface, optional label surfaces, and for each
 * camera its X-ray source, detector, frustum and principal ray — all in the renderer's grid frame
 * and taken from the very `RayGrid` the renderer traces, so the detector drawn is where the rays
 * go. Patient-axis labels (R/L, A/P, S/I) come from the volume's affine; the world axes from the
 * camera convention (seed: the grid frame itself; world: RAS axes at the render world's origin).
 */
import type { RayGrid } from '../geometry/detector.js';
import type { Vector3 } from '../geometry/matrix3.js';
import { detectorPoint } from '../geometry/projection.js';
import { volumeFrame } from '../geometry/world-frame.js';
import type { Volume } from '../volume/volume.js';
import { downsampleVolume } from '../volume/pyramid.js';
import { surfaceNets, transformMesh, type TriangleMesh } from './isosurface.js';

/** Which renderer frame the scene is drawn in. */
export type SceneConvention = 'seed' | 'world';

/** One camera of a scene, in grid-frame mm. */
export interface SceneCamera {
  /** Shown in the legend ("moving", "target", …). */
  name: string;
  /** CSS colour of its lines. */
  color: string;
  /** X-ray source. */
  source: number[];
  /** Centres of the corner pixels (0, 0), (0, W−1), (H−1, W−1), (H−1, 0): the RayGrid's own corners. */
  cornerPixels: number[][];
  /** The detector's outer corners (pixel edges) in the same order: the textured plane. */
  detectorCorners: number[][];
  /** The foot of the perpendicular from the source onto the detector plane (the principal point). */
  principalPoint: number[];
  /** Rows and columns. */
  height: number;
  width: number;
  /** The DRR as 8-bit gray, row by row (row 0 at the first pixel), base64; absent when not rendered. */
  image?: string;
}

/** A labelled point (patient-axis and world-axis letters). */
export interface SceneLabel {
  text: string;
  position: number[];
  color: string;
}

/** A surface of the scene. */
export interface SceneSurface {
  name: string;
  color: string;
  opacity: number;
  /** Float32 positions (x, y, z, …), base64. */
  positions: string;
  /** Uint32 triangle indices, base64. */
  indices: string;
}

/** Everything a viewer draws. */
export interface SceneDescription {
  title: string;
  convention: SceneConvention;
  /** The grid box in grid-frame mm: [low, high]. */
  bounds: [number[], number[]];
  /** Unit grid-frame direction of the patient's superior axis (the viewer's "up"). */
  up: number[];
  surfaces: SceneSurface[];
  cameras: SceneCamera[];
  /** R/L, A/P, S/I at the faces of the box, from the affine. */
  patientLabels: SceneLabel[];
  /** World axes: origin and unit x, y, z directions (grid frame) with their length. */
  worldAxes: { origin: number[]; directions: number[][]; length: number; names: string[] };
}

/** a × b. */
function cross(a: ArrayLike<number>, b: ArrayLike<number>): Vector3 {
  return Float64Array.of(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
}

/** Base64 of a typed array's bytes (Node and browsers). */
export function typedArrayToBase64(array: Float32Array | Uint32Array | Uint8Array): string {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let binary = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(binary);
}

/** The bytes of a base64 string. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * Columns: the RAS direction of each grid axis (row-major 3×3). Seed grids flip voxel axis 0
 * (see `seedDensityGrid`); world grids are voxel-aligned (see `volumeFrame`).
 */
export function gridToPatient(volume: Volume, convention: SceneConvention): Float64Array {
  const direction = Float64Array.from(volumeFrame(volume.affine, volume.shape, volume.source).direction);
  if (convention === 'seed') for (let row = 0; row < 3; row++) direction[3 * row] = -direction[3 * row];
  return direction;
}

/** The affine from voxel indices (voxel centres) of `volume` to the grid frame of `convention`. */
export function voxelToGrid(volume: Volume, convention: SceneConvention, extent?: readonly number[]): { linear: Float64Array; translation: Float64Array } {
  const [dx, dy, dz] = volume.spacing;
  const [ex, ey, ez] = extent ?? [volume.shape[0] * dx, volume.shape[1] * dy, volume.shape[2] * dz];
  if (convention === 'seed') return { linear: Float64Array.of(-dx, 0, 0, 0, dy, 0, 0, 0, dz), translation: Float64Array.of(ex - dx / 2, dy / 2, dz / 2) };
  void ey; void ez;
  return { linear: Float64Array.of(dx, 0, 0, 0, dy, 0, 0, 0, dz), translation: Float64Array.of(dx / 2, dy / 2, dz / 2) };
}

/** Options for {@link ctSurface}. */
export interface SurfaceOptions {
  /** Iso-level in the volume's units (default {@link defaultSurfaceLevel}: 300 HU, bone). */
  level?: number;
  /** Downsampling factor before meshing (default: whatever brings the largest side to ≤ 96 voxels). */
  downsample?: number;
}

/**
 * The default surface level: 300 (bone) for a volume in Hounsfield units (its minimum ≤ −500),
 * else the 97th percentile of its values (for CTs stored in other units, such as 8-bit images).
 */
export function defaultSurfaceLevel(volume: Volume): number {
  let minimum = Infinity;
  for (const value of volume.data) if (value < minimum) minimum = value;
  if (minimum <= -500) return 300;
  const step = Math.max(1, Math.floor(volume.data.length / 200_000));
  const sample: number[] = [];
  for (let v = 0; v < volume.data.length; v += step) sample.push(volume.data[v]);
  sample.sort((a, b) => a - b);
  return sample[Math.min(sample.length - 1, Math.floor(0.97 * sample.length))];
}

/** The isosurface of a volume (HU) in the grid frame of `convention`. */
export function ctSurface(volume: Volume, convention: SceneConvention, options: SurfaceOptions = {}): TriangleMesh {
  const largest = Math.max(...volume.shape);
  const factor = options.downsample ?? Math.max(1, Math.ceil(largest / 96));
  const coarse = downsampleVolume(volume, factor);
  const extent = [volume.shape[0] * volume.spacing[0], volume.shape[1] * volume.spacing[1], volume.shape[2] * volume.spacing[2]];
  const mesh = surfaceNets(coarse.data, coarse.shape, options.level ?? defaultSurfaceLevel(volume));
  const { linear, translation } = voxelToGrid(coarse, convention, extent);
  return transformMesh(mesh, linear, translation);
}

/** The surface of each label (voxels equal to it) of a label volume on the CT grid. */
export function labelSurfaces(labels: Volume, convention: SceneConvention, values: readonly number[], downsample?: number): { label: number; mesh: TriangleMesh }[] {
  return values.map((label) => {
    const mask = new Float32Array(labels.data.length);
    for (let v = 0; v < mask.length; v++) mask[v] = labels.data[v] === label ? 1 : 0;
    const volume = { ...labels, data: mask };
    return { label, mesh: ctSurface(volume, convention, { level: 0.5, downsample }) };
  });
}

function toArray(vector: ArrayLike<number>): number[] {
  return [vector[0], vector[1], vector[2]];
}

/**
 * A camera of the scene from the rays the renderer traces. `image` (one value per pixel, row 0
 * at the first pixel) is windowed to its own range and stored as 8-bit gray.
 */
export function sceneCamera(name: string, color: string, rays: RayGrid, image?: ArrayLike<number>): SceneCamera {
  const h = rays.height, w = rays.width;
  const cornerPixels = [detectorPoint(rays, 0, 0), detectorPoint(rays, 0, w - 1), detectorPoint(rays, h - 1, w - 1), detectorPoint(rays, h - 1, 0)].map(toArray);
  const detectorCorners = [detectorPoint(rays, -0.5, -0.5), detectorPoint(rays, -0.5, w - 0.5), detectorPoint(rays, h - 0.5, w - 0.5), detectorPoint(rays, h - 0.5, -0.5)].map(toArray);
  const normal = cross(rays.rowStep, rays.columnStep);
  const length = Math.hypot(normal[0], normal[1], normal[2]);
  const a = rays.source, f = rays.firstPixel;
  const distance = ((f[0] - a[0]) * normal[0] + (f[1] - a[1]) * normal[1] + (f[2] - a[2]) * normal[2]) / (length * length);
  const principalPoint = [a[0] + distance * normal[0], a[1] + distance * normal[1], a[2] + distance * normal[2]];
  const camera: SceneCamera = { name, color, source: toArray(a), cornerPixels, detectorCorners, principalPoint, height: h, width: w };
  if (image) camera.image = typedArrayToBase64(grayBytes(image));
  return camera;
}

/** Values windowed to their own finite range as bytes. */
function grayBytes(values: ArrayLike<number>): Uint8Array {
  let minimum = Infinity, maximum = -Infinity;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (v < minimum) minimum = v; if (v > maximum) maximum = v; }
  const scale = maximum > minimum ? 255 / (maximum - minimum) : 0;
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.round((values[i] - minimum) * scale);
  return bytes;
}

/** Patient-axis labels at the faces of the grid box, and the superior direction, from the affine. */
export function patientLabels(volume: Volume, convention: SceneConvention, bounds: [number[], number[]]): { labels: SceneLabel[]; up: number[] } {
  const m = gridToPatient(volume, convention);
  const centre = [0, 1, 2].map((axis) => (bounds[0][axis] + bounds[1][axis]) / 2);
  const radius = 0.62 * Math.hypot(bounds[1][0] - bounds[0][0], bounds[1][1] - bounds[0][1], bounds[1][2] - bounds[0][2]);
  const labels: SceneLabel[] = [];
  const letters = [['R', 'L'], ['A', 'P'], ['S', 'I']];
  const colors = ['#ff6b6b', '#69db7c', '#74c0fc'];
  let up = [0, 0, 1];
  for (let patientAxis = 0; patientAxis < 3; patientAxis++) {
    // The grid direction of the patient axis: row `patientAxis` of M (Mᵀ = M⁻¹ for orthonormal M).
    const direction = [m[3 * patientAxis], m[3 * patientAxis + 1], m[3 * patientAxis + 2]];
    if (patientAxis === 2) up = direction;
    for (const sign of [1, -1]) {
      labels.push({
        text: letters[patientAxis][sign > 0 ? 0 : 1],
        position: centre.map((value, axis) => value + sign * radius * direction[axis]),
        color: colors[patientAxis],
      });
    }
  }
  return { labels, up };
}

/** Options for {@link buildScene}. */
export interface SceneOptions {
  title?: string;
  /** The CT isosurface level in HU (default 300) and downsampling. */
  surface?: SurfaceOptions;
  /** Skip the CT surface (for tests of the geometry alone). */
  withoutSurface?: boolean;
  /** Label volume on the CT grid and the labels to mesh (default: every non-zero label, at most 8). */
  labels?: Volume;
  labelValues?: readonly number[];
  /** The cameras, already built with {@link sceneCamera}. */
  cameras: SceneCamera[];
  /** World convention only: the world → grid map (from the DRR's `frame`). */
  worldToGrid?: { rotation: ArrayLike<number>; translation: ArrayLike<number> };
}

const LABEL_COLORS = ['#e8590c', '#2f9e44', '#1971c2', '#c2255c', '#f08c00', '#6741d9', '#0c8599', '#5c940d'];

/** Builds the scene of `volume` rendered in `convention`. */
export function buildScene(volume: Volume, convention: SceneConvention, options: SceneOptions): SceneDescription {
  const extent = [volume.shape[0] * volume.spacing[0], volume.shape[1] * volume.spacing[1], volume.shape[2] * volume.spacing[2]];
  const bounds: [number[], number[]] = [[0, 0, 0], extent];
  const surfaces: SceneSurface[] = [];
  if (!options.withoutSurface) {
    const level = options.surface?.level ?? defaultSurfaceLevel(volume);
    const mesh = ctSurface(volume, convention, { ...options.surface, level });
    surfaces.push({ name: `CT ≥ ${+level.toPrecision(4)}${level === 300 ? ' HU' : ''}`, color: '#e9e4d4', opacity: 1, positions: typedArrayToBase64(mesh.positions), indices: typedArrayToBase64(mesh.indices) });
  }
  if (options.labels) {
    const present = new Set<number>();
    for (const value of options.labels.data) if (value !== 0) present.add(value);
    const values = (options.labelValues ?? [...present].sort((a, b) => a - b)).slice(0, 8);
    labelSurfaces(options.labels, convention, values, options.surface?.downsample).forEach(({ label, mesh }, index) => {
      surfaces.push({ name: `label ${label}`, color: LABEL_COLORS[index % LABEL_COLORS.length], opacity: 0.55, positions: typedArrayToBase64(mesh.positions), indices: typedArrayToBase64(mesh.indices) });
    });
  }
  const { labels, up } = patientLabels(volume, convention, bounds);
  let worldAxes: SceneDescription['worldAxes'];
  const length = 0.35 * Math.max(...extent);
  if (convention === 'world' && options.worldToGrid) {
    const r = options.worldToGrid.rotation;
    worldAxes = {
      origin: toArray(options.worldToGrid.translation),
      directions: [[r[0], r[3], r[6]], [r[1], r[4], r[7]], [r[2], r[5], r[8]]],
      length,
      names: ['x (R)', 'y (A)', 'z (S)'],
    };
  } else {
    worldAxes = { origin: [0, 0, 0], directions: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], length, names: ['x', 'y', 'z'] };
  }
  return { title: options.title ?? volume.source, convention, bounds, up, surfaces, cameras: options.cameras, patientLabels: labels, worldAxes };
}

/** Exported for tests: the unit normal of a detector (row step × column step). */
export function detectorNormal(rays: RayGrid): Vector3 {
  const normal = cross(rays.rowStep, rays.columnStep);
  const length = Math.hypot(normal[0], normal[1], normal[2]);
  return Float64Array.of(normal[0] / length, normal[1] / length, normal[2] / length);
}
