import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import jpeg from 'jpeg-js';
import { DrrkitError } from '../src/errors.js';
import { projectPoint } from '../src/geometry/projection.js';
import { createWorldDetector, worldRayGrid } from '../src/geometry/world-camera.js';
import { encodeFloatTiff, encodePng } from '../src/io/image.js';
import { adjustDetectorForPreprocessing, decodeXray, loadXray, readXrayGeometry } from '../src/io/xray.js';
import { encodeDicom, type DicomElement } from './format-writers.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-xray-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A DICOM projection X-ray with the given extra tags and frames of uint16 pixels. */
function xrayDicom(options: { rows: number; columns: number; frames: number[][]; tags?: DicomElement[]; photometric?: string; bits?: number; syntax?: string; fragments?: Uint8Array[] }): Uint8Array {
  const bits = options.bits ?? 16;
  const pixels = new Uint8Array(options.frames.length * options.rows * options.columns * (bits / 8));
  const view = new DataView(pixels.buffer);
  options.frames.flat().forEach((value, index) => (bits === 16 ? view.setUint16(2 * index, value, true) : view.setUint8(index, value)));
  const elements: DicomElement[] = [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.12.1' },
    { tag: 0x00080018, vr: 'UI', value: '1.2.3.9' },
    { tag: 0x00080060, vr: 'CS', value: 'XA' },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: options.photometric ?? 'MONOCHROME2' },
    { tag: 0x00280008, vr: 'IS', value: String(options.frames.length) },
    { tag: 0x00280010, vr: 'US', value: [options.rows] },
    { tag: 0x00280011, vr: 'US', value: [options.columns] },
    { tag: 0x00280100, vr: 'US', value: [bits] },
    { tag: 0x00280101, vr: 'US', value: [bits] },
    { tag: 0x00280102, vr: 'US', value: [bits - 1] },
    { tag: 0x00280103, vr: 'US', value: [0] },
    { tag: 0x7fe00010, vr: bits === 16 ? 'OW' : 'OB', value: pixels },
    ...(options.tags ?? []),
  ];
  return encodeDicom(elements, { transferSyntax: options.syntax, fragments: options.fragments });
}

const GEOMETRY_TAGS: DicomElement[] = [
  { tag: 0x00181110, vr: 'DS', value: '1100' },
  { tag: 0x00181111, vr: 'DS', value: '750' },
  { tag: 0x00181164, vr: 'DS', value: '0.3\\0.4' },
  { tag: 0x00181510, vr: 'DS', value: '30' },
  { tag: 0x00181511, vr: 'DS', value: '-15' },
];

/** Writes bytes to a scratch file and returns its path. */
function scratchFile(name: string, bytes: Uint8Array): string {
  const file = path.join(scratch, name);
  writeFileSync(file, bytes);
  return file;
}

const ramp = (rows: number, columns: number, scale = 1): number[] => Array.from({ length: rows * columns }, (_, index) => (index * scale) % 4000);

