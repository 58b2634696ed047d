/**
 * Drawing the CT's axial, coronal and sagittal views (laid out from the affine by the engine,
 * see slices.ts) with patient-direction letters on their edges and the C-arm over them: the
 * source, the rays to the detector corners, the central ray and the detector.
 */
import { voxelToPlane } from '../../src/geometry/anatomical-planes.js';
import { grayToRaster, type Raster } from '../../src/viz/raster.js';
import type { CArmOutline, SliceImage, VolumeInfo } from './protocol.js';

/** Copies a raster into a canvas (resizing the canvas to it). */
export function rasterToCanvas(canvas: HTMLCanvasElement, raster: Raster): void {
  if (canvas.width !== raster.width || canvas.height !== raster.height) {
    canvas.width = raster.width;
    canvas.height = raster.height;
  }
  const context = canvas.getContext('2d')!;
  context.putImageData(new ImageData(new Uint8ClampedArray(raster.data), raster.width, raster.height), 0, 0);
}

/** CT window choices: "level,width" in HU, or 'full'. */
export type CtWindow = string;

/** Draws the slice views of a volume into canvases `slice-<name>`, cached per window. */
export class SliceViews {
  private readonly cache = new Map<string, { window: CtWindow; canvas: HTMLCanvasElement }>();

  /** Forgets the cached bitmaps (a new volume). */
  clear(): void {
    this.cache.clear();
  }

  private bitmap(slice: SliceImage, volume: VolumeInfo, windowChoice: CtWindow): HTMLCanvasElement {
    const cached = this.cache.get(slice.plane.name);
    if (cached && cached.window === windowChoice) return cached.canvas;
    let min: number, max: number;
    if (windowChoice === 'full') [min, max] = volume.range;
    else {
      const [level, width] = windowChoice.split(',').map(Number);
      min = level - width / 2;
      max = level + width / 2;
    }
    const canvas = document.createElement('canvas');
    rasterToCanvas(canvas, grayToRaster({ data: slice.data, width: slice.width, height: slice.height }, { min, max }));
    this.cache.set(slice.plane.name, { window: windowChoice, canvas });
    return canvas;
  }

  /** Draws every view, with the C-arm when `carm` is given. */
  draw(volume: VolumeInfo, carm: CArmOutline | null, windowChoice: CtWindow, lookup: (id: string) => HTMLElement): void {
    for (const slice of volume.slices) {
      const canvas = lookup(`slice-${slice.plane.name}`) as HTMLCanvasElement;
      const context = canvas.getContext('2d')!;
      const size = canvas.width;
      const place = (voxel: ArrayLike<number>) => voxelToPlane(slice.plane, volume.shape, volume.spacing, voxel);
      const width = slice.width * slice.mmPerPixel, height = slice.height * slice.mmPerPixel;
      // Field of view: the CT and the whole C-arm around the volume centre (mm from the view centre).
      let reach = Math.hypot(width, height) / 2 * 1.02;
      if (carm) for (const point of [carm.source, ...carm.corners]) reach = Math.max(reach, Math.hypot(...place(point)) * 1.08);
      const scale = size / (2 * reach); // canvas pixels per mm
      const toCanvas = (voxel: ArrayLike<number>): [number, number] => {
        const [u, v] = place(voxel);
        return [size / 2 + u * scale, size / 2 + v * scale];
      };
      context.fillStyle = '#0b0f14';
      context.fillRect(0, 0, size, size);
      context.imageSmoothingEnabled = true;
      context.drawImage(this.bitmap(slice, volume, windowChoice), size / 2 - (width / 2) * scale, size / 2 - (height / 2) * scale, width * scale, height * scale);
      if (carm) drawCArm(context, carm, toCanvas);
      drawEdgeLetters(context, slice, size);
      context.fillStyle = 'rgba(255,255,255,0.75)';
      context.font = '11px system-ui, sans-serif';
      context.textAlign = 'left';
      context.textBaseline = 'alphabetic';
      context.fillText(`${Math.round(2 * reach)} mm across`, 8, size - 8);
    }
  }
}

function drawCArm(context: CanvasRenderingContext2D, carm: CArmOutline, toCanvas: (voxel: ArrayLike<number>) => [number, number]): void {
  const s = toCanvas(carm.source);
  const c = carm.corners.map(toCanvas);
  context.lineWidth = 1;
  context.strokeStyle = 'rgba(255, 214, 10, 0.45)';
  for (const corner of c) { context.beginPath(); context.moveTo(...s); context.lineTo(...corner); context.stroke(); }
  context.setLineDash([5, 4]);
  context.strokeStyle = 'rgba(255, 140, 50, 0.9)';
  context.beginPath(); context.moveTo(...s); context.lineTo(...toCanvas(carm.centre)); context.stroke();
  context.setLineDash([]);
  context.strokeStyle = '#38bdf8';
  context.lineWidth = 2.5;
  context.beginPath(); context.moveTo(...c[0]); for (const corner of c.slice(1)) context.lineTo(...corner); context.closePath(); context.stroke();
  context.fillStyle = '#ffd60a';
  context.beginPath(); context.arc(s[0], s[1], 4.5, 0, 2 * Math.PI); context.fill();
}

/** The patient-direction letters at the middle of each edge of a view. */
function drawEdgeLetters(context: CanvasRenderingContext2D, slice: SliceImage, size: number): void {
  const { edges } = slice.plane;
  context.font = '600 13px system-ui, sans-serif';
  context.fillStyle = '#fde68a';
  context.textBaseline = 'middle';
  context.textAlign = 'left'; context.fillText(edges.left, 6, size / 2);
  context.textAlign = 'right'; context.fillText(edges.right, size - 6, size / 2);
  context.textAlign = 'center';
  context.textBaseline = 'top'; context.fillText(edges.top, size / 2, 6);
  context.textBaseline = 'bottom'; context.fillText(edges.bottom, size / 2, size - 6);
}

/** The caption of a view: its name and what the screen's edges point to ("Axial · R ← → L, A ↑ ↓ P"). */
export function sliceCaption(slice: SliceImage): string {
  const { name, edges } = slice.plane;
  return `${name[0].toUpperCase()}${name.slice(1)} · ${edges.left}–${edges.right} across, ${edges.top}–${edges.bottom} down`;
}
