import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'fflate';
import { DrrkitError } from '../src/errors.js';
import { volumeFrame } from '../src/geometry/world-frame.js';
import { encodeNifti, parseNifti, readNifti, writeNifti } from '../src/io/nifti.js';
import { createVolume, type Volume } from '../src/volume/volume.js';

/** The repository root: the nearest folder above this file whose package.json is named "drrkit". */
function findRepositoryRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'drrkit') return folder;
      } catch {
        // not the manifest we are looking for; keep walking up
      }
    }
    const parent = dirname(folder);
    if (parent === folder) throw new Error('cannot find the drrkit repository root above the test file');
    folder = parent;
  }
}

const REAL_CT_PATH = resolve(findRepositoryRoot(), '../shared/data/lidc2-chest-ct.nii.gz');
const REAL_CT_SKIP = existsSync(REAL_CT_PATH) ? false : 'needs ../shared (absent)';

// ---------------------------------------------------------------------------------------------
// Helpers: a hand-written NIfTI builder, independent of encodeNifti

type DatatypeName = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'int64' | 'uint64';

const DATATYPE_CODES: Record<DatatypeName, { code: number; bytes: number }> = {
  uint8: { code: 2, bytes: 1 },
  int8: { code: 256, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  uint16: { code: 512, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  uint32: { code: 768, bytes: 4 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
  int64: { code: 1024, bytes: 8 },
  uint64: { code: 1280, bytes: 8 },
};

/** Values encoded as `type` in the given byte order. */
function encodeValues(values: readonly number[], type: DatatypeName, littleEndian: boolean): Uint8Array {
  const size = DATATYPE_CODES[type].bytes;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => {
    const at = index * size;
    switch (type) {
      case 'uint8': view.setUint8(at, value); break;
      case 'int8': view.setInt8(at, value); break;
      case 'int16': view.setInt16(at, value, littleEndian); break;
      case 'uint16': view.setUint16(at, value, littleEndian); break;
      case 'int32': view.setInt32(at, value, littleEndian); break;
      case 'uint32': view.setUint32(at, value, littleEndian); break;
      case 'float32': view.setFloat32(at, value, littleEndian); break;
      case 'float64': view.setFloat64(at, value, littleEndian); break;
      case 'int64': view.setBigInt64(at, BigInt(value), littleEndian); break;
      case 'uint64': view.setBigUint64(at, BigInt(value), littleEndian); break;
    }
  });
  return bytes;
}

interface HandBuiltHeader {
  littleEndian?: boolean;
  datatypeCode: number;
  bitsPerVoxel: number;
  dims: number[]; // dim[0..]
  pixdim?: number[]; // pixdim[0..]
  slope?: number;
  intercept?: number;
  sformCode?: number;
  srow?: number[]; // 12 numbers
  qformCode?: number;
  quaternion?: [number, number, number];
  qoffset?: [number, number, number];
  voxOffset?: number;
  xyztUnits?: number;
}

/** A NIfTI-1 single file (n+1) written field by field from the standard's byte offsets. */
function buildNifti1(header: HandBuiltHeader, voxels: Uint8Array): Uint8Array {
  const little = header.littleEndian ?? true;
  const voxOffset = header.voxOffset ?? 352;
  const file = new Uint8Array(voxOffset + voxels.length);
  const view = new DataView(file.buffer);
  view.setInt32(0, 348, little);
  for (let index = 0; index < 8; index++) view.setInt16(40 + 2 * index, header.dims[index] ?? 1, little);
  view.setInt16(70, header.datatypeCode, little);
  view.setInt16(72, header.bitsPerVoxel, little);
  const pixdim = header.pixdim ?? [1, 1, 1, 1];
  for (let index = 0; index < 8; index++) view.setFloat32(76 + 4 * index, pixdim[index] ?? 0, little);
  view.setFloat32(108, voxOffset, little);
  view.setFloat32(112, header.slope ?? 0, little);
  view.setFloat32(116, header.intercept ?? 0, little);
  view.setUint8(123, header.xyztUnits ?? 2);
  view.setInt16(252, header.qformCode ?? 0, little);
  view.setInt16(254, header.sformCode ?? 0, little);
  (header.quaternion ?? [0, 0, 0]).forEach((value, index) => view.setFloat32(256 + 4 * index, value, little));
  (header.qoffset ?? [0, 0, 0]).forEach((value, index) => view.setFloat32(268 + 4 * index, value, little));
  (header.srow ?? new Array(12).fill(0)).forEach((value, index) => view.setFloat32(280 + 4 * index, value, little));
  file.set([0x6e, 0x2b, 0x31, 0], 344);
  file.set(voxels, voxOffset);
  return file;
}

/** A NIfTI-2 single file (n+2) written field by field from the standard's byte offsets. */
function buildNifti2(header: HandBuiltHeader, voxels: Uint8Array): Uint8Array {
  const little = header.littleEndian ?? true;
  const voxOffset = header.voxOffset ?? 544;
  const file = new Uint8Array(voxOffset + voxels.length);
  const view = new DataView(file.buffer);
  view.setInt32(0, 540, little);
  file.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
  view.setInt16(12, header.datatypeCode, little);
  view.setInt16(14, header.bitsPerVoxel, little);
  for (let index = 0; index < 8; index++) view.setBigInt64(16 + 8 * index, BigInt(header.dims[index] ?? 1), little);
  const pixdim = header.pixdim ?? [1, 1, 1, 1];
  for (let index = 0; index < 8; index++) view.setFloat64(104 + 8 * index, pixdim[index] ?? 0, little);
  view.setBigInt64(168, BigInt(voxOffset), little);
  view.setFloat64(176, header.slope ?? 0, little);
  view.setFloat64(184, header.intercept ?? 0, little);
  view.setInt32(344, header.qformCode ?? 0, little);
  view.setInt32(348, header.sformCode ?? 0, little);
  (header.quaternion ?? [0, 0, 0]).forEach((value, index) => view.setFloat64(352 + 8 * index, value, little));
  (header.qoffset ?? [0, 0, 0]).forEach((value, index) => view.setFloat64(376 + 8 * index, value, little));
  (header.srow ?? new Array(12).fill(0)).forEach((value, index) => view.setFloat64(400 + 8 * index, value, little));
  view.setInt32(500, header.xyztUnits ?? 2, little);
  file.set(voxels, voxOffset);
  return file;
}

/** A small volume with distinct float32 values, a rotated affine and uneven spacing. */
function makeTestVolume(shape: [number, number, number] = [5, 4, 3], integer = false): Volume {
  const count = shape[0] * shape[1] * shape[2];
  const data = new Float32Array(count);
  for (let index = 0; index < count; index++) data[index] = integer ? (index * 37) % 251 : Math.fround(Math.sin(index) * 1000 - 17.25);
  const spacing: [number, number, number] = [0.5, 1.25, 2.5];
  // A rotation by 90° about z, times the spacing, plus a translation.
  const affine = Float64Array.from([0, -1.25, 0, 10.5, 0.5, 0, 0, -20.25, 0, 0, 2.5, 30, 0, 0, 0, 1]);
  return createVolume({ data, shape, spacing, affine, source: 'test volume' });
}

/** Asserts that `error` is a DrrkitError whose message starts with `source` and matches `problem`. */
function assertDrrkitError(error: unknown, source: string, problem: RegExp): true {
  assert.ok(error instanceof DrrkitError, `expected a DrrkitError, got ${String(error)}`);
  assert.ok(error.message.startsWith(source), `message should start with ${source}: ${error.message}`);
  assert.match(error.message, problem);
  assert.ok(!error.message.includes('\n'), 'message should be one line');
  return true;
}

/** Asserts that parsing `bytes` as `source` throws a DrrkitError naming it and `problem`. */
function assertParseFails(bytes: Uint8Array, source: string, problem: RegExp): void {
  assert.throws(() => parseNifti(bytes, source), (error) => assertDrrkitError(error, source, problem));
}

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'drrkit-nifti-test-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('NIfTI round trips', () => {
  for (const name of ['volume.nii', 'volume.nii.gz']) {
    test(`float32 ${name}: identical voxels, spacing and affine`, async () => {
      const volume = makeTestVolume();
      const path = join(scratch, 'round-trip', name);
      await writeNifti(path, volume);
      const bytes = await readFile(path);
      assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, name.endsWith('.gz'), 'gzip only for .gz');
      const back = await readNifti(path);
      assert.deepEqual(back.shape, volume.shape);
      assert.deepEqual(back.spacing, volume.spacing);
      assert.deepEqual(Array.from(back.affine), Array.from(volume.affine));
      assert.deepEqual(back.data, volume.data);
      assert.equal(back.source, path);
    });
  }

  for (const datatype of ['int16', 'uint8'] as const) {
    test(`${datatype} round trip of integer voxels`, () => {
      const volume = makeTestVolume([6, 5, 4], true);
      const back = parseNifti(encodeNifti(volume, { datatype, gzip: true }), `v-${datatype}.nii.gz`);
      assert.deepEqual(back.data, volume.data);
      assert.deepEqual(back.spacing, volume.spacing);
    });
  }

  test('integer datatypes reject values that do not fit', () => {
    const volume = createVolume({ data: Float32Array.from([0, 1, 300, 4]), shape: [2, 2, 1], spacing: [1, 1, 1], source: 'big.nii' });
    assert.throws(() => encodeNifti(volume, { datatype: 'uint8' }), (error) => assertDrrkitError(error, 'big.nii', /300.*uint8/));
    assert.doesNotThrow(() => encodeNifti(volume, { datatype: 'int16' }));
  });

  test('gzip is detected by magic bytes, not by the file name', async () => {
    const volume = makeTestVolume();
    const path = join(scratch, 'misnamed.nii');
    await writeFile(path, encodeNifti(volume, { gzip: true }));
    assert.deepEqual((await readNifti(path)).data, volume.data);
    const bytes = encodeNifti(volume);
    const buffer: ArrayBuffer = new Uint8Array(bytes).buffer;
    assert.deepEqual(parseNifti(buffer, 'from-array-buffer.nii').data, volume.data, 'an ArrayBuffer is accepted');
  });

  test('the qform written from the affine gives the same affine (proper, improper, 180°)', () => {
    const affines = {
      // i → x, j → z, k → y: an improper rotation (determinant < 0), so qfac = -1
      improper: [0.5, 0, 0, 12, 0, 0, 2.5, -7, 0, 1.25, 0, 3.5, 0, 0, 0, 1],
      // 90° about z
      proper: Array.from(makeTestVolume().affine),
      // 180° about z: the quaternion's a is 0
      halfTurn: [-0.5, 0, 0, 1, 0, -1.25, 0, 2, 0, 0, 2.5, 3, 0, 0, 0, 1],
    };
    for (const [name, values] of Object.entries(affines)) {
      const affine = Float64Array.from(values);
      const volume = createVolume({ data: new Float32Array(60), shape: [5, 4, 3], spacing: [0.5, 1.25, 2.5], affine, source: name });
      const bytes = encodeNifti(volume);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(view.getInt16(252, true), 1, `${name}: qform_code`);
      assert.equal(view.getFloat32(76, true), name === 'improper' ? -1 : 1, `${name}: qfac in pixdim[0]`);
      view.setInt16(254, 0, true); // sform_code 0: the reader must fall back to the qform
      const back = parseNifti(bytes, 'qform-only.nii');
      for (let index = 0; index < 16; index++) {
        assert.ok(Math.abs(back.affine[index] - affine[index]) < 1e-5, `${name}: affine[${index}] ${back.affine[index]} ≠ ${affine[index]}`);
      }
    }
  });

  test('an affine with shear gets no qform (qform_code 0), only the sform', () => {
    const affine = Float64Array.from([1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const volume = createVolume({ data: new Float32Array(8), shape: [2, 2, 2], spacing: [1, 1, 1], affine, source: 'shear' });
    const bytes = encodeNifti(volume);
    assert.equal(new DataView(bytes.buffer).getInt16(252, true), 0);
    assert.deepEqual(Array.from(parseNifti(bytes, 'shear.nii').affine), Array.from(affine));
  });

  test('a general quaternion: 30° about an oblique axis', () => {
    const half = Math.PI / 12;
    const axis = [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)];
    const [b, c, d] = axis.map((value) => Math.sin(half) * value);
    const a = Math.cos(half);
    const rotation = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ];
    const file = buildNifti1(
      { datatypeCode: 2, bitsPerVoxel: 8, dims: [3, 2, 2, 2], pixdim: [1, 2, 3, 4], qformCode: 1, quaternion: [b, c, d], qoffset: [1, 2, 3] },
      new Uint8Array(8),
    );
    const volume = parseNifti(file, 'oblique.nii');
    const spacing = [2, 3, 4];
    for (let row = 0; row < 3; row++) {
      for (let column = 0; column < 3; column++) {
        assert.ok(Math.abs(volume.affine[row * 4 + column] - rotation[row][column] * spacing[column]) < 1e-5);
      }
    }
    assert.deepEqual([volume.affine[3], volume.affine[7], volume.affine[11]], [1, 2, 3]);
  });
});