describe('DICOM X-ray → detector and pose', () => {
  test('known geometry tags give the detector and the C-arm pose; the isocentre projects to the detector centre', async () => {
    const file = scratchFile('xa.dcm', xrayDicom({ rows: 40, columns: 50, frames: [ramp(40, 50)], tags: GEOMETRY_TAGS }));
    const geometry = await readXrayGeometry(file);
    const d = geometry.detector;
    assert.deepEqual([d.sdd, d.height, d.width, d.dely, d.delx, d.x0, d.y0, d.reverseXAxis, d.orientation], [1100, 40, 50, 0.3, 0.4, 0, 0, true, 'PA']);
    assert.equal(geometry.primaryAngle, 30);
    assert.equal(geometry.secondaryAngle, -15);
    // Detector direction from the isocentre, RAS: DICOM's (sin θ cos φ, −cos θ cos φ, sin φ) in LPS with x, y negated.
    const theta = (30 * Math.PI) / 180, phi = (-15 * Math.PI) / 180;
    const direction = [-Math.sin(theta) * Math.cos(phi), Math.cos(theta) * Math.cos(phi), Math.sin(phi)];
    geometry.cameraToWorld.translation.forEach((value, axis) => assert.ok(Math.abs(value + 750 * direction[axis]) < 1e-9, `source[${axis}] = ${value}`));
    // The beam (camera z) points along the detector direction.
    const rotation = geometry.cameraToWorld.rotation;
    [rotation[2], rotation[5], rotation[8]].forEach((value, axis) => assert.ok(Math.abs(value - direction[axis]) < 1e-12));
    const detector = createWorldDetector(d);
    const rays = worldRayGrid(detector, geometry.pose);
    const centre = projectPoint(rays, [0, 0, 0]);
    assert.ok(Math.abs(centre.row - 19.5) < 1e-9 && Math.abs(centre.column - 24.5) < 1e-9, `isocentre at (${centre.row}, ${centre.column})`);
    assert.ok(Math.abs(centre.fraction - 750 / 1100) < 1e-12);
    assert.ok(geometry.found.some((line) => line.includes('DistanceSourceToDetector = 1100')));
    assert.ok(geometry.found.some((line) => line.includes('ImagerPixelSpacing')));
    assert.ok(geometry.assumed.some((line) => /isocentre/.test(line)));
    assert.ok(geometry.assumed.some((line) => /PatientOrientation is absent/.test(line)));
    assert.ok(!geometry.assumed.some((line) => /source-to-detector/.test(line)));
    // Euler ZYX parameters reproduce the pose.
    assert.deepEqual(Array.from(geometry.poseParameters.translation), [0, -750, 0]);
    assert.ok(Math.abs(geometry.poseParameters.rotation[0] - theta) < 1e-12 && Math.abs(geometry.poseParameters.rotation[2] - phi) < 1e-12);
  });

  test('at 0°/0° the patient\'s left is on the image\'s right by default, and PatientOrientation overrides it', async () => {
    const base = { rows: 8, columns: 10, frames: [ramp(8, 10)] };
    const plain = await decodeXray(xrayDicom(base), 'plain.dcm');
    assert.equal(plain.geometry?.detector.reverseXAxis, true);
    const leftCamera = (await decodeXray(xrayDicom(base), 'p.dcm')).geometry!;
    const detector = createWorldDetector(leftCamera.detector);
    const rays = worldRayGrid(detector, leftCamera.pose);
    const left = projectPoint(rays, [-50, 0, 0]); // RAS −x: the patient's left
    assert.ok(left.column > 4.5, `the patient's left at column ${left.column}`);
    const head = projectPoint(rays, [0, 0, 50]);
    assert.ok(head.row < 3.5, `the head at row ${head.row}`);
    const rightward = await decodeXray(xrayDicom({ ...base, tags: [{ tag: 0x00200020, vr: 'CS', value: 'R\\F' }] }), 'r.dcm');
    assert.equal(rightward.geometry?.detector.reverseXAxis, false);
    assert.equal(rightward.geometry?.flipRows, false);
    const upward = await decodeXray(xrayDicom({ ...base, tags: [{ tag: 0x00200020, vr: 'CS', value: 'L\\H' }] }), 'h.dcm');
    assert.equal(upward.geometry?.flipRows, true);
    assert.deepEqual(Array.from(upward.image.data.subarray(0, 10)), Array.from(plain.image.data.subarray(70, 80)), 'rows flipped');
  });

  test('missing tags are assumed and said; ViewPosition gives the angle of a DX', async () => {
    const dx = await decodeXray(xrayDicom({ rows: 6, columns: 6, frames: [ramp(6, 6)], tags: [{ tag: 0x00185101, vr: 'CS', value: 'AP' }, { tag: 0x00280030, vr: 'DS', value: '0.2\\0.2' }] }), 'dx.dcm');
    const geometry = dx.geometry!;
    assert.equal(geometry.primaryAngle, 180);
    assert.ok(geometry.assumed.some((line) => /ViewPosition AP/.test(line)));
    assert.ok(geometry.assumed.some((line) => /source-to-detector distance 1000 mm/.test(line)));
    assert.ok(geometry.assumed.some((line) => /0\.75 × sdd/.test(line)));
    assert.ok(geometry.assumed.some((line) => /PixelSpacing \(0028,0030\) is taken/.test(line)));
    assert.equal(geometry.detector.delx, 0.2);
  });

  test('multi-frame XA: per-frame angle increments and the chosen frame\'s pixels', async () => {
    const frames = [ramp(4, 5, 1), ramp(4, 5, 2), ramp(4, 5, 3)];
    const bytes = xrayDicom({
      rows: 4, columns: 5, frames,
      tags: [...GEOMETRY_TAGS, { tag: 0x00181520, vr: 'DS', value: '0\\10\\20' }, { tag: 0x00181521, vr: 'DS', value: '0\\-1\\-2' }],
    });
    const loaded = await decodeXray(bytes, 'run.dcm', { frame: 2 });
    assert.equal(loaded.frameCount, 3);
    assert.deepEqual(Array.from(loaded.image.data), frames[2]);
    assert.equal(loaded.geometry?.primaryAngle, 50);
    assert.equal(loaded.geometry?.secondaryAngle, -17);
    await assert.rejects(() => decodeXray(bytes, 'run.dcm', { frame: 3 }), /run\.dcm: frame 3 does not exist/);
  });

  test('MONOCHROME1 is inverted; JPEG-baseline DICOM decodes', async () => {
    const mono1 = await decodeXray(xrayDicom({ rows: 2, columns: 3, frames: [[0, 10, 20, 30, 40, 50]], photometric: 'MONOCHROME1' }), 'm1.dcm');
    assert.deepEqual(Array.from(mono1.image.data), [50, 40, 30, 20, 10, 0]);
    assert.ok(mono1.notes.some((note) => /MONOCHROME1/.test(note)));
    const rgba = new Uint8Array(16 * 8 * 4);
    for (let index = 0; index < 16 * 8; index++) rgba.fill(index < 64 ? 40 : 200, 4 * index, 4 * index + 3), (rgba[4 * index + 3] = 255);
    const encoded = jpeg.encode({ data: rgba, width: 16, height: 8 }, 100).data;
    const bytes = xrayDicom({ rows: 8, columns: 16, frames: [new Array(128).fill(0)], bits: 8, syntax: '1.2.840.10008.1.2.4.50', fragments: [new Uint8Array(encoded)] });
    const decoded = await decodeXray(bytes, 'jpeg.dcm');
    assert.ok(Math.abs(decoded.image.data[0] - 40) <= 2 && Math.abs(decoded.image.data[127] - 200) <= 2);
  });

  test('malformed X-ray DICOMs give one line naming the file', async () => {
    const whole = xrayDicom({ rows: 20, columns: 20, frames: [ramp(20, 20)] });
    for (const [name, bytes, problem] of [
      ['cut.dcm', whole.subarray(0, whole.length - 100), /truncated/],
      ['norows.dcm', encodeDicom([{ tag: 0x00280011, vr: 'US', value: [4] }, { tag: 0x00280100, vr: 'US', value: [16] }, { tag: 0x7fe00010, vr: 'OW', value: new Uint8Array(32) }]), /Rows \(0028,0010\)/],
    ] as const) {
      await assert.rejects(() => decodeXray(bytes, name), (error: unknown) => {
        assert.ok(error instanceof DrrkitError && error.message.startsWith(name) && !error.message.includes('\n'), String(error));
        assert.match(error.message, problem);
        return true;
      });
    }
  });
});

