/**
 * The engine: a Web Worker that owns the CT, the DRR and the registration, so the page never
 * blocks. Every image is rendered by the library's DRR; with `threads` > 1 (the page is
 * cross-origin isolated, so SharedArrayBuffer and Atomics.wait work here) each image is split
 * between this worker and the library's shared render pool, whose Web Workers run the library's
 * worker script through render.worker.ts (registered with `setWebRenderWorker`).
 */
import { DRR, volumeDensities } from '../../src/drr.js';
import type { PoseParameters } from '../../src/geometry/pose.js';
import { DrrkitError } from '../../src/errors.js';
import type { Image2D } from '../../src/io/image.js';
import { decodeXray } from '../../src/io/xray.js';
import { NumpyRandom } from '../../src/registration/random.js';
import { setWebRenderWorker, sharedRenderPool } from '../../src/render/worker-platform.js';
import { loadExampleCT } from '../../src/volume/example-ct.js';
import { createVolume, volumeRange, type Volume } from '../../src/volume/volume.js';
import { PlainRun, poseParameters, runRobust, type RunHooks } from './engine-registration.js';
import { angleCentres, DEFAULT_GEOMETRY, drrOptions, namedViewPose, type GeometryKind, type GeometrySettings, type PoseMessage } from './geometry.js';
import { loadVolumeFromFiles } from './load-volume.js';
import type { FromEngine, RunSummary, ToEngine, VolumeInfo } from './protocol.js';
import { carmOutline, sliceViews } from './slices.js';
import { buildScene, type SceneConvention } from '../../src/scene/scene.js';
import { GpuEngine } from './gpu-engine.js';

