/**
 * The 3-D view of a render's geometry with three.js: the CT surface, label surfaces, each
 * camera's source, frustum, detector (textured with its DRR) and principal ray, patient-axis
 * letters and world axes, with orbit and zoom. Draws a `SceneDescription` (src/scene/scene.ts);
 * used by the app's 3-D panel and by the page `drrkit scene` writes. Renders on demand.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { base64ToBytes, type SceneCamera, type SceneDescription, type SceneSurface } from '../../src/scene/scene.js';

/** A text label as a sprite that always faces the viewer. */
function textSprite(text: string, color: string, height: number): THREE.Sprite {
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d')!;
  const font = 'bold 48px sans-serif';
  context.font = font;
  const width = Math.ceil(context.measureText(text).width) + 16;
  canvas.width = width; canvas.height = 64;
  context.font = font;
  context.fillStyle = color;
  context.textBaseline = 'middle';
  context.fillText(text, 8, 34);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, depthTest: false, transparent: true }));
  sprite.scale.set((height * width) / 64, height, 1);
  sprite.renderOrder = 10;
  sprite.userData.label = text;
  return sprite;
}

function vector(values: readonly number[]): THREE.Vector3 {
  return new THREE.Vector3(values[0], values[1], values[2]);
}

function lineSegments(points: THREE.Vector3[], color: string, dashed = false): THREE.LineSegments {
  const geometry = new THREE.BufferGeometry().setFromPoints(points);
  const material = dashed ? new THREE.LineDashedMaterial({ color, dashSize: 12, gapSize: 8 }) : new THREE.LineBasicMaterial({ color });
  const lines = new THREE.LineSegments(geometry, material);
  if (dashed) lines.computeLineDistances();
  return lines;
}

/** A mesh from a scene surface. */
function surfaceMesh(surface: SceneSurface): THREE.Mesh {
  const positions = new Float32Array(base64ToBytes(surface.positions).buffer);
  const indices = new Uint32Array(base64ToBytes(surface.indices).buffer);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  geometry.setIndex(new THREE.BufferAttribute(indices, 1));
  geometry.computeVertexNormals();
  const material = new THREE.MeshStandardMaterial({
    color: surface.color, roughness: 0.75, metalness: 0.05, side: THREE.DoubleSide,
    transparent: surface.opacity < 1, opacity: surface.opacity, depthWrite: surface.opacity >= 1,
  });
  const mesh = new THREE.Mesh(geometry, material);
  mesh.name = surface.name;
  return mesh;
}

/** The group that draws one camera. */
function cameraGroup(camera: SceneCamera, scale: number): THREE.Group {
  const group = new THREE.Group();
  group.name = `camera:${camera.name}`;
  const source = vector(camera.source);
  const corners = camera.detectorCorners.map(vector);
  const sphere = new THREE.Mesh(new THREE.SphereGeometry(scale * 0.025, 16, 12), new THREE.MeshBasicMaterial({ color: camera.color }));
  sphere.position.copy(source);
  group.add(sphere);
  // Frustum: the source to each outer corner, and the detector's outline.
  const frustum: THREE.Vector3[] = [];
  corners.forEach((corner, index) => { frustum.push(source, corner, corner, corners[(index + 1) % 4]); });
  group.add(lineSegments(frustum, camera.color));
  // Principal ray: the source to the foot of its perpendicular on the detector.
  group.add(lineSegments([source, vector(camera.principalPoint)], camera.color, true));
  // The detector, textured with the DRR: texel (row, column) sits at that pixel's centre.
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(Float32Array.from(camera.detectorCorners.flat()), 3));
  geometry.setAttribute('uv', new THREE.BufferAttribute(Float32Array.of(0, 0, 1, 0, 1, 1, 0, 1), 2));
  geometry.setIndex([0, 1, 2, 0, 2, 3]);
  let material: THREE.Material;
  if (camera.image) {
    const gray = base64ToBytes(camera.image);
    const rgba = new Uint8Array(4 * gray.length);
    for (let p = 0; p < gray.length; p++) { rgba[4 * p] = gray[p]; rgba[4 * p + 1] = gray[p]; rgba[4 * p + 2] = gray[p]; rgba[4 * p + 3] = 255; }
    const texture = new THREE.DataTexture(rgba, camera.width, camera.height, THREE.RGBAFormat);
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.magFilter = THREE.LinearFilter;
    texture.needsUpdate = true;
    material = new THREE.MeshBasicMaterial({ map: texture, side: THREE.DoubleSide });
  } else {
    material = new THREE.MeshBasicMaterial({ color: '#333333', side: THREE.DoubleSide, transparent: true, opacity: 0.5 });
  }
  const detector = new THREE.Mesh(geometry, material);
  detector.name = `detector:${camera.name}`;
  group.add(detector);
  const label = textSprite(camera.name, camera.color, scale * 0.05);
  label.position.copy(source).add(new THREE.Vector3(0, 0, scale * 0.05));
  group.add(label);
  return group;
}

