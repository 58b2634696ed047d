/**
 * The registration algorithms as coroutines of pose requests (src/registration/pose-requests.ts):
 * driven asynchronously they make exactly the decisions they make driven synchronously — the
 * robust strategy (batched search, candidates, sparse L-BFGS refinement, acceptance), the
 * tutorial loop with L-BFGS (its line search evaluates inside its step) — so a GPU answerer
 * changes only where the images are made. CPU only: the WebGPU answerer is tested in
 * test/webgpu-strategy.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DRR, type Pose } from '../src/drr.js';
import { DrrkitError } from '../src/errors.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { LBFGS } from '../src/optim/lbfgs.js';
import { cpuPoseAnswerer, evaluateRequest, runAsynchronously, runSynchronously, type AsyncPoseAnswerer } from '../src/registration/pose-requests.js';
import { register, registerAsync } from '../src/registration/register.js';
import { Registration, type AsyncDifferentiableRenderer } from '../src/registration/registration.js';
import { evaluateRegistration, evaluateRegistrationAsync } from '../src/registration/evaluate.js';
import { pyramidLevels, registerRobust, registerRobustAsync } from '../src/registration/strategy.js';
import type { ParameterGradient } from '../src/render/pose-gradient.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

const zyx = (rotation: number[], translation: ArrayLike<number>): PoseParameters =>
  ({ rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' });

/** The example CT at 5.6 mm with a 40 × 40 seed detector, a target 20° and 15 mm from the start. */
function problem() {
  const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
  const drr = new DRR(volume, { sdr: 500, height: 40, delx: 20, threads: 1 });
  const truth = zyx([Math.PI, 0, Math.PI / 2], drr.center);
  const start = zyx([Math.PI + 0.25, -0.15, Math.PI / 2 + 0.2], drr.center.map((value, axis) => value + [12, -8, 6][axis]));
  return { drr, truth, start, fixed: drr.render(truth) };
}

/** The CPU answerer behind promises that settle on a later turn of the event loop, as a GPU's do. */
const deferredCpuAnswerer: AsyncPoseAnswerer = {
  render: async (request) => { await new Promise((resolve) => setImmediate(resolve)); return cpuPoseAnswerer.render(request); },
  evaluate: async (request) => { await new Promise((resolve) => setImmediate(resolve)); return cpuPoseAnswerer.evaluate(request); },
};

test('the robust strategy driven asynchronously makes exactly the synchronous run\'s decisions', async () => {
  const { drr, truth, start, fixed } = problem();
  const levels = pyramidLevels(drr, fixed, 3);
  const options = { rotationRangeDegrees: [30, 30, 30] as [number, number, number], searchStepDegrees: 15, translationRangeMm: [10, 0, 0] as [number, number, number] };
  const progress: string[][] = [[], []];
  const synchronous = registerRobust(levels, start, { ...options, onProgress: (stage, done, total) => { progress[0].push(`${stage} ${done}/${total}`); } });
  const asynchronous = await registerRobustAsync(levels, start, deferredCpuAnswerer, { ...options, onProgress: (stage, done, total) => { progress[1].push(`${stage} ${done}/${total}`); } });
  assert.equal(synchronous.converged, true, synchronous.reason);
  assert.ok(Math.abs(synchronous.pose.rotation[0] - truth.rotation[0]) < 1e-3, 'the run finds the truth');
  assert.deepEqual(Array.from(asynchronous.pose.rotation), Array.from(synchronous.pose.rotation));
  assert.deepEqual(Array.from(asynchronous.pose.translation), Array.from(synchronous.pose.translation));
  assert.equal(asynchronous.finalScore, synchronous.finalScore);
  assert.deepEqual(asynchronous.iterations, synchronous.iterations);
  assert.deepEqual(asynchronous.attempts, synchronous.attempts);
  assert.deepEqual(asynchronous.trajectory.map((record) => record.loss), synchronous.trajectory.map((record) => record.loss));
  // 5 × 5 × 5 rotations × 3 translations, rendered and reported in batches of 16.
  assert.equal(synchronous.iterations.search, 375);
  assert.deepEqual(progress[1], progress[0]);
  assert.deepEqual(progress[0].filter((line) => line.startsWith('search')).slice(0, 2), ['search 16/375', 'search 32/375']);
  assert.equal(progress[0].filter((line) => line.startsWith('search')).at(-1), 'search 375/375');
});

test('the batched search scores every grid pose as a render of that pose alone would', () => {
  const { drr, start } = problem();
  const poses = Array.from({ length: 16 }, (_, index) => zyx([start.rotation[0] + 0.05 * index, start.rotation[1], start.rotation[2] - 0.03 * index], start.translation));
  const images = cpuPoseAnswerer.render({ kind: 'render', drr, poses });
  for (const [index, pose] of poses.entries()) {
    assert.deepEqual(images.subarray(index * drr.pixelCount, (index + 1) * drr.pixelCount), drr.render(pose));
  }
});

