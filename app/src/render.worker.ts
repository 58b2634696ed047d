/**
 * A render worker of the library's render pool (src/render/render-pool.ts): the library's own
 * worker script, made a Vite worker entry. The engine registers it with `setWebRenderWorker`
 * (src/render/worker-platform.ts), so the pool's Web Workers load this bundle.
 */
import '../../src/render/render-worker.js';
