/**
 * The app's 3-D view: the CT surface (built in the engine worker), the moving camera at the pose
 * sliders' pose with its DRR on the detector, and the target camera when its pose is known. The
 * cameras come from `rayGridForPose` with the engine's detector — the rays the engine renders.
 */
import { createDetector, rayGridForPose, type DetectorOptions } from '../../src/geometry/detector.js';
import { poseFromParameters } from '../../src/geometry/pose.js';
import { sceneCamera, type SceneCamera, type SceneDescription } from '../../src/scene/scene.js';
import type { PoseMessage } from './protocol.js';
import { SceneView } from './scene-view.js';

/** A camera at a ZYX Euler pose (radians, mm) of the seed detector, with an optional image. */
export function appCamera(name: string, color: string, detector: DetectorOptions, pose: PoseMessage, image?: Float32Array): SceneCamera {
  const transform = poseFromParameters({ rotation: Float64Array.from(pose.rotation), translation: Float64Array.from(pose.translation), parameterization: 'euler_angles', convention: 'ZYX' });
  return sceneCamera(name, color, rayGridForPose(createDetector(detector), transform), image);
}

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
