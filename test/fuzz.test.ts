/**
 * Seeded, time-bounded fuzz test of every reader and every command. A small corpus is generated
 * here (nothing binary is committed): a valid volume in each format (NIfTI, .nii.gz, NRRD raw and
 * gzip, NHDR + raw, MHA raw and zlib, MHD + raw, a DICOM CT series), a DICOM X-ray, PNG, TIFF
 * and JPEG images; seeded mutations of each (bytes flipped, truncation, header numbers replaced
 * by hostile values); hand-made hostile cases (decompression bombs, 30000² image headers,
 * detached files naming /dev/zero, /etc/passwd, ../ or a FIFO, overflowing rescale tags, a
 * mangled DICOM tag); and hostile flag values for render, register, evaluate and inspect.
 *
 * Each case spawns the CLI under a time limit (30 s) and records its peak RSS. An outcome is a
 * clean error (exit 1, one stderr line "drrkit: …", no output written), a sane success (exit 0, or
 * register's documented 3 for a registration that did not converge, with its outputs;
 * only warnings on stderr, the output present, no NaN/Infinity printed) or everything else. The
 * test asserts zero "everything else", every peak RSS ≤ 1 GiB and prints the table per format
 * and command. DRRKIT_FUZZ_SEED changes the seed, DRRKIT_FUZZ_SCALE (default 1) the mutants per file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { after, test } from 'node:test';
import jpeg from 'jpeg-js';
import { encodeFloatTiff, encodePng } from '../src/io/image.js';
import { encodeNifti } from '../src/io/nifti.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { ctSlice, encodeDicom, encodeMetaImage, encodeNrrd, type DicomElement } from './format-writers.js';
import { repositoryRoot, seededRandom } from './helpers.js';

const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
const rssHook = path.join(repositoryRoot(), 'dist', 'test', 'fuzz-rss-hook.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-fuzz-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SEED = Number(process.env.DRRKIT_FUZZ_SEED ?? 14);
const SCALE = Number(process.env.DRRKIT_FUZZ_SCALE ?? 1);
/** Seconds after which no further random mutant is started (the hand-made cases always run). */
const BUDGET_SECONDS = Number(process.env.DRRKIT_FUZZ_BUDGET_S ?? 40);
/** True while buildCases adds random mutants. */
let addingMutants = false;
const random = seededRandom(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];

/** One case: a command line, the format or flag family it exercises, and where its output would go. */
interface FuzzCase {
  group: string;
  command: 'render' | 'register' | 'evaluate' | 'inspect';
  args: string[];
  /** The output file or folder (absent for inspect). */
  output?: string;
  /** A random mutant: run only while the time budget lasts (hand-made hostile cases always run). */
  optional?: boolean;
}

