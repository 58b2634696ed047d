/**
 * The page: controls, canvases and plots. All rendering and registration happens in the engine
 * worker (engine.worker.ts); this thread only draws what it sends back.
 */
import { createDetector, rayGridForPose } from '../../src/geometry/detector.js';
import { poseFromParameters } from '../../src/geometry/pose.js';
import { encodeGif, registrationFrame } from '../../src/viz/animation.js';
import { checkerboard, differenceRaster, overlayImages } from '../../src/viz/compose.js';
import { plotRegistrationTrajectory, type PoseValues } from '../../src/viz/plot.js';
import { finiteRange, grayToRaster, type GrayImage, type Raster } from '../../src/viz/raster.js';
import type { IterationRecord } from '../../src/registration/register.js';
import type { OptimizerName } from '../../src/optim/optimizer.js';
import type { SimilarityName } from '../../src/metrics/index.js';
import type { DetectorSettings, FromEngine, PoseMessage, RegisterSettings, RunSummary, SliceImage, ToEngine, VolumeInfo } from './protocol.js';
import { projectToSlice } from './slices.js';
import { appCamera, ScenePanel } from './scene-panel.js';

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
// Sliders.

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

const detectorInputs = {
  sdr: makeSlider($('detector-controls'), { id: 'sdr', label: 'sdr', min: 100, max: 1000, step: 5, value: 300, unit: ' mm', digits: 0 }, () => configure()),
  size: makeSlider($('detector-controls'), { id: 'size', label: 'size', min: 32, max: 256, step: 16, value: 128, unit: ' px', digits: 0 }, () => configure()),
  delx: makeSlider($('detector-controls'), { id: 'delx', label: 'pixel size', min: 1, max: 16, step: 0.05, value: 6.25, unit: ' mm', digits: 2 }, () => configure()),
};
const rendererRow = document.createElement('label');
rendererRow.className = 'slider';
rendererRow.innerHTML = '<span class="name">renderer</span><select id="renderer" style="grid-column: span 2"><option value="siddon">Siddon (exact path length)</option><option value="trilinear">trilinear</option></select>';
$('detector-controls').append(rendererRow);
$('renderer').addEventListener('change', () => configure());

const poseNames = ['alpha', 'beta', 'gamma', 'bx', 'by', 'bz'] as const;
/** Each angle slider spans ±180° around the tutorial's pose (ZYX π, 0, π/2). */
const ANGLE_CENTRES = [Math.PI, 0, Math.PI / 2];
const poseInputs = poseNames.map((name, index) =>
  makeSlider($('pose-controls'), index < 3
    ? { id: name, label: `${name} (${['Z', 'Y', 'X'][index]})`, min: ANGLE_CENTRES[index] / DEG - 180, max: ANGLE_CENTRES[index] / DEG + 180, step: 0.5, value: 0, unit: '°', digits: 1 }
    : { id: name, label: name, min: -200, max: 200, step: 1, value: 0, unit: ' mm', digits: 0 }, () => requestFrame()));

// ------------------------------------------------------------------------------------------
// State.

const state = {
  volume: null as VolumeInfo | null,
  defaultPose: null as PoseMessage | null,
  moving: null as GrayImage | null,
  target: null as GrayImage | null,
  hiddenPose: null as PoseMessage | null,
  registering: false,
  runStartPose: null as PoseMessage | null,
  trajectory: [] as IterationRecord[],
  frames: [] as { image: Float32Array; iteration: number; loss: number }[],
  lastSummary: null as RunSummary | null,
  optimizerUsed: 'adam' as OptimizerName,
  inFlight: false,
  dirty: false,
  frameId: 0,
  frameTimes: [] as number[],
  renderMs: 0,
  threads: 1,
  isolated: false,
  measuring: null as null | { started: number; shown: number; asked: number; base: number },
};

function currentPose(): PoseMessage {
  const v = poseInputs.map((input) => Number(input.value));
  return { rotation: [v[0] * DEG, v[1] * DEG, v[2] * DEG], translation: [v[3], v[4], v[5]] };
}

