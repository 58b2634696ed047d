/**
 * Hostile inputs and first-hour friction (issue 14): the bounded readers, the flag validation
 * layer, all-or-nothing outputs and the new-user fixes, each checked directly. The fuzz test
 * (test/fuzz.test.ts) covers the same classes by random mutation.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { DrrkitError, quoteValue } from '../src/errors.js';
import { hounsfieldHint } from '../src/cli/inspect.js';
import { FLAG_RULES, strictNumber, validateFlag, validateFlags } from '../src/cli/validate.js';
import { readDetachedFile, readFileBytes, writeFileAtomic, writeOutputsAtomically } from '../src/io/files.js';
import { checkDeclaredImageSize } from '../src/io/image-dimensions.js';
import { encodePng } from '../src/io/image.js';
import { encodeNifti, parseNifti } from '../src/io/nifti.js';
import { inflate } from '../src/io/raw-voxels.js';
import { createVolume } from '../src/volume/volume.js';
import { DRR } from '../src/drr.js';
import { requireFiniteValues, requirePlausibleVoxelValues } from '../src/validation.js';
import { ctSlice } from './format-writers.js';
import { repositoryRoot } from './helpers.js';

const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-hostile-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A small CT-like int16 NIfTI (HU). */
function smallNifti(): Uint8Array {
  const data = new Float32Array(12 * 10 * 8).map((_, index) => (index % 5 === 0 ? 700 : -1000 + (index % 300)));
  return encodeNifti(createVolume({ data, shape: [12, 10, 8], spacing: [4, 4, 5] }), { datatype: 'int16' });
}

/** `mebibytes` MiB of zeros as a raw deflate stream of about 1 KiB per MiB. */
function zeroDeflate(mebibytes: number): Uint8Array {
  const block = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const out = new Uint8Array(block.length * mebibytes + 2);
  for (let index = 0; index < mebibytes; index++) out.set(block, index * block.length);
  out.set([0x03, 0x00], block.length * mebibytes);
  return out;
}

/** Runs the CLI. */
function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120000 });
}

