/**
 * The app's 3-D view: the CT surface (built in the engine worker), the moving camera at the pose
 * sliders' pose with its DRR on the detector, and the target camera when its pose is known. The
 * cameras are built from the rays the engine traced (`DRR.rays`, its grid frame), so the view is
 * right for the seed C-arm and the pinhole camera alike.
 */
import type { SceneCamera, SceneDescription } from '../../src/scene/scene.js';
import { SceneView } from './scene-view.js';

/** The 3-D panel; draws nothing until the engine sends the scene. */
export class ScenePanel {
  #view: SceneView | null = null;
  #framed = false;
  #cameras: SceneCamera[] = [];

  constructor(readonly container: HTMLElement) {}

  /** The view (null before the first scene), for tests. */
  get view(): SceneView | null {
    return this.#view;
  }

  /** Removes the view (a new CT is loading). */
  clear(): void {
    this.#view?.dispose();
    this.#view = null;
    this.#framed = false;
    this.#cameras = [];
  }

  /** A new CT: replaces the view. */
  setScene(description: SceneDescription): void {
    this.#view?.dispose();
    this.#view = null;
    this.container.querySelector('.scene-message')?.remove();
    try {
      this.#view = new SceneView(this.container, { ...description, cameras: this.#cameras });
    } catch (error) {
      // No WebGL here (some headless or locked-down browsers): say so instead of failing the page.
      this.container.querySelectorAll('canvas').forEach((canvas) => canvas.remove());
      const message = document.createElement('div');
      message.className = 'placeholder scene-message';
      message.textContent = `The 3-D view needs WebGL, which this browser did not provide (${error instanceof Error ? error.message : String(error)}).`;
      this.container.appendChild(message);
      return;
    }
    this.#framed = this.#cameras.length > 0;
  }

  /** Shows these cameras (the first time with a viewpoint that frames them). */
  showCameras(cameras: SceneCamera[]): void {
    this.#cameras = cameras;
    if (!this.#view) return;
    this.#view.setCameras(cameras, !this.#framed);
    this.#framed = true;
  }
}
