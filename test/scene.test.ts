import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { WorldDRR } from '../src/world-drr.js';
import { projectPoint } from '../src/geometry/projection.js';
import { orientationCode, volumeFrame } from '../src/geometry/world-frame.js';
import { readNifti } from '../src/io/nifti.js';
import { surfaceNets } from '../src/scene/isosurface.js';
import { buildScene, patientLabels, sceneCamera, base64ToBytes, type SceneConvention } from '../src/scene/scene.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { eulerZYX, SHARED_ABSENT, sharedPath } from './helpers.js';

function volumeWith(rotation: ArrayLike<number>, spacing: number[], shape: [number, number, number] = [12, 10, 8]): Volume {
  const affine = new Float64Array(16);
  for (let row = 0; row < 3; row++) for (let column = 0; column < 3; column++) affine[4 * row + column] = rotation[3 * row + column] * spacing[column];
  affine[3] = 7; affine[7] = -3; affine[11] = 11; affine[15] = 1;
  const data = new Float32Array(shape[0] * shape[1] * shape[2]).fill(-1000);
  for (let k = 2; k < shape[2] - 2; k++) for (let j = 2; j < shape[1] - 2; j++) for (let i = 2; i < shape[0] - 2; i++) data[i + shape[0] * (j + shape[1] * k)] = 800;
  return createVolume({ data, shape, spacing: [spacing[0], spacing[1], spacing[2]], affine, source: 'test volume' });
}

/** The unit grid-frame direction from the box centre to a label. */
function labelDirection(volume: Volume, convention: SceneConvention, letter: string): number[] {
  const extent = [0, 1, 2].map((axis) => volume.shape[axis] * volume.spacing[axis]);
  const { labels } = patientLabels(volume, convention, [[0, 0, 0], extent]);
  const label = labels.find((entry) => entry.text === letter)!;
  const offset = label.position.map((value, axis) => value - extent[axis] / 2);
  const length = Math.hypot(...offset);
  return offset.map((value) => value / length);
}

