import { Option, type Command } from 'commander';
import { DrrkitError } from '../errors.js';
import type { DRROptions, DensityMode } from '../drr.js';
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
