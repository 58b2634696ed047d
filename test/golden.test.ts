import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { readImage } from '../src/io/image.js';
import { readNifti } from '../src/io/nifti.js';
import { correlation, relativeL2, repositoryRoot, SHARED_ABSENT, sharedPath } from './helpers.js';

const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-golden-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const ctPath = sharedPath('data/lidc2-chest-ct.nii.gz');
const goldenNames = ['diffdrr_noplus1_true_100x100', 'diffdrr_noplus1_oblique_100x100'];

describe("DiffDRR's golden images", () => {
  for (const name of goldenNames) {
    const jsonPath = sharedPath(`reference/${name}.json`);
    test(`drrkit render --renderer siddon reproduces ${name} (relative L2 ≤ 1e-3)`, { skip: !ctPath || !jsonPath ? SHARED_ABSENT : false }, async () => {
      const meta = JSON.parse(readFileSync(jsonPath!, 'utf8'));
      const golden = new Float32Array(new Uint8Array(readFileSync(sharedPath(`reference/${name}.f32`)!)).buffer);
      const scale = meta.volume.vmax - meta.volume.vmin;
      // Raw voxel values: the image is the golden one × (vmax − vmin), as the JSON's note says.
      for (const [density, factor] of [['raw', scale], ['diffdrr', 1]] as const) {
        const out = path.join(scratch, `${name}-${density}.tif`);
        const result = spawnSync(process.execPath, [
          cli, 'render', '--ct', ctPath!, '--renderer', 'siddon', '--density', density,
          '--sdr', String(meta.drr.sdr), '--height', String(meta.drr.height), '--width', String(meta.drr.width),
          '--delx', String(meta.drr.delx), '--dely', String(meta.drr.dely), '--x0', String(meta.drr.x0), '--y0', String(meta.drr.y0),
          '--parameterization', meta.pose.parameterization, '--convention', meta.pose.convention,
          '--rotation', meta.pose.rotation_rad.join(','), '--translation', meta.pose.translation_mm.join(','),
          '--out', out,
        ], { encoding: 'utf8' });
        assert.equal(result.status, 0, result.stderr);
        const image = await readImage(out);
        assert.equal(image.height, 100);
        assert.equal(image.width, 100);
        const expected = golden.map((value) => value * factor);
        const error = relativeL2(image.data, expected);
        assert.ok(error <= 1e-3, `${density}: relative L2 error ${error}`);
      }
    });
  }
});

describe('Siddon and trilinear agree on the shared CT', () => {
  test('NCC ≥ 0.99 at several poses', { skip: ctPath ? false : SHARED_ABSENT }, async () => {
    const volume = await readNifti(ctPath!);
    const siddon = new DRR(volume, { sdr: 300, height: 64, delx: 12, renderer: 'siddon' });
    const trilinear = new DRR(volume, { sdr: 300, height: 64, delx: 12, renderer: 'trilinear' });
    const centre = siddon.center;
    const rotations = [[Math.PI / 2, 0, Math.PI / 2], [Math.PI, 0, Math.PI / 2], [2.3, 0.5, 1.0], [0.4, -0.7, 2.2]];
    for (const rotation of rotations) {
      const pose = { rotation: Float64Array.from(rotation), translation: Float64Array.from(centre), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
      const score = correlation(siddon.render(pose), trilinear.render(pose));
      assert.ok(score >= 0.99, `rotation ${rotation}: NCC ${score}`);
    }
  });
});
