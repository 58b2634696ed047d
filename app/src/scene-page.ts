/**
 * The script of the self-contained page `drrkit scene` writes: reads the scene description from
 * the page's <script type="application/json" id="drrkit-scene"> and draws it. No network.
 */
import type { SceneDescription } from '../../src/scene/scene.js';
import { SceneView } from './scene-view.js';

const data = document.getElementById('drrkit-scene');
const view = document.getElementById('view');
if (data && view) {
  const description = JSON.parse(data.textContent ?? '{}') as SceneDescription;
  const scene = new SceneView(view, description);
  const legend = document.getElementById('legend');
  if (legend) {
    const rows = [
      `<b>${description.title.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</b> — ${description.convention} geometry, grid frame (mm)`,
      ...description.cameras.map((camera) => `<span style="color:${camera.color}">■</span> camera “${camera.name}”: source, frustum, detector with its DRR, dashed principal ray`),
      ...description.surfaces.map((surface) => `<span style="color:${surface.color}">■</span> ${surface.name}`),
      'R/L A/P S/I: patient axes from the CT affine; arrows: world axes. Drag to orbit, wheel to zoom, right-drag to pan.',
    ];
    legend.innerHTML = rows.map((row) => `<div>${row}</div>`).join('');
  }
  (globalThis as unknown as { drrkitScene: SceneView }).drrkitScene = scene;
}
