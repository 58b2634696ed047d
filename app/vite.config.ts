import { fileURLToPath } from 'node:url';
import { createLogger, defineConfig, type LogLevel } from 'vite';

const appRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Cross-origin isolation: SharedArrayBuffer (and so the multi-threaded renderer) needs both. */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The library's Node-only helpers (file I/O, WebP) are imported lazily and never run in the page;
 * Vite's notes that it stubbed their Node built-ins are noise here.
 */
const logger = createLogger((process.env.DRRKIT_APP_LOG_LEVEL as LogLevel | undefined) ?? 'info');
const quiet = (message: string) => /externalized for browser compatibility|INEFFECTIVE_DYNAMIC_IMPORT/.test(message);
const { warn, warnOnce } = logger;
logger.warn = (message, options) => { if (!quiet(message)) warn(message, options); };
logger.warnOnce = (message, options) => { if (!quiet(message)) warnOnce(message, options); };

export default defineConfig({
  root: appRoot,
  customLogger: logger,
  base: './',
  server: { headers: isolationHeaders, fs: { allow: [repoRoot] } },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
});