/** A three.js view of a scene description in `container`. */
export class SceneView {
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly camera: THREE.PerspectiveCamera;
  readonly controls: OrbitControls;
  #description: SceneDescription;
  #cameras = new THREE.Group();
  #surfaces = new THREE.Group();
  #scale: number;
  #frame = 0;
  #resizeObserver: ResizeObserver | null = null;
  #intersectionObserver: IntersectionObserver | null = null;
  /** Whether the canvas is on screen; off screen, draws wait until it shows (software WebGL is slow). */
  #visible = true;
  #dirty = false;

  constructor(readonly container: HTMLElement, description: SceneDescription) {
    this.#description = description;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(2, globalThis.devicePixelRatio ?? 1));
    this.renderer.setClearColor('#15171c');
    container.appendChild(this.renderer.domElement);
    const [low, high] = description.bounds;
    const centre = vector(low).add(vector(high)).multiplyScalar(0.5);
    this.#scale = vector(high).sub(vector(low)).length();
    this.camera = new THREE.PerspectiveCamera(40, 1, this.#scale * 0.01, this.#scale * 50);
    this.camera.up.copy(vector(description.up).normalize());
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.target.copy(centre);
    this.controls.addEventListener('change', () => this.requestRender());
    this.scene.add(new THREE.AmbientLight('#ffffff', 0.55));
    const light = new THREE.DirectionalLight('#ffffff', 1.6);
    light.position.set(0, 0, 1);
    this.camera.add(light);
    this.scene.add(this.camera);
    // The box of the volume.
    const box = new THREE.Box3(vector(low), vector(high));
    this.scene.add(new THREE.Box3Helper(box, new THREE.Color('#5c6370')));
    this.scene.add(this.#surfaces, this.#cameras);
    this.setSurfaces(description.surfaces);
    for (const label of description.patientLabels) {
      const sprite = textSprite(label.text, label.color, this.#scale * 0.06);
      sprite.position.copy(vector(label.position));
      sprite.name = `patient:${label.text}`;
      this.scene.add(sprite);
    }
    const axes = description.worldAxes;
    const axisColors = ['#ff4d4d', '#40c057', '#4dabf7'];
    axes.directions.forEach((direction, index) => {
      const arrow = new THREE.ArrowHelper(vector(direction).normalize(), vector(axes.origin), axes.length, axisColors[index], axes.length * 0.12, axes.length * 0.06);
      this.scene.add(arrow);
      const name = textSprite(axes.names[index], axisColors[index], this.#scale * 0.035);
      name.position.copy(vector(axes.origin).addScaledVector(vector(direction).normalize(), axes.length * 1.12));
      this.scene.add(name);
    });
    this.setCameras(description.cameras, true);
    this.resize();
    if (typeof ResizeObserver === 'function') {
      this.#resizeObserver = new ResizeObserver(() => this.resize());
      this.#resizeObserver.observe(container);
    }
    if (typeof IntersectionObserver === 'function') {
      this.#intersectionObserver = new IntersectionObserver((entries) => {
        this.#visible = entries.some((entry) => entry.isIntersecting);
        if (this.#visible && this.#dirty) this.requestRender();
      });
      this.#intersectionObserver.observe(container);
    }
  }

  /** The description drawn now. */
  get description(): SceneDescription {
    return this.#description;
  }

  /** Replaces the surfaces. */
  setSurfaces(surfaces: SceneSurface[]): void {
    for (const child of [...this.#surfaces.children]) {
      this.#surfaces.remove(child);
      const mesh = child as THREE.Mesh;
      mesh.geometry.dispose();
      (mesh.material as THREE.Material).dispose();
    }
    for (const surface of surfaces) this.#surfaces.add(surfaceMesh(surface));
    this.#description = { ...this.#description, surfaces };
    this.requestRender();
  }

  /** Replaces the cameras (the pose moved, or a registration step); `frame` also places the viewpoint to show them all. */
  setCameras(cameras: SceneCamera[], frame = false): void {
    for (const child of [...this.#cameras.children]) {
      this.#cameras.remove(child);
      child.traverse((object) => {
        const drawable = object as THREE.Mesh;
        drawable.geometry?.dispose();
        const material = drawable.material as THREE.Material & { map?: THREE.Texture | null } | undefined;
        material?.map?.dispose();
        material?.dispose();
      });
    }
    for (const camera of cameras) this.#cameras.add(cameraGroup(camera, this.#scale));
    this.#description = { ...this.#description, cameras };
    if (frame) this.frameAll();
    this.requestRender();
  }

  /** Places the viewpoint to see the volume and every camera, from the side, slightly above. */
  frameAll(): void {
    const box = new THREE.Box3(vector(this.#description.bounds[0]), vector(this.#description.bounds[1]));
    for (const camera of this.#description.cameras) { box.expandByPoint(vector(camera.source)); camera.detectorCorners.forEach((corner) => box.expandByPoint(vector(corner))); }
    const centre = this.controls.target;
    const radius = box.getBoundingSphere(new THREE.Sphere()).radius;
    const up = vector(this.#description.up).normalize();
    // From the first camera's source side, turned 50° around "up" and raised 25°, so the CT is
    // seen in front of its detector.
    const first = this.#description.cameras[0];
    let side = first ? vector(first.source).sub(centre) : new THREE.Vector3(1, 0, 0);
    side.sub(up.clone().multiplyScalar(side.dot(up)));
    if (side.lengthSq() < 1e-9) side = Math.abs(up.x) < 0.9 ? new THREE.Vector3(1, 0, 0) : new THREE.Vector3(0, 1, 0);
    const horizontal = side.normalize().applyAxisAngle(up, 0.87);
    const direction = horizontal.multiplyScalar(Math.cos(0.45)).addScaledVector(up, Math.sin(0.45));
    this.camera.position.copy(centre).addScaledVector(direction, radius / Math.sin((this.camera.fov * Math.PI) / 360) * 0.95);
    this.camera.lookAt(centre);
    this.controls.update();
  }

  /** Matches the canvas to the container. */
  resize(): void {
    const width = Math.max(1, this.container.clientWidth), height = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(width, height, true);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  /** Draws on the next animation frame (once however often it is asked). */
  requestRender(): void {
    this.#dirty = true;
    if (!this.#visible || this.#frame !== 0) return;
    this.#frame = requestAnimationFrame(() => { this.#frame = 0; this.renderNow(); });
  }

  /** How long the last draw took, ms (software WebGL takes tens of milliseconds; callers pace their updates by it). */
  lastRenderMs = 0;

  /** Draws now. */
  renderNow(): void {
    this.#dirty = false;
    const started = performance.now();
    this.renderer.render(this.scene, this.camera);
    // Wait for the GPU (process) to finish, so the time measured includes it: with software WebGL
    // it runs on the same cores as the render workers, and callers pace their updates by it.
    this.renderer.getContext().finish();
    this.lastRenderMs = performance.now() - started;
  }

  /** Screen position (CSS pixels in the canvas) of a world point, for tests and overlays. */
  screenPosition(point: readonly number[]): { x: number; y: number } {
    const projected = vector(point).project(this.camera);
    const canvas = this.renderer.domElement;
    return { x: ((projected.x + 1) / 2) * canvas.clientWidth, y: ((1 - projected.y) / 2) * canvas.clientHeight };
  }

  /** Frees the GPU resources and the canvas. */
  dispose(): void {
    this.#resizeObserver?.disconnect();
    this.#intersectionObserver?.disconnect();
    if (this.#frame !== 0) cancelAnimationFrame(this.#frame);
    this.controls.dispose();
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}
