/**
 * End-to-end test of the browser app (app/) in headless Chromium: builds the app with Vite, serves
 * the static build from 127.0.0.1 with the cross-origin isolation headers, and drives the page
 * with playwright-core: the example CT renders on the library's render pool (pixel-identical to one
 * thread), the DRR follows a pose control, the slice views are labelled from the affine, frames
 * per second are measured, a bad file gives a readable error, a synthetic target is registered
 * with a plain optimizer (stopped, resumed, converged), results export; then the shared LIDC CT is
 * loaded through the file input into the pinhole (patient-frame) geometry, a target is made and
 * the robust strategy converges in the browser; no request leaves 127.0.0.1.
 *
 * Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it) or CHROMIUM_PATH; skips with
 * a message otherwise. The LIDC part needs ../shared and skips (as a subtest) with a message
 * when it is absent. Screenshots go to output/app-e2e/ (and to DRRKIT_APP_SCREENSHOTS if set).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SHARED_ABSENT, sharedPath } from './helpers.js';

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  // WebGPU on SwiftShader (software): the ?webgpu=force page renders and registers on it.
  '--enable-unsafe-webgpu',
];
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.wasm': 'application/wasm',
};

/** A static server for `root` on 127.0.0.1 (random port) that sends the COOP/COEP headers. */
async function serveStatic(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) && file !== root) { response.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Cache-Control': 'no-store',
      });
      response.end(body);
    } catch {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

const lidcPath = sharedPath('data/lidc2-chest-ct.nii.gz');
const skip = existsSync(chromiumPath) ? false : `chromium not found at ${chromiumPath} (install Debian's chromium: apt-get install chromium, as .ci/run does, or set CHROMIUM_PATH)`;

test('browser app: live DRRs and registration in headless Chromium', { skip, timeout: 300_000 }, async (t) => {
  const started = performance.now();
  const outDir = await mkdtemp(join(tmpdir(), 'drrkit-app-'));
  const { build } = await import('vite');
  process.env.DRRKIT_APP_LOG_LEVEL = 'error';
  await build({ configFile: join(repoRoot, 'app/vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  t.diagnostic(`vite build: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const { server, url } = await serveStatic(outDir);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_FLAGS });
  const shots = join(repoRoot, 'output/app-e2e');
  await mkdir(shots, { recursive: true });
  const extraShots = process.env.DRRKIT_APP_SCREENSHOTS ? resolve(repoRoot, process.env.DRRKIT_APP_SCREENSHOTS) : null;
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 980 }, acceptDownloads: true });
    const outside: string[] = [];
    await context.route('**/*', (route) => {
      const requested = new URL(route.request().url());
      if (requested.hostname === '127.0.0.1') return route.continue();
      outside.push(requested.href);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });

    const attribute = (name: string) => page.evaluate((key) => document.body.dataset[key] ?? '', name);
    /** Mean, spread and a checksum of a canvas's pixels. */
    const canvasStats = (id: string) => page.evaluate((canvasId) => {
      const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let sum = 0, sumSquares = 0, hash = 0;
      for (let i = 0; i < data.length; i += 4) {
        sum += data[i]; sumSquares += data[i] * data[i];
        hash = (hash * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
      }
      const n = data.length / 4, mean = sum / n;
      return { mean, std: Math.sqrt(Math.max(0, sumSquares / n - mean * mean)), hash, width: canvas.width, height: canvas.height };
    }, id);

    // Two render threads whatever the machine, so the library's pool is exercised everywhere (1-thread page below).
    await page.goto(`${url}?threads=2`);
    assert.equal(await page.evaluate(() => window.crossOriginIsolated), true, 'the page is cross-origin isolated');

    // 1. The example CT renders: the DRR canvas is not blank.
    await page.waitForFunction(() => document.body.dataset.volume === 'loaded' && Number(document.body.dataset.frames ?? 0) > 0, null, { timeout: 60_000 });
    const first = await canvasStats('drr');
    assert.equal(first.width, 128);
    assert.ok(first.std > 10, `the DRR is not blank (pixel spread ${first.std.toFixed(1)})`);
    const threads = Number(await attribute('threads'));
    t.diagnostic(`example CT rendered after ${((performance.now() - started) / 1000).toFixed(1)} s (its DRR built and the pool started in ${await attribute('geometrySeconds')} s), ${threads} render thread(s)`);
    assert.equal(threads, 2, 'the page renders on the library\'s pool with the 2 threads asked for');
    assert.equal(await attribute('geometry'), 'seed', 'the example CT opens in the tutorial geometry');
    // The example CT's voxel axes are P, L, I: the views are still axial, coronal and sagittal in radiological layout.
    assert.equal(await attribute('sliceLabels'), 'axial:RLAP coronal:RLSI sagittal:APSI');
    assert.match(await page.textContent('#caption-axial') ?? '', /^Axial · R–L across, A–P down$/);

    // 2. Moving a pose control changes the DRR.
    await page.evaluate(() => {
      const input = document.getElementById('beta') as HTMLInputElement;
      input.value = '20';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction((hash) => {
      const canvas = document.getElementById('drr') as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let h = 0;
      for (let i = 0; i < data.length; i += 4) h = (h * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
      return h !== hash;
    }, first.hash, { timeout: 20_000 });
    const moved = await canvasStats('drr');
    assert.ok(moved.std > 10, 'the DRR after the pose change is not blank');
    await page.click('#reset-pose');
    await page.waitForFunction((hash) => {
      const canvas = document.getElementById('drr') as HTMLCanvasElement;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let h = 0;
      for (let i = 0; i < data.length; i += 4) h = (h * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
      return h === hash;
    }, first.hash, { timeout: 20_000 });

    // The same view rendered by one thread is the same image, pixel for pixel.
    if (threads > 1) {
      const single = await context.newPage();
      await single.goto(`${url}?threads=1`);
      await single.waitForFunction(() => document.body.dataset.volume === 'loaded' && Number(document.body.dataset.frames ?? 0) > 0, null, { timeout: 60_000 });
      const one = await single.evaluate(() => {
        const canvas = document.getElementById('drr') as HTMLCanvasElement;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let h = 0;
        for (let i = 0; i < data.length; i += 4) h = (h * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
        return { hash: h, threads: document.body.dataset.threads };
      });
      assert.equal(one.threads, '1');
      assert.equal(one.hash, first.hash, `the ${threads}-thread DRR equals the 1-thread DRR`);
      await single.close();
    }

    // 3. Frames per second at 128×128, measured by the page through its live pipeline.
    await page.click('#measure-fps');
    await page.waitForFunction(() => (document.body.dataset.fps ?? '') !== '', null, { timeout: 60_000 });
    const fps = Number(await attribute('fps'));
    t.diagnostic(`live DRR at 128×128: ${fps.toFixed(1)} frames/s shown (${threads} render threads)`);
    assert.ok(fps > 1, `frames per second ${fps}`);

    // 4. A file that is not a CT gives a sentence in the page, and the app keeps working.
    await page.setInputFiles('#ct-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not voxels\n') });
    await page.waitForSelector('#banner:not([hidden])', { timeout: 20_000 });
    const bannerText = await page.textContent('#banner-text');
    assert.match(bannerText ?? '', /Could not read the CT: notes\.txt: not a CT volume/);
    await page.click('#banner-close');
    await page.screenshot({ path: join(shots, 'live.png'), fullPage: true });
    if (extraShots) await page.screenshot({ path: join(extraShots, 'app-live.png'), fullPage: true });

    // 5. Make a target from a hidden pose, register, stop, resume, converge.
    await page.fill('#seed', '7');
    await page.click('#make-target');
    await page.waitForFunction(() => document.body.dataset.target === 'ready', null, { timeout: 20_000 });
    assert.ok((await canvasStats('target')).std > 10, 'the target is not blank');
    await page.selectOption('#strategy', 'plain');
    await page.selectOption('#optimizer', 'adam');
    await page.click('#register');
    await page.waitForFunction(() => Number(document.body.dataset.iterations ?? 0) >= 3, null, { timeout: 30_000 });
    await page.click('#stop');
    // A liveness wait, not a timing: on a loaded 2-core machine SwiftShader's drawing can hold the page's thread for seconds.
    await page.waitForFunction(() => document.body.dataset.registration === 'stopped', null, { timeout: 90_000 });
    const stoppedAt = Number(await attribute('iterations'));
    await page.click('#resume');
    await page.waitForFunction(() => !['running', 'stopped'].includes(document.body.dataset.registration ?? 'running'), null, { timeout: 90_000 });
    const outcome = await attribute('registration');
    const finalLoss = Number(await attribute('finalLoss'));
    const iterations = Number(await attribute('iterations'));
    t.diagnostic(`registration: ${outcome} after ${iterations} iterations (stopped at ${stoppedAt}, resumed), NCC ${finalLoss.toFixed(4)}; ${await page.textContent('#run-info')}`);
    assert.equal(outcome, 'converged');
    assert.ok(finalLoss > 0.999, `final NCC ${finalLoss}`);
    assert.ok(iterations > stoppedAt);
    await page.waitForTimeout(300); // the last plot redraw
    await page.screenshot({ path: join(shots, 'registration.png'), fullPage: true });
    if (extraShots) {
      await page.screenshot({ path: join(extraShots, 'app-registration.png'), fullPage: true });
      await page.selectOption('#compare-mode', 'difference');
      await page.locator('.workspace .card').first().screenshot({ path: join(extraShots, 'app-views.png') });
      await page.selectOption('#compare-mode', 'overlay');
    }

    // 6. Exports: trajectory CSV and animation GIF.
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = await readFile(await csvDownload.path());
    assert.match(csv.toString('utf8'), /^iteration,alpha,beta,gamma,bx,by,bz,loss\n0,/);
    const [gifDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-gif')]);
    const gifPath = await gifDownload.path();
    const gif = await readFile(gifPath);
    assert.equal(gif.subarray(0, 6).toString('latin1'), 'GIF89a');
    assert.ok((await stat(gifPath)).size > 1000);
    const [poseDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-pose')]);
    const pose = JSON.parse((await readFile(await poseDownload.path())).toString('utf8')) as { converged: boolean; rotation: number[] };
    assert.equal(pose.converged, true);
    assert.equal(pose.rotation.length, 3);
    await writeFile(join(shots, 'registration.gif'), gif);

    // 7. The LIDC chest CT through the file input: pinhole geometry in the patient frame, slice views
    //    labelled from its affine (voxel axes L, A, I), a synthetic target, and the robust strategy.
    await t.test('LIDC CT: file input, world geometry, robust registration', { skip: lidcPath ? false : SHARED_ABSENT }, async () => {
      const loadStarted = performance.now();
      await page.setInputFiles('#ct-file', lidcPath!);
      await page.waitForFunction(() => /lidc2-chest-ct/.test(document.getElementById('volume-info')?.textContent ?? '') && (document.body.dataset.geometryReady ?? '').startsWith('pinhole'), null, { timeout: 60_000 });
      t.diagnostic(`LIDC CT loaded and its pinhole DRR built in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s: ${await page.textContent('#volume-info')}`);
      assert.equal(await attribute('geometry'), 'pinhole', 'a CT file opens in the patient-frame geometry');
      assert.equal(await attribute('sliceLabels'), 'axial:RLAP coronal:RLSI sagittal:APSI');
      assert.match(await page.textContent('#orientation-code') ?? '', /voxel axes LAI/);
      for (const [plane, caption] of [['axial', 'Axial · R–L across, A–P down'], ['coronal', 'Coronal · R–L across, S–I down'], ['sagittal', 'Sagittal · A–P across, S–I down']]) {
        assert.equal(await page.textContent(`#caption-${plane}`), caption);
      }
      // A small detector keeps the registration short: 64 × 64 pixels of 12.5 mm (the same field of view).
      const geometryBefore = await attribute('geometryReady');
      await page.evaluate(() => {
        for (const [id, value] of [['size', '64'], ['delx', '12.5']]) {
          const input = document.getElementById(id) as HTMLInputElement;
          input.value = value;
          input.dispatchEvent(new Event('input', { bubbles: true }));
        }
      });
      await page.waitForFunction((before) => (document.body.dataset.geometryReady ?? '') !== before, geometryBefore, { timeout: 30_000 });
      await page.waitForFunction(() => (document.getElementById('drr') as HTMLCanvasElement).width === 64, null, { timeout: 20_000 });
      const ap = await canvasStats('drr');
      assert.ok(ap.std > 10, 'the LIDC AP view is not blank');
      // Frames per second of the pinhole camera at 64 × 64 on the pool.
      await page.click('#measure-fps');
      await page.waitForFunction(() => (document.body.dataset.fps ?? '') !== '' && /64×64/.test(document.getElementById('fps-result')?.textContent ?? ''), null, { timeout: 60_000 });
      t.diagnostic(`LIDC pinhole DRR at 64×64: ${Number(await attribute('fps')).toFixed(1)} frames/s shown (${await attribute('threads')} render threads)`);
      await page.fill('#seed', '3');
      await page.click('#make-target');
      await page.waitForFunction(() => document.body.dataset.target === 'ready', null, { timeout: 20_000 });
      await page.selectOption('#strategy', 'robust');
      // Stop works during the robust strategy, and the outcome says so.
      await page.click('#register');
      await page.waitForFunction(() => document.body.dataset.stage !== undefined && document.body.dataset.registration === 'running', null, { timeout: 30_000 });
      await page.click('#stop');
      await page.waitForFunction(() => document.body.dataset.registration === 'stopped', null, { timeout: 30_000 });
      assert.match(await page.textContent('#run-info') ?? '', /^Not converged: stopped/);
      // The full run.
      await page.click('#reset-run');
      await page.click('#register');
      await page.waitForFunction(() => !['running', undefined].includes(document.body.dataset.registration), null, { timeout: 120_000 });
      const robustOutcome = await attribute('registration');
      const robustScore = Number(await attribute('finalLoss'));
      t.diagnostic(`robust registration on the LIDC CT (64×64, pinhole AP, ${await attribute('threads')} threads): ${robustOutcome}, NCC ${robustScore.toFixed(6)}, ${await attribute('registrationSeconds')} s, ${await attribute('workerChunks')} image chunks rendered by pool workers; ${await page.textContent('#run-info')}`);
      assert.equal(robustOutcome, 'converged');
      assert.ok(robustScore > 0.999, `final NCC ${robustScore}`);
      assert.match(await page.textContent('#run-info') ?? '', /^Converged \(\d+ search poses/);
      assert.ok(Number(await attribute('workerChunks')) > 0, 'the library\'s pool workers rendered part of the registration');
      assert.match(await page.textContent('#chip-threads') ?? '', /2 threads \(drrkit render pool\)/);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(shots, 'lidc-registration.png'), fullPage: true });
      if (extraShots) await page.screenshot({ path: join(extraShots, 'app-lidc.png'), fullPage: true });
    });

    // 7b. ?webgpu=force: WebGPU (SwiftShader here) renders the live DRR after its check against the
    // CPU kernels, and a plain Adam registration runs on it.
    const webgpu = await attribute('webgpu');
    assert.ok(['renders', 'available', 'none'].includes(webgpu), `the WebGPU chip reports a state (${webgpu})`);
    if (webgpu !== 'none') {
      const forced = await context.newPage();
      forced.on('pageerror', (error) => problems.push(`webgpu page error: ${error.message}`));
      forced.on('console', (message) => { if (message.type() === 'error') problems.push(`webgpu console: ${message.text()}`); });
      await forced.goto(`${url}?webgpu=force&threads=1`);
      await forced.waitForFunction(() => document.body.dataset.volume === 'loaded' && Number(document.body.dataset.frames ?? 0) > 0 && ['renders', 'available'].includes(document.body.dataset.webgpu ?? '') && (document.body.dataset.webgpuCheck ?? '') !== '', null, { timeout: 120_000 });
      const check = Number(await forced.evaluate(() => document.body.dataset.webgpuCheck));
      t.diagnostic(`WebGPU (${await forced.textContent('#chip-gpu')}): relative L2 to the CPU image ${check.toExponential(2)}`);
      assert.ok(check <= 1e-4, `the WebGPU image equals the CPU one (relative L2 ${check})`);
      assert.equal(await forced.evaluate(() => document.body.dataset.webgpu), 'renders');
      const gpuFrame = await forced.evaluate(() => {
        const canvas = document.getElementById('drr') as HTMLCanvasElement;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let sum = 0;
        for (let i = 0; i < data.length; i += 4) sum += data[i];
        return sum / (data.length / 4);
      });
      assert.ok(Math.abs(gpuFrame - first.mean) < 0.5, `the WebGPU live DRR looks like the CPU one (mean ${gpuFrame} vs ${first.mean})`);
      await forced.fill('#seed', '7');
      await forced.click('#make-target');
      await forced.waitForFunction(() => document.body.dataset.target === 'ready', null, { timeout: 30_000 });
      await forced.selectOption('#strategy', 'plain');
      await forced.selectOption('#optimizer', 'adam');
      await forced.click('#register');
      await forced.waitForFunction(() => Number(document.body.dataset.iterations ?? 0) >= 2, null, { timeout: 90_000 });
      assert.match(await forced.textContent('#run-info') ?? '', /on WebGPU/);
      await forced.click('#stop');
      await forced.waitForFunction(() => !['running'].includes(document.body.dataset.registration ?? 'running'), null, { timeout: 60_000 });
      // The robust strategy on WebGPU: batched search renders, the pyramid's levels as WebGPU
      // twins, the sparse L-BFGS refinement's gradients reduced on the device.
      await forced.click('#reset-run');
      await forced.selectOption('#strategy', 'robust');
      await forced.click('#register');
      await forced.waitForFunction(() => !['running', undefined].includes(document.body.dataset.registration), null, { timeout: 180_000 });
      const gpuRun = await forced.textContent('#run-info') ?? '';
      t.diagnostic(`robust registration on WebGPU (${await forced.evaluate(() => document.body.dataset.registrationSeconds)} s): ${gpuRun}`);
      assert.equal(await forced.evaluate(() => document.body.dataset.registrationBackend), 'webgpu');
      assert.equal(await forced.evaluate(() => document.body.dataset.registration), 'converged', gpuRun);
      assert.match(gpuRun, /on WebGPU/);
      assert.ok(Number(await forced.evaluate(() => document.body.dataset.finalLoss)) > 0.999, gpuRun);
      assert.equal(await forced.isHidden('#banner'), true, 'no error banner on the WebGPU page');
      await forced.close();
    }

    // 8. Offline: nothing was asked of any host but 127.0.0.1, and nothing went wrong in the page.
    assert.deepEqual(outside, [], 'no request left 127.0.0.1');
    assert.deepEqual(problems, [], 'no page errors or console errors');
    assert.equal(await page.isHidden('#banner'), true, 'no error banner at the end');
    t.diagnostic(`WebGPU in this browser: ${await attribute('webgpu')}; e2e total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
    server.close();
    await rm(outDir, { recursive: true, force: true });
  }
});