describe('scene geometry', () => {
  test('the detector drawn is the RayGrid the renderer traces (seed and world cameras)', () => {
    const volume = volumeWith(eulerZYX(0.3, -0.2, 0.4), [2, 2.5, 3]);
    const seed = new DRR(volume, { sdr: 300, height: 20, width: 30, delx: 4, dely: 3, x0: 5, y0: -7, threads: 1 });
    const world = new WorldDRR(volume, { sdd: 900, height: 24, width: 18, delx: 2, dely: 3, x0: 4, y0: 2, orientation: 'PA' });
    const cases = [
      { rays: seed.rays({ rotation: eulerZYX(2.9, 0.2, 1.4), translation: Float64Array.of(10, 20, 15) }) },
      { rays: world.rays({ rotation: eulerZYX(0.2, 0.1, -0.3), translation: Float64Array.of(5, -400, 12) }) },
    ];
    for (const { rays } of cases) {
      const camera = sceneCamera('c', '#fff', rays, new Float32Array(rays.height * rays.width).map((_, p) => p));
      const h = rays.height, w = rays.width;
      // The corners equal the RayGrid's corner pixels: firstPixel + r·rowStep + c·columnStep.
      const expected = [[0, 0], [0, w - 1], [h - 1, w - 1], [h - 1, 0]].map(([r, c]) => [0, 1, 2].map((axis) => rays.firstPixel[axis] + r * rays.rowStep[axis] + c * rays.columnStep[axis]));
      camera.cornerPixels.forEach((corner, index) => corner.forEach((value, axis) => assert.ok(Math.abs(value - expected[index][axis]) < 1e-9)));
      assert.deepEqual(camera.source, Array.from(rays.source));
      // Projecting the drawn corners gives back the corner pixels; the outer corners are half a pixel out.
      const pixels = [[0, 0], [0, w - 1], [h - 1, w - 1], [h - 1, 0]];
      camera.cornerPixels.forEach((corner, index) => {
        const projected = projectPoint(rays, corner);
        assert.ok(Math.abs(projected.row - pixels[index][0]) < 1e-9 && Math.abs(projected.column - pixels[index][1]) < 1e-9);
      });
      const outer = projectPoint(rays, camera.detectorCorners[2]);
      assert.ok(Math.abs(outer.row - (h - 0.5)) < 1e-9 && Math.abs(outer.column - (w - 0.5)) < 1e-9);
      // The principal point lies on the detector plane and the principal ray is perpendicular to it.
      const ray = camera.principalPoint.map((value, axis) => value - rays.source[axis]);
      assert.ok(Math.abs(ray.reduce((sum, value, axis) => sum + value * rays.rowStep[axis], 0)) < 1e-6);
      assert.ok(Math.abs(ray.reduce((sum, value, axis) => sum + value * rays.columnStep[axis], 0)) < 1e-6);
      // The image: row 0 first, windowed to bytes.
      const bytes = base64ToBytes(camera.image!);
      assert.equal(bytes.length, h * w);
      assert.equal(bytes[0], 0);
      assert.equal(bytes[h * w - 1], 255);
    }
  });

  test('patient-axis labels follow the affine: an LPS-stored volume, an oblique volume, both conventions', () => {
    // Voxel axes to RAS: i → L, j → P, k → S (a DICOM-style volume).
    const lps = volumeWith(Float64Array.of(-1, 0, 0, 0, -1, 0, 0, 0, 1), [1, 1, 2]);
    assert.equal(volumeFrame(lps.affine, lps.shape).orientationCode, 'LPS');
    const near = (a: number[], b: number[]) => a.every((value, axis) => Math.abs(value - b[axis]) < 1e-9);
    // World grids are voxel-aligned: R lies towards −i, A towards −j, S towards +k.
    assert.ok(near(labelDirection(lps, 'world', 'R'), [-1, 0, 0]));
    assert.ok(near(labelDirection(lps, 'world', 'A'), [0, -1, 0]));
    assert.ok(near(labelDirection(lps, 'world', 'S'), [0, 0, 1]));
    // Seed grids flip voxel axis 0: R lies towards +x.
    assert.ok(near(labelDirection(lps, 'seed', 'R'), [1, 0, 0]));
    assert.ok(near(labelDirection(lps, 'seed', 'L'), [-1, 0, 0]));
    // Oblique: voxel axes are the columns of Q, so patient direction e lies along Qᵀe in the grid.
    const q = eulerZYX(0.5, -0.3, 0.2);
    const oblique = volumeWith(q, [2, 1.5, 3]);
    for (const [letter, patient] of [['R', [1, 0, 0]], ['P', [0, -1, 0]], ['S', [0, 0, 1]]] as const) {
      const expected = [0, 1, 2].map((axis) => q[axis] * patient[0] + q[3 + axis] * patient[1] + q[6 + axis] * patient[2]);
      assert.ok(near(labelDirection(oblique, 'world', letter), expected), `${letter}: ${labelDirection(oblique, 'world', letter)} vs ${expected}`);
      const seedExpected = [-expected[0], expected[1], expected[2]];
      assert.ok(near(labelDirection(oblique, 'seed', letter), seedExpected));
    }
  });

  test('LIDC CT: the labels agree with the orientation code of its affine', { skip: sharedPath('data/lidc2-chest-ct.nii.gz') ? false : SHARED_ABSENT }, async () => {
    const volume = await readNifti(sharedPath('data/lidc2-chest-ct.nii.gz')!);
    const code = orientationCode(volumeFrame(volume.affine, volume.shape).direction);
    const opposite: Record<string, string> = { R: 'L', L: 'R', A: 'P', P: 'A', S: 'I', I: 'S' };
    for (let axis = 0; axis < 3; axis++) {
      // Voxel axis `axis` points to code[axis]: that label lies towards +axis in the world grid, −axis (axis 0) in the seed grid.
      const world = labelDirection(volume, 'world', code[axis]);
      assert.ok(world[axis] > 0.99, `${code}: ${code[axis]} along +${axis}`);
      assert.ok(labelDirection(volume, 'world', opposite[code[axis]])[axis] < -0.99);
      const seed = labelDirection(volume, 'seed', code[axis]);
      assert.ok(axis === 0 ? seed[axis] < -0.99 : seed[axis] > 0.99);
    }
  });

  test('surface nets: a ball gives a closed surface at its radius', () => {
    const n = 24, radius = 7.3, centre = [11.2, 11.7, 12.1];
    const values = new Float32Array(n ** 3);
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) values[i + n * (j + n * k)] = radius - Math.hypot(i - centre[0], j - centre[1], k - centre[2]);
    const mesh = surfaceNets(values, [n, n, n], 0);
    assert.ok(mesh.indices.length > 1000);
    for (let v = 0; v < mesh.positions.length; v += 3) {
      const distance = Math.hypot(mesh.positions[v] - centre[0], mesh.positions[v + 1] - centre[1], mesh.positions[v + 2] - centre[2]);
      assert.ok(Math.abs(distance - radius) < 0.25, `vertex at ${distance}`);
    }
    // Closed and consistently oriented: every directed edge appears once, its reverse once.
    const edges = new Map<string, number>();
    for (let f = 0; f < mesh.indices.length; f += 3) {
      for (let e = 0; e < 3; e++) {
        const key = `${mesh.indices[f + e]},${mesh.indices[f + ((e + 1) % 3)]}`;
        edges.set(key, (edges.get(key) ?? 0) + 1);
      }
    }
    for (const [key, count] of edges) {
      assert.equal(count, 1, `edge ${key} used ${count} times`);
      const [a, b] = key.split(',');
      assert.equal(edges.get(`${b},${a}`), 1, `edge ${key} has no twin`);
    }
    // A surface touching the grid's faces is closed by the outside (below the level).
    const full = surfaceNets(new Float32Array(27).fill(1), [3, 3, 3], 0.5);
    assert.ok(full.indices.length > 0);
  });

  test('buildScene: surfaces in the grid box, world axes from the frame', () => {
    const volume = volumeWith(eulerZYX(0.3, 0, 0), [2, 2, 2]);
    const drr = new WorldDRR(volume, { sdd: 800, height: 8, delx: 4 });
    const scene = buildScene(volume, 'world', { cameras: [sceneCamera('a', '#fff', drr.rays(drr.defaultPose()))], worldToGrid: { rotation: drr.frame.worldToGridRotation, translation: drr.frame.worldToGridTranslation } });
    const positions = new Float32Array(base64ToBytes(scene.surfaces[0].positions).buffer);
    for (let v = 0; v < positions.length; v++) assert.ok(positions[v] >= -1e-3 && positions[v] <= scene.bounds[1][v % 3] + 1e-3);
    // The world origin (the CT centre) is the middle of the grid box.
    scene.worldAxes.origin.forEach((value, axis) => assert.ok(Math.abs(value - scene.bounds[1][axis] / 2) < 1e-9));
  });
});

