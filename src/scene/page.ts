/**
 * The self-contained HTML page of a scene: the description as JSON and the prebuilt viewer
 * (three.js included, built by `npm run build` into dist/scene/scene-viewer.js) inlined, so the
 * page makes no network request when it is opened.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DrrkitError } from '../errors.js';
import type { SceneDescription } from './scene.js';

/** Where the viewer bundle lies: dist/scene/ beside dist/src/. */
export function sceneViewerPath(): string {
  return fileURLToPath(new URL('../../scene/scene-viewer.js', import.meta.url));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The page for `description`. Throws a DrrkitError when the viewer bundle has not been built. */
export function sceneHtml(description: SceneDescription): string {
  const viewer = sceneViewerPath();
  if (!existsSync(viewer)) throw new DrrkitError(`the 3-D viewer bundle ${viewer} is missing; run "npm run build" first`, viewer);
  const script = readFileSync(viewer, 'utf8').replace(/<\/script/gi, '<\\/script');
  const json = JSON.stringify(description).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:">
<title>drrkit scene: ${escapeHtml(description.title)}</title>
<style>html,body{margin:0;height:100%;background:#15171c;color:#d8dee9;font:13px system-ui,sans-serif}#view{position:absolute;inset:0}#legend{position:absolute;left:10px;top:8px;max-width:60%;background:rgba(21,23,28,.75);padding:6px 8px;border-radius:4px;pointer-events:none}#legend div{margin:2px 0}</style>
</head><body><div id="view"></div><div id="legend"></div>
<script type="application/json" id="drrkit-scene">${json}</script>
<script>${script}</script>
</body></html>
`;
}