describe('bounded readers', () => {
  test('device files, FIFOs and directories are refused before reading', async () => {
    await assert.rejects(readFileBytes('/dev/zero'), /\/dev\/zero: cannot read the file: it is a device, not a regular file/);
    await assert.rejects(readFileBytes(scratch), /a directory/);
    const fifo = path.join(scratch, 'pipe');
    if (spawnSync('mkfifo', [fifo]).status === 0) await assert.rejects(readFileBytes(fifo), /named pipe \(FIFO\)/);
  });

  test('a file over the size limit is refused without naming other files\' sizes', async () => {
    const file = path.join(scratch, 'big.bin');
    writeFileSync(file, new Uint8Array(4096));
    await assert.rejects(readFileBytes(file, 'file', { maxBytes: 1000 }), /big\.bin: the file is larger than the 1000 bytes limit/);
    assert.equal((await readFileBytes(file)).length, 4096);
  });

  test('detached data files stay in the header\'s folder unless allowed', () => {
    const folder = path.join(scratch, 'header');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'data.raw'), Uint8Array.of(1, 2, 3));
    writeFileSync(path.join(scratch, 'outside.raw'), Uint8Array.of(9));
    symlinkSync(path.join(scratch, 'outside.raw'), path.join(folder, 'link.raw'));
    const header = path.join(folder, 'ct.nhdr');
    assert.deepEqual(Array.from(readDetachedFile(header, 'data.raw')), [1, 2, 3]);
    for (const name of ['../outside.raw', '/etc/passwd', '/dev/zero', 'link.raw']) {
      assert.throws(() => readDetachedFile(header, name), (error: unknown) => error instanceof DrrkitError && /lies outside the header's folder/.test(error.message) && !/\d+ bytes/.test(error.message), name);
    }
    assert.deepEqual(Array.from(readDetachedFile(header, '../outside.raw', { allowOutsideFolder: true })), [9]);
    assert.throws(() => readDetachedFile(header, '/dev/zero', { allowOutsideFolder: true }), /not a regular file/);
  });

  test('inflation stops at the limit: a 1 GiB stream in a 1 MiB file', () => {
    const bomb = zeroDeflate(1024);
    assert.ok(bomb.length < 2 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    assert.equal(inflate(bomb, 'bomb', 'deflate', { maxBytes: 4096, beyond: 'stop' }).length, 4096);
    assert.throws(() => inflate(bomb, 'bomb', 'deflate', { maxBytes: 4096, describe: '2048 int16 voxels' }), /bomb: inconsistent dimensions: .* more than the 4096 bytes that 2048 int16 voxels need/);
    assert.ok(process.memoryUsage().rss - before < 256 * 1024 * 1024, 'inflation held far more than its limit');
  });

  test('a .nii.gz whose stream holds far more than its header describes reads only what the header needs', () => {
    const nifti = smallNifti();
    const stream = Buffer.concat([Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3), deflateRawSync(nifti, { finishFlush: zlibConstants.Z_SYNC_FLUSH }), zeroDeflate(512), new Uint8Array(8)]);
    const volume = parseNifti(stream, 'bomb.nii.gz');
    assert.deepEqual(volume.shape, [12, 10, 8]);
    assert.deepEqual(Array.from(volume.data), Array.from(parseNifti(nifti, 'plain.nii').data));
  });

  test('image headers claiming too many pixels are refused before decoding', () => {
    const png = Uint8Array.from(encodePng({ data: new Float32Array(16), height: 4, width: 4 }));
    checkDeclaredImageSize(png, 'small.png');
    new DataView(png.buffer).setUint32(16, 30000);
    new DataView(png.buffer).setUint32(20, 30000);
    assert.throws(() => checkDeclaredImageSize(png, 'huge.png'), /huge\.png: the image is 30000×30000 pixels, more than the limit/);
  });

  test('overflowing voxel values and non-finite results are errors', () => {
    assert.throws(() => requirePlausibleVoxelValues(Float32Array.of(1, Infinity), 'ct.dcm'), /ct\.dcm: 1 values are not finite/);
    assert.throws(() => requirePlausibleVoxelValues(Float32Array.of(-1e38, 0), 'ct.nii'), /beyond/);
    assert.throws(() => requireFiniteValues(Float32Array.of(0, NaN), 'the DRR'), /the DRR: 1 of 2 values are not finite/);
  });

  test('the library bounds trilinear work per ray, not only the CLI', () => {
    const volume = createVolume({ data: new Float32Array(8 ** 3), shape: [8, 8, 8], spacing: [1, 1, 1], source: 'tiny.nii' });
    assert.throws(() => new DRR(volume, { sdr: 100, height: 4, delx: 2, renderer: 'trilinear', sampling: { stepMm: 1e-5 }, threads: 1 }),
      (error: unknown) => error instanceof DrrkitError && /^trilinear step: \d+ samples per ray through tiny\.nii .* more than 100000/.test(error.message));
    assert.throws(() => new DRR(volume, { sdr: 100, height: 4, delx: 2, renderer: 'trilinear', sampling: { samplesPerRay: 1e9 }, threads: 1 }), /samples per ray: 1000000000 samples per ray through tiny\.nii/);
    const fine = new DRR(volume, { sdr: 100, height: 4, delx: 2, renderer: 'trilinear', sampling: { stepMm: 0.5 }, threads: 1 });
    fine.dispose();
  });

  test('header values are echoed escaped and cut short', () => {
    assert.equal(quoteValue('a\u0001\u001b[31m'), 'a\\x01\\x1b[31m');
    assert.equal(quoteValue('x'.repeat(100), 10), `${'x'.repeat(10)}…`);
  });
});

