import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DrrkitError } from '../src/errors.js';
import { readDicomSeries } from '../src/io/dicom.js';
import { loadVolume, loadVolumeWithReport } from '../src/io/load-volume.js';
import { parseMetaImage } from '../src/io/metaimage.js';
import { encodeNifti } from '../src/io/nifti.js';
import { parseNrrd } from '../src/io/nrrd.js';
import { volumeFrame } from '../src/geometry/world-frame.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { concatBytes, ctSlice, encodeMetaImage, encodeNrrd, lpsAffine } from './format-writers.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-formats-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Rotation by `angle` about the unit axis (x, y, z), row-major. */
function axisRotation(x: number, y: number, z: number, angle: number): number[] {
  const c = Math.cos(angle), s = Math.sin(angle), t = 1 - c;
  return [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
}

/**
 * A small asymmetric volume with an oblique RAS affine. Values are stored-int × 0.5 − 1024, so a
 * DICOM writer with slope 0.5 and intercept −1024 stores them exactly.
 */
function obliqueVolume(shape: [number, number, number] = [6, 5, 4], spacing: [number, number, number] = [1.5, 2, 2.5]): Volume {
  const [nx, ny, nz] = shape;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    data[i + nx * (j + ny * k)] = ((i * 7 + j * 31 + k * 131 + i * j * k) % 997) * 0.5 - 1024;
  }
  const n = Math.hypot(1, 2, 3);
  const rotation = axisRotation(1 / n, 2 / n, 3 / n, 0.35);
  const affine = new Float64Array(16);
  for (let row = 0; row < 3; row++) for (let column = 0; column < 3; column++) affine[4 * row + column] = rotation[3 * row + column] * spacing[column];
  affine[3] = -30.25; affine[7] = 12.5; affine[11] = 40.75; affine[15] = 1;
  return createVolume({ data, shape, spacing, affine, source: 'oblique' });
}

/** Asserts identical voxels, spacing to 1e-9 and affine to 1e-6 mm. */
function assertSameVolume(actual: Volume, expected: Volume): void {
  assert.deepEqual([...actual.shape], [...expected.shape]);
  assert.deepEqual(Array.from(actual.data), Array.from(expected.data));
  actual.spacing.forEach((value, axis) => assert.ok(Math.abs(value - expected.spacing[axis]) < 1e-9, `spacing ${axis}: ${value} vs ${expected.spacing[axis]}`));
  actual.affine.forEach((value, index) => assert.ok(Math.abs(value - expected.affine[index]) < 1e-6, `affine[${index}]: ${value} vs ${expected.affine[index]}`));
}

/** DICOM files (one per slice) describing `volume`, with stored = (value + 1024)/0.5. */
function dicomSlices(volume: Volume, options: { transferSyntax?: string; seriesUid?: string } = {}): Uint8Array[] {
  const lps = lpsAffine(volume);
  const [nx, ny, nz] = volume.shape;
  const [sx, sy] = volume.spacing;
  const orientation = [lps[0] / sx, lps[4] / sx, lps[8] / sx, lps[1] / sy, lps[5] / sy, lps[9] / sy];
  return Array.from({ length: nz }, (_, k) => {
    const stored = Array.from(volume.data.subarray(k * nx * ny, (k + 1) * nx * ny), (value) => (value + 1024) / 0.5);
    return ctSlice({
      rows: ny,
      columns: nx,
      position: [lps[3] + k * lps[2], lps[7] + k * lps[6], lps[11] + k * lps[10]],
      orientation,
      pixelSpacing: [sy, sx],
      stored,
      slope: 0.5,
      intercept: -1024,
      instance: k + 1,
      transferSyntax: options.transferSyntax,
      seriesUid: options.seriesUid,
    });
  });
}

/** Writes files into a fresh folder, named so that name order is not slice order. */
function writeFolder(name: string, files: Uint8Array[], extra: Record<string, Uint8Array | string> = {}): string {
  const folder = path.join(scratch, name);
  mkdirSync(folder, { recursive: true });
  files.forEach((bytes, index) => writeFileSync(path.join(folder, `img${String((index * 7919) % 1000).padStart(4, '0')}-${index}`), bytes));
  for (const [file, content] of Object.entries(extra)) writeFileSync(path.join(folder, file), content);
  return folder;
}

