import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decode as decodeTiff } from 'tiff';
import { encodeNifti } from '../src/io/nifti.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { ctSlice, encodeDicom, encodeMetaImage, encodeNrrd, lpsAffine } from './format-writers.js';
import { eulerZYX, repositoryRoot } from './helpers.js';

const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-real-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the CLI. */
function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

/** An oblique 16³ HU volume with a bright off-centre block (bone) in soft tissue. */
function phantom(): Volume {
  const n = 16;
  const data = new Float32Array(n ** 3).fill(-1000);
  for (let k = 2; k < 14; k++) for (let j = 3; j < 13; j++) for (let i = 2; i < 14; i++) data[i + n * (j + n * k)] = 40;
  for (let k = 4; k < 8; k++) for (let j = 5; j < 9; j++) for (let i = 9; i < 12; i++) data[i + n * (j + n * k)] = 900;
  const rotation = eulerZYX(0.3, 0.1, -0.2);
  const affine = new Float64Array(16);
  for (let row = 0; row < 3; row++) for (let column = 0; column < 3; column++) affine[4 * row + column] = rotation[3 * row + column] * 2;
  affine[3] = 5; affine[7] = -20; affine[11] = 30; affine[15] = 1;
  return createVolume({ data, shape: [n, n, n], spacing: [2, 2, 2], affine, source: 'phantom' });
}

/** The phantom as a DICOM folder (one file per slice). */
function dicomFolder(name: string, volume: Volume, tweak?: (index: number) => Partial<Parameters<typeof ctSlice>[0]>): string {
  const folder = path.join(scratch, name);
  mkdirSync(folder, { recursive: true });
  const lps = lpsAffine(volume);
  const [nx, ny, nz] = volume.shape;
  const orientation = [lps[0] / 2, lps[4] / 2, lps[8] / 2, lps[1] / 2, lps[5] / 2, lps[9] / 2];
  for (let k = 0; k < nz; k++) {
    const stored = Array.from(volume.data.subarray(k * nx * ny, (k + 1) * nx * ny), (value) => value + 1024);
    writeFileSync(path.join(folder, `slice-${(k * 5) % nz}.dcm`), ctSlice({
      rows: ny, columns: nx, position: [lps[3] + k * lps[2], lps[7] + k * lps[6], lps[11] + k * lps[10]], orientation,
      pixelSpacing: [2, 2], stored, instance: k + 1, ...tweak?.(k),
    }));
  }
  return folder;
}

