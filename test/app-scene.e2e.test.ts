/**
 * The browser app's 3-D view in headless Chromium (WebGL through SwiftShader): it draws, it
 * follows the pose sliders, and its patient-axis letters agree with the CT's affine for the example
 * CT, the LIDC CT (from ../shared, when present) and an oblique test volume. No request leaves
 * 127.0.0.1. Screenshot: output/app-scene-e2e/app-scene.png. Needs /usr/bin/chromium or CHROMIUM_PATH.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeNifti } from '../src/io/nifti.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { createVolume, type Volume } from '../src/volume/volume.js';
import { readNifti } from '../src/io/nifti.js';
import { eulerZYX, sharedPath } from './helpers.js';

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(chromiumPath) ? false : `chromium not found at ${chromiumPath} (install Debian's chromium, as .ci/run does, or set CHROMIUM_PATH)`;
const FLAGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm' };

async function serveStatic(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep)) { response.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/**
 * Unit grid-frame direction of each patient letter, from the affine alone: row p of D, with column 0
 * negated in the seed frame (the seed grid flips voxel axis 0); the world frame's grid is voxel-aligned.
 */
function expectedDirections(volume: Volume, convention: 'seed' | 'world'): Record<string, number[]> {
  const a = volume.affine;
  const columns = [0, 1, 2].map((c) => { const v = [a[c], a[4 + c], a[8 + c]]; const n = Math.hypot(...v); return v.map((x) => x / n); });
  const out: Record<string, number[]> = {};
  ['R', 'A', 'S'].forEach((letter, p) => {
    const direction = [(convention === 'seed' ? -1 : 1) * columns[0][p], columns[1][p], columns[2][p]];
    out[letter] = direction;
    out[{ R: 'L', A: 'P', S: 'I' }[letter]!] = direction.map((x) => -x);
  });
  return out;
}