/** What happened. */
interface Outcome {
  kind: 'clean error' | 'sane success' | 'everything else';
  seconds: number;
  rssMiB: number;
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// The corpus

/** A 12×10×8 CT-like volume in HU: air, a water box, a bone ball. */
function phantom(): Volume {
  const shape: [number, number, number] = [12, 10, 8];
  const data = new Float32Array(12 * 10 * 8);
  for (let k = 0; k < 8; k++) for (let j = 0; j < 10; j++) for (let i = 0; i < 12; i++) {
    const inside = i > 1 && i < 10 && j > 1 && j < 8 && k > 0 && k < 7;
    const ball = (i - 6) ** 2 + (j - 5) ** 2 + (k - 4) ** 2 < 5;
    data[i + 12 * (j + 10 * k)] = ball ? 700 : inside ? 20 : -1000;
  }
  return createVolume({ data, shape, spacing: [4, 4, 5] });
}

/** A deflate stream of `mebibytes` MiB of zeros built from one repeated flushed block (a bomb in ~1 KiB per MiB). */
function zeroDeflate(mebibytes: number): Uint8Array {
  const block = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const out = new Uint8Array(block.length * mebibytes + 2);
  for (let index = 0; index < mebibytes; index++) out.set(block, index * block.length);
  out.set([0x03, 0x00], block.length * mebibytes); // final empty fixed block
  return out;
}

/** gzip member around a raw deflate stream (CRC deliberately wrong: a reader that stops early never checks it). */
function gzipWrap(deflate: Uint8Array): Uint8Array {
  const head = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3);
  const parts = [head, deflate, new Uint8Array(8)];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

/** A DICOM X-ray (XA, 32×32, 16-bit) with C-arm geometry tags; `tags` replaces or adds elements. */
function xrayDicom(tags: DicomElement[] = []): Uint8Array {
  const pixels = new Uint8Array(32 * 32 * 2);
  for (let index = 0; index < 32 * 32; index++) pixels[2 * index] = (index * 7) & 0xff;
  const base: DicomElement[] = [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.12.1' },
    { tag: 0x00080018, vr: 'UI', value: '1.2.3.9' },
    { tag: 0x00080060, vr: 'CS', value: 'XA' },
    { tag: 0x00100020, vr: 'LO', value: 'PATIENT01' },
    { tag: 0x00181110, vr: 'DS', value: '1100' },
    { tag: 0x00181111, vr: 'DS', value: '750' },
    { tag: 0x00181164, vr: 'DS', value: '2\\2' },
    { tag: 0x00181510, vr: 'DS', value: '30' },
    { tag: 0x00181511, vr: 'DS', value: '-15' },
    { tag: 0x00200020, vr: 'CS', value: 'L\\F' },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280008, vr: 'IS', value: '1' },
    { tag: 0x00280010, vr: 'US', value: [32] },
    { tag: 0x00280011, vr: 'US', value: [32] },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [16] },
    { tag: 0x00280102, vr: 'US', value: [15] },
    { tag: 0x00280103, vr: 'US', value: [0] },
    { tag: 0x7fe00010, vr: 'OW', value: pixels },
  ];
  const replaced = new Set(tags.map((element) => element.tag));
  return encodeDicom([...base.filter((element) => !replaced.has(element.tag)), ...tags]);
}

/** A 32×32 gray test image. */
function testImage(): { data: Float32Array; height: number; width: number } {
  return { data: Float32Array.from({ length: 32 * 32 }, (_, index) => (index % 32) * 4 + Math.floor(index / 32)), height: 32, width: 32 };
}

/** Numbers that break naive readers. */
const HOSTILE_NUMBERS = ['0', '-1', '1e308', '-1e308', '1e-300', 'NaN', '4294967297', '99999', '0x10', '1e38', '-3'];
/** Text that should never be echoed raw. */
const HOSTILE_TEXT = ['\u0001\u001b[31mred\u0007', '../../../../etc/passwd', '/dev/zero', 'x'.repeat(5000)];