describe('X-ray images and preprocessing', () => {
  test('16-bit PNG, float TIFF and JPEG files load', async () => {
    const data = Float32Array.from({ length: 12 * 10 }, (_, index) => index * 3.5);
    const tiff = await loadXray(scratchFile('x.tif', encodeFloatTiff({ data, height: 12, width: 10 })));
    assert.equal(tiff.format, 'tiff');
    assert.deepEqual(Array.from(tiff.image.data), Array.from(data));
    const png = await loadXray(scratchFile('x.png', encodePng({ data, height: 12, width: 10 })));
    assert.equal(png.format, 'png');
    assert.equal(png.image.width, 10);
    const rgba = new Uint8Array(10 * 12 * 4).fill(120);
    const jpg = await loadXray(scratchFile('x.jpg', new Uint8Array(jpeg.encode({ data: rgba, width: 10, height: 12 }, 95).data)));
    assert.equal(jpg.format, 'jpeg');
    assert.ok(Math.abs(jpg.image.data[5] - 120) <= 2);
  });

  test('crop, collimator mask, log, invert, resize and normalise; the detector follows the crop and resize', async () => {
    const height = 40, width = 50;
    const data = new Float32Array(height * width);
    for (let row = 0; row < height; row++) for (let column = 0; column < width; column++) {
      const inside = row >= 5 && row < 35 && column >= 6 && column < 46;
      data[row * width + column] = inside ? 100 + row + 2 * column : 1000; // collimator bands are flat and bright
    }
    const loaded = await decodeXray(encodeFloatTiff({ data, height, width }), 'c.tif', { collimator: 'auto' });
    assert.ok(loaded.notes.some((note) => /top 5, bottom 5, left 6, right 4/.test(note)), loaded.notes.join('; '));
    assert.equal(loaded.mask[0], 0);
    assert.equal(loaded.mask[10 * width + 10], 1);
    const logged = await decodeXray(encodeFloatTiff({ data, height, width }), 'c.tif', { log: true, logIncidentIntensity: 1000, crop: { top: 5, left: 6, height: 30, width: 40 } });
    assert.ok(Math.abs(logged.image.data[0] - -Math.log(117 / 1000)) < 1e-5);
    const inverted = await decodeXray(encodeFloatTiff({ data, height, width }), 'c.tif', { invert: true, normalize: true, resize: { height: 20, width: 25 } });
    assert.equal(inverted.image.height, 20);
    assert.ok(Math.min(...inverted.image.data) === 0 && Math.max(...inverted.image.data) === 1);
    const adjusted = adjustDetectorForPreprocessing({ height: 40, width: 50, delx: 0.4, dely: 0.3, x0: 0, y0: 0 }, { top: 5, left: 6, height: 30, width: 40 }, { height: 15, width: 20 });
    assert.deepEqual([adjusted.height, adjusted.width], [15, 20]);
    assert.ok(Math.abs(adjusted.delx - 0.8) < 1e-12 && Math.abs(adjusted.dely - 0.6) < 1e-12);
    // The principal point (u = 25) is at u = 19 after the crop, one pixel left of the new centre (20): x0 = delx·(20 − 19) = 0.4 mm.
    assert.ok(Math.abs(adjusted.x0 - 0.4) < 1e-12 && Math.abs(adjusted.y0 - 0) < 1e-12, `x0 ${adjusted.x0}, y0 ${adjusted.y0}`);
    await assert.rejects(() => decodeXray(encodeFloatTiff({ data, height, width }), 'c.tif', { crop: { top: 30, left: 0, height: 20, width: 5 } }), /c\.tif: crop/);
  });
});
