/**
 * Axial, coronal and sagittal slice views of a CT, decided from its affine.
 *
 * A CT's voxel axes can point any way (the example CT: i posterior, j left, k inferior; the LIDC
 * CT: i left, j anterior, k inferior; an oblique scan: in between). This module matches each voxel
 * axis to the patient axis it is closest to (R/L, A/P, S/I — the best of the six assignments, so
 * an oblique volume still gets one axis each) and lays the three planes out in the radiological
 * display convention:
 *   axial     the S/I voxel axis held fixed; patient right on the screen's left, anterior at the top;
 *   coronal   the A/P voxel axis held fixed; patient right on the left, superior at the top;
 *   sagittal  the R/L voxel axis held fixed; anterior on the left, superior at the top.
 * The slices are voxel planes (no resampling), so for an oblique CT they are the voxel planes
 * nearest to the anatomical ones, and their edge letters say where the screen's edges really point:
 * one letter per patient direction with a component of at least {@link OBLIQUE_LETTER_COMPONENT},
 * largest first (DICOM's Patient Orientation style: "L", or "LA" for mostly left, partly anterior).
 *
 * Directions are RAS: the columns of the row-major 3×3 `direction` matrix are the unit vectors of
 * the voxel axes in (Right, Anterior, Superior) coordinates — `VolumeFrame.direction`.
 */
import { DrrkitError } from '../errors.js';
import type { Matrix3 } from './matrix3.js';

/** The three anatomical planes. */
export type PlaneName = 'axial' | 'coronal' | 'sagittal';

/** Smallest component of a screen direction along a patient axis that earns that axis a letter. */
export const OBLIQUE_LETTER_COMPONENT = 0.1;

