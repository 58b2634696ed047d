import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { encodeNifti } from '../src/io/nifti.js';
import { createVolume } from '../src/volume/volume.js';
import { repositoryRoot } from './helpers.js';

const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `drrkit render … --out <file>` and checks a clean one-line failure with no output file. */
function expectCleanFailure(args: string[], mention: RegExp): void {
  const out = path.join(scratch, `out-${Math.random().toString(36).slice(2)}.png`);
  const result = spawnSync(process.execPath, [cli, 'render', ...args, '--out', out], { encoding: 'utf8' });
  assert.notEqual(result.status, 0, `expected failure, got success: ${result.stdout}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^drrkit: /);
  assert.match(lines[0], mention);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'stack trace printed');
  assert.equal(existsSync(out), false, 'an output file was written');
}

/** A small valid NIfTI-1 volume as bytes. */
function smallNifti(): Uint8Array {
  const data = new Float32Array(8 * 8 * 8).map((_, index) => index % 7);
  return encodeNifti(createVolume({ data, shape: [8, 8, 8], spacing: [2, 2, 2] }), { datatype: 'float32' });
}

describe('drrkit render rejects bad input with one clear line and no output file', () => {
  test('a truncated .nii.gz', () => {
    const file = path.join(scratch, 'truncated.nii.gz');
    const whole = gzipSync(smallNifti());
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    expectCleanFailure(['--ct', file], /truncated\.nii\.gz.*(truncated|incomplete|corrupt)/i);
  });

  test('a wrong magic number', () => {
    const file = path.join(scratch, 'magic.nii');
    const bytes = smallNifti();
    bytes.set([0x78, 0x78, 0x78, 0x00], 344);
    writeFileSync(file, bytes);
    expectCleanFailure(['--ct', file], /magic\.nii.*magic/i);
  });

  test('an unknown datatype', () => {
    const file = path.join(scratch, 'datatype.nii');
    const bytes = smallNifti();
    new DataView(bytes.buffer, bytes.byteOffset).setInt16(70, 1234, true);
    writeFileSync(file, bytes);
    expectCleanFailure(['--ct', file], /datatype\.nii.*datatype/i);
  });

  for (const [label, value] of [['zero', 0], ['NaN', NaN]] as const) {
    test(`${label} spacing`, () => {
      const file = path.join(scratch, `spacing-${label}.nii`);
      const bytes = smallNifti();
      new DataView(bytes.buffer, bytes.byteOffset).setFloat32(80, value, true); // pixdim[1]
      writeFileSync(file, bytes);
      expectCleanFailure(['--ct', file], new RegExp(`spacing-${label}\\.nii.*spacing`, 'i'));
    });
  }

  test('a NaN pose', () => {
    expectCleanFailure(['--ct', 'example', '--rotation', 'nan,0,0'], /--rotation/);
    expectCleanFailure(['--ct', 'example', '--translation', '1,NaN,3'], /--translation/);
  });

  test('a detector of 100000×100000 pixels', () => {
    expectCleanFailure(['--ct', 'example', '--height', '100000'], /height.*(too large|at most 16384)/i);
  });

  test('a missing file and an unknown format', () => {
    expectCleanFailure(['--ct', path.join(scratch, 'absent.nii.gz')], /absent\.nii\.gz/);
    const file = path.join(scratch, 'volume.xyz');
    writeFileSync(file, 'not a volume');
    expectCleanFailure(['--ct', file], /volume\.xyz.*unsupported/i);
  });

  test('an unknown output extension', () => {
    const out = path.join(scratch, 'image.bmp');
    const result = spawnSync(process.execPath, [cli, 'render', '--ct', 'example', '--out', out], { encoding: 'utf8' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /image\.bmp/);
    assert.equal(existsSync(out), false);
  });
});

describe('drrkit render writes what it says', () => {
  test('a float TIFF of the example CT and --help naming every flag with its unit', () => {
    const out = path.join(scratch, 'example.tif');
    const result = spawnSync(process.execPath, [cli, 'render', '--ct', 'example', '--height', '32', '--delx', '25', '--out', out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(readFileSync(out).length > 32 * 32 * 4);
    const help = spawnSync(process.execPath, [cli, 'render', '--help'], { encoding: 'utf8' }).stdout;
    for (const flag of ['--ct', '--sdr', '--height', '--width', '--delx', '--dely', '--x0', '--y0', '--rotation', '--degrees', '--parameterization', '--convention', '--translation', '--renderer', '--out']) {
      assert.ok(help.includes(flag), `--help lacks ${flag}`);
    }
    assert.match(help, /mm/);
  });
});