/** A CPU DRR behind the asynchronous renderer interface (what WebGPUDRR offers). */
class AsyncCpuRenderer implements AsyncDifferentiableRenderer {
  #last: { rayGradients: Float64Array } | null = null;
  constructor(readonly drr: DRR) {}
  get detector() { return this.drr.detector; }
  get pixelCount() { return this.drr.pixelCount; }
  async renderAsync(poses: Pose | readonly Pose[]): Promise<Float32Array> { return this.drr.render(poses); }
  async renderForGradientAsync(pose: Pose): Promise<Float32Array> {
    await new Promise((resolve) => setImmediate(resolve));
    const { image, rayGradients } = this.drr.renderWithRayGradients(pose);
    this.#last = { rayGradients: Float64Array.from(rayGradients) };
    return Float32Array.from(image);
  }
  async parameterGradientAsync(pose: PoseParameters, weights: ArrayLike<number>): Promise<ParameterGradient> {
    return this.drr.parameterGradient(pose, this.#last!.rayGradients, weights);
  }
}

test('registerAsync runs L-BFGS (line search inside the step) exactly as register does', async () => {
  const { drr, start, fixed } = problem();
  const options = { optimizer: 'lbfgs' as const, learningRateRotation: 1, maxIterations: 6, stopScore: 0.99999, similarity: new NormalizedCrossCorrelation() };
  const synchronous = register(new Registration(drr, start.rotation, start.translation), fixed, options);
  const asynchronous = await registerAsync(new Registration(new AsyncCpuRenderer(drr), start.rotation, start.translation), fixed, options);
  assert.ok(synchronous.trajectory.length >= 2);
  assert.ok(synchronous.finalLoss > synchronous.trajectory[0].loss, 'L-BFGS improves the score');
  assert.deepEqual(asynchronous.trajectory.map((record) => [record.loss, ...record.rotation, ...record.translation]), synchronous.trajectory.map((record) => [record.loss, ...record.rotation, ...record.translation]));
  assert.deepEqual(Array.from(asynchronous.rotation), Array.from(synchronous.rotation));
  assert.equal(asynchronous.stopReason, synchronous.stopReason);
});

test('LBFGS.stepSteps driven by hand equals step(closure), line search included (Rosenbrock)', () => {
  const rosenbrock = (x: Float64Array) => ({
    loss: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
    gradients: [[Float64Array.of(-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2))]],
  });
  const a = Float64Array.of(-1.2, 1), b = Float64Array.of(-1.2, 1);
  const settings = { maxIterations: 20, lineSearch: 'strong_wolfe' as const };
  const closureDriven = new LBFGS([{ params: [a] }], settings), handDriven = new LBFGS([{ params: [b] }], settings);
  let evaluations = 0;
  for (let step = 0; step < 4; step++) {
    const lossA = closureDriven.step(null, () => rosenbrock(a));
    const steps = handDriven.stepSteps();
    let next = steps.next();
    while (!next.done) { evaluations++; next = steps.next(rosenbrock(b)); }
    assert.equal(next.value, lossA);
    assert.deepEqual(Array.from(b), Array.from(a));
  }
  assert.equal(handDriven.state.functionEvaluations, evaluations);
  assert.ok(rosenbrock(a).loss < 1e-2, `L-BFGS approaches the minimum (${rosenbrock(a).loss})`);
});

test('an evaluate request refuses a non-finite pose and a target of the wrong size', () => {
  const { drr, start, fixed } = problem();
  const ncc = new NormalizedCrossCorrelation();
  const run = (pose: PoseParameters, target: ArrayLike<number>, pixels: Int32Array | null = null) => runSynchronously(evaluateRequest(drr, pose, target, ncc, pixels));
  assert.throws(() => run(zyx([NaN, 0, 0], start.translation), fixed), (error: unknown) => error instanceof DrrkitError && /non-finite/.test(error.message));
  assert.throws(() => run(start, fixed.subarray(1)), (error: unknown) => error instanceof DrrkitError && /1599 pixels but 1600/.test(error.message));
  // A pixel list scores the listed pixels against their own targets, and its gradient is that of those pixels alone.
  const pixels = Int32Array.from({ length: 400 }, (_, index) => 4 * index);
  const sparse = run(start, Float32Array.from(pixels, (pixel) => fixed[pixel]), pixels);
  const { image } = drr.renderWithRayGradients(start);
  const expected = ncc.score(Float32Array.from(pixels, (pixel) => fixed[pixel]), Float32Array.from(pixels, (pixel) => image[pixel]), { height: 1, width: 400 })[0];
  assert.ok(Math.abs(sparse.score - expected) < 1e-12);
  assert.throws(() => run(start, fixed, pixels), /1600 pixels but 400/);
});

test('a coroutine driven asynchronously by a synchronous answerer runs too', async () => {
  const { drr, start, fixed } = problem();
  const ncc = new NormalizedCrossCorrelation();
  const a = await runAsynchronously(evaluateRequest(drr, start, fixed, ncc), cpuPoseAnswerer);
  const b = runSynchronously(evaluateRequest(drr, start, fixed, ncc));
  assert.equal(a.score, b.score);
  assert.deepEqual(Array.from(a.rotationGradient), Array.from(b.rotationGradient));
});

test('an evaluation driven asynchronously gives the synchronous one\'s runs (both strategies)', async () => {
  const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
  for (const strategy of ['robust', 'tutorial'] as const) {
    const options = { volume, detector: { sdr: 500, height: 32, delx: 25, threads: 1 }, runs: 3, seed: 5, strategy, rotationRangeDegrees: [20, 20, 20] as [number, number, number], translationRangeMm: [-10, 10] as [number, number] };
    const synchronous = evaluateRegistration(options);
    const asynchronous = await evaluateRegistrationAsync(options, deferredCpuAnswerer);
    const withoutTimes = (runs: typeof synchronous.runs) => runs.map(({ seconds: _seconds, ...run }) => run);
    assert.deepEqual(withoutTimes(asynchronous.runs), withoutTimes(synchronous.runs), strategy);
    assert.deepEqual(asynchronous.summary.successRate, synchronous.summary.successRate);
  }
});