/** Replaces one number in the text header (the first `headerLength` bytes) by a hostile value. */
function mutateHeaderNumber(bytes: Uint8Array, headerLength: number): Uint8Array {
  const header = Buffer.from(bytes.subarray(0, headerLength)).toString('latin1');
  const numbers = [...header.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
  if (numbers.length === 0) return bytes;
  const target = pick(numbers);
  const replacement = random() < 0.85 ? pick(HOSTILE_NUMBERS) : pick(HOSTILE_TEXT);
  const text = header.slice(0, target.index) + replacement + header.slice(target.index! + target[0].length);
  return Buffer.concat([Buffer.from(text, 'latin1'), bytes.subarray(headerLength)]);
}

/** Flips 1–8 random bytes (in the first `span` bytes when given). */
function flipBytes(bytes: Uint8Array, span = bytes.length): Uint8Array {
  const out = Uint8Array.from(bytes);
  const count = 1 + Math.floor(random() * 8);
  for (let index = 0; index < count; index++) out[Math.floor(random() * Math.min(span, out.length))] = Math.floor(random() * 256);
  return out;
}

/** Cuts the file at a random point. */
function truncate(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(0, Math.floor(random() * bytes.length));
}

/** Header length of a text-header format (up to the blank line or the ElementDataFile line). */
function textHeaderLength(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  const blank = text.indexOf('\n\n');
  if (blank >= 0) return blank + 2;
  const data = text.indexOf('ElementDataFile');
  return data >= 0 ? text.indexOf('\n', data) + 1 : Math.min(bytes.length, 512);
}

/** Writes a file into the scratch folder (creating folders) and returns its path. */
function put(name: string, bytes: Uint8Array | string): string {
  const file = path.join(scratch, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

/** Every case of the campaign. */
function buildCases(): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const volume = phantom();
  const small = ['--height', '12', '--delx', '8', '--sdr', '400'];
  let serial = 0;
  const out = (extension: string) => path.join(scratch, 'out', `${serial++}${extension}`);
  const volumeCases = (group: string, file: string, renderToo: boolean) => {
    cases.push({ group, command: 'inspect', args: [file], optional: addingMutants });
    if (renderToo) {
      const output = out('.tif');
      cases.push({ group, command: 'render', args: ['--ct', file, ...small, '--out', output], output, optional: addingMutants });
    }
  };

  // Valid seeds, then mutants of each volume format.
  const nifti = encodeNifti(volume, { datatype: 'int16' });
  const seeds: Array<{ group: string; name: string; bytes: Uint8Array; text: boolean; extra?: () => void }> = [
    { group: 'NIfTI', name: 'ct.nii', bytes: nifti, text: false },
    { group: 'NIfTI .gz', name: 'ct.nii.gz', bytes: encodeNifti(volume, { datatype: 'int16', gzip: true }), text: false },
    { group: 'NRRD', name: 'ct.nrrd', bytes: encodeNrrd(volume), text: true },
    { group: 'NRRD', name: 'ctgz.nrrd', bytes: encodeNrrd(volume, { encoding: 'gzip' }), text: true },
    { group: 'MHA/MHD', name: 'ct.mha', bytes: encodeMetaImage(volume), text: true },
    { group: 'MHA/MHD', name: 'ctz.mha', bytes: encodeMetaImage(volume, { compressed: true }), text: true },
  ];
  const mutantsPerSeed = Math.max(1, Math.round(4 * SCALE));
  for (const seed of seeds) {
    volumeCases(seed.group, put(`seed/${seed.name}`, seed.bytes), true);
    addingMutants = true;
    for (let index = 0; index < mutantsPerSeed; index++) {
      const choice = random();
      const header = seed.text ? textHeaderLength(seed.bytes) : 352;
      const mutated = choice < 0.45 ? (seed.text ? mutateHeaderNumber(seed.bytes, header) : flipBytes(seed.bytes, header))
        : choice < 0.75 ? flipBytes(seed.bytes, seed.group === 'NIfTI .gz' ? seed.bytes.length : header)
          : truncate(seed.bytes);
      volumeCases(seed.group, put(`mutant/${index}-${seed.name}`, mutated), index % 2 === 0);
    }
    addingMutants = false;
  }
  // Detached data files: NHDR and MHD, valid and hostile.
  const raw = encodeNrrd(volume);
  const rawData = raw.subarray(textHeaderLength(raw));
  put('detached/ct.raw', rawData);
  const nhdr = (dataFile: string) => `NRRD0004\ntype: float\ndimension: 3\nsizes: 12 10 8\nspacings: 4 4 5\nendian: little\nencoding: raw\ndata file: ${dataFile}\n\n`;
  const mhd = (dataFile: string) => `ObjectType = Image\nNDims = 3\nDimSize = 12 10 8\nElementSpacing = 4 4 5\nElementType = MET_FLOAT\nElementDataFile = ${dataFile}\n`;
  const fifo = path.join(scratch, 'detached', 'pipe.raw');
  const madeFifo = spawnSync('mkfifo', [fifo]).status === 0;
  for (const [name, dataFile] of [['ok', 'ct.raw'], ['zero', '/dev/zero'], ['urandom', '/dev/urandom'], ['passwd', '/etc/passwd'], ['up', '../seed/ct.nii'], ['control', '\u0007\u001b[2Jx.raw'], ['missing', 'none.raw'], ...(madeFifo ? [['fifo', 'pipe.raw']] : [])]) {
    volumeCases('NHDR (detached)', put(`detached/${name}.nhdr`, nhdr(dataFile)), name === 'ok' || name === 'zero');
    volumeCases('MHD (detached)', put(`detached/${name}.mhd`, mhd(dataFile)), name === 'ok' || name === 'passwd');
  }
  // Decompression bombs: headers for 12×10×8 voxels, streams of 1 GiB of zeros (~1 MiB files).
  const bomb = zeroDeflate(1024);
  const niftiHeader = nifti.subarray(0, 352);
  volumeCases('NIfTI .gz', put('bomb/bomb.nii.gz', gzipWrap(Buffer.concat([deflateRawSync(niftiHeader, { finishFlush: zlibConstants.Z_SYNC_FLUSH }), bomb]))), true);
  const mhaHeader = Buffer.from('ObjectType = Image\nNDims = 3\nDimSize = 12 10 8\nElementType = MET_SHORT\nCompressedData = True\nElementDataFile = LOCAL\n', 'latin1');
  volumeCases('MHA/MHD', put('bomb/bomb.mha', Buffer.concat([mhaHeader, Uint8Array.of(0x78, 0x01), bomb, new Uint8Array(4)])), true);
  const nrrdHeader = Buffer.from('NRRD0004\ntype: short\ndimension: 3\nsizes: 12 10 8\nendian: little\nencoding: gzip\n\n', 'latin1');
  volumeCases('NRRD', put('bomb/bomb.nrrd', Buffer.concat([nrrdHeader, gzipWrap(bomb)])), true);
  // Overflowing scaling: scl_slope 1e38 / scl_inter −1e38.
  const scaled = Uint8Array.from(nifti);
  new DataView(scaled.buffer).setFloat32(112, 1e38, true);
  volumeCases('NIfTI', put('hostile/slope.nii', scaled), true);
  const shifted = Uint8Array.from(nifti);
  new DataView(shifted.buffer).setFloat32(112, 1, true);
  new DataView(shifted.buffer).setFloat32(116, -1e38, true);
  volumeCases('NIfTI', put('hostile/intercept.nii', shifted), true);
  const tiny = Uint8Array.from(nifti);
  for (const offset of [80, 84, 88]) new DataView(tiny.buffer).setFloat32(offset, 1e-30, true);
  volumeCases('NIfTI', put('hostile/spacing.nii', tiny), true);

  // DICOM CT series: a valid folder, a mutated slice, an overflowing RescaleSlope, a TIFF-like preamble.
  const stored = Array.from(volume.data, (value) => value + 1024);
  const slice = (k: number, extra: Partial<Parameters<typeof ctSlice>[0]> = {}) => ctSlice({
    rows: 10, columns: 12, position: [0, 0, 5 * k], orientation: [1, 0, 0, 0, 1, 0], pixelSpacing: [4, 4],
    stored: stored.slice(k * 120, (k + 1) * 120), instance: k + 1, ...extra,
  });
  for (let k = 0; k < 8; k++) put(`dicom-ok/${k}.dcm`, slice(k));
  volumeCases('DICOM CT', path.join(scratch, 'dicom-ok'), true);
  addingMutants = true;
  for (let index = 0; index < mutantsPerSeed; index++) {
    const folder = `dicom-mutant-${index}`;
    for (let k = 0; k < 8; k++) put(`${folder}/${k}.dcm`, k === 3 ? (random() < 0.6 ? flipBytes(slice(k), 700) : truncate(slice(k))) : slice(k));
    volumeCases('DICOM CT', path.join(scratch, folder), index === 0);
  }
  addingMutants = false;
  for (let k = 0; k < 8; k++) put(`dicom-slope/${k}.dcm`, slice(k, { slope: 1e38 }));
  volumeCases('DICOM CT', path.join(scratch, 'dicom-slope'), true);
  const preamble = slice(0);
  preamble.set([0x49, 0x49, 0x2a, 0x00], 0);
  volumeCases('DICOM CT', put('hostile/tiff-preamble.dcm', preamble), false);
  // A folder of NIfTI files given as a CT.
  put('nifti-folder/a.nii', nifti);
  volumeCases('NIfTI', path.join(scratch, 'nifti-folder'), true);

  // X-rays: DICOM, PNG, TIFF, JPEG, their mutants, hostile headers; read by inspect and register.
  const ct = put('seed/register-ct.nii', nifti);
  const registerArgs = (xray: string, output: string, dicom: boolean) => dicom
    ? ['--ct', ct, '--xray-dicom', xray, '--xray-resize', '--height', '12', '--max-iterations', '2', '--animation', 'none', '--out-dir', output]
    : ['--ct', ct, '--xray', xray, '--height', '32', '--delx', '3', '--sdr', '400', '--strategy', 'tutorial', '--max-iterations', '2', '--animation', 'none', '--out-dir', output];
  const image = testImage();
  const rgb = new Uint8Array(32 * 32 * 4).map((_, index) => (index % 4 === 3 ? 255 : index & 0xff));
  const images: Array<{ group: string; name: string; bytes: Uint8Array; span: number }> = [
    { group: 'DICOM X-ray', name: 'xa.dcm', bytes: xrayDicom(), span: 900 },
    { group: 'PNG', name: 'x.png', bytes: encodePng(image), span: 64 },
    { group: 'TIFF', name: 'x.tif', bytes: encodeFloatTiff(image), span: 64 },
    { group: 'JPEG', name: 'x.jpg', bytes: new Uint8Array(jpeg.encode({ data: rgb, width: 32, height: 32 }, 90).data), span: 700 },
  ];
  const xrayCases = (group: string, file: string, dicom: boolean, registerToo: boolean) => {
    cases.push({ group, command: 'inspect', args: [file], optional: addingMutants });
    if (registerToo) {
      const output = out('');
      cases.push({ group, command: 'register', args: registerArgs(file, output, dicom), output, optional: addingMutants });
    }
  };
  for (const seed of images) {
    const dicom = seed.group === 'DICOM X-ray';
    xrayCases(seed.group, put(`seed/${seed.name}`, seed.bytes), dicom, true);
    addingMutants = true;
    for (let index = 0; index < mutantsPerSeed; index++) {
      const mutated = random() < 0.7 ? flipBytes(seed.bytes, seed.span) : truncate(seed.bytes);
      xrayCases(seed.group, put(`mutant/${index}-${seed.name}`, mutated), dicom, index === 0);
    }
    addingMutants = false;
  }
  const dicomHostile: Array<[string, DicomElement[]]> = [
    ['sdd', [{ tag: 0x00181110, vr: 'DS', value: '1e308' }]],
    ['angle', [{ tag: 0x00181511, vr: 'DS', value: '-1e308' }]],
    ['slope', [{ tag: 0x00281053, vr: 'DS', value: '1e38' }]],
    ['patient', [{ tag: 0x00100020, vr: 'LO', value: '\u0000\u0001\u001b[2J' }, { tag: 0x00200020, vr: 'CS', value: 'L' }]],
    ['rows', [{ tag: 0x00280010, vr: 'US', value: [65535] }, { tag: 0x00280011, vr: 'US', value: [65535] }]],
    ['frames', [{ tag: 0x00280008, vr: 'IS', value: '999999999' }]],
  ];
  for (const [name, tags] of dicomHostile) xrayCases('DICOM X-ray', put(`hostile/${name}.dcm`, xrayDicom(tags)), true, name === 'sdd' || name === 'patient');
  const pngHeader = Uint8Array.from(encodePng(image));
  new DataView(pngHeader.buffer).setUint32(16, 30000);
  new DataView(pngHeader.buffer).setUint32(20, 30000);
  xrayCases('PNG', put('hostile/huge.png', pngHeader), false, true);
  const tiffHeader = Uint8Array.from(encodeFloatTiff(image));
  {
    const view = new DataView(tiffHeader.buffer);
    const little = tiffHeader[0] === 0x49;
    const ifd = view.getUint32(4, little);
    for (let entry = 0; entry < view.getUint16(ifd, little); entry++) {
      const at = ifd + 2 + 12 * entry, tag = view.getUint16(at, little);
      if (tag === 256 || tag === 257) {
        if (view.getUint16(at + 2, little) === 3) view.setUint16(at + 8, 60000, little);
        else view.setUint32(at + 8, 100000, little);
      }
    }
  }
  xrayCases('TIFF', put('hostile/huge.tif', tiffHeader), false, false);
  xrayCases('PNG', '/dev/zero', false, false);
  if (madeFifo) xrayCases('PNG', fifo, false, false);

  // Hostile flags for each command (each case: one flag made hostile, the rest small and valid).
  const renderFlags = [
    ['--height', '0x10'], ['--height', '0'], ['--height', '99999999'], ['--width', '1.5'], ['--delx', '1e308'], ['--delx', '1e-300'],
    ['--sdr', '1e308'], ['--sdr', '-5'], ['--x0', '1e308'], ['--translation', '1e308,0,0'], ['--rotation', 'NaN,0,0'],
    ['--renderer', 'trilinear', '--step', '1e-9'], ['--renderer', 'trilinear', '--samples', '1e9'], ['--i0', '1e308', '--intensity', 'beer-lambert'],
    ['--geometry', 'world', '--sdd', '1e308'], ['--geometry', 'world', '--sod', '1e9'], ['--parameterization', 'matrix', '--rotation', '0,0,0,0,0,0,0,0,0'],
    ['--bone-multiplier', 'Infinity'], ['--no-such-flag'], ['--rotation', '90,0,90'],
  ];
  for (const flags of renderFlags) {
    const output = out('.png');
    cases.push({ group: 'flags', command: 'render', args: ['--ct', ct, ...small, ...flags, '--out', output], output });
  }
  const registerFlags = [
    ['--stop-ncc', '2'], ['--stop-ncc', '-5'], ['--momentum', '2'], ['--dampening', '5'], ['--seed', 'abc'], ['--seed', '1.5'], ['--seed', '-1'],
    ['--search-range', '1e9,0,0'], ['--max-iterations', '0'], ['--lr-rotation', '-1'], ['--xray', path.join(scratch, 'seed', 'x.png'), '--height', '32', '--xray-frame', '99'],
    ['--strategy', 'tutorial', '--degrees', '--init-rotation', '180,0,90'],
  ];
  for (const flags of registerFlags) {
    const output = out('');
    cases.push({ group: 'flags', command: 'register', args: ['--ct', ct, ...small, '--max-iterations', '2', '--animation', 'none', ...flags, '--out-dir', output], output });
  }
  const evaluateFlags = [['--runs', '0'], ['--runs', '-1'], ['--target-photons', '0'], ['--target-photons', '-1'], ['--translation-range', '5,-5'], ['--rotation-range', '1e9,0,0'], ['--seed', 'x']];
  for (const flags of evaluateFlags) {
    const output = out('');
    cases.push({ group: 'flags', command: 'evaluate', args: ['--ct', ct, ...small, '--strategy', 'tutorial', ...flags, '--out-dir', output], output });
  }
  {
    const output = out('');
    cases.push({ group: 'flags', command: 'evaluate', args: ['--ct', ct, ...small, '--strategy', 'tutorial', '--runs', '1', '--out-dir', output], output });
  }
  cases.push({ group: 'flags', command: 'inspect', args: ['--frame', '-1', path.join(scratch, 'seed', 'xa.dcm')] });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Running and classifying

/** Runs one case under the limits and classifies it. */
function runCase(fuzzCase: FuzzCase): Promise<Outcome> {
  const rssFile = path.join(scratch, 'rss', `${Math.random().toString(36).slice(2)}.txt`);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=1024', '--import', rssHook, cli, fuzzCase.command, ...fuzzCase.args], {
      env: { ...process.env, DRRKIT_FUZZ_RSS_FILE: rssFile, DRRKIT_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30000,
      killSignal: 'SIGKILL',
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (chunk) => { if (stdout.length < 1e6) stdout += chunk; });
    child.stderr.on('data', (chunk) => { if (stderr.length < 1e6) stderr += chunk; });
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      const rssMiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : NaN;
      const lines = stderr.split('\n').filter((line) => line !== '');
      const errors = lines.filter((line) => !line.startsWith('drrkit: warning: '));
      const outputExists = fuzzCase.output !== undefined && existsSync(fuzzCase.output);
      const leftovers = fuzzCase.output !== undefined && readdirSync(path.dirname(fuzzCase.output)).some((name) => name.startsWith(`.${path.basename(fuzzCase.output!)}`));
      const detail = `${fuzzCase.command} ${fuzzCase.args.join(' ')} → ${signal ?? code}: ${stderr.slice(0, 300)}`;
      let kind: Outcome['kind'] = 'everything else';
      if (code === 1 && errors.length === 1 && /^drrkit: /.test(errors[0]) && !/internal error/.test(errors[0]) && !outputExists && !leftovers) kind = 'clean error';
      else if ((code === 0 || (code === 3 && fuzzCase.command === 'register')) && errors.length === 0 && !/\b(NaN|Infinity)\b/.test(stdout) && !leftovers && (fuzzCase.output === undefined || outputExists)) kind = 'sane success';
      resolve({ kind, seconds, rssMiB, detail });
    });
  });
}