test('browser app: the 3-D view draws, follows the pose, and labels the patient axes from the affine', { skip, timeout: 300_000 }, async (t) => {
  const outDir = await mkdtemp(join(tmpdir(), 'drrkit-app-scene-'));
  const { build } = await import('vite');
  process.env.DRRKIT_APP_LOG_LEVEL = 'error';
  await build({ configFile: join(repoRoot, 'app/vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const { server, url } = await serveStatic(outDir);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: FLAGS });
  const shots = join(repoRoot, 'output/app-scene-e2e');
  await mkdir(shots, { recursive: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1500 } });
    const outside: string[] = [];
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
      outside.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.scene === 'ready' && Number(document.body.dataset.frames ?? 0) > 0, null, { timeout: 90_000 });

    /** Pixel checksum and drawn fraction of the 3-D canvas, after a synchronous redraw. */
    const sceneStats = () => page.evaluate(() => {
      const view = (globalThis as unknown as { drrkitScenePanel: { view: { renderNow(): void; renderer: { domElement: HTMLCanvasElement } } | null } }).drrkitScenePanel.view!;
      view.renderNow();
      const canvas = view.renderer.domElement;
      const copy = document.createElement('canvas');
      copy.width = canvas.width; copy.height = canvas.height;
      const context2d = copy.getContext('2d')!;
      context2d.drawImage(canvas, 0, 0);
      const { data } = context2d.getImageData(0, 0, copy.width, copy.height);
      let drawn = 0, hash = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - 0x15) + Math.abs(data[i + 1] - 0x17) + Math.abs(data[i + 2] - 0x1c) > 30) drawn++;
        hash = (hash * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
      }
      return { drawn: drawn / (data.length / 4), hash };
    });
    /** Unit direction from the box centre to each patient letter as drawn in the three.js scene. */
    const drawnDirections = () => page.evaluate(() => {
      const view = (globalThis as unknown as { drrkitScenePanel: { view: { scene: { getObjectByName(name: string): { position: { x: number; y: number; z: number } } | undefined }; description: { bounds: number[][]; convention: 'seed' | 'world' } } | null } }).drrkitScenePanel.view!;
      const [low, high] = view.description.bounds;
      const out: Record<string, number[]> = {};
      for (const letter of ['R', 'L', 'A', 'P', 'S', 'I']) {
        const { x, y, z } = view.scene.getObjectByName(`patient:${letter}`)!.position;
        const d = [x - (low[0] + high[0]) / 2, y - (low[1] + high[1]) / 2, z - (low[2] + high[2]) / 2];
        const n = Math.hypot(...d);
        out[letter] = d.map((value) => value / n);
      }
      return { directions: out, convention: view.description.convention };
    });
    const checkLabels = async (volume: Volume, what: string) => {
      const { directions: drawn, convention } = await drawnDirections();
      const expected = expectedDirections(volume, convention);
      for (const letter of Object.keys(expected)) {
        const error = Math.max(...expected[letter].map((value, axis) => Math.abs(value - drawn[letter][axis])));
        assert.ok(error < 1e-6, `${what} (${convention} frame): ${letter} drawn towards ${drawn[letter].map((v) => v.toFixed(3))}, affine says ${expected[letter].map((v) => v.toFixed(3))}`);
      }
    };

    // The example CT: the view draws, and its letters follow its affine.
    await page.locator('#scene-view').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    const first = await sceneStats();
    assert.ok(first.drawn > 0.05, `3-D canvas drawn fraction ${first.drawn}`);
    await checkLabels(loadExampleCT(), 'example CT');
    await page.locator('#scene-view').screenshot({ path: join(shots, 'app-scene.png') });

    // Moving a pose slider moves the camera in the 3-D view.
    await page.evaluate(() => {
      const input = document.getElementById('beta') as HTMLInputElement;
      input.value = '25';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => document.body.dataset.drrFrame !== undefined, null, { timeout: 20_000 });
    let moved = first;
    for (let attempt = 0; attempt < 40 && moved.hash === first.hash; attempt++) { await page.waitForTimeout(250); moved = await sceneStats(); }
    assert.notEqual(moved.hash, first.hash, 'the 3-D view changed when the pose slider moved');

    // An oblique volume and the LIDC CT, loaded through the file input.
    const n = 24;
    const data = new Float32Array(n ** 3).fill(-1000);
    for (let k = 4; k < 20; k++) for (let j = 6; j < 18; j++) for (let i = 3; i < 21; i++) data[i + n * (j + n * k)] = i < 8 ? 1200 : 40;
    const rotation = eulerZYX(0.6, -0.35, 0.25);
    const affine = new Float64Array(16);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) affine[4 * r + c] = rotation[3 * r + c] * [3, 2.5, 4][c];
    affine[3] = -30; affine[7] = 12; affine[11] = 40; affine[15] = 1;
    const oblique = createVolume({ data, shape: [n, n, n], spacing: [3, 2.5, 4], affine, source: 'oblique' });
    const volumes: { volume: Volume; name: string; bytes: Buffer }[] = [{ volume: oblique, name: 'oblique.nii', bytes: Buffer.from(encodeNifti(oblique)) }];
    const lidc = sharedPath('data/lidc2-chest-ct.nii.gz');
    if (lidc) volumes.push({ volume: await readNifti(lidc), name: 'lidc2-chest-ct.nii.gz', bytes: await readFile(lidc) });
    else t.diagnostic('LIDC CT absent (../shared): checked the example and the oblique volume only');
    for (const { volume, name, bytes } of volumes) {
      await page.evaluate(() => { document.body.dataset.scene = 'loading'; });
      await page.setInputFiles('#ct-file', { name, mimeType: 'application/octet-stream', buffer: bytes });
      await page.waitForFunction(() => document.body.dataset.scene === 'ready', null, { timeout: 120_000 });
      await checkLabels(volume, name);
      const stats = await sceneStats();
      assert.ok(stats.drawn > 0.02, `${name}: 3-D canvas drawn fraction ${stats.drawn}`);
      if (name.startsWith('lidc')) await page.locator('#scene-view').screenshot({ path: join(shots, 'app-scene-lidc.png') });
    }
    assert.deepEqual(problems, [], 'no page errors');
    assert.deepEqual(outside, [], 'no request left 127.0.0.1');
  } finally {
    await browser.close();
    server.close();
    await rm(outDir, { recursive: true, force: true });
  }
});
