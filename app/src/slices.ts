/**
 * CT slices in world coordinates (the seed geometry: axis 0 flipped, volume in the positive
 * octant), and the projection of world points onto them, so the X-ray source and detector can be
 * drawn over each plane.
 *
 * Panels (patient axes of the example CT: array axis 0 anterior → posterior, 1 right → left,
 * 2 head → feet; after the flip world x runs posterior → anterior):
 *   axial     plane z = centre; left → right: world y (patient right → left); top → bottom: x high → low (anterior up)
 *   coronal   plane x = centre; left → right: world y; top → bottom: world z (head up)
 *   sagittal  plane y = centre; left → right: x high → low (anterior left); top → bottom: world z
 */
import type { Volume } from '../../src/volume/volume.js';
import type { SliceImage } from './protocol.js';

const PANELS: Omit<SliceImage, 'data' | 'width' | 'height'>[] = [
  { name: 'axial', uAxis: 1, uFlip: false, vAxis: 0, vFlip: true },
  { name: 'coronal', uAxis: 1, uFlip: false, vAxis: 2, vFlip: false },
  { name: 'sagittal', uAxis: 0, uFlip: true, vAxis: 2, vFlip: false },
];

/** Three central slices, sampled (nearest voxel) at `mmPerPixel`, in HU. */
export function centralSlices(volume: Volume, maxSide = 256): SliceImage[] {
  const [nx, ny, nz] = volume.shape;
  const spacing = volume.spacing;
  const extent = [nx * spacing[0], ny * spacing[1], nz * spacing[2]];
  const mmPerPixel = Math.max(...extent) / maxSide;
  return PANELS.map((panel) => {
    const fixedAxis = 3 - panel.uAxis - panel.vAxis;
    const width = Math.max(1, Math.round(extent[panel.uAxis] / mmPerPixel));
    const height = Math.max(1, Math.round(extent[panel.vAxis] / mmPerPixel));
    const data = new Float32Array(width * height);
    const world = [0, 0, 0];
    world[fixedAxis] = extent[fixedAxis] / 2;
    for (let row = 0; row < height; row++) {
      const v = ((row + 0.5) / height) * extent[panel.vAxis];
      world[panel.vAxis] = panel.vFlip ? extent[panel.vAxis] - v : v;
      for (let column = 0; column < width; column++) {
        const u = ((column + 0.5) / width) * extent[panel.uAxis];
        world[panel.uAxis] = panel.uFlip ? extent[panel.uAxis] - u : u;
        // World → voxel of the flipped array → voxel of the stored array (axis 0 flipped back).
        const fi = Math.min(nx - 1, Math.floor(world[0] / spacing[0]));
        const j = Math.min(ny - 1, Math.floor(world[1] / spacing[1]));
        const k = Math.min(nz - 1, Math.floor(world[2] / spacing[2]));
        const i = nx - 1 - fi;
        data[row * width + column] = volume.data[i + nx * (j + ny * k)];
      }
    }
    return { ...panel, data, width, height };
  });
}

/** A world point's position on a slice panel, in slice pixels (may lie outside the slice). */
export function projectToSlice(slice: SliceImage, extent: readonly number[], point: ArrayLike<number>): [number, number] {
  const u = slice.uFlip ? extent[slice.uAxis] - point[slice.uAxis] : point[slice.uAxis];
  const v = slice.vFlip ? extent[slice.vAxis] - point[slice.vAxis] : point[slice.vAxis];
  return [(u / extent[slice.uAxis]) * slice.width, (v / extent[slice.vAxis]) * slice.height];
}
