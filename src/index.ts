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
export {
  loadPhantom, loadHeadPhantom, loadPelvisPhantom, isPhantomName, PHANTOM_NAMES, PHANTOM_HOUNSFIELD,
  HEAD_PHANTOM_SHAPE, HEAD_PHANTOM_SPACING, PELVIS_PHANTOM_SHAPE, PELVIS_PHANTOM_SPACING, type PhantomName, type PhantomOptions,
} from './volume/phantoms.js';
export { cropVolume, flipVolume, clipVolume } from './volume/variants.js';
export * from './volume/intensity.js';
export * from './volume/labels.js';

// Files.
export { readNifti, parseNifti, writeNifti, encodeNifti, type NiftiWriteOptions } from './io/nifti.js';
export { readImage, writeImage, decodeImage, encodePng, encodeFloatTiff, encodeFloatTiffStack, type Image2D } from './io/image.js';
export { loadVolume, loadVolumeWithReport, detectVolumeFormat, VOLUME_EXTENSIONS, type LoadedVolume, type VolumeFormat, type VolumeLoadOptions } from './io/load-volume.js';
export { parseNrrd, readNrrd } from './io/nrrd.js';
export { parseMetaImage, readMetaImage } from './io/metaimage.js';
export {
  readDicomSeries, readDicomVolume, readDicomFile, parseDicomFile, decodeDicomFrames, pixelLayout, assembleSeries,
  type DicomFile, type DicomDataSet, type DicomSeriesResult, type DicomSeriesSummary, type DicomSeriesOptions, type PixelLayout,
} from './io/dicom.js';
export { SUPPORTED_TRANSFER_SYNTAXES, transferSyntaxName, type TransferSyntax } from './io/dicom-codecs.js';
export {
  loadXray, decodeXray, readXrayGeometry, xrayGeometryFromDicom, preprocessXray, adjustDetectorForPreprocessing,
  cropImage, resizeImage, detectCollimator, type LoadedXray, type XrayGeometry, type XrayPreprocessing,
} from './io/xray.js';

// Geometry.
export * from './geometry/matrix3.js';
export * from './geometry/rigid-transform.js';
export * from './geometry/rotation.js';
export * from './geometry/pose.js';
export * from './geometry/detector.js';
export * from './geometry/world-frame.js';
export * from './geometry/world-camera.js';
export * from './geometry/projection.js';
export * from './geometry/camera.js';
export * from './geometry/views.js';
export * from './geometry/anatomical-planes.js';

// Rendering.
export {
  DRR, createDRR, cameraFromOptions, poseToTransform, volumeDensities, poseList,
  type DRROptions, type PinholeDRROptions, type CameraDRROptions, type AnyDRROptions, type RenderOptions, type RenderCallOptions,
  type DensityMode, type Pose, type VolumeFrameName,
} from './drr.js';
export * from './render/density-grid.js';
export * from './render/renderer.js';
export * from './render/maximum-intensity.js';
export * from './render/siddon.js';
export * from './render/trilinear.js';
export * from './render/joseph.js';
export * from './render/compact-density.js';
export * from './render/pose-gradient.js';
export * from './render/empty-space.js';
export { VolumeProjector, projectorForGrid, volumeGradient, type VolumeProjectorOptions } from './render/backprojection.js';
export { RenderPool, serveRenderWorker, type RenderWorkerFactory, type RenderWorkerHandle, type RenderWorkerPort, type RenderContext } from './render/render-pool.js';
export { closeRenderPool, sharedRenderPool, availableThreads, setWebRenderWorker, type WebRenderWorker } from './render/worker-platform.js';
export { downsampleVolume, densityVolume } from './volume/pyramid.js';
export { WorldDRR, createWorldDRR, worldDensities, type WorldDRROptions, type WorldDensityMode } from './world-drr.js';