interface Scope {
  postMessage(message: FromEngine, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToEngine>) => void) | null;
}
const scope = self as unknown as Scope;
const post = (message: FromEngine, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

// The library's render pool starts its Web Workers from the app's bundled worker entry.
setWebRenderWorker(() => new Worker(new URL('./render.worker.ts', import.meta.url), { type: 'module' }));

/** Largest CT accepted: each copy the engine keeps is 4 bytes a voxel. */
const MAX_VOXELS = 2 ** 28;

let threads = 1;
let stopFlag: Int32Array | null = null;
let densityVolume: Volume | null = null;
let drr: DRR | null = null;
let geometry: GeometrySettings = DEFAULT_GEOMETRY.seed;
let target: { image: Float32Array; source: Image2D | null; hidden: PoseMessage | null; note: string } | null = null;
let plainRun: PlainRun | null = null;
/** WebGPU: renders the live DRR and runs plain registrations when its adapter and check allow (gpu-engine.ts). */
let gpu: GpuEngine | null = null;

/** A message a person can act on, for any error. */
function describe(error: unknown): string {
  if (error instanceof DrrkitError) return error.message;
  if (error instanceof RangeError && /alloc|memory|length/i.test(error.message)) {
    return 'not enough memory: the browser could not allocate the arrays this CT needs (try a smaller or downsampled volume, or close other tabs)';
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function status(text: string, busy = false): void {
  post({ type: 'status', text, busy });
}

/** Image chunks rendered by pool workers so far. */
function workerChunks(): number {
  return threads > 1 ? sharedRenderPool()?.workerChunks ?? 0 : 0;
}

/** The pose the page's "Reset pose" returns to: the tutorial's for the seed C-arm, the AP/PA view for the pinhole camera. */
function defaultPose(d: DRR, settings: GeometrySettings): PoseMessage {
  if (settings.kind === 'seed') return { rotation: angleCentres('seed'), translation: d.center };
  return namedViewPose(settings.orientation, settings);
}

/**
 * Lets the pool's workers start: a nested Web Worker starts through its parent's event loop, so
 * the engine renders frames with pauses until a worker has taken part (for at most 3 s). Returns
 * whether one did (always true on one thread).
 */
async function warmUpPool(d: DRR, pose: PoseMessage): Promise<boolean> {
  if (d.threads <= 1) return true;
  const before = workerChunks();
  const deadline = performance.now() + 3000;
  while (workerChunks() === before && performance.now() < deadline) {
    d.render(poseParameters(pose));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return workerChunks() !== before;
}

async function buildDrr(): Promise<void> {
  if (!densityVolume) return;
  const started = performance.now();
  drr?.dispose();
  drr = new DRR(densityVolume, drrOptions(geometry, threads));
  plainRun = null;
  const pose = defaultPose(drr, geometry);
  const poolWorking = await warmUpPool(drr, pose);
  post({ type: 'geometry', info: { kind: geometry.kind, defaultPose: pose, threads: drr.threads, poolWorking, center: drr.center, seconds: (performance.now() - started) / 1000 } });
  postScene(drr);
  // WebGPU renders only after a view of this DRR matched the CPU kernels' image.
  if (gpu) post({ type: 'webgpu', report: await gpu.prepare(drr, poseParameters(pose)) });
}

/** One image at `pose`: on WebGPU when it renders, else on the CPU kernels. */
async function renderImage(d: DRR, pose: PoseParameters): Promise<Float32Array> {
  return gpu?.renders ? gpu.render(d, pose) : d.render(pose);
}

/** The CT (in its own units) the 3-D view's surface is built from, and the frame of the scene last sent. */
let sceneVolume: Volume | null = null;
let sceneConvention: SceneConvention | null = null;

/**
 * Sends the 3-D view's scene — the CT surface (≥ 300 HU, on a grid of at most 96 voxels a side),
 * patient-axis labels from the affine — in the DRR's grid frame, when the CT or the frame changed.
 */
function postScene(d: DRR): void {
  if (!sceneVolume) return;
  const frame = d.frame;
  const convention: SceneConvention = frame === null ? 'seed' : 'world';
  if (convention === sceneConvention) return;
  try {
    const worldToGrid = frame === null ? undefined : { rotation: frame.worldToGridRotation, translation: frame.worldToGridTranslation };
    post({ type: 'scene', description: buildScene(sceneVolume, convention, { cameras: [], title: sceneVolume.source, worldToGrid }) });
    sceneConvention = convention;
  } catch (error) {
    post({ type: 'error', message: describe(error), during: 'scene' });
  }
}

async function useVolume(volume: Volume, started: number, label: string, suggested: GeometryKind): Promise<void> {
  const voxels = volume.shape[0] * volume.shape[1] * volume.shape[2];
  if (voxels > MAX_VOXELS) {
    throw new DrrkitError(`${volume.source}: ${volume.shape.join(' × ')} voxels is too large for a browser tab (at most ${MAX_VOXELS / 2 ** 20} Mi voxels); downsample it first`, volume.source);
  }
  const range = volumeRange(volume);
  const views = sliceViews(volume);
  const densities = volumeDensities(volume, 'diffdrr');
  densityVolume = createVolume({ data: densities, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source });
  target = null;
  drr?.dispose();
  drr = null;
  const [nx, ny, nz] = volume.shape;
  const [dx, dy, dz] = volume.spacing;
  const info: VolumeInfo = {
    source: label,
    shape: [nx, ny, nz],
    spacing: [dx, dy, dz],
    orientationCode: views.orientationCode,
    sliceNote: views.note,
    range: [range.min, range.max],
    slices: views.slices,
    seconds: (performance.now() - started) / 1000,
    suggestedGeometry: suggested,
  };
  sceneVolume = volume;
  sceneConvention = null;
  // The page answers with a 'configure' for the suggested geometry, which builds the DRR (and the 3-D scene).
  post({ type: 'volume', info }, views.slices.map((slice) => slice.data.buffer as ArrayBuffer));
}

function resample(image: Image2D, height: number, width: number): Float32Array {
  const out = new Float32Array(height * width);
  for (let r = 0; r < height; r++) {
    const y = Math.min(image.height - 1, Math.max(0, ((r + 0.5) * image.height) / height - 0.5));
    const y0 = Math.floor(y), y1 = Math.min(image.height - 1, y0 + 1), fy = y - y0;
    for (let c = 0; c < width; c++) {
      const x = Math.min(image.width - 1, Math.max(0, ((c + 0.5) * image.width) / width - 0.5));
      const x0 = Math.floor(x), x1 = Math.min(image.width - 1, x0 + 1), fx = x - x0;
      const d = image.data;
      const top = d[y0 * image.width + x0] * (1 - fx) + d[y0 * image.width + x1] * fx;
      const bottom = d[y1 * image.width + x0] * (1 - fx) + d[y1 * image.width + x1] * fx;
      out[r * width + c] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Renders (or resamples) the target for the current detector and sends it to the page. */
function refreshTarget(): void {
  if (!target || !drr) return;
  if (target.hidden) target.image = drr.render(poseParameters(target.hidden));
  else if (target.source) target.image = resample(target.source, geometry.height, geometry.width);
  const rays = target.hidden ? drr.rays(poseParameters(target.hidden)) : null;
  post({ type: 'target', image: target.image.slice(), width: geometry.width, height: geometry.height, hiddenPose: target.hidden, note: target.note, rays });
}

function requireDrr(): DRR {
  if (!drr) throw new DrrkitError('no CT is loaded yet', 'volume');
  return drr;
}

/**
 * Progress of a run to the page: every iteration's record; where the run has no full-resolution
 * image (the robust strategy's coarse levels), a DRR rendered for the page at most every 100 ms
 * plus five times the last such render's duration, so the previews cost the run under ~20%.
 */
function runHooks(d: DRR): RunHooks {
  let nextPreview = 0;
  return {
    iteration: (progress, image) => {
      const now = performance.now();
      const pose = poseParameters({ rotation: progress.record.rotation as PoseMessage['rotation'], translation: progress.record.translation as PoseMessage['translation'] });
      if (image === null && now >= nextPreview) {
        image = d.render(pose);
        nextPreview = performance.now() + 100 + 5 * (performance.now() - now);
      }
      post({ type: 'iteration', progress, image, width: geometry.width, height: geometry.height, carm: carmOutline(d, pose), rays: d.rays(pose) }, image ? [image.buffer as ArrayBuffer] : []);
    },
    stage: (stage, done, total, score) => post({ type: 'stage', stage, done, total, score }),
    stopped: () => stopFlag !== null && Atomics.load(stopFlag, 0) === 1,
  };
}

async function handle(message: ToEngine): Promise<void> {
  switch (message.type) {
    case 'init': {
      stopFlag = message.stopFlag ? new Int32Array(message.stopFlag) : null;
      const isolated = typeof SharedArrayBuffer !== 'undefined' && (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
      threads = isolated ? Math.max(1, message.threads) : 1;
      post({ type: 'ready', threads, isolated });
      gpu = await GpuEngine.open(message.webgpu ?? 'auto');
      post({ type: 'webgpu', report: gpu.report() });
      return;
    }
    case 'load-example': {
      status('Building the example CT…', true);
      const started = performance.now();
      await useVolume(loadExampleCT(), started, 'built-in example CT', 'seed');
      status('Example CT ready');
      return;
    }
    case 'load-files': {
      const names = message.files.length === 1 ? message.files[0].name : `${message.files.length} files`;
      status(`Reading ${names}…`, true);
      const started = performance.now();
      const loaded = await loadVolumeFromFiles(message.files.map((file) => ({
        name: file.name,
        path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
        bytes: async () => new Uint8Array(await file.arrayBuffer()),
      })));
      await useVolume(loaded.volume, started, `${loaded.volume.source} (${loaded.format})`, 'pinhole');
      status([`Loaded ${loaded.format}`, ...loaded.notes].join(' · '));
      return;
    }
    case 'configure': {
      const previous = geometry;
      geometry = message.geometry;
      // A hidden pose means nothing in another camera: drop a synthetic target when the camera kind or orientation changes.
      if (target?.hidden && (previous.kind !== geometry.kind || (geometry.kind === 'pinhole' && previous.orientation !== geometry.orientation))) target = null;
      if (densityVolume) {
        await buildDrr();
        refreshTarget();
      }
      return;
    }
    case 'pose': {
      const d = requireDrr();
      const started = performance.now();
      const pose = poseParameters(message.pose);
      const image = await renderImage(d, pose);
      post({ type: 'frame', id: message.id, image, width: geometry.width, height: geometry.height, ms: performance.now() - started, carm: carmOutline(d, pose), rays: d.rays(pose) }, [image.buffer as ArrayBuffer]);
      return;
    }
    case 'benchmark': {
      const d = requireDrr();
      const pose = poseParameters(message.pose);
      const chunks = workerChunks();
      const started = performance.now();
      for (let i = 0; i < message.frames; i++) {
        pose.rotation[0] = message.pose.rotation[0] + 0.01 * i;
        await renderImage(d, pose);
      }
      const seconds = (performance.now() - started) / 1000;
      post({ type: 'benchmark', frames: message.frames, seconds, framesPerSecond: message.frames / seconds, msPerFrame: (1000 * seconds) / message.frames, threads: d.threads, workerChunks: workerChunks() - chunks });
      return;
    }
    case 'make-target': {
      requireDrr();
      const random = new NumpyRandom(message.seed);
      const degree = Math.PI / 180;
      const hidden: PoseMessage = {
        rotation: message.pose.rotation.map((value) => value + random.uniform(-15 * degree, 15 * degree)) as PoseMessage['rotation'],
        translation: message.pose.translation.map((value) => value + random.uniform(-20, 20)) as PoseMessage['translation'],
      };
      target = { image: new Float32Array(0), source: null, hidden, note: `synthetic target: a hidden random pose (seed ${message.seed}: up to 15° and 20 mm from the current pose)` };
      plainRun = null;
      refreshTarget();
      return;
    }
    case 'load-target': {
      const bytes = new Uint8Array(await message.file.arrayBuffer());
      const loaded = await decodeXray(bytes, message.file.name);
      const image = loaded.image;
      const note = [image.width === geometry.width && image.height === geometry.height
        ? `${message.file.name} (${loaded.format.toUpperCase()}, ${image.width}×${image.height})`
        : `${message.file.name} (${loaded.format.toUpperCase()}, ${image.width}×${image.height}, resampled to the ${geometry.width}×${geometry.height} detector)`, ...loaded.notes].join(' · ');
      target = { image: new Float32Array(0), source: image, hidden: null, note };
      plainRun = null;
      refreshTarget();
      return;
    }
    case 'register': {
      const d = requireDrr();
      if (!target) throw new DrrkitError('make a target or load an X-ray first', 'target');
      const settings = message.settings;
      if (stopFlag) Atomics.store(stopFlag, 0, 0);
      const chunks = workerChunks();
      const hooks = runHooks(d);
      let summary: Omit<RunSummary, 'workerChunks' | 'backend'>;
      // Both strategies and every optimizer run on WebGPU when it renders.
      const onGpu = gpu !== null && gpu.renders;
      const backend = onGpu ? 'webgpu' : 'cpu';
      try {
        if (settings.strategy === 'robust') {
          status(`Registering${onGpu ? ' on WebGPU' : ''}: searching ±${settings.searchRangeDegrees}° around the current pose…`, true);
          summary = await runRobust(d, target.image, message.pose, settings, hooks, onGpu ? gpu!.poseAnswerer() : null);
        } else {
          if (!message.resume || !plainRun || plainRun.onGpu !== onGpu) plainRun = onGpu ? new PlainRun(await gpu!.drrFor(d), message.pose, true) : new PlainRun(d, message.pose);
          status(`Registering with ${settings.optimizer}${onGpu ? ' on WebGPU' : ''}…`, true);
          summary = await plainRun.run(target.image, settings, hooks);
        }
      } catch (error) {
        post({ type: 'done', summary: { strategy: settings.strategy, converged: false, stopReason: 'error', reason: describe(error), iterations: 0, finalScore: NaN, seconds: 0, iterationsPerSecond: 0, pose: message.pose, workerChunks: workerChunks() - chunks, backend } });
        throw error;
      }
      post({ type: 'done', summary: { ...summary, workerChunks: workerChunks() - chunks, backend } }); // the page words the outcome
      return;
    }
  }
}

// Messages are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event) => {
  const message = event.data;
  queue = queue.then(() => handle(message)).catch((error) => {
    post({ type: 'error', message: describe(error), during: message.type });
    status('Ready');
  });
};
