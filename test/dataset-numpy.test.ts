import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decode as decodeTiff } from 'tiff';
import { runCli, writePhantom } from './dataset-helpers.js';

const NUMPY_ABSENT = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0
  ? undefined
  : 'needs python3 with NumPy (Debian package python3-numpy) — absent here';

/** Loads the dataset the PyTorch way, without drrkit, and prints what it found as JSON. */
const LOADER = `
import json, sys, numpy as np
root = sys.argv[1]
records = [json.loads(line) for line in open(root + '/manifest.jsonl')]
shards = {name: np.load(root + '/' + name) for name in sorted({r['shard'] for r in records})}
images = np.concatenate([shards[name] for name in sorted(shards)])
pick = int(sys.argv[2]); row = int(sys.argv[3]); column = int(sys.argv[4])
record = records[pick]
print(json.dumps({
  'dtype': str(images.dtype), 'shape': list(images.shape), 'shard_shapes': [list(s.shape) for s in shards.values()],
  'ids': [r['id'] for r in records],
  'consistent': all(np.array_equal(images[r['id']], shards[r['shard']][r['index']]) for r in records),
  'pixel': float(images[pick, row, column]),
  'rigid': bool(np.allclose(np.array(record['camera_to_world'])[:3, :3] @ np.array(record['camera_to_world'])[:3, :3].T, np.eye(3))),
  'record': record,
}))
`;

describe('a generated dataset read with NumPy', { skip: NUMPY_ABSENT }, () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-numpy-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('shapes, manifest and a pixel against drrkit render of the same pose', () => {
    const phantom = writePhantom(path.join(scratch, 'phantom.nii.gz'));
    const directory = path.join(scratch, 'dataset');
    const detector = ['--ct', phantom, '--geometry', 'world', '--height', '18', '--width', '14', '--delx', '7', '--dely', '6'];
    const generated = runCli(['generate', ...detector, '--poses', 'carm', '--primary-angles', '-60:60:30', '--secondary-angles', '-15,15',
      '--sdd-range', '800,1200', '--sod-range', '450,550', '--angle-jitter', '3', '--count', '7', '--shard-size', '4', '--seed', '11', '--out-dir', directory]);
    assert.equal(generated.status, 0, generated.stderr);
    const [pick, row, column] = [5, 9, 6];
    const python = spawnSync('python3', ['-c', LOADER, directory, String(pick), String(row), String(column)], { encoding: 'utf8' });
    assert.equal(python.status, 0, python.stderr);
    const found = JSON.parse(python.stdout);
    assert.equal(found.dtype, 'float32');
    assert.deepEqual(found.shape, [7, 18, 14]);
    assert.deepEqual(found.shard_shapes, [[4, 18, 14], [3, 18, 14]]);
    assert.deepEqual(found.ids, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(found.consistent, true);
    assert.equal(found.rigid, true);
    const record = found.record;
    assert.equal(record.shard, 'shard-00001.npy');
    assert.equal(record.index, 1);
    assert.equal(record.detector.kind, 'pinhole');
    assert.equal(record.detector.sdd, record.pose.sdd_mm);
    assert.deepEqual(record.detector.intrinsic[2], [0, 0, 1]);
    assert.ok(found.pixel > 0);

    const out = path.join(scratch, 'sample.tif');
    const rendered = runCli(['render', ...detector, '--sdd', String(record.detector.sdd), '--rotation', record.pose.rotation.join(','),
      '--translation', record.pose.translation.join(','), '--out', out]);
    assert.equal(rendered.status, 0, rendered.stderr);
    const image = decodeTiff(readFileSync(out))[0];
    assert.equal(image.width, 14);
    const value = (image.data as Float32Array)[row * 14 + column];
    assert.equal(value, found.pixel);
  });
});