describe('NIfTI datatypes and byte orders (hand-built files)', () => {
  const samples: Record<DatatypeName, number[]> = {
    uint8: [0, 1, 127, 255, 42, 7, 200, 3],
    int8: [-128, -1, 0, 1, 127, -50, 60, 5],
    int16: [-32768, -1, 0, 1, 32767, -1024, 3071, 12],
    uint16: [0, 1, 65535, 4095, 1000, 2, 3, 4],
    int32: [-2147483648, -1, 0, 1, 2147483647, -70000, 70000, 9],
    uint32: [0, 1, 4294967295, 70000, 5, 6, 7, 8],
    float32: [Math.fround(-1.5), 0, Math.fround(3.25e-3), Math.fround(1e20), -0, 1, 2, 3],
    float64: [-1.5, 0, 0.125, 65504, 1e-3, 1, 2, 3],
    int64: [-9007199254740991, -1, 0, 1, 123456789012, 5, 6, 7],
    uint64: [0, 1, 9007199254740991, 123456789012, 5, 6, 7, 8],
  };
  for (const type of Object.keys(samples) as DatatypeName[]) {
    for (const littleEndian of [true, false]) {
      const order = littleEndian ? 'little-endian' : 'big-endian';
      test(`${type}, ${order}, NIfTI-1 and NIfTI-2`, () => {
        const values = samples[type];
        const voxels = encodeValues(values, type, littleEndian);
        const { code, bytes } = DATATYPE_CODES[type];
        const header: HandBuiltHeader = { littleEndian, datatypeCode: code, bitsPerVoxel: bytes * 8, dims: [3, 2, 2, 2], pixdim: [1, 0.75, 1.5, 3] };
        const expected = Float32Array.from(values);
        for (const [version, file] of [[1, buildNifti1(header, voxels)], [2, buildNifti2(header, voxels)]] as const) {
          const volume = parseNifti(file, `${type}-${order}-v${version}.nii`);
          assert.deepEqual(volume.data, expected, `NIfTI-${version}`);
          assert.deepEqual(volume.shape, [2, 2, 2]);
          assert.deepEqual(volume.spacing, [0.75, 1.5, 3]);
          assert.deepEqual(Array.from(volume.affine), [0.75, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]);
        }
        // and gzipped
        const gzipped = parseNifti(gzipSync(buildNifti1(header, voxels)), `${type}.nii.gz`);
        assert.deepEqual(gzipped.data, expected);
      });
    }
  }

  test('scl_slope / scl_inter are applied; slope 0 or NaN means no scaling', () => {
    const voxels = encodeValues([0, 1, 2, -3], 'int16', false);
    const base = { littleEndian: false, datatypeCode: 4, bitsPerVoxel: 16, dims: [3, 2, 2, 1], pixdim: [1, 1, 1, 1] };
    const scaled = parseNifti(buildNifti1({ ...base, slope: 2, intercept: -1024 }, voxels), 'scaled.nii');
    assert.deepEqual(Array.from(scaled.data), [-1024, -1022, -1020, -1030]);
    const slopeOnly = parseNifti(buildNifti2({ ...base, slope: 0.5, intercept: NaN }, voxels), 'half.nii');
    assert.deepEqual(Array.from(slopeOnly.data), [0, 0.5, 1, -1.5]);
    for (const slope of [0, NaN]) {
      const plain = parseNifti(buildNifti1({ ...base, slope, intercept: 100 }, voxels), 'plain.nii');
      assert.deepEqual(Array.from(plain.data), [0, 1, 2, -3], `slope ${slope}`);
    }
  });

  test('the sform wins over the qform; negative pixdim gives positive spacing', () => {
    const srow = [-2, 0, 0, 100, 0, 3, 0, -50, 0, 0, 4, 25];
    const file = buildNifti1(
      { datatypeCode: 2, bitsPerVoxel: 8, dims: [3, 2, 2, 2], pixdim: [-1, -2, 3, 4], sformCode: 2, srow, qformCode: 1, quaternion: [0, 0, 1] },
      new Uint8Array(8),
    );
    const volume = parseNifti(file, 'sform.nii');
    assert.deepEqual(Array.from(volume.affine), [...srow, 0, 0, 0, 1]);
    assert.deepEqual(volume.spacing, [2, 3, 4]);
  });

  test('big-endian NIfTI-2 with an sform', () => {
    const srow = [0.5, 0, 0, -10, 0, 0.5, 0, -20, 0, 0, 2, -30];
    const file = buildNifti2(
      { littleEndian: false, datatypeCode: 4, bitsPerVoxel: 16, dims: [3, 3, 2, 1], pixdim: [1, 0.5, 0.5, 2], sformCode: 1, srow },
      encodeValues([1, 2, 3, 4, 5, 6], 'int16', false),
    );
    const volume = parseNifti(file, 'v2.nii');
    assert.deepEqual(Array.from(volume.data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(volume.shape, [3, 2, 1]);
    assert.deepEqual(Array.from(volume.affine), [...srow, 0, 0, 0, 1]);
  });

  test('spatial units in metres are converted to mm', () => {
    const file = buildNifti1({ datatypeCode: 2, bitsPerVoxel: 8, dims: [3, 1, 1, 1], pixdim: [1, 0.001, 0.002, 0.003], xyztUnits: 1 }, new Uint8Array(1));
    const volume = parseNifti(file, 'metres.nii');
    volume.spacing.forEach((value, axis) => assert.ok(Math.abs(value - (axis + 1)) < 1e-6));
  });

  test('a 4-D file with dim[4] = 1 is read; a 2-D file becomes nz = 1', () => {
    const fourD = buildNifti1({ datatypeCode: 2, bitsPerVoxel: 8, dims: [4, 2, 1, 1, 1], pixdim: [1, 1, 1, 1, 1] }, Uint8Array.from([4, 5]));
    assert.deepEqual(Array.from(parseNifti(fourD, '4d.nii').data), [4, 5]);
    const twoD = buildNifti1({ datatypeCode: 2, bitsPerVoxel: 8, dims: [2, 2, 2, 0], pixdim: [1, 1, 1, 0] }, Uint8Array.from([1, 2, 3, 4]));
    const flat = parseNifti(twoD, '2d.nii');
    assert.deepEqual(flat.shape, [2, 2, 1]);
    assert.deepEqual(flat.spacing, [1, 1, 1]);
  });

  test('header extensions are skipped (data at vox_offset)', () => {
    const voxels = Uint8Array.from([9, 8, 7, 6]);
    const file = buildNifti1({ datatypeCode: 2, bitsPerVoxel: 8, dims: [3, 2, 2, 1], pixdim: [1, 1, 1, 1], voxOffset: 368 }, voxels);
    file.set([1, 0, 0, 0], 348); // extension flag
    new DataView(file.buffer).setInt32(352, 16, true); // esize
    new DataView(file.buffer).setInt32(356, 6, true); // ecode (comment)
    assert.deepEqual(Array.from(parseNifti(file, 'extension.nii').data), [9, 8, 7, 6]);
  });
});

describe('the real chest CT', () => {
  test('lidc2-chest-ct.nii.gz: 256×256×133, 1.40625×1.40625×2.5 mm, values 0..255', { skip: REAL_CT_SKIP }, async () => {
    const volume = await readNifti(REAL_CT_PATH);
    assert.deepEqual(volume.shape, [256, 256, 133]);
    assert.deepEqual(volume.spacing, [1.40625, 1.40625, 2.5]);
    // The true anatomy (../shared/README.md): voxel axes point patient-left, anterior, inferior.
    assert.deepEqual(Array.from(volume.affine), [-1.40625, 0, 0, 0, 0, 1.40625, 0, 0, 0, 0, -2.5, 0, 0, 0, 0, 1]);
    assert.equal(volumeFrame(volume.affine, volume.shape).orientationCode, 'LAI');
    let min = Infinity;
    let max = -Infinity;
    for (const value of volume.data) {
      assert.ok(Number.isInteger(value));
      if (value < min) min = value;
      if (value > max) max = value;
    }
    assert.equal(min, 0);
    assert.equal(max, 255);
  });

  test('the real CT cut in half is reported as truncated', { skip: REAL_CT_SKIP }, async () => {
    const bytes = await readFile(REAL_CT_PATH);
    const path = join(scratch, 'half-ct.nii.gz');
    await writeFile(path, bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(readNifti(path), (error) => assertDrrkitError(error, path, /truncated/));
  });
});

describe('malformed NIfTI files', () => {
  /** A valid little-endian uint8 NIfTI-1 file of 2×2×2 voxels. */
  const valid = (): Uint8Array => buildNifti1({ datatypeCode: 2, bitsPerVoxel: 8, dims: [3, 2, 2, 2], pixdim: [1, 1, 1, 1] }, new Uint8Array(8));

  test('a truncated .nii.gz (a written file cut in half)', async () => {
    const path = join(scratch, 'truncated.nii.gz');
    const full = encodeNifti(makeTestVolume([20, 20, 20]), { gzip: true });
    await writeFile(path, full.subarray(0, full.length >> 1));
    await assert.rejects(readNifti(path), (error) => assertDrrkitError(error, path, /truncated/));
  });

  test('a truncated .nii (fewer data bytes than the dimensions need)', () => {
    assertParseFails(valid().subarray(0, 352 + 5), 'short.nii', /truncated.*need 8 bytes.*only 5/);
    assertParseFails(valid().subarray(0, 200), 'header-only.nii', /truncated.*348-byte/);
    assertParseFails(gzipSync(valid().subarray(0, 356)), 'short.nii.gz', /truncated/);
  });

  test('wrong magic number', () => {
    const file = valid();
    file.set([0x78, 0x79, 0x7a, 0], 344);
    assertParseFails(file, 'magic.nii', /wrong magic number "xyz\\x00"/);
  });

  test('not a NIfTI at all (wrong header size)', () => {
    assertParseFails(new TextEncoder().encode('hello, this is not a NIfTI file at all'), 'text.nii', /not a NIfTI file.*header-size/);
    assertParseFails(new Uint8Array(0), 'empty.nii', /not a NIfTI file/);
  });

  test('a .hdr/.img pair header is refused clearly', () => {
    const file = valid();
    file.set([0x6e, 0x69, 0x31, 0], 344);
    assertParseFails(file, 'pair.hdr', /\.hdr\/\.img pair/);
  });

  test('unknown datatype code', () => {
    const file = valid();
    new DataView(file.buffer).setInt16(70, 999, true);
    assertParseFails(file, 'datatype.nii', /unknown datatype code 999/);
  });

  test('RGB and complex datatypes are refused', () => {
    const file = valid();
    new DataView(file.buffer).setInt16(70, 128, true);
    assertParseFails(file, 'rgb.nii', /datatype 128 \(RGB24\) is not supported/);
    new DataView(file.buffer).setInt16(70, 32, true);
    assertParseFails(file, 'complex.nii', /complex64/);
  });

  test('zero spacing', () => {
    const file = valid();
    new DataView(file.buffer).setFloat32(76 + 2 * 4, 0, true);
    assertParseFails(file, 'zero-spacing.nii', /spacing pixdim\[2\] is 0/);
  });

  test('NaN spacing', () => {
    const file = valid();
    new DataView(file.buffer).setFloat32(76 + 3 * 4, NaN, true);
    assertParseFails(file, 'nan-spacing.nii', /spacing pixdim\[3\] is NaN/);
  });

  test('zero dimension', () => {
    const file = valid();
    new DataView(file.buffer).setInt16(40 + 2 * 2, 0, true);
    assertParseFails(file, 'zero-dim.nii', /dim\[2\] is 0/);
  });

  test('more than one volume', () => {
    const file = buildNifti1({ datatypeCode: 2, bitsPerVoxel: 8, dims: [4, 2, 1, 1, 3], pixdim: [1, 1, 1, 1, 1] }, new Uint8Array(6));
    assertParseFails(file, 'series.nii', /holds 3 volumes/);
  });

  test('a missing file', async () => {
    const path = join(scratch, 'does-not-exist.nii.gz');
    await assert.rejects(readNifti(path), (error) => assertDrrkitError(error, path, /not found/));
  });

  test('a directory instead of a file', async () => {
    await assert.rejects(readNifti(scratch), (error) => assertDrrkitError(error, scratch, /directory/));
  });

  test('writeNifti refuses a name without .nii / .nii.gz and writes nothing', async () => {
    const path = join(scratch, 'volume.raw');
    await assert.rejects(writeNifti(path, makeTestVolume()), (error) => assertDrrkitError(error, path, /\.nii or \.nii\.gz/));
    assert.equal(existsSync(path), false);
  });
});
