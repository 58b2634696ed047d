import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The viewer of `drrkit scene` pages: app/src/scene-page.ts with three.js bundled into one
 * classic script (dist/scene/scene-viewer.js) that the CLI inlines into each page.
 */
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: repoRoot,
  logLevel: 'warn',
  publicDir: false,
  define: { 'process.env.NODE_ENV': '"production"' },
  build: {
    outDir: 'dist/scene',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
    lib: {
      entry: fileURLToPath(new URL('src/scene-page.ts', import.meta.url)),
      formats: ['iife'],
      name: 'DrrkitScenePage',
      fileName: () => 'scene-viewer.js',
    },
  },
});