/** Expects a DrrkitError whose one-line message names `subject` and matches `problem`. */
async function expectError(run: () => unknown, subject: string, problem: RegExp): Promise<void> {
  await assert.rejects(async () => run(), (error: unknown) => {
    assert.ok(error instanceof DrrkitError, `expected a DrrkitError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'message spans lines');
    assert.ok(error.message.includes(subject), `"${error.message}" does not name ${subject}`);
    assert.match(error.message, problem);
    return true;
  });
}

describe('volume formats round-trip with identical voxels, spacing and world frame', () => {
  const volume = obliqueVolume();

  for (const encoding of ['raw', 'gzip', 'ascii'] as const) {
    test(`NRRD (${encoding}, LPS)`, async () => {
      const file = path.join(scratch, `volume-${encoding}.nrrd`);
      writeFileSync(file, encodeNrrd(volume, { encoding }));
      assertSameVolume(await loadVolume(file), volume);
    });
  }

  test('NRRD in RAS space and a detached .nhdr', async () => {
    assertSameVolume(parseNrrd(encodeNrrd(volume, { space: 'RAS' }), 'ras.nrrd'), volume);
    const attached = encodeNrrd(volume);
    const headerEnd = attached.findIndex((_, index) => attached[index] === 0x0a && attached[index + 1] === 0x0a) + 2;
    const header = new TextDecoder().decode(attached.subarray(0, headerEnd - 1)) + 'data file: volume.raw\n\n';
    writeFileSync(path.join(scratch, 'volume.raw'), attached.subarray(headerEnd));
    writeFileSync(path.join(scratch, 'volume.nhdr'), header);
    assertSameVolume(await loadVolume(path.join(scratch, 'volume.nhdr')), volume);
  });

  for (const compressed of [false, true]) {
    test(`MetaImage .mha (${compressed ? 'zlib' : 'raw'})`, async () => {
      const file = path.join(scratch, `volume-${compressed}.mha`);
      writeFileSync(file, encodeMetaImage(volume, { compressed }));
      assertSameVolume(await loadVolume(file), volume);
    });
  }

  test('MetaImage .mhd with a separate .raw', async () => {
    const attached = encodeMetaImage(volume);
    const text = new TextDecoder('latin1').decode(attached);
    const cut = text.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
    writeFileSync(path.join(scratch, 'volume.mhd'), text.slice(0, cut).replace('LOCAL', 'volume-data.raw'));
    writeFileSync(path.join(scratch, 'volume-data.raw'), attached.subarray(cut));
    assertSameVolume(await loadVolume(path.join(scratch, 'volume.mhd')), volume);
  });

  test('NIfTI keeps working through loadVolume', async () => {
    const file = path.join(scratch, 'volume.nii');
    writeFileSync(file, encodeNifti(volume, { datatype: 'float32' }));
    const read = await loadVolume(file);
    assert.deepEqual(Array.from(read.data), Array.from(volume.data));
  });

  const syntaxes = {
    'explicit VR little endian': '1.2.840.10008.1.2.1',
    'deflated explicit VR little endian': '1.2.840.10008.1.2.1.99',
    'RLE lossless': '1.2.840.10008.1.2.5',
    'JPEG lossless SV1': '1.2.840.10008.1.2.4.70',
  };
  for (const [name, uid] of Object.entries(syntaxes)) {
    test(`DICOM series folder (${name}), slices named out of order`, async () => {
      const folder = writeFolder(`dicom-${uid}`, dicomSlices(volume, { transferSyntax: uid }));
      const { volume: read, format, dicom } = await loadVolumeWithReport(folder);
      assert.equal(format, 'dicom');
      assert.equal(dicom?.chosenBy, 'only');
      assertSameVolume(read, volume);
    });
  }

  test('DICOM: several series in one folder → the largest, or the one asked for; other files skipped', async () => {
    const small = obliqueVolume([6, 5, 2]);
    const folder = writeFolder('dicom-mixed', [...dicomSlices(volume, { seriesUid: '1.2.3.7' }), ...dicomSlices(small, { seriesUid: '1.2.3.8' })], {
      'notes.txt': 'not DICOM at all',
    });
    const largest = await readDicomSeries(folder);
    assert.equal(largest.series.seriesInstanceUid, '1.2.3.7');
    assert.equal(largest.chosenBy, 'largest');
    assert.equal(largest.otherSeries.length, 1);
    assert.equal(largest.skippedFiles, 1);
    assertSameVolume(largest.volume, volume);
    const asked = await readDicomSeries(folder, { seriesInstanceUid: '1.2.3.8' });
    assert.equal(asked.chosenBy, 'uid');
    assert.deepEqual([...asked.volume.shape], [6, 5, 2]);
    await expectError(() => readDicomSeries(folder, { seriesInstanceUid: '9.9' }), folder, /no series with SeriesInstanceUID 9\.9.*1\.2\.3\.7/);
  });

  test('the world frame of every format is the same oblique frame', async () => {
    const reference = volumeFrame(volume.affine, volume.shape);
    assert.equal(reference.oblique, true);
    const nrrd = volumeFrame(parseNrrd(encodeNrrd(volume), 'a.nrrd').affine, volume.shape);
    const mha = volumeFrame(parseMetaImage(encodeMetaImage(volume), 'a.mha').affine, volume.shape);
    for (const frame of [nrrd, mha]) {
      frame.center.forEach((value, axis) => assert.ok(Math.abs(value - reference.center[axis]) < 1e-9));
      frame.direction.forEach((value, index) => assert.ok(Math.abs(value - reference.direction[index]) < 1e-9));
    }
  });
});

describe('malformed volumes give one line naming the file and the problem', () => {
  const volume = obliqueVolume();

  test('NRRD: truncated, inconsistent dimensions, missing field, bad gzip, unknown space', async () => {
    const whole = encodeNrrd(volume);
    await expectError(() => parseNrrd(whole.subarray(0, whole.length - 10), 'cut.nrrd'), 'cut.nrrd', /truncated/);
    await expectError(() => parseNrrd(encodeNrrd(volume, { header: { dimension: '4' } }), 'dims.nrrd'), 'dims.nrrd', /inconsistent/);
    await expectError(() => parseNrrd(encodeNrrd(volume, { header: { sizes: '6 5 3' } }), 'size.nrrd'), 'size.nrrd', /inconsistent dimensions/);
    await expectError(() => parseNrrd(encodeNrrd(volume, { header: { type: null } }), 'type.nrrd'), 'type.nrrd', /"type"/);
    const gzip = encodeNrrd(volume, { encoding: 'gzip' });
    await expectError(() => parseNrrd(gzip.subarray(0, gzip.length - 30), 'gz.nrrd'), 'gz.nrrd', /truncated|corrupt/);
    await expectError(() => parseNrrd(encodeNrrd(volume, { header: { space: 'moon-frame' } }), 'space.nrrd'), 'space.nrrd', /space/);
    await expectError(() => parseNrrd(new TextEncoder().encode('hello'), 'not.nrrd'), 'not.nrrd', /not an NRRD/);
  });

  test('MetaImage: truncated, inconsistent dimensions, missing field, channels', async () => {
    const whole = encodeMetaImage(volume);
    await expectError(() => parseMetaImage(whole.subarray(0, whole.length - 4), 'cut.mha'), 'cut.mha', /truncated/);
    await expectError(() => parseMetaImage(encodeMetaImage(volume, { header: { NDims: '2' } }), 'dims.mha'), 'dims.mha', /inconsistent/);
    await expectError(() => parseMetaImage(encodeMetaImage(volume, { header: { DimSize: '6 5 3' } }), 'size.mha'), 'size.mha', /inconsistent dimensions/);
    await expectError(() => parseMetaImage(encodeMetaImage(volume, { header: { ElementType: null } }), 'type.mha'), 'type.mha', /ElementType/);
    await expectError(() => parseMetaImage(encodeMetaImage(volume, { header: { ElementNumberOfChannels: '3' } }), 'rgb.mha'), 'rgb.mha', /channels/);
    const compressed = encodeMetaImage(volume, { compressed: true });
    await expectError(() => parseMetaImage(compressed.subarray(0, compressed.length - 8), 'z.mha'), 'z.mha', /truncated|corrupt/);
  });

  test('DICOM: truncated pixel data, missing tags, mixed sizes, duplicate positions, missing slices, unsupported syntax', async () => {
    const slices = dicomSlices(volume);
    const cut = slices.map((bytes, index) => (index === 2 ? bytes.subarray(0, bytes.length - 11) : bytes));
    const truncatedFolder = writeFolder('bad-truncated', cut);
    await expectError(() => loadVolume(truncatedFolder), 'bad-truncated', /truncated/);

    const lps = lpsAffine(volume);
    const base = { rows: 5, columns: 6, orientation: [1, 0, 0, 0, 1, 0], pixelSpacing: [2, 1.5], stored: new Array(30).fill(7) };
    const noOrientation = writeFolder('bad-missing-tag', [
      ctSlice({ ...base, position: [0, 0, 0], instance: 1 }),
      ctSlice({ ...base, position: [0, 0, 2], instance: 2, omit: [0x00200037] }),
    ]);
    await expectError(() => loadVolume(noOrientation), 'bad-missing-tag', /ImageOrientationPatient/);
    const noPosition = writeFolder('bad-missing-position', [ctSlice({ ...base, position: [0, 0, 0], omit: [0x00200032] })]);
    await expectError(() => loadVolume(noPosition), 'bad-missing-position', /ImagePositionPatient/);

    const mixed = writeFolder('bad-mixed', [
      ctSlice({ ...base, position: [0, 0, 0], instance: 1 }),
      ctSlice({ ...base, rows: 4, stored: new Array(24).fill(1), position: [0, 0, 2], instance: 2 }),
    ]);
    await expectError(() => loadVolume(mixed), 'bad-mixed', /inconsistent dimensions/);
    const duplicate = writeFolder('bad-duplicate', [ctSlice({ ...base, position: [0, 0, 0], instance: 1 }), ctSlice({ ...base, position: [0, 0, 0], instance: 2 })]);
    await expectError(() => loadVolume(duplicate), 'bad-duplicate', /same position/);
    const gap = writeFolder('bad-gap', [0, 2, 4, 8].map((z, index) => ctSlice({ ...base, position: [0, 0, z], instance: index })));
    await expectError(() => loadVolume(gap), 'bad-gap', /uneven slice spacing/);
    const jpeg2000 = writeFolder('bad-j2k', [ctSlice({ ...base, position: [0, 0, 0], transferSyntax: '1.2.840.10008.1.2.4.90' })]);
    await expectError(() => loadVolume(jpeg2000), 'bad-j2k', /JPEG 2000.*cannot be decoded/);
    const empty = writeFolder('bad-empty', [], { 'readme.txt': 'nothing here' });
    await expectError(() => loadVolume(empty), 'bad-empty', /no DICOM image/);
    const damaged = writeFolder('bad-damaged', [concatBytes([new Uint8Array(128), new TextEncoder().encode('DICM'), Uint8Array.of(2, 0, 0x10, 0, 0x55, 0x49, 0xff)])]);
    await expectError(() => loadVolume(damaged), 'bad-damaged', /DICOM/);
    assert.ok(lps.length === 16);
  });

  test('an unknown file type and a missing path', async () => {
    const file = path.join(scratch, 'volume.xyz');
    writeFileSync(file, 'not a volume');
    await expectError(() => loadVolume(file), 'volume.xyz', /unsupported volume format/);
    await expectError(() => loadVolume(path.join(scratch, 'absent-folder')), 'absent-folder', /not found/);
  });
});
