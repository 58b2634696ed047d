import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hounsfieldToAttenuation, applyIntensityModel } from '../src/volume/intensity.js';
import { labelChannels, labelValues, maskDensities, parseLabelList } from '../src/volume/labels.js';
import { createVolume } from '../src/volume/volume.js';
import { WorldDRR } from '../src/world-drr.js';

describe('intensity models', () => {
  test('HU → μ: water, air, bone multiplier', () => {
    const volume = createVolume({ data: Float32Array.of(-1000, -900, 0, 1000, 2000, -1200), shape: [6, 1, 1], spacing: [1, 1, 1] });
    const mu = hounsfieldToAttenuation(volume, { waterAttenuation: 0.02, boneAttenuationMultiplier: 2, airAttenuationMultiplier: 0 });
    const expected = [0, 0, 0.02, 0.04 * 2, 0.06 * 2, 0];
    mu.forEach((value, index) => assert.ok(Math.abs(value - expected[index]) < 1e-7, `${index}: ${value}`));
  });

  test('Beer–Lambert through a water slab gives I0·exp(−μ·L); negative-log gives μ·L', () => {
    // A 20 mm thick (along y) slab of water, wide in x and z; the AP central ray crosses it along y.
    const shape: [number, number, number] = [30, 10, 30];
    const volume = createVolume({ data: new Float32Array(30 * 10 * 30), shape, spacing: [2, 2, 2] });
    for (const model of ['beer-lambert', 'negative-log'] as const) {
      const drr = new WorldDRR(volume, { sdd: 1000, height: 2, delx: 0.5, orientation: 'AP', intensity: model, incidentIntensity: 3 });
      const image = drr.render(drr.defaultPose(500));
      // The four central pixels' rays cross the slab at a tiny angle: chord = 20 mm / cos.
      const cosine = 500 / Math.hypot(500, 0.125, 0.125);
      const expected = model === 'beer-lambert' ? 3 * Math.exp(-0.02 * 20 / cosine) : 0.02 * 20 / cosine;
      for (const value of image) assert.ok(Math.abs(value - expected) < 1e-5 * Math.abs(expected), `${model}: ${value} vs ${expected}`);
    }
    assert.deepEqual(Array.from(applyIntensityModel(Float64Array.of(0, 1), 'beer-lambert', 2)), [2, 2 * Math.exp(-1)]);
  });
});

describe('labels', () => {
  const labels = createVolume({ data: Float32Array.of(0, 1, 2, 2, 5, 1), shape: [6, 1, 1], spacing: [1, 1, 1], source: 'labels.nii' });
  const densities = Float32Array.of(10, 11, 12, 13, 14, 15);
  test('values, masks and channels', () => {
    assert.deepEqual(labelValues(labels), [1, 2, 5]);
    assert.deepEqual(Array.from(maskDensities(densities, labels, [2, 5])), [0, 0, 12, 13, 14, 0]);
    assert.deepEqual(Array.from(maskDensities(densities, labels)), [0, 11, 12, 13, 14, 15]);
    const channels = labelChannels(densities, labels);
    assert.deepEqual(channels.map((channel) => channel.label), [1, 2, 5]);
    assert.deepEqual(Array.from(channels[0].densities), [0, 11, 0, 0, 0, 15]);
  });
  test('label lists', () => {
    assert.deepEqual(parseLabelList('1, 3-5,3'), [1, 3, 4, 5]);
    assert.throws(() => parseLabelList('1,x'), /--labels: "x"/);
  });
});
