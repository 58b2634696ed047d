import { Command } from 'commander';
import { DRR, volumeDensities } from '../drr.js';
import { convertRotation } from '../geometry/rotation.js';
import { viewPose } from '../geometry/views.js';
import type { ReduceMode } from '../render/renderer.js';
import { DrrkitError } from '../errors.js';
import { createDetector } from '../geometry/detector.js';
import { poseFromParameters, type PoseParameters } from '../geometry/pose.js';
import { createWorldDetector, parseOrientation, type WorldDetectorOptions } from '../geometry/world-camera.js';
import { checkImageExtension, encodeFloatTiffStack, writeImage, type Image2D } from '../io/image.js';
import { loadVolume } from '../io/load-volume.js';
import { readXrayGeometry, type XrayGeometry } from '../io/xray.js';
import { applyIntensityModel, hounsfieldToAttenuation, parseIntensityModel, type IntensityModel } from '../volume/intensity.js';
import { labelChannels, maskDensities, parseLabelList, requireMatchingLabels } from '../volume/labels.js';
import { createVolume, type Volume } from '../volume/volume.js';
import { WorldDRR } from '../world-drr.js';
import { addDetectorOptions, addRealDataOptions, detectorOptionsFrom, parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { addRotationFormatOptions, poseFromFlags } from './pose-options.js';
import { addBackendOption, openRenderBackend } from './backend.js';

/** The text of a string flag, or undefined. */
function flag(options: RawOptions, name: string): string | undefined {
  return typeof options[name] === 'string' ? (options[name] as string) : undefined;
}

/** Densities for the seed geometry: HU → μ for the physical intensity models, then the label mask. */
function seedVolume(volume: Volume, intensity: IntensityModel, waterAttenuation: number, boneMultiplier: number): { volume: Volume; raw: boolean } {
  if (intensity === 'line-integral') return { volume, raw: false };
  const mu = hounsfieldToAttenuation(volume, { waterAttenuation, boneAttenuationMultiplier: boneMultiplier });
  return { volume: createVolume({ data: mu, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source }), raw: true };
}

/** `drrkit render`: one DRR of a CT at one camera pose, written as PNG (to look at) or float TIFF (exact). */
export function renderCommand(): Command {
  const command = new Command('render')
    .description('render a DRR (simulated X-ray) of a CT at one camera pose')
    .option('--ct <file|folder|example>', 'CT volume: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM (a file or a folder holding a series), or "example" for the built-in chest CT', 'example');
  addDetectorOptions(command, { sdr: '300', height: '100', delx: '8' });
  addRealDataOptions(command);
  addBackendOption(command);
  addRotationFormatOptions(command)
    .option('--rotation <numbers>', 'camera rotation, comma-separated, in the chosen parameterization (radians unless --degrees; default: the tutorial\'s π,0,π/2 for ZYX Euler angles in seed geometry, 0,0,0 in world geometry)')
    .option('--translation <x,y,z>', 'camera translation in world mm (default: the volume centre in seed geometry; the source --sod mm from the CT centre along the beam in world geometry)')
    .requiredOption('--out <file>', 'output image: .png (8-bit, min-max windowed) or .tif/.tiff (32-bit float, exact values; several pages with --channels)')
    .action(async (options: RawOptions) => {
      const out = String(options.out);
      const extension = checkImageExtension(out);
      const drrOptions = detectorOptionsFrom(options);
      const world = options.geometry === 'world' || flag(options, 'xrayDicom') !== undefined;
      const intensity = parseIntensityModel(String(options.intensity ?? 'line-integral'));
      const incidentIntensity = parseNumber(flag(options, 'i0') ?? '1', '--i0');
      const waterAttenuation = parseNumber(flag(options, 'waterAttenuation') ?? '0.02', '--water-attenuation');
      const boneMultiplier = drrOptions.boneAttenuationMultiplier ?? 1;
      const channels = options.channels === true;
      const reduce = String(options.reduce ?? 'sum') as ReduceMode;
      if (!world && flag(options, 'view') !== undefined) throw new DrrkitError('--view needs --geometry world', '--view');
      if (channels && flag(options, 'labels') === undefined) throw new DrrkitError('--channels needs --labels', '--channels');
      if (channels && extension === '.png') throw new DrrkitError(`${out}: --channels writes one page per label; use a .tif output`, out);
      const labelValues = flag(options, 'labelValues') !== undefined ? parseLabelList(flag(options, 'labelValues')!, '--label-values') : undefined;

      // Validate the detector before any file is read.
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

      const volume = await loadVolume(String(options.ct), { seriesInstanceUid: flag(options, 'series') });
      const labels = flag(options, 'labels') !== undefined ? await loadVolume(flag(options, 'labels')!) : undefined;
      if (labels) requireMatchingLabels(volume, labels);

      const backend = await openRenderBackend(String(options.backend ?? 'cpu'));
      const started = performance.now();
      let images: Float32Array[] = [];
      let height: number, width: number, description: string;
      try {
      if (world) {
        const density = intensity === 'line-integral' ? drrOptions.density ?? 'diffdrr' : 'attenuation';
        const base = new WorldDRR(volume, {
          ...worldDetector!,
          reduce,
          renderer: drrOptions.renderer,
          sampling: drrOptions.sampling,
          intensity,
          incidentIntensity,
          density,
          boneAttenuationMultiplier: boneMultiplier,
          attenuation: { waterAttenuation },
          labels: channels ? undefined : labels,
          labelValues,
        });
        const sod = flag(options, 'sod') !== undefined ? parseNumber(flag(options, 'sod')!, '--sod') : base.detector.sdd / 2;
        let pose: PoseParameters;
        if (flag(options, 'view') !== undefined) {
          if (flag(options, 'rotation') !== undefined || flag(options, 'translation') !== undefined) throw new DrrkitError('give either --view or --rotation/--translation, not both', '--view');
          const placed = viewPose(flag(options, 'view')!, base.detector.orientation, sod, base.center);
          pose = { rotation: convertRotation(placed.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX'), translation: placed.translation, parameterization: 'euler_angles', convention: 'ZYX' };
        } else if (xray && flag(options, 'rotation') === undefined && flag(options, 'translation') === undefined) {
          pose = { rotation: xray.poseParameters.rotation, translation: xray.poseParameters.translation, parameterization: 'euler_angles', convention: 'ZYX' };
        } else {
          const defaultTranslation = Array.from(base.defaultPose(sod).translation);
          const rotationText = flag(options, 'rotation') ?? (String(options.parameterization ?? 'euler_angles') === 'euler_angles' ? '0,0,0' : undefined);
          pose = poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: flag(options, 'translation') }, defaultTranslation);
        }
        poseFromParameters(pose);
        if (channels) {
          for (const { densities } of labelChannels(base.densities(), labels!, labelValues)) {
            images.push(await backend.render(new WorldDRR(volume, { ...worldDetector!, reduce, renderer: drrOptions.renderer, sampling: drrOptions.sampling, intensity, incidentIntensity, densities }), pose));
          }
        } else {
          images = [await backend.render(base, pose)];
        }
        height = base.detector.height;
        width = base.detector.width;
        description = `world-geometry ${base.settings.renderer} DRR (${base.detector.orientation}, sdd ${base.detector.sdd} mm)`;
      } else {
        const prepared = seedVolume(volume, intensity, waterAttenuation, boneMultiplier);
        const seedOptions = { ...(prepared.raw ? { ...drrOptions, density: 'raw' as const } : drrOptions), reduce };
        const base = new DRR(prepared.volume, seedOptions);
        const pose = poseFromFlags(
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
          const list = channels ? labelChannels(densities, labels, labelValues).map((entry) => entry.densities) : [maskDensities(densities, labels, labelValues)];
          for (const masked of list) images.push(await backend.render(new DRR(densityVolume(masked), { ...seedOptions, density: 'raw', threads: backend.name === 'cpu' ? seedOptions.threads : 1 }), pose));
        } else {
          images = [await backend.render(base, pose)];
        }
        images.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
        height = base.detector.height;
        width = base.detector.width;
        description = `${base.settings.renderer} DRR`;
      }
      } finally {
        backend.close();
      }
      if (backend.name === 'webgpu') description += ` on ${backend.description}`;
      const milliseconds = performance.now() - started;
      const pages: Image2D[] = images.map((data) => ({ data, height, width }));
      if (pages.length > 1 || channels) {
        const { writeFileAtomic } = await import('../io/files.js');
        await writeFileAtomic(out, encodeFloatTiffStack(pages));
      } else {
        await writeImage(out, pages[0]);
      }
      let minimum = Infinity, maximum = -Infinity;
      for (const image of images) for (const value of image) { if (value < minimum) minimum = value; if (value > maximum) maximum = value; }
      process.stdout.write(
        `wrote ${out}: ${pages.length > 1 ? `${pages.length} × ` : ''}${height}×${width} ${description} of ${volume.source} ` +
          `in ${milliseconds.toFixed(1)} ms (values ${minimum.toPrecision(4)}…${maximum.toPrecision(4)})\n`,
      );
    });
  return command;
}