// WebGPU backend (asynchronous): platform-neutral kernels and DRR, plus the device adapters.
export { WebGPUBackend, describeAdapter, requestRenderDevice, type WebGPUDeviceInfo } from './render/webgpu/webgpu-backend.js';
export { WebGPUDRR, type GpuRenderableDRR } from './render/webgpu/webgpu-drr.js';
export { WebGPUPoseAnswerer } from './render/webgpu/webgpu-answerer.js';
export { browserWebGPUDevice } from './render/webgpu/browser.js';
export { nodeWebGPUDevice, requireNodeWebGPUDevice, type NodeWebGPUBackend, type NodeWebGPUOptions } from './render/webgpu/node.js';
// Reconstruction and volume quality.
export { reconstructVolume, parseReconstructionMethod, RECONSTRUCTION_METHODS, type ReconstructionMethod, type ReconstructionOptions, type ReconstructionResult } from './reconstruction/reconstruct.js';
export { totalVariation } from './reconstruction/total-variation.js';
export { peakSignalToNoiseRatio, structuralSimilarity3d, dataRange, type SsimOptions } from './metrics/volume-quality.js';

// 3-D scenes and pictures.
export { surfaceNets, transformMesh, type TriangleMesh } from './scene/isosurface.js';
export {
  buildScene, sceneCamera, ctSurface, labelSurfaces, patientLabels, gridToPatient, voxelToGrid, defaultSurfaceLevel,
  type SceneDescription, type SceneCamera, type SceneSurface, type SceneLabel, type SceneConvention, type SceneOptions, type SurfaceOptions,
} from './scene/scene.js';
export { contactSheet, overlayChannels, padRaster, type ContactSheetOptions, type ChannelOverlayOptions } from './viz/contact-sheet.js';
export { middleSlices, sliceRaster, type VolumeSlice } from './viz/volume-slices.js';

// Similarities, optimizers, registration.
export * from './metrics/index.js';
export * from './optim/index.js';
export * from './registration/registration.js';
export * from './registration/register.js';
export * from './registration/random.js';
export * from './registration/pose-error.js';
export * from './registration/strategy.js';
export { refineOnLevel, refineOnLevelSteps, pixelSubset, type LevelRefinementOptions, type LevelRefinementResult } from './registration/level-refinement.js';
export * from './registration/pose-requests.js';
export * from './registration/evaluate.js';
export * from './registration/multi-view.js';
export * from './registration/target-model.js';
export { registerAndRecord, writeRunOutputs, writeComparisonOutputs, withOutputSettings, parseAnimationFormats, type RecordedRun, type AnimationFormat, type OutputSettings } from './registration/outputs.js';
export { PHYSICAL_RANGES, MAXIMUM_DETECTOR_PIXELS, MAXIMUM_SAMPLES_PER_RAY, requireBoundedTrilinearSampling, describeRange, inRange, requireInRange, requireFiniteValues, requirePlausibleVoxelValues, type Range } from './validation.js';
export { readerLimits, setReaderLimits, type ReaderLimits } from './io/limits.js';
export { readFileBytes, readDetachedFile, writeFileAtomic, writeOutputsAtomically, type ReadOptions, type DetachedFileOptions } from './io/files.js';
export { checkDeclaredImageSize } from './io/image-dimensions.js';
export { quoteValue } from './errors.js';

// Datasets (drrkit generate): .npy shards, per-sample random streams, pose distributions.
export { encodeNpy, decodeNpy, decodeNpyHeader, npyHeaderBytes, type NpyHeader } from './dataset/npy.js';
export { SampleRandom } from './dataset/sample-random.js';
export {
  samplePose, checkPoseDistribution, beamDirection,
  type PoseDistribution, type BoxDistribution, type ConeDistribution, type CArmDistribution, type PoseContext, type PoseSample, type TranslationRanges,
} from './dataset/pose-distribution.js';
export {
  renderShard, sampleRecord, cameraRecord, shardCount, shardName, shardRange, shardShape, writeManifest, finishedShard,
  type DatasetSpec, type SampleRenderer, type ManifestRecord,
} from './dataset/dataset.js';
