/**
 * drrkit: differentiable X-ray rendering (DRRs) and 2D/3D registration.
 *
 * The public API, grouped by concept; see the README for a tour.
 */
export { DrrkitError } from './errors.js';

// Volumes and their densities.
export * from './volume/volume.js';
export { hounsfieldToDensity, minMaxNormalize } from './volume/density.js';
export { loadExampleCT, type ExampleCTOptions } from './volume/example-ct.js';

// Files.
export { readNifti, parseNifti, writeNifti, encodeNifti, type NiftiWriteOptions } from './io/nifti.js';
export { readImage, writeImage, decodeImage, encodePng, encodeFloatTiff, encodeFloatTiffStack, type Image2D } from './io/image.js';
export { loadVolume } from './io/load-volume.js';

// Geometry.
export * from './geometry/matrix3.js';
export * from './geometry/rigid-transform.js';
export * from './geometry/rotation.js';
export * from './geometry/pose.js';
export * from './geometry/detector.js';

// Rendering.
export { DRR, type DRROptions, type DensityMode, type Pose, poseToTransform, volumeDensities } from './drr.js';
export * from './render/density-grid.js';
export * from './render/renderer.js';
export * from './render/siddon.js';
export * from './render/trilinear.js';
export * from './render/pose-gradient.js';

// Similarities, optimizers, registration.
export * from './metrics/index.js';
export * from './optim/index.js';
export * from './registration/registration.js';
export * from './registration/register.js';
export * from './registration/random.js';
