/**
 * `drrkit register --backend webgpu`: the tutorial loop (SGD, Adam, L-BFGS) and the robust strategy
 * on the WebGPU backend converge to the true pose as on the CPU (test/webgpu.test.ts compares
 * registerAsync with the CPU loop, test/webgpu-strategy.test.ts the robust strategy), as do
 * two-view registration and `drrkit evaluate`. Skips without a WebGPU adapter (see test/webgpu.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { nodeWebGPUDevice } from '../src/render/webgpu/node.js';
import { repositoryRoot } from './helpers.js';

process.env.EGL_PLATFORM ??= 'surfaceless';
const info = await nodeWebGPUDevice().catch(() => null);
info?.device.destroy();
const skip = info === null ? 'no WebGPU adapter (needs the "webgpu" package and a GPU driver, or Mesa: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)' : false;

describe('drrkit register --backend', { skip }, () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-webgpu-register-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
  const common = ['register', '--ct', 'example', '--height', '32', '--delx', '25', '--target-pose', '3.1416,0,1.5708,180,180,165',
    '--init-rotation', '3.05,0.08,1.50', '--init-translation', '185,176,170', '--animation', 'none'];
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...common, ...args], { encoding: 'utf8', env: { ...process.env, EGL_PLATFORM: 'surfaceless' } });

  test('Adam on WebGPU converges as the CPU loop does', () => {
    const poses: { rotation: number[]; translation: number[]; converged: boolean }[] = [];
    for (const backend of ['cpu', 'webgpu']) {
      const out = path.join(scratch, backend);
      const result = run('--strategy', 'tutorial', '--optimizer', 'adam', '--max-iterations', '150', '--stop-ncc', '0.9999', '--backend', backend, '--out-dir', out);
      assert.equal(result.status, 0, result.stderr);
      if (backend === 'webgpu') assert.match(result.stdout, /rendering on WebGPU \(.*\n.*adam \(WebGPU\)/);
      const json = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as { converged: boolean; finalRotation: number[]; finalTranslation: number[] };
      poses.push({ rotation: json.finalRotation, translation: json.finalTranslation, converged: json.converged });
    }
    assert.ok(poses.every((pose) => pose.converged), 'both loops converge');
    // Both stop at NCC 0.9999, each wherever that happens on its way in (the f32 gradients differ
    // slightly): both must be as close to the truth as the stop score allows.
    const truth = { rotation: [3.1416, 0, 1.5708], translation: [180, 180, 165] };
    for (const [index, pose] of poses.entries()) {
      const rotation = Math.max(...pose.rotation.map((value, axis) => Math.abs(value - truth.rotation[axis])));
      const translation = Math.hypot(...pose.translation.map((value, axis) => value - truth.translation[axis]));
      assert.ok(rotation < 0.02 && translation < 2, `${['CPU', 'WebGPU'][index]} pose within 0.02 rad / 2 mm of the truth (${rotation.toExponential(2)} rad, ${translation.toFixed(3)} mm)`);
    }

  });

  test('the robust strategy, L-BFGS, two views and evaluate run on WebGPU', () => {
    const robust = run('--backend', 'webgpu', '--out-dir', path.join(scratch, 'robust'));
    assert.equal(robust.status, 0, robust.stderr);
    assert.match(robust.stdout, /rendering on WebGPU \(.*\n(.*\n)*robust: converged/);
    const json = JSON.parse(readFileSync(path.join(scratch, 'robust', 'result.json'), 'utf8')) as { converged: boolean; finalRotation: number[]; finalTranslation: number[] };
    assert.equal(json.converged, true);
    const rotation = Math.max(...json.finalRotation.map((value, axis) => Math.abs(value - [3.1416, 0, 1.5708][axis])));
    const translation = Math.hypot(...json.finalTranslation.map((value, axis) => value - [180, 180, 165][axis]));
    assert.ok(rotation < 2e-3 && translation < 0.5, `robust on WebGPU: ${rotation.toExponential(2)} rad, ${translation.toFixed(3)} mm from the truth`);

    // L-BFGS's line search evaluates inside its step: on WebGPU too. Its first score is the CPU's.
    const firstLoss = (directory: string) => Number(readFileSync(path.join(directory, 'trajectory.csv'), 'utf8').split('\n')[1].split(',')[7]);
    const losses: number[] = [];
    for (const backend of ['cpu', 'webgpu']) {
      const out = path.join(scratch, `lbfgs-${backend}`);
      const lbfgs = run('--strategy', 'tutorial', '--optimizer', 'lbfgs', '--max-iterations', '5', '--backend', backend, '--out-dir', out);
      assert.equal(lbfgs.status, 0, lbfgs.stderr);
      if (backend === 'webgpu') assert.match(lbfgs.stdout, /lbfgs \(WebGPU\)/);
      losses.push(firstLoss(out));
    }
    assert.ok(Math.abs(losses[0] - losses[1]) < 1e-5, `first NCC: CPU ${losses[0]}, WebGPU ${losses[1]}`);

    // drrkit evaluate --backend webgpu: the same random starts as on the CPU, every registration on the device.
    const evaluate = (backend: string, ...extra: string[]) => spawnSync(process.execPath, [cli, 'evaluate', '--ct', 'example', '--height', '32', '--delx', '25', '--runs', '2', '--seed', '3',
      '--backend', backend, '--out-dir', path.join(scratch, `evaluate-${backend}`), ...extra], { encoding: 'utf8', env: { ...process.env, EGL_PLATFORM: 'surfaceless' } });
    const starts: string[] = [];
    for (const backend of ['cpu', 'webgpu']) {
      const evaluation = evaluate(backend);
      assert.equal(evaluation.status, 0, evaluation.stderr);
      if (backend === 'webgpu') assert.match(evaluation.stdout, /rendering on WebGPU/);
      assert.match(evaluation.stdout, /success \(mTRE < 1 \/ 2 \/ 10 mm\): 100\.0%/);
      starts.push(readFileSync(path.join(scratch, `evaluate-${backend}`, 'runs.csv'), 'utf8').split('\n').slice(1, 3).map((row) => row.split(',').slice(0, 8).join(',')).join('\n'));
    }
    assert.equal(starts[1], starts[0], 'the same starts on both backends');
    const queued = evaluate('webgpu', '--queue', 'redis://127.0.0.1:9/0');
    assert.equal(queued.status, 1);
    assert.match(queued.stderr, /^drrkit: --backend with --queue/);

    // Two views (AP and 90° lateral): each view rendered on the device, the gradients pulled back to view 0 here.
    const twoViews = run('--strategy', 'tutorial', '--second-view', '0,0,90', '--optimizer', 'adam', '--max-iterations', '150', '--stop-ncc', '0.9999', '--backend', 'webgpu', '--out-dir', path.join(scratch, 'two'));
    assert.equal(twoViews.status, 0, twoViews.stderr);
    assert.match(twoViews.stdout, /adam, two views \(WebGPU\)\s+Converged/);
    const two = JSON.parse(readFileSync(path.join(scratch, 'two', 'result.json'), 'utf8')) as { converged: boolean; finalRotation: number[]; finalTranslation: number[] };
    const twoRotation = Math.max(...two.finalRotation.map((value, axis) => Math.abs(value - [3.1416, 0, 1.5708][axis])));
    const twoTranslation = Math.hypot(...two.finalTranslation.map((value, axis) => value - [180, 180, 165][axis]));
    assert.ok(twoRotation < 0.02 && twoTranslation < 2, `two views on WebGPU: ${twoRotation.toExponential(2)} rad, ${twoTranslation.toFixed(3)} mm from the truth`);
  });
});
