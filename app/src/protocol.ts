/**
 * Messages between the page (main thread) and the engine worker. Poses are ZYX Euler angles in
 * radians and translations in mm — the tutorial's parameterization.
 */
import type { SceneDescription } from '../../src/scene/scene.js';
import type { IterationRecord, RegistrationResult } from '../../src/registration/register.js';
import type { SimilarityName } from '../../src/metrics/index.js';
import type { OptimizerName } from '../../src/optim/optimizer.js';
import type { RendererName } from '../../src/render/renderer.js';

export interface PoseMessage {
  rotation: [number, number, number];
  translation: [number, number, number];
}

export interface DetectorSettings {
  sdr: number;
  height: number;
  width: number;
  delx: number;
  renderer: RendererName;
}

export interface RegisterSettings {
  optimizer: OptimizerName;
  learningRateRotation: number;
  learningRateTranslation: number;
  momentum: number;
  similarity: SimilarityName;
  maxIterations: number;
  stopScore: number;
}

/** A plane through the volume in world coordinates, sampled for display (HU). */
export interface SliceImage {
  name: 'axial' | 'coronal' | 'sagittal';
  data: Float32Array;
  width: number;
  height: number;
  /** World axis shown left → right and whether it runs high → low. */
  uAxis: number;
  uFlip: boolean;
  /** World axis shown top → bottom and whether it runs high → low. */
  vAxis: number;
  vFlip: boolean;
}

export interface VolumeInfo {
  source: string;
  shape: [number, number, number];
  spacing: [number, number, number];
  /** World extent in mm (positive octant). */
  extent: [number, number, number];
  center: [number, number, number];
  range: [number, number];
  slices: SliceImage[];
  seconds: number;
}

export type ToEngine =
  | { type: 'init'; stopFlag: SharedArrayBuffer | null; threads: number }
  | { type: 'load-example' }
  | { type: 'load-files'; files: File[] }
  | { type: 'configure'; detector: DetectorSettings }
  | { type: 'pose'; pose: PoseMessage; id: number }
  | { type: 'make-target'; seed: number; pose: PoseMessage }
  | { type: 'load-target'; file: File }
  | { type: 'register'; settings: RegisterSettings; pose: PoseMessage; resume: boolean }
  | { type: 'stop' }
  | { type: 'benchmark'; frames: number; pose: PoseMessage };

export interface RunSummary {
  converged: boolean;
  stopReason: RegistrationResult['stopReason'] | 'error';
  iterations: number;
  finalLoss: number;
  seconds: number;
  iterationsPerSecond: number;
  pose: PoseMessage;
}

export type FromEngine =
  | { type: 'ready'; threads: number; isolated: boolean }
  | { type: 'status'; text: string; busy: boolean }
  | { type: 'volume'; info: VolumeInfo }
  | { type: 'scene'; description: SceneDescription }
  | { type: 'frame'; id: number; image: Float32Array; width: number; height: number; ms: number }
  | { type: 'target'; image: Float32Array; width: number; height: number; hiddenPose: PoseMessage | null; note: string }
  | { type: 'iteration'; record: IterationRecord; image: Float32Array; width: number; height: number }
  | { type: 'done'; summary: RunSummary }
  | { type: 'benchmark'; frames: number; seconds: number; framesPerSecond: number; msPerFrame: number }
  | { type: 'error'; message: string; during: string };
