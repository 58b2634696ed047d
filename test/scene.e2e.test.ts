/**
 * The page `drrkit scene` writes, opened in headless Chromium (Debian's /usr/bin/chromium or
 * CHROMIUM_PATH; skips otherwise): no network request besides the file itself, no page error,
 * a drawn (non-blank) canvas, and the detector drawn where the renderer's corner pixels are.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repositoryRoot } from './helpers.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(chromiumPath) ? false : `chromium not found at ${chromiumPath} (install Debian's chromium, as .ci/run does, or set CHROMIUM_PATH)`;
const scratch = mkdtempSync(join(tmpdir(), 'drrkit-scene-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** WebGL through SwiftShader (software), so the test needs no GPU. */
export const WEBGL_CHROMIUM_FLAGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

test('drrkit scene: a self-contained page that draws in headless Chromium without network', { skip, timeout: 180_000 }, async () => {
  const page = join(scratch, 'scene.html');
  const cli = join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
  const result = spawnSync(process.execPath, [cli, 'scene', '--ct', 'example', '--height', '48', '--delx', '16', '--surface-downsample', '4',
    '--rotation', '3.14159,0,1.5708', '--rotation', '2.2,0.1,1.5708', '--names', 'first;second', '--out', page], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const html = readFileSync(page, 'utf8');
  assert.ok(!/\b(src|href)=["']https?:/i.test(html), 'no external resources');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: WEBGL_CHROMIUM_FLAGS });
  try {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const requests: string[] = [];
    const errors: string[] = [];
    const pageUrl = `file://${page}`;
    await context.route('**/*', (route) => {
      if (route.request().url() === pageUrl) return route.continue();
      requests.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    const tab = await context.newPage();
    tab.on('request', (request) => { if (request.url() !== pageUrl) requests.push(`seen: ${request.url()}`); });
    tab.on('pageerror', (error) => errors.push(String(error)));
    tab.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await tab.goto(pageUrl);
    await tab.waitForFunction(() => (globalThis as { drrkitScene?: unknown }).drrkitScene !== undefined, null, { timeout: 60_000 });
    await tab.waitForTimeout(500);
    const report = await tab.evaluate(() => {
      const view = (globalThis as unknown as { drrkitScene: { renderNow(): void; renderer: { domElement: HTMLCanvasElement }; description: { cameras: { detectorCorners: number[][] }[] }; screenPosition(p: number[]): { x: number; y: number } } }).drrkitScene;
      view.renderNow();
      const canvas = view.renderer.domElement;
      const copy = document.createElement('canvas');
      copy.width = canvas.width; copy.height = canvas.height;
      const context = copy.getContext('2d')!;
      context.drawImage(canvas, 0, 0);
      const pixels = context.getImageData(0, 0, copy.width, copy.height).data;
      let drawn = 0;
      for (let p = 0; p < pixels.length; p += 4) if (Math.abs(pixels[p] - 0x15) + Math.abs(pixels[p + 1] - 0x17) + Math.abs(pixels[p + 2] - 0x1c) > 30) drawn++;
      const corners = view.description.cameras[0].detectorCorners.map((corner) => view.screenPosition(corner));
      return { drawn, total: pixels.length / 4, width: canvas.clientWidth, height: canvas.clientHeight, corners, labels: document.getElementById('legend')?.textContent ?? '' };
    });
    assert.deepEqual(requests, [], 'no network request');
    assert.deepEqual(errors, [], 'no page error');
    assert.ok(report.drawn > 0.05 * report.total, `only ${report.drawn} of ${report.total} pixels drawn`);
    assert.match(report.labels, /camera “first”/);
    // The first detector is on screen, a proper quadrilateral.
    for (const corner of report.corners) assert.ok(corner.x > -report.width && corner.x < 2 * report.width && corner.y > -report.height && corner.y < 2 * report.height);
    await tab.screenshot({ path: join(scratch, 'scene.png') });
  } finally {
    await browser.close();
  }
});
