import { DrrkitError } from '../errors.js';
import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import type { EmptySpace } from './empty-space.js';
import { backprojectJoseph, renderJoseph, renderJosephMaximum, renderJosephWithRayGradients } from './joseph.js';
import { renderSiddonMaximum, renderTrilinearMaximum } from './maximum-intensity.js';
import { backprojectSiddon, renderSiddon, renderSiddonWithRayGradients } from './siddon.js';
import { backprojectTrilinear, renderTrilinear, renderTrilinearWithRayGradients, type TrilinearSampling } from './trilinear.js';

/** The ray-casting methods drrkit offers. */
export type RendererName = 'siddon' | 'trilinear' | 'joseph';

/** All renderer names, for validation and help texts. */
export const RENDERERS: readonly RendererName[] = ['siddon', 'trilinear', 'joseph'];

/** How the densities along a ray become a pixel: their line integral, or their maximum (MIP). */
export type ReduceMode = 'sum' | 'max';

/** Which renderer to use and how (sampling applies to trilinear only; `reduce` defaults to 'sum'). Joseph reads the grid's compact storage when it has one. */
export interface RenderSettings {
  readonly renderer: RendererName;
  readonly sampling: TrilinearSampling;
  readonly reduce?: ReduceMode;
}

/** Checks a renderer name from user input. */
export function parseRendererName(name: string): RendererName {
  if ((RENDERERS as readonly string[]).includes(name)) return name as RendererName;
  throw new DrrkitError(`unknown renderer "${name}"; use one of ${RENDERERS.join(', ')}`, 'renderer');
}

/**
 * Renders pixels [pixelStart, pixelEnd) of one image with the chosen renderer into
 * `out[outOffset + pixel]`. This is the single entry point every backend calls (the main thread
 * and the render workers alike, so each pixel is computed by the same code whoever renders it).
 * `emptySpace` (from `buildEmptySpace`) turns on empty-space skipping, which changes no value.
 */
export function renderPixels(
  grid: DensityGrid,
  rays: RayGrid,
  settings: RenderSettings,
  out: Float32Array | Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  if (settings.reduce === 'max') {
    if (settings.renderer === 'siddon') renderSiddonMaximum(grid, rays, out, outOffset, pixelStart, pixelEnd);
    else if (settings.renderer === 'joseph') renderJosephMaximum(grid, rays, out, outOffset, pixelStart, pixelEnd);
    else renderTrilinearMaximum(grid, rays, settings.sampling, out, outOffset, pixelStart, pixelEnd);
    return;
  }
  if (settings.renderer === 'siddon') renderSiddon(grid, rays, out, outOffset, pixelStart, pixelEnd, emptySpace);
  else if (settings.renderer === 'joseph') renderJoseph(grid, rays, out, outOffset, pixelStart, pixelEnd, emptySpace);
  else renderTrilinear(grid, rays, settings.sampling, out, outOffset, pixelStart, pixelEnd, emptySpace);
}

/**
 * Renders pixels [pixelStart, pixelEnd) of one image together with each pixel's derivative with
 * respect to its ray, (∂I/∂a, ∂I/∂b), six numbers per pixel in `rayGradients[6·p …]`; the image
 * is bit-identical to {@link renderPixels}'.
 */
export function renderPixelsWithRayGradients(
  grid: DensityGrid,
  rays: RayGrid,
  settings: RenderSettings,
  out: Float32Array | Float64Array,
  rayGradients: Float64Array,
  outOffset = 0,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
  emptySpace: EmptySpace | null = null,
): void {
  if (settings.reduce === 'max') throw new DrrkitError('a maximum-intensity projection has no ray gradients', 'reduce');
  if (settings.renderer === 'siddon') renderSiddonWithRayGradients(grid, rays, out, rayGradients, outOffset, pixelStart, pixelEnd, emptySpace);
  else if (settings.renderer === 'joseph') renderJosephWithRayGradients(grid, rays, out, rayGradients, outOffset, pixelStart, pixelEnd, emptySpace);
  else renderTrilinearWithRayGradients(grid, rays, settings.sampling, out, rayGradients, outOffset, pixelStart, pixelEnd, emptySpace);
}

/**
 * The adjoint of {@link renderPixels} with respect to the densities: adds the back-projection
 * of the weights of pixels [pixelStart, pixelEnd) (`weights[weightOffset + p]`) to
 * `accumulator`, which has the padded layout of `grid.data`. With y the weights and x the
 * densities, Σₚ yₚ·(A x)ₚ = Σᵥ xᵥ·(Aᵀ y)ᵥ: this is the volume gradient of a loss whose
 * derivative with respect to the image is y.
 */
export function backprojectPixels(
  grid: DensityGrid,
  rays: RayGrid,
  settings: RenderSettings,
  weights: ArrayLike<number>,
  weightOffset: number,
  accumulator: Float64Array,
  pixelStart = 0,
  pixelEnd = rays.height * rays.width,
): void {
  if (settings.renderer === 'siddon') backprojectSiddon(grid, rays, weights, weightOffset, accumulator, pixelStart, pixelEnd);
  else if (settings.renderer === 'joseph') backprojectJoseph(grid, rays, weights, weightOffset, accumulator, pixelStart, pixelEnd);
  else backprojectTrilinear(grid, rays, settings.sampling, weights, weightOffset, accumulator, pixelStart, pixelEnd);
}
