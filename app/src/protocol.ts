/**
 * Messages between the page (main thread) and the engine worker. Poses are ZYX Euler angles in
 * radians and translations in mm (see geometry.ts for what they mean in each geometry).
 */
import type { RayGrid } from '../../src/geometry/detector.js';
import type { IterationRecord } from '../../src/registration/register.js';
import type { SceneDescription } from '../../src/scene/scene.js';
import type { SimilarityName } from '../../src/metrics/index.js';
import type { OptimizerName } from '../../src/optim/optimizer.js';
import type { GeometryKind, GeometrySettings, PoseMessage } from './geometry.js';
import type { CArmOutline, SliceImage } from './slices.js';
import type { GpuPolicy, GpuReport } from './gpu-engine.js';

export type { GeometryKind, GeometrySettings, PoseMessage } from './geometry.js';
export type { CArmOutline, SliceImage } from './slices.js';

/** 'robust': search + candidates + coarse-to-fine with an acceptance test; 'plain': one optimizer run. */
export type StrategyName = 'robust' | 'plain';

export interface RegisterSettings {
  strategy: StrategyName;
  similarity: SimilarityName;
  /** Robust: half-width of the rotation search around the start, degrees (each Euler angle). */
  searchRangeDegrees: number;
  /** Robust: spacing of the rotation search grid, degrees. */
  searchStepDegrees: number;
  /** Robust: half-width of the translation search, mm (0: none). */
  translationSearchMm: number;
  /** Robust: final NCC a result needs to count as converged. */
  acceptScore: number;
  /** Plain: the optimizer and its settings. */
  optimizer: OptimizerName;
  learningRateRotation: number;
  learningRateTranslation: number;
  momentum: number;
  maxIterations: number;
  stopScore: number;
}

export interface VolumeInfo {
  source: string;
  shape: [number, number, number];
  spacing: [number, number, number];
  /** Voxel-axis patient directions from the affine ("LAI"). */
  orientationCode: string;
  /** A note on the slice views ('' when they are exactly anatomical). */
  sliceNote: string;
  range: [number, number];
  slices: SliceImage[];
  seconds: number;
  /** The geometry the engine chose for this volume (seed for the example CT, pinhole for files). */
  suggestedGeometry: GeometryKind;
}

/** What the engine built for the current controls. */
export interface GeometryInfo {
  kind: GeometryKind;
  /** The pose the "Reset pose" button returns to. */
  defaultPose: PoseMessage;
  /** Render threads of each image (the library's pool when > 1). */
  threads: number;
  /** Whether the pool's workers took part in a test render (false: they did not start; one thread renders). */
  poolWorking: boolean;
  /** The volume centre in world mm. */
  center: [number, number, number];
  /** Seconds to build the DRR and start the pool's workers. */
  seconds: number;
}

export type ToEngine =
  | { type: 'init'; stopFlag: SharedArrayBuffer | null; threads: number; webgpu?: GpuPolicy }
  | { type: 'load-example' }
  | { type: 'load-files'; files: File[] }
  | { type: 'configure'; geometry: GeometrySettings }
  | { type: 'pose'; pose: PoseMessage; id: number }
  | { type: 'make-target'; seed: number; pose: PoseMessage }
  | { type: 'load-target'; file: File }
  | { type: 'register'; settings: RegisterSettings; pose: PoseMessage; resume: boolean }
  | { type: 'benchmark'; frames: number; pose: PoseMessage };

export interface RunSummary {
  strategy: StrategyName;
  converged: boolean;
  /** Why it ended: 'converged', 'settled', 'max-iterations', 'stopped', 'not-accepted' or 'error'. */
  stopReason: string;
  /** Why a run did not converge, in words ('' when it did). */
  reason: string;
  iterations: number;
  finalScore: number;
  seconds: number;
  iterationsPerSecond: number;
  pose: PoseMessage;
  /** Robust: the work of each stage (search renders, candidate and refinement iterations) and the refinement attempts. */
  stages?: { search: number; candidates: number; refine: number; attempts: number };
  /** Image chunks the library's pool workers rendered during the run (the rest: the engine thread). */
  workerChunks: number;
  /** Where the run's renders were made: the CPU (engine and pool workers) or WebGPU. */
  backend: 'cpu' | 'webgpu';
}

/** A point of a run: the stage ('plain', 'search', 'candidates', 'refine', 'refine 2', …) and its level. */
export interface ProgressRecord {
  stage: string;
  /** Pyramid level factor (1: full resolution). */
  factor: number;
  record: IterationRecord;
}

export type FromEngine =
  | { type: 'ready'; threads: number; isolated: boolean }
  /** Whether WebGPU renders (after its check against the CPU kernels), with the adapter. */
  | { type: 'webgpu'; report: GpuReport }
  | { type: 'status'; text: string; busy: boolean }
  | { type: 'volume'; info: VolumeInfo }
  | { type: 'geometry'; info: GeometryInfo }
  | { type: 'frame'; id: number; image: Float32Array; width: number; height: number; ms: number; carm: CArmOutline; rays: RayGrid }
  /** The 3-D view's scene (CT surface, patient labels) in the DRR's grid frame; cameras come with each frame. */
  | { type: 'scene'; description: SceneDescription }
  /** `rays`: the target camera's rays in the grid frame when its pose is known (a synthetic target). */
  | { type: 'target'; image: Float32Array; width: number; height: number; hiddenPose: PoseMessage | null; note: string; rays: RayGrid | null }
  | { type: 'iteration'; progress: ProgressRecord; image: Float32Array | null; width: number; height: number; carm: CArmOutline; rays: RayGrid }
  | { type: 'stage'; stage: 'search' | 'candidates'; done: number; total: number; score: number }
  | { type: 'done'; summary: RunSummary }
  | { type: 'benchmark'; frames: number; seconds: number; framesPerSecond: number; msPerFrame: number; threads: number; workerChunks: number }
  | { type: 'error'; message: string; during: string };
