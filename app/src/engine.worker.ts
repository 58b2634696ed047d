/**
 * The engine: a Web Worker that owns the CT, the DRR and the registration loop, so the page never
 * blocks. Renders are spread over helper workers (band-pool.ts) when the page is cross-origin
 * isolated (SharedArrayBuffer); otherwise this worker renders alone.
 */
import { DrrkitError } from '../../src/errors.js';
import { volumeDensities } from '../../src/drr.js';
import type { Image2D } from '../../src/io/image.js';
import { decodeXray } from '../../src/io/xray.js';
import { createSimilarity } from '../../src/metrics/index.js';
import { register } from '../../src/registration/register.js';
import { Registration } from '../../src/registration/registration.js';
import { NumpyRandom } from '../../src/registration/random.js';
import { seedDensityGrid, type DensityGrid } from '../../src/render/density-grid.js';
import { buildEmptySpace, type EmptySpace } from '../../src/render/empty-space.js';
import { renderPixelsWithRayGradients } from '../../src/render/renderer.js';
import { createDetector, rayGridForPose } from '../../src/geometry/detector.js';
import { poseFromParameters } from '../../src/geometry/pose.js';
import type { PoseParameters } from '../../src/geometry/pose.js';
import { loadExampleCT } from '../../src/volume/example-ct.js';
import { createVolume, volumeRange, type Volume } from '../../src/volume/volume.js';
import { BandedDRR, BandPool } from './band-pool.js';
import { loadVolumeFromFiles } from './load-volume.js';
import type { DetectorSettings, FromEngine, PoseMessage, ToEngine, VolumeInfo } from './protocol.js';
import { centralSlices } from './slices.js';
import { buildScene } from '../../src/scene/scene.js';