/** Expects failure with one "drrkit: …" line matching `mention` and no output file. */
function expectCleanFailure(args: string[], mention: RegExp, extension = '.tif'): void {
  const out = path.join(scratch, `out-${Math.random().toString(36).slice(2)}${extension}`);
  const result = run([...args, '--out', out]);
  assert.notEqual(result.status, 0, `expected failure, got success: ${result.stdout}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^drrkit: /);
  assert.match(lines[0], mention);
  assert.equal(existsSync(out), false, 'an output file was written');
}

const volume = phantom();
const nrrdFile = path.join(scratch, 'phantom.nrrd');
writeFileSync(nrrdFile, encodeNrrd(volume, { encoding: 'gzip' }));

describe('drrkit render with real inputs', () => {
  test('world geometry from an NRRD, every intensity model', () => {
    for (const intensity of ['line-integral', 'beer-lambert', 'negative-log']) {
      const out = path.join(scratch, `world-${intensity}.tif`);
      const result = run(['render', '--ct', nrrdFile, '--geometry', 'world', '--sdd', '800', '--height', '24', '--delx', '2', '--intensity', intensity, '--out', out]);
      assert.equal(result.status, 0, result.stderr);
      const [page] = decodeTiff(readFileSync(out));
      const values = Array.from(page.data as Float32Array);
      assert.equal(values.length, 24 * 24);
      if (intensity === 'beer-lambert') assert.ok(values.every((value) => value > 0 && value <= 1) && Math.min(...values) < 0.9);
      else assert.ok(Math.max(...values) > 0);
    }
  });

  test('a DICOM folder rendered with the detector and pose of a DICOM X-ray', () => {
    const folder = dicomFolder('ct', volume);
    const xray = path.join(scratch, 'xa.dcm');
    writeFileSync(xray, encodeDicom([
      { tag: 0x00080060, vr: 'CS', value: 'XA' },
      { tag: 0x00181110, vr: 'DS', value: '1000' },
      { tag: 0x00181111, vr: 'DS', value: '700' },
      { tag: 0x00181164, vr: 'DS', value: '1.5\\1.5' },
      { tag: 0x00181510, vr: 'DS', value: '20' },
      { tag: 0x00181511, vr: 'DS', value: '10' },
      { tag: 0x00280002, vr: 'US', value: [1] },
      { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
      { tag: 0x00280010, vr: 'US', value: [30] },
      { tag: 0x00280011, vr: 'US', value: [40] },
      { tag: 0x00280100, vr: 'US', value: [16] },
      { tag: 0x7fe00010, vr: 'OW', value: new Uint8Array(30 * 40 * 2) },
    ]));
    const out = path.join(scratch, 'from-xray.tif');
    const result = run(['render', '--ct', folder, '--xray-dicom', xray, '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const [page] = decodeTiff(readFileSync(out));
    assert.deepEqual([page.height, page.width], [30, 40]);
    assert.ok(Math.max(...Array.from(page.data as Float32Array)) > 0, 'the CT is in view');
    const inspect = run(['inspect', xray]);
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, /sdd 1000 mm, 30 × 40 pixels/);
    assert.match(inspect.stdout, /primary angle 20°/);
    assert.match(inspect.stdout, /assumed:[\s\S]*isocentre/);
    const inspectVolume = run(['inspect', folder]);
    assert.equal(inspectVolume.status, 0, inspectVolume.stderr);
    assert.match(inspectVolume.stdout, /shape: 16 × 16 × 16 voxels/);
    assert.match(inspectVolume.stdout, /oblique/);
    assert.match(inspectVolume.stdout, /DICOM series: 1\.2\.3\.100/);
  });

  test('labels: chosen structures only, and one channel per label', () => {
    const labels = new Float32Array(volume.data.length);
    volume.data.forEach((value, index) => { labels[index] = value > 500 ? 2 : value > 0 ? 1 : 0; });
    const labelFile = path.join(scratch, 'labels.nii.gz');
    writeFileSync(labelFile, encodeNifti(createVolume({ data: labels, shape: volume.shape, spacing: volume.spacing, affine: volume.affine }), { datatype: 'uint8' }));
    const out = path.join(scratch, 'channels.tif');
    for (const geometry of ['seed', 'world']) {
      const result = run(['render', '--ct', nrrdFile, '--geometry', geometry, '--height', '20', '--delx', '3', '--labels', labelFile, '--channels', '--out', out]);
      assert.equal(result.status, 0, result.stderr);
      const pages = decodeTiff(readFileSync(out));
      assert.equal(pages.length, 2);
      const only = path.join(scratch, `bone-${geometry}.tif`);
      assert.equal(run(['render', '--ct', nrrdFile, '--geometry', geometry, '--height', '20', '--delx', '3', '--labels', labelFile, '--label-values', '2', '--out', only]).status, 0);
      const [bone] = decodeTiff(readFileSync(only));
      assert.deepEqual(Array.from(bone.data as Float32Array), Array.from(pages[1].data as Float32Array), 'the label-2 channel equals the label-2 render');
    }
    const inspect = run(['inspect', path.join(scratch, 'x.mha')]);
    assert.notEqual(inspect.status, 0);
  });
});

describe('drrkit render rejects malformed real inputs with one line and no output', () => {
  test('truncated NRRD and MetaImage, inconsistent dimensions', () => {
    const nrrd = encodeNrrd(volume);
    writeFileSync(path.join(scratch, 'cut.nrrd'), nrrd.subarray(0, nrrd.length - 50));
    expectCleanFailure(['render', '--ct', path.join(scratch, 'cut.nrrd')], /cut\.nrrd.*truncated/);
    writeFileSync(path.join(scratch, 'dims.mha'), encodeMetaImage(volume, { header: { DimSize: '16 16' } }));
    expectCleanFailure(['render', '--ct', path.join(scratch, 'dims.mha')], /dims\.mha.*inconsistent/);
    const mha = encodeMetaImage(volume);
    writeFileSync(path.join(scratch, 'cut.mha'), mha.subarray(0, mha.length - 50));
    expectCleanFailure(['render', '--ct', path.join(scratch, 'cut.mha'), '--geometry', 'world'], /cut\.mha.*truncated/);
  });

  test('DICOM folders: mixed series sizes, missing tags, gantry tilt in world geometry', () => {
    const mixed = dicomFolder('mixed', volume, (k) => (k === 3 ? { rows: 15, stored: new Array(15 * 16).fill(0) } : {}));
    expectCleanFailure(['render', '--ct', mixed], /slice-.*inconsistent dimensions/);
    const missing = dicomFolder('missing', volume, (k) => (k === 5 ? { omit: [0x00200032] } : {}));
    expectCleanFailure(['render', '--ct', missing], /ImagePositionPatient/);
    const lps = lpsAffine(volume);
    const tilted = dicomFolder('tilted', volume, (k) => ({ position: [lps[3] + k * lps[2] + 0.5 * k, lps[7] + k * lps[6], lps[11] + k * lps[10]] }));
    expectCleanFailure(['render', '--ct', tilted, '--geometry', 'world'], /tilted.*not perpendicular.*gantry tilt/);
    assert.equal(run(['render', '--ct', tilted, '--height', '8', '--out', path.join(scratch, 'tilted-seed.tif')]).status, 0, 'the seed geometry ignores the shear');
  });

  test('bad labels, --channels to PNG, a non-DICOM --xray-dicom, an unknown --series', () => {
    const labels = path.join(scratch, 'small-labels.nii');
    writeFileSync(labels, encodeNifti(createVolume({ data: new Float32Array(8), shape: [2, 2, 2], spacing: [1, 1, 1] }), { datatype: 'uint8' }));
    expectCleanFailure(['render', '--ct', nrrdFile, '--labels', labels], /small-labels\.nii.*2×2×2.*share one grid/);
    expectCleanFailure(['render', '--ct', nrrdFile, '--labels', labels, '--channels'], /--channels.*\.tif/, '.png');
    expectCleanFailure(['render', '--ct', nrrdFile, '--xray-dicom', nrrdFile], /phantom\.nrrd.*not a DICOM/);
    expectCleanFailure(['render', '--ct', dicomFolder('series', volume), '--series', '9.9.9'], /no series with SeriesInstanceUID 9\.9\.9/);
  });
});