function setPose(pose: PoseMessage): void {
  pose.rotation.forEach((value, index) => setSlider(poseInputs[index], Math.round(((ANGLE_CENTRES[index] + wrapAngle(value - ANGLE_CENTRES[index])) / DEG) * 100) / 100));
  pose.translation.forEach((value, index) => setSlider(poseInputs[3 + index], value));
}

function wrapAngle(radians: number): number {
  return Math.atan2(Math.sin(radians), Math.cos(radians));
}

function detectorSettings(): DetectorSettings {
  const size = Number(detectorInputs.size.value);
  return { sdr: Number(detectorInputs.sdr.value), height: size, width: size, delx: Number(detectorInputs.delx.value), renderer: ($('renderer') as HTMLSelectElement).value as DetectorSettings['renderer'] };
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
send({ type: 'init', stopFlag: stopBuffer, threads });
send({ type: 'configure', detector: detectorSettings() });
send({ type: 'load-example' });

let configureTimer = 0;
function configure(): void {
  window.clearTimeout(configureTimer);
  configureTimer = window.setTimeout(() => {
    send({ type: 'configure', detector: detectorSettings() });
    drawSlices();
    requestFrame();
  }, 60);
}

/** Asks for a DRR at the sliders' pose; at most one render is in flight, the latest pose wins. */
function requestFrame(): void {
  drawSlices();
  if (!state.volume || state.registering) return;
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
  configure: 'Detector settings rejected',
  pose: 'Could not render',
  'make-target': 'Could not make a target',
};

engine.onmessage = (event: MessageEvent<FromEngine>) => {
  const message = event.data;
  switch (message.type) {
    case 'ready':
      state.threads = message.threads;
      state.isolated = message.isolated;
      $('chip-threads').textContent = `CPU · ${message.threads} thread${message.threads === 1 ? '' : 's'}${message.isolated ? '' : ' (not cross-origin isolated)'}`;
      body.dataset.engine = 'ready';
      body.dataset.threads = String(message.threads);
      ($('stop') as HTMLButtonElement).title = stopFlag ? '' : 'Stopping a running registration needs cross-origin isolation (COOP/COEP headers)';
      return;
    case 'status':
      $('run-info').textContent = message.text;
      return;
    case 'volume': {
      state.volume = message.info;
      const { info } = message;
      showVolumeInfo();
      for (let axis = 0; axis < 3; axis++) {
        const input = poseInputs[3 + axis];
        input.min = String(Math.floor(info.center[axis] - 250));
        input.max = String(Math.ceil(info.center[axis] + 250));
      }
      state.defaultPose = { rotation: [Math.PI, 0, Math.PI / 2], translation: [...info.center] };
      setPose(state.defaultPose);
      clearTarget();
      clearRun();
      body.dataset.volume = 'loaded';
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
      showMoving(message.image, message.width, message.height);
      countFrame();
      if (state.measuring) stepMeasurement();
      else if (state.dirty) requestFrame();
      return;
    }
    case 'target':
      state.target = { data: message.image, width: message.width, height: message.height };
      state.hiddenPose = message.hiddenPose;
      $('target-info').textContent = message.note;
      $('target-placeholder').hidden = true;
      $('compare-placeholder').hidden = true;
      body.dataset.target = 'ready';
      drawTarget();
      drawCompare();
      updateScene();
      return;
    case 'iteration': {
      const { record } = message;
      state.trajectory.push(record);
      showMoving(message.image, message.width, message.height);
      countFrame('iterations/s');
      state.frames.push({ image: message.image, iteration: record.iteration, loss: record.loss });
      if (state.frames.length > 240) state.frames = state.frames.filter((_, index) => index % 2 === 0);
      setPose({ rotation: record.rotation as PoseMessage['rotation'], translation: record.translation as PoseMessage['translation'] });
      drawSlices();
      $('loss-readout').textContent = `iteration ${record.iteration} · ${similarityLabel()} ${record.loss.toFixed(4)}`;
      body.dataset.iterations = String(state.trajectory.length);
      schedulePlot();
      return;
    }
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

function showVolumeInfo(): void {
  const info = state.volume;
  $('volume-info').textContent = info
    ? `${info.source} · ${info.shape.join(' × ')} voxels of ${info.spacing.map((s) => +s.toFixed(3)).join(' × ')} mm (${info.extent.map((e) => Math.round(e)).join(' × ')} mm) · ready in ${info.seconds.toFixed(1)} s`
    : 'No CT loaded.';
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
    const size = detectorSettings();
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

function rasterToCanvas(canvas: HTMLCanvasElement, raster: Raster): void {
  if (canvas.width !== raster.width || canvas.height !== raster.height) {
    canvas.width = raster.width;
    canvas.height = raster.height;
  }
  const context = canvas.getContext('2d')!;
  context.putImageData(new ImageData(new Uint8ClampedArray(raster.data), raster.width, raster.height), 0, 0);
}

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
let sceneFrame = 0;
/** Rebuilds the 3-D view's cameras once per animation frame at most (the latest pose and DRR win). */
function updateScene(): void {
  if (sceneFrame === 0) sceneFrame = requestAnimationFrame(() => { sceneFrame = 0; updateSceneNow(); });
}
let scenePending = false;
window.addEventListener('scroll', () => { if (scenePending) { scenePending = false; updateScene(); } }, { passive: true });
function updateSceneNow(): void {
  // Off screen the view is not drawn, and rebuilding its cameras every frame would slow the page.
  const rect = $('scene-view').getBoundingClientRect();
  if (rect.bottom < 0 || rect.top > window.innerHeight) { scenePending = true; return; }
  try {
    const detector = detectorSettings();
    const cameras = [appCamera('moving', '#ffd43b', detector, currentPose(), state.moving?.data)];
    if (state.hiddenPose) cameras.push(appCamera('target', '#ff6b9a', detector, state.hiddenPose, state.target?.data));
    scenePanel.showCameras(cameras);
  } catch {
    // Detector settings being edited: keep the last view.
  }
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

const sliceCache = new Map<string, { window: string; canvas: HTMLCanvasElement }>();

function sliceBitmap(slice: SliceImage): HTMLCanvasElement {
  const windowChoice = ($('ct-window') as HTMLSelectElement).value;
  const cached = sliceCache.get(slice.name);
  if (cached && cached.window === windowChoice) return cached.canvas;
  let min: number, max: number;
  if (windowChoice === 'full') ({ min, max } = { min: state.volume!.range[0], max: state.volume!.range[1] });
  else {
    const [level, width] = windowChoice.split(',').map(Number);
    min = level - width / 2;
    max = level + width / 2;
  }
  const canvas = document.createElement('canvas');
  rasterToCanvas(canvas, grayToRaster({ data: slice.data, width: slice.width, height: slice.height }, { min, max }));
  sliceCache.set(slice.name, { window: windowChoice, canvas });
  return canvas;
}

function drawSlices(): void {
  const volume = state.volume;
  if (!volume) return;
  const detector = detectorSettings();
  let grid;
  try {
    const pose = currentPose();
    grid = rayGridForPose(createDetector(detector), poseFromParameters({ rotation: Float64Array.from(pose.rotation), translation: Float64Array.from(pose.translation), parameterization: 'euler_angles', convention: 'ZYX' }));
  } catch {
    return;
  }
  const { source, firstPixel, rowStep, columnStep, height, width } = grid;
  const at = (r: number, c: number) => [0, 1, 2].map((k) => firstPixel[k] + r * rowStep[k] + c * columnStep[k]);
  const corners = [at(0, 0), at(0, width - 1), at(height - 1, width - 1), at(height - 1, 0)];
  const centre = at((height - 1) / 2, (width - 1) / 2);
  const pose = currentPose();
  // Field of view: the CT and the whole C-arm around the volume centre.
  const reach = Math.hypot(...pose.translation.map((t, k) => t - volume.center[k]));
  const radius = (Math.hypot(...volume.extent) / 2) * 1.02;
  const fov = Math.max(radius, (reach + detector.sdr) * 1.12);

  for (const slice of volume.slices) {
    const canvas = $(`slice-${slice.name}`) as HTMLCanvasElement;
    const context = canvas.getContext('2d')!;
    const size = canvas.width;
    const mmPerSlicePixel = volume.extent[slice.uAxis] / slice.width;
    const scale = size / (2 * fov); // canvas pixels per mm
    const eu = volume.extent[slice.uAxis], ev = volume.extent[slice.vAxis];
    const toCanvas = (point: ArrayLike<number>): [number, number] => {
      const [pu, pv] = projectToSlice(slice, volume.extent, point);
      return [size / 2 + (pu * mmPerSlicePixel - eu / 2) * scale, size / 2 + (pv * (ev / slice.height) - ev / 2) * scale];
    };
    context.fillStyle = '#0b0f14';
    context.fillRect(0, 0, size, size);
    context.imageSmoothingEnabled = true;
    context.drawImage(sliceBitmap(slice), size / 2 - (eu / 2) * scale, size / 2 - (ev / 2) * scale, eu * scale, ev * scale);
    const s = toCanvas(source);
    const c = corners.map(toCanvas);
    context.lineWidth = 1;
    context.strokeStyle = 'rgba(255, 214, 10, 0.45)';
    for (const corner of c) { context.beginPath(); context.moveTo(...s); context.lineTo(...corner); context.stroke(); }
    context.setLineDash([5, 4]);
    context.strokeStyle = 'rgba(255, 140, 50, 0.9)';
    context.beginPath(); context.moveTo(...s); context.lineTo(...toCanvas(centre)); context.stroke();
    context.setLineDash([]);
    context.strokeStyle = '#38bdf8';
    context.lineWidth = 2.5;
    context.beginPath(); context.moveTo(...c[0]); for (const corner of c.slice(1)) context.lineTo(...corner); context.closePath(); context.stroke();
    context.fillStyle = '#ffd60a';
    context.beginPath(); context.arc(s[0], s[1], 4.5, 0, 2 * Math.PI); context.fill();
    context.fillStyle = 'rgba(255,255,255,0.75)';
    context.font = '11px system-ui, sans-serif';
    context.fillText(`${Math.round(2 * fov)} mm across`, 8, size - 8);
  }
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
    loss: column((r) => r.loss), label: optimizerLabel(state.optimizerUsed),
  }, { width: canvas.width, height: canvas.height, textScale: 1, truth: truthValues(), lossLabel: `${similarityLabel()} (to maximise)` });
  rasterToCanvas(canvas, raster);
}

// ------------------------------------------------------------------------------------------
// Target and registration.

function clearTarget(): void {
  state.target = null;
  state.hiddenPose = null;
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
  updateButtons();
}

const optimizerLabel = (name: OptimizerName) => ({ adam: 'Adam', sgd: 'SGD', lbfgs: 'L-BFGS' })[name];
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

function registerSettings(): RegisterSettings {
  const number = (id: string) => Number(($(id) as HTMLInputElement).value);
  return {
    optimizer: ($('optimizer') as HTMLSelectElement).value as OptimizerName,
    similarity: ($('similarity') as HTMLSelectElement).value as SimilarityName,
    learningRateRotation: number('lr-rotation'),
    learningRateTranslation: number('lr-translation'),
    momentum: number('momentum'),
    maxIterations: Math.round(number('iterations')),
    stopScore: number('stop-score'),
  };
}

function setControlsEnabled(enabled: boolean): void {
  for (const input of [...poseInputs, ...Object.values(detectorInputs)]) input.disabled = !enabled;
  for (const id of ['renderer', 'load-example', 'open-ct', 'open-folder', 'make-target', 'open-target', 'measure-fps', 'reset-pose', 'optimizer', 'similarity']) ($(id) as HTMLInputElement).disabled = !enabled;
}

function updateButtons(): void {
  const has = state.trajectory.length > 0;
  const running = state.registering;
  ($('register') as HTMLButtonElement).disabled = running;
  ($('stop') as HTMLButtonElement).disabled = !running || !stopFlag;
  ($('resume') as HTMLButtonElement).disabled = running || !has || state.lastSummary?.converged === true;
  ($('reset-run') as HTMLButtonElement).disabled = running || !has;
  for (const id of ['export-pose', 'export-csv', 'export-gif']) ($(id) as HTMLButtonElement).disabled = running || !has;
}

function startRun(resume: boolean): void {
  if (!state.volume) return;
  if (!state.target) { showBanner('Make a target or load an X-ray first, then press Register.', 'info'); return; }
  const settings = registerSettings();
  if (![settings.learningRateRotation, settings.learningRateTranslation].every((v) => Number.isFinite(v) && v > 0)) {
    showBanner('Learning rates must be numbers greater than zero.'); return;
  }
  $('banner').hidden = true;
  if (!resume) {
    clearRun();
    state.runStartPose = currentPose();
    state.optimizerUsed = settings.optimizer;
  }
  state.registering = true;
  body.dataset.registration = 'running';
  setControlsEnabled(false);
  updateButtons();
  drawPlot();
  send({ type: 'register', settings, pose: currentPose(), resume });
}

function finishRun(summary: RunSummary): void {
  state.registering = false;
  state.lastSummary = summary;
  setControlsEnabled(true);
  setPose(summary.pose);
  drawSlices();
  body.dataset.registration = summary.stopReason;
  body.dataset.finalLoss = String(summary.finalLoss);
  let text = summary.converged ? `Converged in ${summary.iterations} iterations` : summary.stopReason === 'stopped' ? `Stopped after ${summary.iterations} iterations` : summary.stopReason === 'error' ? 'Stopped by an error' : `No convergence in ${summary.iterations} iterations`;
  if (Number.isFinite(summary.finalLoss)) text += ` · ${similarityLabel()} ${summary.finalLoss.toFixed(4)} · ${summary.iterationsPerSecond.toFixed(1)} it/s`;
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
$('reset-pose').addEventListener('click', () => { if (state.defaultPose) { setPose(state.defaultPose); requestFrame(); } });
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
  sliceCache.clear();
  send({ type: 'load-files', files });
}

function loadTarget(file: File): void {
  if (!state.volume) { showBanner('Load a CT before a target X-ray.', 'info'); return; }
  $('banner').hidden = true;
  clearRun();
  send({ type: 'load-target', file });
}

const isImage = (file: File) => /\.(png|tiff?|jpe?g)$/i.test(file.name) || /^image\/(png|tiff|jpeg)$/.test(file.type);
$('load-example').addEventListener('click', () => { sliceCache.clear(); $('volume-info').textContent = 'Building the example CT…'; send({ type: 'load-example' }); });
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
    detector: detectorSettings(),
    volume: state.volume?.source,
    optimizer: state.optimizerUsed, similarity: ($('similarity') as HTMLSelectElement).value,
    converged: summary?.converged ?? false, iterations: summary?.iterations ?? state.trajectory.length, finalLoss: summary?.finalLoss ?? state.trajectory.at(-1)?.loss,
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
    iteration: frame.iteration, loss: frame.loss, label: optimizerLabel(state.optimizerUsed), scale, window, extraPanels: ['overlay'],
  }));
  if (frames.length === 0) return;
  download('registration.gif', encodeGif(frames, { delayMs: 80 }) as Uint8Array<ArrayBuffer>, 'image/gif');
});

// ------------------------------------------------------------------------------------------
// WebGPU: reported honestly; the CPU workers render either way.

(async () => {
  const chip = $('chip-gpu');
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) { chip.textContent = 'WebGPU: not offered'; body.dataset.webgpu = 'absent'; return; }
  try {
    const adapter = await gpu.requestAdapter();
    chip.textContent = adapter ? 'WebGPU: available (CPU renders)' : 'WebGPU: no adapter';
    body.dataset.webgpu = adapter ? 'adapter' : 'no-adapter';
  } catch {
    chip.textContent = 'WebGPU: no adapter';
    body.dataset.webgpu = 'no-adapter';
  }
})();

updateButtons();
drawPlot();
