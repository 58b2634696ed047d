import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeNifti } from '../src/io/nifti.js';
import { loadXray, readXrayGeometry } from '../src/io/xray.js';
import { poseFromParameters } from '../src/geometry/pose.js';
import { geodesicDegrees } from '../src/registration/pose-error.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { WorldDRR } from '../src/world-drr.js';
import { encodeDicom, type DicomElement } from './format-writers.js';
import { correlation, repositoryRoot } from './helpers.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-world-register-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const ROWS = 64, COLUMNS = 64;
const GEOMETRY: DicomElement[] = [
  { tag: 0x00181110, vr: 'DS', value: '1000' }, // DistanceSourceToDetector
  { tag: 0x00181111, vr: 'DS', value: '600' }, // DistanceSourceToPatient
  { tag: 0x00181164, vr: 'DS', value: '6\\6' }, // ImagerPixelSpacing
  { tag: 0x00181510, vr: 'DS', value: '10' }, // PositionerPrimaryAngle
  { tag: 0x00181511, vr: 'DS', value: '-5' }, // PositionerSecondaryAngle
  { tag: 0x00200020, vr: 'CS', value: 'L\\F' }, // PatientOrientation: columns toward the patient's left, rows toward the feet
];

/** A single-frame uint16 XA DICOM with the geometry above. */
function xrayDicom(pixels: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(ROWS * COLUMNS * 2);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < ROWS * COLUMNS; index++) view.setUint16(2 * index, Math.round(pixels[index]), true);
  return encodeDicom([
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.12.1' },
    { tag: 0x00080018, vr: 'UI', value: '1.2.3.42' },
    { tag: 0x00080060, vr: 'CS', value: 'XA' },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [ROWS] },
    { tag: 0x00280011, vr: 'US', value: [COLUMNS] },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [16] },
    { tag: 0x00280102, vr: 'US', value: [15] },
    { tag: 0x00280103, vr: 'US', value: [0] },
    { tag: 0x7fe00010, vr: 'OW', value: bytes },
    ...GEOMETRY,
  ]);
}

describe('drrkit register --xray-dicom (world geometry from the C-arm tags)', () => {
  test('starts from the DICOM pose and recovers a pose 3° and 6 mm away', async () => {
    const volume = loadExampleCT({ shape: [96, 96, 88], spacing: [3.75, 3.75, 3.75] });
    const ctFile = path.join(scratch, 'ct.nii.gz');
    writeFileSync(ctFile, encodeNifti(volume, { datatype: 'int16', gzip: true }));
    // The geometry the loader derives from the tags, and a true pose near it.
    const probe = path.join(scratch, 'probe.dcm');
    writeFileSync(probe, xrayDicom(new Array(ROWS * COLUMNS).fill(0)));
    const geometry = await readXrayGeometry(probe);
    const drr = new WorldDRR(volume, { ...geometry.detector, density: 'diffdrr', threads: 1 } as ConstructorParameters<typeof WorldDRR>[1]);
    const truth = {
      rotation: Float64Array.from(geometry.poseParameters.rotation, (value, axis) => value + [0.03, -0.025, 0.035][axis]),
      translation: Float64Array.from(geometry.poseParameters.translation, (value, axis) => value + [3, -4, 3.5][axis]),
      parameterization: 'euler_angles' as const, convention: 'ZYX' as const,
    };
    const rendered = drr.render(truth);
    let maximum = 0;
    for (const value of rendered) maximum = Math.max(maximum, value);
    const target = path.join(scratch, 'target.dcm');
    writeFileSync(target, xrayDicom(Array.from(rendered, (value) => (4000 * value) / maximum)));
    // The loader must hand back the image in the orientation its geometry renders.
    const loaded = await loadXray(target);
    assert.ok(correlation(loaded.image.data, rendered) > 0.999, 'the loaded X-ray does not match its own geometry');

    const out = path.join(scratch, 'out');
    const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
    const result = spawnSync(process.execPath, [cli, 'register', '--ct', ctFile, '--xray-dicom', target, '--max-iterations', '300', '--out-dir', out], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /assumed/);
    const summary = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8'));
    const final = poseFromParameters({ rotation: Float64Array.from(summary.finalRotation), translation: Float64Array.from(summary.finalTranslation), parameterization: 'euler_angles', convention: 'ZYX' });
    const rotationError = geodesicDegrees(final.rotation, poseFromParameters(truth).rotation);
    const startError = geodesicDegrees(poseFromParameters({ ...truth, rotation: geometry.poseParameters.rotation }).rotation, poseFromParameters(truth).rotation);
    assert.ok(startError > 2.5, `start only ${startError}° away`);
    assert.ok(rotationError < 0.5, `rotation error ${rotationError}° (start ${startError}°)`);
    assert.ok(summary.finalLoss > 0.999, `final NCC ${summary.finalLoss}`);
  });
});
