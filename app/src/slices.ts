/**
 * The CT's axial, coronal and sagittal views, decided from the file's affine
 * (src/geometry/anatomical-planes.ts: radiological layout, patient-direction letters on the
 * edges), and the C-arm drawn over them. Everything the views show is in voxel coordinates, so
 * the C-arm of either geometry lands in the right place: the engine maps the DRR's world points
 * (seed frame or patient frame) to continuous voxel indices, and the page places voxel indices
 * on a view with `voxelToPlane`.
 */
import type { DRR, Pose } from '../../src/drr.js';
import { anatomicalPlanes, samplePlane, type SlicePlane } from '../../src/geometry/anatomical-planes.js';
import { volumeFrame } from '../../src/geometry/world-frame.js';
import type { Volume } from '../../src/volume/volume.js';

/** One view, sampled (HU), with how it is laid out. */
export interface SliceImage {
  plane: SlicePlane;
  data: Float32Array;
  width: number;
  height: number;
  /** Millimetres per pixel of `data`. */
  mmPerPixel: number;
}

/** The views of a volume and what decided them. */
export interface SliceViews {
  slices: SliceImage[];
  /** The voxel axes' patient directions ("LAI" for the LIDC CT), or a note when the affine could not be used. */
  orientationCode: string;
  /** A sentence for the page when the views are not exactly anatomical (oblique or unusable affine), else ''. */
  note: string;
}

/** The three central views of `volume` in HU, laid out from its affine. */
export function sliceViews(volume: Volume, maxSide = 256): SliceViews {
  let direction: ArrayLike<number>, orientationCode: string, note = '';
  try {
    const frame = volumeFrame(volume.affine, volume.shape, volume.source);
    direction = frame.direction;
    orientationCode = frame.orientationCode;
    if (frame.oblique) note = `oblique volume (${orientationCode}): the views are the voxel planes nearest to the anatomical ones`;
  } catch (error) {
    // An affine drrkit cannot use (shear): show the voxel planes as stored, labelled as RAS.
    direction = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    orientationCode = 'RAS?';
    note = `the file's affine is unusable (${error instanceof Error ? error.message : String(error)}); the views assume RAS voxel axes`;
  }
  const slices = anatomicalPlanes(direction).map((plane) => {
    const image = samplePlane(volume.data, volume.shape, volume.spacing, plane, maxSide);
    return { plane, data: image.data, width: image.width, height: image.height, mmPerPixel: image.mmPerPixel };
  });
  return { slices, orientationCode, note };
}

/** The C-arm at a pose in continuous voxel indices (voxel centres at whole numbers). */
export interface CArmOutline {
  source: [number, number, number];
  /** Detector corners in order around the edge. */
  corners: [number, number, number][];
  /** The detector's centre (the end of the central ray). */
  centre: [number, number, number];
}

/** A map from the DRR's world mm to continuous voxel indices of its volume. */
export function worldToVoxel(drr: DRR): (point: ArrayLike<number>) => [number, number, number] {
  const [nx] = drr.volume.shape;
  const spacing = drr.grid.spacing;
  const frame = drr.frame;
  if (frame === null) {
    // Seed frame: the world is the grid, whose first axis is the stored one reversed.
    return (point) => [nx - 0.5 - point[0] / spacing[0], point[1] / spacing[1] - 0.5, point[2] / spacing[2] - 0.5];
  }
  const m = frame.worldToGridRotation, t = frame.worldToGridTranslation;
  return (point) => {
    const grid = [0, 1, 2].map((row) => m[3 * row] * point[0] + m[3 * row + 1] * point[1] + m[3 * row + 2] * point[2] + t[row]);
    return [grid[0] / spacing[0] - 0.5, grid[1] / spacing[1] - 0.5, grid[2] / spacing[2] - 0.5];
  };
}

/** The source, detector corners and detector centre of `drr` at `pose`, in voxel indices. */
export function carmOutline(drr: DRR, pose: Pose): CArmOutline {
  const rays = drr.worldRays(pose);
  const toVoxel = worldToVoxel(drr);
  const at = (row: number, column: number) => toVoxel([0, 1, 2].map((axis) => rays.firstPixel[axis] + row * rays.rowStep[axis] + column * rays.columnStep[axis]));
  const last = [rays.height - 1, rays.width - 1];
  return {
    source: toVoxel(rays.source),
    corners: [at(0, 0), at(0, last[1]), at(last[0], last[1]), at(last[0], 0)],
    centre: at(last[0] / 2, last[1] / 2),
  };
}
