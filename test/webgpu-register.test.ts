/**
 * `drrkit register --backend webgpu`: the tutorial loop (SGD, Adam) on the WebGPU backend converges
 * to the true pose as the CPU loop does (test/webgpu.test.ts compares registerAsync with the CPU loop), and the paths that run on the CPU only (robust strategy, L-BFGS)
 * say so. Skips without a WebGPU adapter (see test/webgpu.test.ts).
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

  test('Adam on WebGPU converges as the CPU loop does; robust and L-BFGS refuse --backend webgpu with a reason', () => {
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

    const robust = run('--backend', 'webgpu', '--out-dir', path.join(scratch, 'robust'));
    assert.equal(robust.status, 1);
    assert.match(robust.stderr, /^drrkit: --backend webgpu: the robust strategy .* runs on the CPU; use --strategy tutorial/);
    const lbfgs = run('--strategy', 'tutorial', '--optimizer', 'lbfgs', '--backend', 'webgpu', '--out-dir', path.join(scratch, 'lbfgs'));
    assert.equal(lbfgs.status, 1);
    assert.match(lbfgs.stderr, /L-BFGS .* runs on the CPU/);
  });
});