/** Patient-direction letters at the four edges of a slice view. */
export interface EdgeLetters {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

/** How to show one anatomical plane of a volume on screen. */
export interface SlicePlane {
  /** Which plane this is. */
  readonly name: PlaneName;
  /** The voxel axis held fixed (the one nearest to the plane's normal). */
  readonly normalAxis: 0 | 1 | 2;
  /** The voxel axis shown left → right. */
  readonly columnAxis: 0 | 1 | 2;
  /** True when the voxel index decreases from left to right. */
  readonly columnFlip: boolean;
  /** The voxel axis shown top → bottom. */
  readonly rowAxis: 0 | 1 | 2;
  /** True when the voxel index decreases from top to bottom. */
  readonly rowFlip: boolean;
  /** Patient directions the screen's edges point to. */
  readonly edges: EdgeLetters;
  /** True when a voxel axis of this view is more than rounding away from its patient axis. */
  readonly oblique: boolean;
}

const POSITIVE_LETTERS = ['R', 'A', 'S'];
const NEGATIVE_LETTERS = ['L', 'P', 'I'];
/** The six ways to give each voxel axis a patient axis: PERMUTATIONS[p][patient] = voxel axis. */
const PERMUTATIONS: ReadonlyArray<readonly [number, number, number]> = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
/** Components below this are rounding (float32 affines). */
const ROUNDING = 1e-4;

/** The patient-direction letters of an RAS direction, largest component first ("L", "LA", …). */
export function directionLetters(vector: ArrayLike<number>): string {
  const length = Math.hypot(vector[0], vector[1], vector[2]);
  if (!(length > 0)) throw new DrrkitError('a direction needs a non-zero, finite vector', 'direction');
  return [0, 1, 2]
    .map((axis) => ({ axis, value: vector[axis] / length }))
    .filter(({ value }) => Math.abs(value) >= OBLIQUE_LETTER_COMPONENT)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .map(({ axis, value }) => (value > 0 ? POSITIVE_LETTERS[axis] : NEGATIVE_LETTERS[axis]))
    .join('');
}

/**
 * For each patient axis (R/L, A/P, S/I), the voxel axis assigned to it and the sign of its
 * direction along that patient axis: the assignment with the largest total |component|.
 */
export function patientAxisAssignment(direction: Matrix3 | ArrayLike<number>): { voxelAxis: [number, number, number]; sign: [number, number, number] } {
  if (direction.length !== 9) throw new DrrkitError(`a direction matrix needs 9 numbers, got ${direction.length}`, 'direction');
  for (let index = 0; index < 9; index++) {
    if (!Number.isFinite(direction[index])) throw new DrrkitError('the direction matrix holds a value that is not a finite number', 'direction');
  }
  let best = PERMUTATIONS[0], bestScore = -1;
  for (const permutation of PERMUTATIONS) {
    let score = 0;
    for (let patient = 0; patient < 3; patient++) score += Math.abs(direction[3 * patient + permutation[patient]]);
    if (score > bestScore + 1e-12) { best = permutation; bestScore = score; }
  }
  const sign = [0, 1, 2].map((patient) => (direction[3 * patient + best[patient]] >= 0 ? 1 : -1)) as [number, number, number];
  return { voxelAxis: [best[0], best[1], best[2]], sign };
}

/**
 * The axial, coronal and sagittal views of a volume whose voxel axes point along the columns of
 * `direction` (RAS), in that order (see the module comment for the layout).
 */
export function anatomicalPlanes(direction: Matrix3 | ArrayLike<number>): SlicePlane[] {
  const { voxelAxis, sign } = patientAxisAssignment(direction);
  const column = (axis: number) => [direction[axis], direction[3 + axis], direction[6 + axis]];
  /** Unit RAS vector of the screen direction that runs along `axis`, index increasing unless `flip`. */
  const screen = (axis: number, flip: boolean) => column(axis).map((value) => (flip ? -value : value));
  const negate = (vector: number[]) => vector.map((value) => -value);
  const isOblique = (axis: number) => column(axis).filter((value) => Math.abs(value) > ROUNDING).length > 1;
  // Screen axes: (patient axis, whether that patient coordinate should increase along the screen axis).
  // Right → left on screen means RAS x decreases; top → bottom with anterior/superior up means y/z decrease.
  const layout: Array<{ name: PlaneName; normal: number; across: number; down: number }> = [
    { name: 'axial', normal: 2, across: 0, down: 1 },
    { name: 'coronal', normal: 1, across: 0, down: 2 },
    { name: 'sagittal', normal: 0, across: 1, down: 2 },
  ];
  return layout.map(({ name, normal, across, down }) => {
    const columnAxis = voxelAxis[across] as 0 | 1 | 2, rowAxis = voxelAxis[down] as 0 | 1 | 2;
    // Every displayed patient coordinate decreases left → right and top → bottom.
    const columnFlip = sign[across] > 0, rowFlip = sign[down] > 0;
    const right = screen(columnAxis, columnFlip), downward = screen(rowAxis, rowFlip);
    return {
      name,
      normalAxis: voxelAxis[normal] as 0 | 1 | 2,
      columnAxis, columnFlip, rowAxis, rowFlip,
      edges: { left: directionLetters(negate(right)), right: directionLetters(right), top: directionLetters(negate(downward)), bottom: directionLetters(downward) },
      oblique: [voxelAxis[normal], columnAxis, rowAxis].some(isOblique),
    };
  });
}

/**
 * Where a point given in continuous voxel indices (i, j, k; voxel centres at whole numbers) lies
 * on a slice view of a volume of `shape` and `spacing`: mm from the view's centre, to the right
 * and downwards.
 */
export function voxelToPlane(plane: SlicePlane, shape: readonly number[], spacing: readonly number[], voxel: ArrayLike<number>): [number, number] {
  const along = (axis: number, flip: boolean) => {
    const fromCentre = voxel[axis] - (shape[axis] - 1) / 2;
    return (flip ? -fromCentre : fromCentre) * spacing[axis];
  };
  return [along(plane.columnAxis, plane.columnFlip), along(plane.rowAxis, plane.rowFlip)];
}

/** A slice view sampled from a volume, row-major, in the volume's own units (HU for a CT). */
export interface PlaneImage {
  /** The view it shows. */
  readonly plane: SlicePlane;
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Millimetres per pixel, the same across and down (so the anatomy keeps its proportions). */
  readonly mmPerPixel: number;
}

/**
 * Samples the central slice of `plane` (nearest voxel) from voxels of `shape` and `spacing`
 * (x fastest), at a pixel size that makes the volume's largest extent `maxSide` pixels.
 */
export function samplePlane(
  voxels: ArrayLike<number>, shape: readonly number[], spacing: readonly number[], plane: SlicePlane, maxSide = 256,
): PlaneImage {
  const extent = [0, 1, 2].map((axis) => shape[axis] * spacing[axis]);
  const mmPerPixel = Math.max(...extent) / maxSide;
  const width = Math.max(1, Math.round(extent[plane.columnAxis] / mmPerPixel));
  const height = Math.max(1, Math.round(extent[plane.rowAxis] / mmPerPixel));
  const data = new Float32Array(width * height);
  const index = [0, 0, 0];
  index[plane.normalAxis] = Math.floor(shape[plane.normalAxis] / 2);
  const voxelAt = (axis: number, fraction: number, flip: boolean) => {
    const position = Math.min(shape[axis] - 1, Math.floor(fraction * shape[axis]));
    return flip ? shape[axis] - 1 - position : position;
  };
  for (let row = 0; row < height; row++) {
    index[plane.rowAxis] = voxelAt(plane.rowAxis, (row + 0.5) / height, plane.rowFlip);
    for (let column = 0; column < width; column++) {
      index[plane.columnAxis] = voxelAt(plane.columnAxis, (column + 0.5) / width, plane.columnFlip);
      data[row * width + column] = voxels[index[0] + shape[0] * (index[1] + shape[1] * index[2])];
    }
  }
  return { plane, data, width, height, mmPerPixel };
}