/** Runs the cases, `parallel` at a time: hand-made ones first, then mutants until the time budget is spent (undefined: not run). */
async function runAll(cases: readonly FuzzCase[], parallel: number): Promise<Array<Outcome | undefined>> {
  const outcomes: Array<Outcome | undefined> = new Array(cases.length);
  const order = [...cases.keys()].sort((a, b) => Number(cases[a].optional ?? false) - Number(cases[b].optional ?? false));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < order.length) {
      const index = order[next++];
      if (cases[index].optional && (performance.now() - started) / 1000 > BUDGET_SECONDS) continue;
      outcomes[index] = await runCase(cases[index]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return outcomes;
}

test('fuzz: every reader and command ends in a clean error or a sane success, within 1 GiB and 30 s', { timeout: 600000 }, async () => {
  mkdirSync(path.join(scratch, 'out'), { recursive: true });
  mkdirSync(path.join(scratch, 'rss'), { recursive: true });
  const cases = buildCases();
  const started = performance.now();
  const outcomes = await runAll(cases, Math.max(2, Math.min(4, os.availableParallelism())));
  const rows = new Map<string, { clean: number; success: number; other: number; rss: number; seconds: number }>();
  const skipped = outcomes.filter((outcome) => outcome === undefined).length;
  const ran = outcomes.filter((outcome): outcome is Outcome => outcome !== undefined);
  outcomes.forEach((outcome, index) => {
    if (!outcome) return;
    const key = `${cases[index].group} | ${cases[index].command}`;
    const row = rows.get(key) ?? { clean: 0, success: 0, other: 0, rss: 0, seconds: 0 };
    if (outcome.kind === 'clean error') row.clean++;
    else if (outcome.kind === 'sane success') row.success++;
    else row.other++;
    row.rss = Math.max(row.rss, outcome.rssMiB || 0);
    row.seconds = Math.max(row.seconds, outcome.seconds);
    rows.set(key, row);
  });
  const table = [
    `fuzz seed ${SEED}: ${ran.length} runs (${skipped} random mutants left for lack of time, budget ${BUDGET_SECONDS} s) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    '| format / family | command | clean error | sane success | everything else | peak RSS (MiB) | max time (s) |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...[...rows.entries()].sort().map(([key, row]) => `| ${key.replace(' | ', ' | ')} | ${row.clean} | ${row.success} | ${row.other} | ${row.rss.toFixed(0)} | ${row.seconds.toFixed(1)} |`),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  const failures = ran.filter((outcome) => outcome.kind === 'everything else').map((outcome) => outcome.detail);
  assert.deepEqual(failures, [], `outcomes that are neither a clean error nor a sane success:\n${failures.join('\n')}`);
  const heavy = ran.filter((outcome) => !(outcome.rssMiB <= 1024)).map((outcome) => `${outcome.rssMiB.toFixed(0)} MiB: ${outcome.detail}`);
  assert.deepEqual(heavy, [], 'runs above 1 GiB peak RSS (or without an RSS report)');
  assert.ok(ran.every((outcome) => outcome.seconds < 30), 'a run took 30 s or more');
});