interface Scope {
  postMessage(message: FromEngine, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToEngine>) => void) | null;
}
const scope = self as unknown as Scope;
const post = (message: FromEngine, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** Largest CT accepted: each copy the engine keeps is 4 bytes a voxel. */
const MAX_VOXELS = 2 ** 28;

let pool: BandPool | null = null;
let stopFlag: Int32Array | null = null;
let densityVolume: Volume | null = null;
let sharedGrid: DensityGrid | undefined;
let emptySpace: EmptySpace | null = null;
/** The renderers whose empty-space skipping passed the check (see checkedEmptySpace). */
let skipping = { siddon: false, trilinear: false };
let drr: BandedDRR | null = null;
let detector: DetectorSettings = { sdr: 300, height: 128, width: 128, delx: 6.25, renderer: 'siddon' };
let target: { image: Float32Array; source: Image2D | null; hidden: PoseMessage | null; note: string } | null = null;
let registration: Registration | null = null;
let nextIteration = 0;

function parameters(pose: PoseMessage): PoseParameters {
  return { rotation: Float64Array.from(pose.rotation), translation: Float64Array.from(pose.translation), parameterization: 'euler_angles', convention: 'ZYX' };
}

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

function buildDrr(): void {
  if (!densityVolume) return;
  // The density grid does not depend on the detector: share it with the helpers once per volume.
  if (!sharedGrid) {
    const grid = seedDensityGrid(densityVolume, densityVolume.data);
    ({ space: emptySpace, passed: skipping } = checkedEmptySpace(grid));
    sharedGrid = pool ? pool.shareGrid(grid, emptySpace) : grid;
  }
  drr = new BandedDRR(densityVolume, { sdr: detector.sdr, height: detector.height, width: detector.width, delx: detector.delx, renderer: detector.renderer, density: 'raw', threads: 1 }, pool, sharedGrid, skipping[detector.renderer] ? emptySpace : null);
  registration = null;
}

/**
 * The library's empty-space skipping, used only when it renders a test view (and its ray
 * gradients) bit-for-bit like the plain kernels, as it promises; null otherwise.
 */
function checkedEmptySpace(grid: DensityGrid): { space: EmptySpace | null; passed: { siddon: boolean; trilinear: boolean } } {
  const passed = { siddon: true, trilinear: true };
  try {
    const space = buildEmptySpace(grid);
    const extent = grid.shape.map((n, axis) => n * grid.spacing[axis]);
    const test = createDetector({ sdr: 300, height: 48, delx: (Math.max(...extent) * 2) / 48 });
    for (const rotation of [[Math.PI, 0, Math.PI / 2], [Math.PI / 2 + 0.3, 0.2, Math.PI / 2 - 0.1]]) {
      const rays = rayGridForPose(test, poseFromParameters({ rotation: Float64Array.from(rotation), translation: Float64Array.from(extent.map((e) => e / 2)), parameterization: 'euler_angles', convention: 'ZYX' }));
      for (const renderer of ['siddon', 'trilinear'] as const) {
        const settings = { renderer, sampling: {} };
        const n = rays.height * rays.width;
        const plain = new Float32Array(n), skipped = new Float32Array(n);
        const plainGradients = new Float64Array(6 * n), skippedGradients = new Float64Array(6 * n);
        renderPixelsWithRayGradients(grid, rays, settings, plain, plainGradients);
        renderPixelsWithRayGradients(grid, rays, settings, skipped, skippedGradients, 0, 0, n, space);
        if (plain.some((value, i) => value !== skipped[i]) || plainGradients.some((value, i) => value !== skippedGradients[i])) {
          if (passed[renderer]) console.warn(`drrkit: empty-space skipping changed a ${renderer} test render; ${renderer} renders without it`);
          passed[renderer] = false;
        }
      }
    }
    return { space, passed };
  } catch (error) {
    console.warn('drrkit: empty-space skipping unavailable:', error);
    return { space: null, passed: { siddon: false, trilinear: false } };
  }
}

function useVolume(volume: Volume, started: number, label: string): void {
  const voxels = volume.shape[0] * volume.shape[1] * volume.shape[2];
  if (voxels > MAX_VOXELS) {
    throw new DrrkitError(`${volume.source}: ${volume.shape.join(' × ')} voxels is too large for a browser tab (at most ${MAX_VOXELS / 2 ** 20} Mi voxels); downsample it first`, volume.source);
  }
  const range = volumeRange(volume);
  const slices = centralSlices(volume);
  const densities = volumeDensities(volume, 'diffdrr');
  densityVolume = createVolume({ data: densities, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source });
  sharedGrid = undefined;
  target = null;
  buildDrr();
  const [nx, ny, nz] = volume.shape;
  const [dx, dy, dz] = volume.spacing;
  const info: VolumeInfo = {
    source: label,
    shape: [nx, ny, nz],
    spacing: [dx, dy, dz],
    extent: [nx * dx, ny * dy, nz * dz],
    center: drr!.center,
    range: [range.min, range.max],
    slices,
    seconds: (performance.now() - started) / 1000,
  };
  post({ type: 'volume', info }, slices.map((slice) => slice.data.buffer as ArrayBuffer));
  // The 3-D view's CT surface (≥ 300 HU, on a grid of at most 96 voxels a side), built here.
  try {
    post({ type: 'scene', description: buildScene(volume, 'seed', { cameras: [], title: label }) });
  } catch (error) {
    post({ type: 'error', message: describe(error), during: 'scene' });
  }
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
  if (target.hidden) target.image = drr.render(parameters(target.hidden));
  else if (target.source) target.image = resample(target.source, detector.height, detector.width);
  post({ type: 'target', image: target.image.slice(), width: detector.width, height: detector.height, hiddenPose: target.hidden, note: target.note });
}

function requireDrr(): BandedDRR {
  if (!drr) throw new DrrkitError('no CT is loaded yet', 'volume');
  return drr;
}

async function handle(message: ToEngine): Promise<void> {
  if (pool && drr && message.type !== 'init') await pool.ready();
  switch (message.type) {
    case 'init': {
      stopFlag = message.stopFlag ? new Int32Array(message.stopFlag) : null;
      const isolated = typeof SharedArrayBuffer !== 'undefined' && (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
      if (isolated && message.threads > 1) {
        pool = new BandPool(message.threads - 1, () => new Worker(new URL('./band.worker.ts', import.meta.url), { type: 'module' }));
      }
      post({ type: 'ready', threads: pool ? pool.threads : 1, isolated });
      return;
    }
    case 'load-example': {
      status('Building the example CT…', true);
      const started = performance.now();
      useVolume(loadExampleCT(), started, 'built-in example CT');
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
      useVolume(loaded.volume, started, `${loaded.volume.source} (${loaded.format})`);
      status([`Loaded ${loaded.format}`, ...loaded.notes].join(' · '));
      return;
    }
    case 'configure': {
      detector = message.detector;
      if (densityVolume) {
        buildDrr();
        refreshTarget();
      }
      return;
    }
    case 'pose': {
      const started = performance.now();
      const image = requireDrr().render(parameters(message.pose));
      post({ type: 'frame', id: message.id, image, width: detector.width, height: detector.height, ms: performance.now() - started }, [image.buffer as ArrayBuffer]);
      return;
    }
    case 'benchmark': {
      const d = requireDrr();
      const pose = parameters(message.pose);
      const started = performance.now();
      for (let i = 0; i < message.frames; i++) {
        pose.rotation[0] = message.pose.rotation[0] + 0.01 * i;
        d.render(pose);
      }
      const seconds = (performance.now() - started) / 1000;
      post({ type: 'benchmark', frames: message.frames, seconds, framesPerSecond: message.frames / seconds, msPerFrame: (1000 * seconds) / message.frames });
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
      target = { image: new Float32Array(0), source: null, hidden, note: `synthetic target: a hidden random pose (seed ${message.seed})` };
      registration = null;
      refreshTarget();
      return;
    }
    case 'load-target': {
      const bytes = new Uint8Array(await message.file.arrayBuffer());
      const loaded = await decodeXray(bytes, message.file.name);
      const image = loaded.image;
      const note = [image.width === detector.width && image.height === detector.height
        ? `${message.file.name} (${loaded.format.toUpperCase()}, ${image.width}×${image.height})`
        : `${message.file.name} (${loaded.format.toUpperCase()}, ${image.width}×${image.height}, resampled to the ${detector.width}×${detector.height} detector)`, ...loaded.notes].join(' · ');
      target = { image: new Float32Array(0), source: image, hidden: null, note };
      registration = null;
      refreshTarget();
      return;
    }
    case 'register': {
      const d = requireDrr();
      if (!target) throw new DrrkitError('make a target or load an X-ray first', 'target');
      const settings = message.settings;
      if (!message.resume || !registration) {
        registration = new Registration(d, message.pose.rotation, message.pose.translation, { parameterization: 'euler_angles', convention: 'ZYX' });
        nextIteration = 0;
      }
      const reg = registration;
      const remaining = settings.maxIterations - nextIteration;
      if (remaining < 1) throw new DrrkitError(`all ${settings.maxIterations} iterations have run; raise the iteration limit to resume`, 'iterations');
      if (stopFlag) Atomics.store(stopFlag, 0, 0);
      const offset = nextIteration;
      status(`Registering with ${settings.optimizer}…`, true);
      let summary;
      try {
        const result = register(reg, target.image, {
          optimizer: settings.optimizer,
          learningRateRotation: settings.learningRateRotation,
          learningRateTranslation: settings.learningRateTranslation,
          ...(settings.optimizer === 'sgd' ? { momentum: settings.momentum } : {}),
          similarity: createSimilarity(settings.similarity),
          maxIterations: remaining,
          stopScore: settings.stopScore,
          onIteration: (record, evaluation) => {
            const image = evaluation.image.slice();
            post({ type: 'iteration', record: { ...record, iteration: record.iteration + offset }, image, width: detector.width, height: detector.height }, [image.buffer as ArrayBuffer]);
            nextIteration = record.iteration + offset + 1;
            return !(stopFlag && Atomics.load(stopFlag, 0) === 1);
          },
        });
        summary = {
          converged: result.converged,
          stopReason: result.stopReason,
          iterations: result.converged ? result.iterations + offset : nextIteration,
          finalLoss: result.finalLoss,
          seconds: result.seconds,
          iterationsPerSecond: result.iterationsPerSecond,
          pose: { rotation: Array.from(result.rotation) as PoseMessage['rotation'], translation: Array.from(result.translation) as PoseMessage['translation'] },
        };
      } catch (error) {
        post({ type: 'done', summary: { converged: false, stopReason: 'error', iterations: nextIteration, finalLoss: NaN, seconds: 0, iterationsPerSecond: 0, pose: { rotation: Array.from(reg.rotation) as PoseMessage['rotation'], translation: Array.from(reg.translation) as PoseMessage['translation'] } } });
        throw error;
      }
      post({ type: 'done', summary }); // the page words the outcome
      return;
    }
    case 'stop':
      return;
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
