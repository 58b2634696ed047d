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
import { parametersFromPose, poseFromParameters, type PoseParameters } from '../geometry/pose.js';
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

/** The text of a string flag, or undefined (the first value of a flag given several times). */
export function flag(options: RawOptions, name: string): string | undefined {
  const value = options[name] as unknown;
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a flag that may be given several times (none: an empty list). */
export function flagValues(options: RawOptions, name: string): string[] {
  const value = options[name] as unknown;
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' ? [value] : [];
}

/** Commander collector for a flag that may be given several times. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The values of a repeatable flag for `count` poses: none (undefined for each), one (shared), or
 * one per pose.
 */
function perPose(values: string[], count: number, name: string): (string | undefined)[] {
  if (values.length === 0) return new Array<undefined>(count).fill(undefined);
  if (values.length === 1) return new Array<string>(count).fill(values[0]);
  if (values.length !== count) throw new DrrkitError(`${name} given ${values.length} times for ${count} poses; give it once or once per pose`, name);
  return values;
}

/** The number of poses `--rotation`/`--translation` name (each may be given once or once per pose). */
export function poseCountOf(options: RawOptions): number {
  const count = Math.max(flagValues(options, 'rotation').length, flagValues(options, 'translation').length, 1);
  perPose(flagValues(options, 'rotation'), count, '--rotation');
  perPose(flagValues(options, 'translation'), count, '--translation');
  return count;
}

/**
 * Adds every flag of `drrkit render` except `--out`: the CT, detector, geometry, rendering,
 * intensity, labels and pose. With `severalPoses`, `--rotation` and `--translation` may be repeated
 * (one image per pose).
 */
export function addRenderFlags(command: Command, settings: { severalPoses?: boolean } = {}): Command {
  const repeat = settings.severalPoses === true;
  command.option('--ct <file|folder|example>', 'CT volume: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM (a file or a folder holding a series), or "example" for the built-in chest CT', 'example');
  addDetectorOptions(command, { sdr: '300', height: '100', delx: '8' });
  addRealDataOptions(command);
  const rotationHelp = 'camera rotation, comma-separated, in the chosen parameterization (radians unless --degrees; default: the tutorial\'s π,0,π/2 for ZYX Euler angles in seed geometry, 0,0,0 in world geometry)';
  const translationHelp = 'camera translation in world mm (default: the volume centre in seed geometry; the source --sod mm from the CT centre along the beam in world geometry)';
  addRotationFormatOptions(command);
  if (!repeat) return command.option('--rotation <numbers>', rotationHelp).option('--translation <x,y,z>', translationHelp);
  return command
    .option('--rotation <numbers>', `${rotationHelp}; repeat for several poses`, collect)
    .option('--translation <x,y,z>', `${translationHelp}; repeat for several poses`, collect);
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
  /** The whole CT's image with each label's image over it in colour (`--overlay`): one DRR per label plus the whole CT's. */
  readonly overlay: boolean;
  /** The number of poses (`--rotation`/`--translation` given several times). */
  readonly poseCount: number;
}

/** Reads and checks the render flags that need no CT; reads the DICOM X-ray of `--xray-dicom`. */
export async function planRender(options: RawOptions): Promise<RenderPlan> {
  const drrOptions = detectorOptionsFrom(options);
  const world = options.geometry === 'world' || flag(options, 'xrayDicom') !== undefined;
  parseIntensityModel(String(options.intensity ?? 'line-integral'));
  parseNumber(flag(options, 'i0') ?? '1', '--i0');
  parseNumber(flag(options, 'waterAttenuation') ?? '0.02', '--water-attenuation');
  const channels = options.channels === true;
  const overlay = options.overlay === true;
  const poseCount = poseCountOf(options);
  if (!world && flag(options, 'view') !== undefined) throw new DrrkitError('--view needs --geometry world', '--view');
  if (channels && flag(options, 'labels') === undefined) throw new DrrkitError('--channels needs --labels', '--channels');
  if (overlay && flag(options, 'labels') === undefined) throw new DrrkitError('--overlay needs --labels', '--overlay');
  if (channels && overlay) throw new DrrkitError('--channels and --overlay: choose one (a .tif of channels or a .png overlay)', '--overlay');
  if (flag(options, 'view') !== undefined && (flag(options, 'rotation') !== undefined || flag(options, 'translation') !== undefined)) {
    throw new DrrkitError('give either --view or --rotation/--translation, not both', '--view');
  }
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
  return { options, world, worldDetector, xray, channels, overlay, poseCount };
}

/** A CT loaded and made into DRRs as the render flags say. */
export interface RenderSetup {
  readonly plan: RenderPlan;
  /** The CT. */
  readonly volume: Volume;
  /** One DRR per channel (one DRR without `--channels` or `--overlay`). */
  readonly drrs: readonly DRR[];
  /** With `--overlay`: the whole CT's DRR (drawn under the labels' colours), else null. */
  readonly wholeDrr: DRR | null;
  /** The label of each channel (`--channels`), else null. */
  readonly channelLabels: readonly number[] | null;
  /** Detector rows and columns. */
  readonly height: number;
  readonly width: number;
  /** The pose the flags name (`--rotation`/`--translation`, `--view`, the DICOM X-ray's, or the default); the first of {@link poses}. */
  readonly pose: PoseParameters;
  /** Every pose the flags name (`--rotation`/`--translation` given several times), in order. */
  readonly poses: readonly PoseParameters[];
  /** The source-to-isocentre distance of the world geometry's default pose and views (`--sod`). */
  readonly sourceToIsocenter: number | undefined;
  /** A phrase for messages ("siddon DRR", "world-geometry siddon DRR (AP, sdd 1000 mm)"). */
  readonly description: string;
  /** The images of one pose, one per channel, with the intensity model applied; `camera` replaces the DRR's own. */
  renderImages(pose: Pose, camera?: Camera): Float32Array[];
  /** With `--overlay`: the whole CT's image at a pose, with the intensity model applied. */
  renderWholeImage(pose: Pose): Float32Array;
  /** The same images with each DRR rendered by `render` (another backend, such as WebGPU). */
  renderImagesWith(pose: Pose, render: (drr: DRR, pose: Pose) => Promise<Float32Array>): Promise<Float32Array[]>;
  /** Releases the DRRs' share of the render pool. */
  dispose(): void;
}

/** Loads the CT (and labels) and builds the DRRs of a plan. `threads` overrides the render threads (default: every core). */
export async function createRenderSetup(plan: RenderPlan, settings: { threads?: number } = {}): Promise<RenderSetup> {
  const { options, world, worldDetector, xray, channels, overlay, poseCount } = plan;
  const perLabel = channels || overlay;
  const rotationTexts = perPose(flagValues(options, 'rotation'), poseCount, '--rotation');
  const translationTexts = perPose(flagValues(options, 'translation'), poseCount, '--translation');
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
  let wholeDrr: DRR | null = null;
  let channelLabels: number[] | null = null;
  let poses: PoseParameters[];
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
      labels: perLabel ? undefined : labels,
      labelValues,
    });
    sourceToIsocenter = flag(options, 'sod') !== undefined ? parseNumber(flag(options, 'sod')!, '--sod') : base.detector.sdd / 2;
    const sod = sourceToIsocenter;
    const defaultTranslation = Array.from(base.defaultPose(sod).translation);
    poses = rotationTexts.map((rotationFlag, index): PoseParameters => {
      if (flag(options, 'view') !== undefined) {
        const placed = viewPose(flag(options, 'view')!, base.detector.orientation, sod, base.center);
        return parametersFromPose(placed, 'euler_angles', 'ZYX');
      }
      if (xray && rotationFlag === undefined && translationTexts[index] === undefined) {
        return { rotation: xray.poseParameters.rotation, translation: xray.poseParameters.translation, parameterization: 'euler_angles', convention: 'ZYX' };
      }
      const rotationText = rotationFlag ?? (String(options.parameterization ?? 'euler_angles') === 'euler_angles' ? '0,0,0' : undefined);
      return poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: translationTexts[index] }, defaultTranslation);
    });
    poses.forEach((pose) => poseFromParameters(pose));
    if (perLabel) {
      const list = labelChannels(base.densities(), labels!, labelValues);
      channelLabels = list.map((entry) => entry.label);
      drrs = list.map(({ densities }) => new WorldDRR(volume, { ...common, densities }));
      if (overlay) wholeDrr = base;
      else base.dispose();
    } else {
      drrs = [base];
    }
    description = `world-geometry ${base.settings.renderer} DRR (${base.detector.orientation}, sdd ${base.detector.sdd} mm)`;
  } else {
    const prepared = seedVolume(volume, intensity, waterAttenuation, boneMultiplier);
    const seedOptions = { ...(prepared.raw ? { ...drrOptions, density: 'raw' as const } : drrOptions), reduce };
    const base = new DRR(prepared.volume, seedOptions);
    poses = rotationTexts.map((rotationText, index) =>
      poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: translationTexts[index] }, base.center),
    );
    poses.forEach((pose) => poseFromParameters(pose)); // validates the numbers
    const densityVolume = (densities: Float32Array): Volume =>
      createVolume({ data: densities, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source });
    if (labels) {
      // The seed grid flips axis 0 of whatever volume it is given, so masking in file order stays aligned.
      const densities = volumeDensities(prepared.volume, seedOptions.density ?? 'diffdrr', boneMultiplier);
      const list = perLabel ? labelChannels(densities, labels, labelValues) : [{ label: 0, densities: maskDensities(densities, labels, labelValues) }];
      if (perLabel) channelLabels = list.map((entry) => entry.label);
      drrs = list.map((entry) => new DRR(densityVolume(entry.densities), { ...seedOptions, density: 'raw' }));
      if (overlay) wholeDrr = base;
      else base.dispose();
    } else {
      drrs = [base];
    }
    seedIntensity = true;
    description = `${base.settings.renderer} DRR`;
  }
  const { height, width } = drrs[0].camera;
  return {
    plan, volume, drrs, wholeDrr, channelLabels, height, width, pose: poses[0], poses, sourceToIsocenter, description,
    renderImages(at: Pose, camera?: Camera): Float32Array[] {
      const call = camera === undefined ? undefined : { camera };
      const images = drrs.map((drr) => drr.render(at, call));
      if (seedIntensity) images.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
      return images;
    },
    renderWholeImage(at: Pose): Float32Array {
      if (wholeDrr === null) throw new DrrkitError('the whole CT\'s image is rendered only with --overlay', '--overlay');
      const image = wholeDrr.render(at);
      if (seedIntensity) applyIntensityModel(image, intensity, incidentIntensity);
      return image;
    },
    async renderImagesWith(at: Pose, render: (drr: DRR, pose: Pose) => Promise<Float32Array>): Promise<Float32Array[]> {
      const images: Float32Array[] = [];
      for (const drr of drrs) images.push(await render(drr, at));
      if (seedIntensity) images.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
      return images;
    },
    dispose(): void {
      for (const drr of drrs) drr.dispose();
      wholeDrr?.dispose();
    },
  };
}
