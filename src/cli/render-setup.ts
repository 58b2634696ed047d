/**
 * The renderer that `drrkit render`'s flags describe, shared by `render`, `generate` and the
 * queue workers: the flags (detector, geometry, renderer, intensity model, density, labels and
 * channels, MIP, pose) are read once here, so every command renders the same image for the same
 * flags.
 */
import type { Command } from 'commander';
import { DRR, volumeDensities, type Pose } from '../drr.js';
import { DrrkitError } from '../errors.js';
import type { Camera } from '../geometry/camera.js';
import { createDetector } from '../geometry/detector.js';
import { poseFromParameters, type PoseParameters } from '../geometry/pose.js';
import { convertRotation } from '../geometry/rotation.js';
import { viewPose } from '../geometry/views.js';
import { createWorldDetector, parseOrientation, type WorldDetectorOptions } from '../geometry/world-camera.js';
import { loadVolume } from '../io/load-volume.js';
import { requireBoundedWork } from './validate.js';
import { readXrayGeometry, type XrayGeometry } from '../io/xray.js';
import type { ReduceMode } from '../render/renderer.js';
import { applyIntensityModel, hounsfieldToAttenuation, parseIntensityModel, type IntensityModel } from '../volume/intensity.js';
import { labelChannels, maskDensities, parseLabelList, requireMatchingLabels } from '../volume/labels.js';
import { createVolume, type Volume } from '../volume/volume.js';
import { WorldDRR } from '../world-drr.js';
import { addDetectorOptions, addRealDataOptions, detectorOptionsFrom, parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { addRotationFormatOptions, poseFromFlags } from './pose-options.js';

/** The text of a string flag, or undefined. */
export function flag(options: RawOptions, name: string): string | undefined {
  return typeof options[name] === 'string' ? (options[name] as string) : undefined;
}

/** Adds every flag of `drrkit render` except `--out`: the CT, detector, geometry, rendering, intensity, labels and pose. */
export function addRenderFlags(command: Command): Command {
  command.option('--ct <file|folder|example>', 'CT volume: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM (a file or a folder holding a series), or "example" for the built-in chest CT', 'example');
  addDetectorOptions(command, { sdr: '300', height: '100', delx: '8' });
  addRealDataOptions(command);
  return addRotationFormatOptions(command)
    .option('--rotation <numbers>', 'camera rotation, comma-separated, in the chosen parameterization (radians unless --degrees; default: the tutorial\'s π,0,π/2 for ZYX Euler angles in seed geometry, 0,0,0 in world geometry)')
    .option('--translation <x,y,z>', 'camera translation in world mm (default: the volume centre in seed geometry; the source --sod mm from the CT centre along the beam in world geometry)');
}

/** The names of the flags {@link addRenderFlags} adds (commander's camel-case keys), to pass render settings on. */
export const RENDER_FLAG_KEYS = [
  'ct', 'sdr', 'height', 'width', 'delx', 'dely', 'x0', 'y0', 'reverseXAxis', 'renderer', 'step', 'samples', 'density', 'boneMultiplier',
  'geometry', 'sdd', 'sod', 'orientation', 'view', 'reduce', 'intrinsic', 'xrayDicom', 'frame', 'intensity', 'i0', 'waterAttenuation',
  'labels', 'labelValues', 'channels', 'series', 'parameterization', 'convention', 'degrees', 'rotation', 'translation',
] as const;

/** The render flags of a parsed command line, alone (for a job description or a dataset's record of its settings). */
export function renderFlagsOf(options: RawOptions): RawOptions {
  const out: RawOptions = {};
  for (const key of RENDER_FLAG_KEYS) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

/** Densities for the seed geometry: HU → μ for the physical intensity models. */
function seedVolume(volume: Volume, intensity: IntensityModel, waterAttenuation: number, boneMultiplier: number): { volume: Volume; raw: boolean } {
  if (intensity === 'line-integral') return { volume, raw: false };
  const mu = hounsfieldToAttenuation(volume, { waterAttenuation, boneAttenuationMultiplier: boneMultiplier });
  return { volume: createVolume({ data: mu, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source }), raw: true };
}

/** What the flags say before any file is read (the detector is validated here). */
export interface RenderPlan {
  /** The flags. */
  readonly options: RawOptions;
  /** World (pinhole, patient frame) or seed geometry. */
  readonly world: boolean;
  /** The pinhole detector of the world geometry. */
  readonly worldDetector: WorldDetectorOptions | undefined;
  /** The geometry a DICOM X-ray gave (`--xray-dicom`). */
  readonly xray: XrayGeometry | undefined;
  /** One image per label (`--channels`). */
  readonly channels: boolean;
}

/** Reads and checks the render flags that need no CT; reads the DICOM X-ray of `--xray-dicom`. */
export async function planRender(options: RawOptions): Promise<RenderPlan> {
  const drrOptions = detectorOptionsFrom(options);
  const world = options.geometry === 'world' || flag(options, 'xrayDicom') !== undefined;
  parseIntensityModel(String(options.intensity ?? 'line-integral'));
  parseNumber(flag(options, 'i0') ?? '1', '--i0');
  parseNumber(flag(options, 'waterAttenuation') ?? '0.02', '--water-attenuation');
  const channels = options.channels === true;
  if (!world && flag(options, 'view') !== undefined) throw new DrrkitError('--view needs --geometry world', '--view');
  if (channels && flag(options, 'labels') === undefined) throw new DrrkitError('--channels needs --labels', '--channels');
  if (flag(options, 'labelValues') !== undefined) parseLabelList(flag(options, 'labelValues')!, '--label-values');
  let worldDetector: WorldDetectorOptions | undefined;
  let xray: XrayGeometry | undefined;
  if (world) {
    const xrayPath = flag(options, 'xrayDicom');
    if (xrayPath !== undefined) {
      const frame = flag(options, 'frame') !== undefined ? parseInteger(flag(options, 'frame')!, '--frame') : 0;
      xray = await readXrayGeometry(xrayPath, frame);
      worldDetector = { ...xray.detector }; // orientation 'PA': the DICOM pose is expressed in it
    } else {
      const sdd = flag(options, 'sdd') !== undefined ? parseNumber(flag(options, 'sdd')!, '--sdd') : 2 * drrOptions.sdr;
      const intrinsic = flag(options, 'intrinsic') !== undefined ? parseNumberList(flag(options, 'intrinsic')!, '--intrinsic', 9) : undefined;
      worldDetector = {
        sdd,
        height: drrOptions.height,
        width: drrOptions.width,
        delx: drrOptions.delx,
        dely: drrOptions.dely,
        x0: drrOptions.x0,
        y0: drrOptions.y0,
        reverseXAxis: drrOptions.reverseXAxis,
        orientation: parseOrientation(String(options.orientation ?? 'AP')),
        intrinsic,
      };
    }
    createWorldDetector(worldDetector);
  } else {
    createDetector(drrOptions);
  }
  return { options, world, worldDetector, xray, channels };
}

/** A CT loaded and made into DRRs as the render flags say. */
export interface RenderSetup {
  readonly plan: RenderPlan;
  /** The CT. */
  readonly volume: Volume;
  /** One DRR per channel (one DRR without `--channels`). */
  readonly drrs: readonly DRR[];
  /** The label of each channel (`--channels`), else null. */
  readonly channelLabels: readonly number[] | null;
  /** Detector rows and columns. */
  readonly height: number;
  readonly width: number;
  /** The pose the flags name (`--rotation`/`--translation`, `--view`, the DICOM X-ray's, or the default). */
  readonly pose: PoseParameters;
  /** The source-to-isocentre distance of the world geometry's default pose and views (`--sod`). */
  readonly sourceToIsocenter: number | undefined;
  /** A phrase for messages ("siddon DRR", "world-geometry siddon DRR (AP, sdd 1000 mm)"). */
  readonly description: string;
  /** The images of one pose, one per channel, with the intensity model applied; `camera` replaces the DRR's own. */
  renderImages(pose: Pose, camera?: Camera): Float32Array[];
  /** The same images with each DRR rendered by `render` (another backend, such as WebGPU). */
  renderImagesWith(pose: Pose, render: (drr: DRR, pose: Pose) => Promise<Float32Array>): Promise<Float32Array[]>;
  /** Releases the DRRs' share of the render pool. */
  dispose(): void;
}

/** Loads the CT (and labels) and builds the DRRs of a plan. `threads` overrides the render threads (default: every core). */
export async function createRenderSetup(plan: RenderPlan, settings: { threads?: number } = {}): Promise<RenderSetup> {
  const { options, world, worldDetector, xray, channels } = plan;
  const drrOptions = { ...detectorOptionsFrom(options), threads: settings.threads };
  const intensity = parseIntensityModel(String(options.intensity ?? 'line-integral'));
  const incidentIntensity = parseNumber(flag(options, 'i0') ?? '1', '--i0');
  const waterAttenuation = parseNumber(flag(options, 'waterAttenuation') ?? '0.02', '--water-attenuation');
  const boneMultiplier = drrOptions.boneAttenuationMultiplier ?? 1;
  const reduce = String(options.reduce ?? 'sum') as ReduceMode;
  const labelValues = flag(options, 'labelValues') !== undefined ? parseLabelList(flag(options, 'labelValues')!, '--label-values') : undefined;

  const volume = await loadVolume(String(options.ct), { seriesInstanceUid: flag(options, 'series') });
  const pixels = world ? createWorldDetector(worldDetector!) : createDetector(drrOptions);
  requireBoundedWork(volume, pixels.height * pixels.width, drrOptions.sampling, drrOptions.renderer);
  const labels = flag(options, 'labels') !== undefined ? await loadVolume(flag(options, 'labels')!) : undefined;
  if (labels) requireMatchingLabels(volume, labels);

  let drrs: DRR[];
  let channelLabels: number[] | null = null;
  let pose: PoseParameters;
  let sourceToIsocenter: number | undefined;
  let description: string;
  let seedIntensity = false;
  if (world) {
    const density = intensity === 'line-integral' ? drrOptions.density ?? 'diffdrr' : 'attenuation';
    const common = { ...worldDetector!, reduce, renderer: drrOptions.renderer, sampling: drrOptions.sampling, intensity, incidentIntensity, threads: settings.threads };
    const base = new WorldDRR(volume, {
      ...common,
      density,
      boneAttenuationMultiplier: boneMultiplier,
      attenuation: { waterAttenuation },
      labels: channels ? undefined : labels,
      labelValues,
    });
    sourceToIsocenter = flag(options, 'sod') !== undefined ? parseNumber(flag(options, 'sod')!, '--sod') : base.detector.sdd / 2;
    if (flag(options, 'view') !== undefined) {
      if (flag(options, 'rotation') !== undefined || flag(options, 'translation') !== undefined) throw new DrrkitError('give either --view or --rotation/--translation, not both', '--view');
      const placed = viewPose(flag(options, 'view')!, base.detector.orientation, sourceToIsocenter, base.center);
      pose = { rotation: convertRotation(placed.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX'), translation: placed.translation, parameterization: 'euler_angles', convention: 'ZYX' };
    } else if (xray && flag(options, 'rotation') === undefined && flag(options, 'translation') === undefined) {
      pose = { rotation: xray.poseParameters.rotation, translation: xray.poseParameters.translation, parameterization: 'euler_angles', convention: 'ZYX' };
    } else {
      const defaultTranslation = Array.from(base.defaultPose(sourceToIsocenter).translation);
      const rotationText = flag(options, 'rotation') ?? (String(options.parameterization ?? 'euler_angles') === 'euler_angles' ? '0,0,0' : undefined);
      pose = poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: flag(options, 'translation') }, defaultTranslation);
    }
    poseFromParameters(pose);
    if (channels) {
      const list = labelChannels(base.densities(), labels!, labelValues);
      channelLabels = list.map((entry) => entry.label);
      drrs = list.map(({ densities }) => new WorldDRR(volume, { ...common, densities }));
      base.dispose();
    } else {
      drrs = [base];
    }
    description = `world-geometry ${base.settings.renderer} DRR (${base.detector.orientation}, sdd ${base.detector.sdd} mm)`;
  } else {
    const prepared = seedVolume(volume, intensity, waterAttenuation, boneMultiplier);
    const seedOptions = { ...(prepared.raw ? { ...drrOptions, density: 'raw' as const } : drrOptions), reduce };
    const base = new DRR(prepared.volume, seedOptions);
    pose = poseFromFlags(
      options,
      { name: '--rotation', text: flag(options, 'rotation') },
      { name: '--translation', text: flag(options, 'translation') },
      base.center,
    );
    poseFromParameters(pose); // validates the numbers
    const densityVolume = (densities: Float32Array): Volume =>
      createVolume({ data: densities, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source });
    if (labels) {
      // The seed grid flips axis 0 of whatever volume it is given, so masking in file order stays aligned.
      const densities = volumeDensities(prepared.volume, seedOptions.density ?? 'diffdrr', boneMultiplier);
      const list = channels ? labelChannels(densities, labels, labelValues) : [{ label: 0, densities: maskDensities(densities, labels, labelValues) }];
      if (channels) channelLabels = list.map((entry) => entry.label);
      drrs = list.map((entry) => new DRR(densityVolume(entry.densities), { ...seedOptions, density: 'raw' }));
    } else {
      drrs = [base];
    }
    seedIntensity = true;
    description = `${base.settings.renderer} DRR`;
  }
  const { height, width } = drrs[0].camera;
  return {
    plan, volume, drrs, channelLabels, height, width, pose, sourceToIsocenter, description,
    renderImages(at: Pose, camera?: Camera): Float32Array[] {
      const call = camera === undefined ? undefined : { camera };
      const images = drrs.map((drr) => drr.render(at, call));
      if (seedIntensity) images.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
      return images;
    },
    async renderImagesWith(at: Pose, render: (drr: DRR, pose: Pose) => Promise<Float32Array>): Promise<Float32Array[]> {
      const images: Float32Array[] = [];
      for (const drr of drrs) images.push(await render(drr, at));
      if (seedIntensity) images.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
      return images;
    },
    dispose(): void {
      for (const drr of drrs) drr.dispose();
    },
  };
}