describe('flag validation', () => {
  const fails = (options: Record<string, unknown>, pattern: RegExp) => assert.throws(() => validateFlags(options), pattern);
  test('numbers are decimal, finite and in their physical range', () => {
    assert.ok(Number.isNaN(strictNumber('0x10')));
    assert.ok(Number.isNaN(strictNumber('Infinity')));
    assert.equal(strictNumber(' 1.5e3 '), 1500);
    fails({ height: '0x10' }, /--height: value 1 "0x10" is not a finite decimal number/);
    fails({ delx: '1e308' }, /--delx: must be at least 0\.0001 and at most 1000 mm/);
    fails({ sdr: '1e-300' }, /--sdr/);
    fails({ stopNcc: '2' }, /--stop-ncc: must be at least -1 and at most 1/);
    fails({ momentum: '1' }, /--momentum: must be at least 0 and less than 1/);
    fails({ dampening: '5' }, /--dampening/);
    for (const seed of ['abc', '1.5', '-1']) fails({ seed }, /--seed/);
    fails({ runs: '0' }, /--runs/);
    fails({ targetPhotons: '0' }, /--target-photons: must be greater than 0/);
    fails({ translationRange: '5,-5' }, /--translation-range: the values must be in increasing order/);
    fails({ searchRange: '1e9,0,0' }, /--search-range: value 1 must be at least 0 and at most 180/);
    fails({ step: '1e-9' }, /--step/);
    fails({ samples: '1e9' }, /--samples/);
    validateFlags({ sdr: '300', height: '100', delx: '8', seed: '39', stopNcc: '0.999', translationRange: '-30,31', momentum: '0.9' });
  });

  test('rotations must be rotations; radians beyond 2π warn', () => {
    fails({ rotation: '0,0,0,0,0,0,0,0,0', parameterization: 'matrix' }, /--rotation: rotation matrix is not a proper rotation/);
    fails({ rotation: '0,0,0,0', parameterization: 'quaternion' }, /--rotation: quaternion has zero norm/);
    const written: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((text: string) => { written.push(text); return true; }) as typeof process.stderr.write;
    try {
      validateFlag('90,0,91', FLAG_RULES.rotation, { parameterization: 'euler_angles' });
      validateFlag('90,0,92', FLAG_RULES.rotation, { parameterization: 'euler_angles', degrees: true });
    } finally {
      process.stderr.write = original;
    }
    assert.equal(written.length, 1);
    assert.match(written[0], /^drrkit: warning: --rotation 90,0,91: an angle exceeds 2π; angles are read in radians unless --degrees/);
  });
});

describe('all-or-nothing outputs', () => {
  test('a failing body leaves nothing; a successful one moves every file into place', async () => {
    const target = path.join(scratch, 'results', 'run');
    await assert.rejects(writeOutputsAtomically(target, async () => {
      await writeFileAtomic(path.join(target, 'result.json'), new TextEncoder().encode('{}'));
      await writeFileAtomic(path.join(target, 'sub', 'a.txt'), new TextEncoder().encode('a'));
      throw new DrrkitError('the encoder failed');
    }), /the encoder failed/);
    assert.equal(existsSync(path.join(scratch, 'results')), false, 'the run left a folder behind');
    await writeOutputsAtomically(target, async () => {
      await writeFileAtomic(path.join(target, 'result.json'), new TextEncoder().encode('1'));
      await writeFileAtomic(path.join(target, 'sub', 'a.txt'), new TextEncoder().encode('a'));
    });
    assert.equal(readFileSync(path.join(target, 'result.json'), 'utf8'), '1');
    await writeOutputsAtomically(target, async () => { await writeFileAtomic(path.join(target, 'result.json'), new TextEncoder().encode('2')); });
    assert.equal(readFileSync(path.join(target, 'result.json'), 'utf8'), '2');
    assert.equal(readFileSync(path.join(target, 'sub', 'a.txt'), 'utf8'), 'a');
    assert.deepEqual(readdirSync(path.join(scratch, 'results')), ['run']);
  });
});

