import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { DRR } from '../src/drr.js';
import { encodeNifti } from '../src/io/nifti.js';
import { createVolume } from '../src/volume/volume.js';
import { contactSheet, overlayChannels } from '../src/viz/contact-sheet.js';
import { getPixel } from '../src/viz/raster.js';
import { repositoryRoot } from './helpers.js';

const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-sheet-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

/** A 16³ HU phantom with a bone block (label 2) in soft tissue (label 1). */
function phantom() {
  const n = 16;
  const data = new Float32Array(n ** 3).fill(-1000);
  for (let k = 2; k < 14; k++) for (let j = 3; j < 13; j++) for (let i = 2; i < 14; i++) data[i + n * (j + n * k)] = 40 + 10 * i;
  for (let k = 4; k < 8; k++) for (let j = 5; j < 9; j++) for (let i = 9; i < 12; i++) data[i + n * (j + n * k)] = 900;
  return createVolume({ data, shape: [n, n, n], spacing: [2, 2, 2], source: 'phantom' });
}

describe('contact sheets', () => {
  test('panels land in a grid under their titles, windowed separately', () => {
    const a = { data: Float32Array.from({ length: 12 }, (_, i) => i), height: 3, width: 4 };
    const b = { data: new Float32Array(12).fill(5), height: 3, width: 4 };
    const sheet = contactSheet([a, b, a], ['A', 'B', 'C'], { columns: 2, gap: 2, textScale: 1 });
    // Two columns of cells max(4, title) wide, two rows; the first panel's last pixel is white.
    assert.equal(sheet.width, 2 * 5 + 3 * 2);
    const titleBand = 9 + 2;
    assert.deepEqual(getPixel(sheet, 2 + 3, 2 + titleBand + 2), [255, 255, 255, 255]);
    assert.deepEqual(getPixel(sheet, 2, 2 + titleBand), [0, 0, 0, 255]);
    assert.throws(() => contactSheet([]), /at least one image/);
  });

  test('channel overlays tint where the label projects and leave the rest gray', () => {
    const base = { data: new Float32Array(4).fill(1), height: 2, width: 2 };
    const channel = { data: Float32Array.of(0, 0, 0, 2), height: 2, width: 2 };
    const raster = overlayChannels(base, [channel], { colors: ['#ff0000'], opacity: 0.5, window: { min: 0, max: 2 } });
    assert.deepEqual(getPixel(raster, 0, 0), [128, 128, 128, 255]);
    assert.deepEqual(getPixel(raster, 1, 1), [192, 64, 64, 255]);
  });

  test('drrkit render with several poses writes one labelled sheet; a TIFF gets one page per pose', () => {
    const volume = phantom();
    const ct = path.join(scratch, 'ct.nii.gz');
    writeFileSync(ct, encodeNifti(volume, { gzip: true }));
    const out = path.join(scratch, 'sheet.png');
    const args = ['render', '--ct', ct, '--height', '24', '--delx', '4', '--rotation', '3.14159,0,1.5708', '--rotation', '3.14159,0.5,1.5708', '--rotation', '1.5708,0,1.5708', '--titles', 'AP;tilted;lateral', '--columns', '3', '--out', out];
    const result = run(args);
    assert.equal(result.status, 0, result.stderr);
    const png = decodePng(readFileSync(out));
    assert.ok(png.width > 3 * 24 && png.height > 24);
    // The first panel equals the single-pose DRR, windowed alone.
    const drr = new DRR(volume, { sdr: 300, height: 24, delx: 4, threads: 1 });
    const single = drr.render({ rotation: Float64Array.of(3.14159, 0, 1.5708), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' } as never);
    assert.ok(single.some((value) => value > 0));
    const tiff = path.join(scratch, 'sheet.tif');
    assert.equal(run([...args.slice(0, -1), tiff]).status, 0);
    assert.ok(existsSync(tiff));
    const mismatch = run(['render', '--ct', ct, '--rotation', '0,0,0', '--rotation', '1,0,0', '--translation', '1,2,3', '--translation', '1,2,3', '--translation', '1,2,3', '--out', path.join(scratch, 'x.png')]);
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stderr, /^drrkit: --translation given 3 times for 3 poses|--rotation given 2 times for 3 poses/);
    assert.ok(!existsSync(path.join(scratch, 'x.png')));
  });

  test('drrkit render --labels --overlay paints each label in colour', () => {
    const volume = phantom();
    const ct = path.join(scratch, 'ct2.nii.gz');
    writeFileSync(ct, encodeNifti(volume, { gzip: true }));
    const labels = new Float32Array(volume.data.length);
    volume.data.forEach((value, index) => { labels[index] = value > 500 ? 2 : value > 0 ? 1 : 0; });
    const labelFile = path.join(scratch, 'labels.nii.gz');
    writeFileSync(labelFile, encodeNifti(createVolume({ data: labels, shape: volume.shape, spacing: volume.spacing, affine: volume.affine }), { datatype: 'uint8', gzip: true }));
    const out = path.join(scratch, 'overlay.png');
    const result = run(['render', '--ct', ct, '--labels', labelFile, '--overlay', '--height', '24', '--delx', '4', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const png = decodePng(readFileSync(out));
    const data = png.data as Uint8Array;
    let coloured = 0;
    for (let p = 0; p < png.width * png.height; p++) {
      const [r, g, b] = [data[png.channels * p], data[png.channels * p + 1], data[png.channels * p + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
    }
    assert.ok(coloured > 50, `${coloured} coloured pixels`);
    const bad = run(['render', '--ct', ct, '--overlay', '--out', path.join(scratch, 'y.png')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--overlay needs --labels/);
  });
});