describe('scene from the command line', () => {
  const run = async (args: string[]) => {
    const { spawnSync } = await import('node:child_process');
    const { repositoryRoot } = await import('./helpers.js');
    const path = await import('node:path');
    return spawnSync(process.execPath, [path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js'), ...args], { encoding: 'utf8' });
  };
  test('register --scene writes the initial, final and target cameras; scene refuses a non-HTML output', async () => {
    const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const folder = mkdtempSync(path.join(os.tmpdir(), 'drrkit-scene-cli-'));
    try {
      const result = await run(['register', '--init-random', '--strategy', 'tutorial', '--optimizer', 'adam', '--max-iterations', '2', '--scene', '--height', '24', '--delx', '33', '--out-dir', folder]);
      assert.equal(result.status, 0, result.stderr);
      const html = readFileSync(path.join(folder, 'scene.html'), 'utf8');
      const json = /<script type="application\/json" id="drrkit-scene">(.*?)<\/script>/s.exec(html)![1];
      const description = JSON.parse(json) as { cameras: { name: string }[]; surfaces: unknown[] };
      assert.deepEqual(description.cameras.map((camera) => camera.name), ['initial', 'final', 'target']);
      assert.equal(description.surfaces.length, 1);
      const bad = await run(['scene', '--out', path.join(folder, 'scene.png')]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^drrkit: .*scene\.png: the scene is an HTML page/);
      assert.ok(!existsSync(path.join(folder, 'scene.png')));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('scene --view places each camera at its C-arm view: AP source anterior, LL source on the right (detector left)', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const folder = mkdtempSync(path.join(os.tmpdir(), 'drrkit-scene-view-'));
    try {
      const out = path.join(folder, 'views.html');
      const result = await run(['scene', '--ct', 'head', '--geometry', 'world', '--sdd', '1000', '--view', 'AP', '--view', 'LL', '--height', '16', '--delx', '40', '--surface-downsample', '4', '--out', out]);
      assert.equal(result.status, 0, result.stderr);
      const json = /<script type="application\/json" id="drrkit-scene">(.*?)<\/script>/s.exec(readFileSync(out, 'utf8'))![1];
      const scene = JSON.parse(json) as { convention: string; bounds: number[][]; cameras: { name: string; source: number[] }[]; patientLabels: { text: string; position: number[] }[] };
      assert.equal(scene.convention, 'world');
      assert.deepEqual(scene.cameras.map((camera) => camera.name), ['AP', 'LL']);
      const centre = [0, 1, 2].map((axis) => (scene.bounds[0][axis] + scene.bounds[1][axis]) / 2);
      const unit = (v: number[]) => { const n = Math.hypot(...v); return v.map((x) => x / n); };
      const towards = (letter: string) => unit(scene.patientLabels.find((label) => label.text === letter)!.position.map((value, axis) => value - centre[axis]));
      const sourceDirection = (name: string) => unit(scene.cameras.find((camera) => camera.name === name)!.source.map((value, axis) => value - centre[axis]));
      const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
      assert.ok(dot(sourceDirection('AP'), towards('A')) > 0.99, 'the AP source is in front of the patient');
      assert.ok(dot(sourceDirection('LL'), towards('R')) > 0.99, 'the left-lateral source is on the patient\'s right');
      const both = await run(['scene', '--geometry', 'world', '--view', 'AP', '--rotation', '0,0,0', '--out', out]);
      assert.equal(both.status, 1);
      assert.match(both.stderr, /^drrkit: give either --view or --rotation/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