describe('new-user fixes', () => {
  const ct = path.join(scratch, 'ct.nii');
  writeFileSync(ct, smallNifti());

  test('commander\'s own errors read "drrkit: …" on one line', () => {
    const result = run(['render', '--ct', ct, '--out', path.join(scratch, 'x.png'), '--bogus']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^drrkit: unknown option '--bogus'/);
  });

  test('register --degrees writes degrees; --animation none skips the animations', () => {
    const out = path.join(scratch, 'degrees');
    const result = run(['register', '--ct', ct, '--height', '16', '--delx', '8', '--sdr', '400', '--degrees', '--target-pose', '180,0,90',
      '--init-rotation', '180,0,90', '--strategy', 'tutorial', '--max-iterations', '1', '--animation', 'none', '--out-dir', out]);
    assert.equal(result.status, 0, result.stderr);
    const json = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8'));
    assert.equal(json.angleUnit, 'degrees');
    assert.deepEqual(json.trueRotation.map((value: number) => Math.round(value * 1e6) / 1e6), [180, 0, 90]);
    const firstRow = readFileSync(path.join(out, 'trajectory.csv'), 'utf8').split('\n')[1].split(',').map(Number);
    assert.ok(Math.abs(firstRow[1] - 180) < 1e-6 && Math.abs(firstRow[3] - 90) < 1e-6, `trajectory not in degrees: ${firstRow}`);
    assert.equal(existsSync(path.join(out, 'animation.gif')) || existsSync(path.join(out, 'animation.webp')), false);
  });

  test('inspect reads a DICOM CT slice with a TIFF-like preamble as a volume', () => {
    const slice = ctSlice({ rows: 4, columns: 4, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0], pixelSpacing: [1, 1], stored: new Array(16).fill(1000) });
    slice.set([0x49, 0x49, 0x2a, 0x00], 0);
    const file = path.join(scratch, 'preamble.dcm');
    writeFileSync(file, slice);
    const result = run(['inspect', file]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^volume: /);
    assert.doesNotMatch(result.stdout, /X-ray/);
  });

  test('register and evaluate help name every CT format; a folder of NIfTI files gets a useful message', () => {
    for (const command of ['register', 'evaluate']) assert.match(run([command, '--help']).stdout.replace(/\s+/g, ' '), /NRRD \(\.nrrd, \.nhdr\), MetaImage \(\.mha, \.mhd\), DICOM/);
    const folder = path.join(scratch, 'niftis');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'a.nii'), smallNifti());
    const result = run(['render', '--ct', folder, '--out', path.join(scratch, 'y.png')]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /holds no DICOM image; it holds 1 NIfTI\/NRRD\/MetaImage file\(s\), e\.g\. .*a\.nii: pass one file, not the folder/);
  });

  test('inspect hints when values are not Hounsfield units', () => {
    assert.equal(hounsfieldHint(-1024, 3071), undefined);
    assert.equal(hounsfieldHint(-3024, 2500), undefined);
    assert.match(hounsfieldHint(0, 255) ?? '', /do not look like Hounsfield units/);
    assert.match(hounsfieldHint(0, 0.05) ?? '', /--density minmax or raw/);
  });

  test('the package ships a LICENSE and builds on prepare', () => {
    const manifest = JSON.parse(readFileSync(path.join(repositoryRoot(), 'package.json'), 'utf8'));
    assert.equal(manifest.scripts.prepare, 'npm run build');
    assert.ok(manifest.files.includes('LICENSE'));
    assert.match(readFileSync(path.join(repositoryRoot(), 'LICENSE'), 'utf8'), /^MIT License/);
  });

  test('the public type declarations do not pull in dicom-parser', () => {
    const declarations = readFileSync(path.join(repositoryRoot(), 'dist', 'src', 'io', 'dicom.d.ts'), 'utf8');
    assert.doesNotMatch(declarations, /from 'dicom-parser'|import\("dicom-parser"\)/);
  });
});
