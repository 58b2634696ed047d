import { Option, type Command } from 'commander';
import { DrrkitError } from '../errors.js';
import { EULER_CONVENTIONS, PARAMETERIZATIONS, parameterCount, type EulerConvention, type Parameterization } from '../geometry/rotation.js';
import type { PoseParameters } from '../geometry/pose.js';
import { parseNumberList, type RawOptions } from './options.js';

/** The tutorial's true pose, ZYX Euler angles (alpha, beta, gamma) = (π, 0, π/2). */
export const TUTORIAL_ROTATION = [Math.PI, 0, Math.PI / 2];

/** Adds --parameterization, --convention and --degrees. */
export function addRotationFormatOptions(command: Command): Command {
  return command
    .addOption(new Option('--parameterization <name>', 'how rotation numbers are read').choices(PARAMETERIZATIONS as unknown as string[]).default('euler_angles'))
    .addOption(new Option('--convention <axes>', 'Euler axis order for euler_angles, R = R_A·R_B·R_C').choices(EULER_CONVENTIONS as unknown as string[]).default('ZYX'))
    .option('--degrees', 'read (and write) angles in degrees instead of radians (euler_angles, axis_angle, se3_log_map)', false);
}

/** True when the parameterization's numbers are angles that --degrees converts. */
export function usesAngles(parameterization: Parameterization): boolean {
  return parameterization === 'euler_angles' || parameterization === 'axis_angle' || parameterization === 'se3_log_map';
}

/**
 * Reads a pose from a rotation flag and a translation flag. `defaultTranslation` is used when
 * the translation flag is absent (normally the volume centre).
 */
export function poseFromFlags(
  options: RawOptions,
  rotationFlag: { name: string; text: string | undefined },
  translationFlag: { name: string; text: string | undefined },
  defaultTranslation: readonly number[],
): PoseParameters {
  const parameterization = String(options.parameterization ?? 'euler_angles') as Parameterization;
  const convention = String(options.convention ?? 'ZYX') as EulerConvention;
  const count = parameterCount(parameterization);
  let rotation: number[];
  if (rotationFlag.text === undefined) {
    if (parameterization !== 'euler_angles' || convention !== 'ZYX') {
      throw new DrrkitError(`${rotationFlag.name} is required with --parameterization ${parameterization} --convention ${convention}`, rotationFlag.name);
    }
    rotation = [...TUTORIAL_ROTATION];
  } else {
    rotation = parseNumberList(rotationFlag.text, rotationFlag.name, count);
    if (options.degrees === true && usesAngles(parameterization)) rotation = rotation.map((value) => (value * Math.PI) / 180);
  }
  const translation = translationFlag.text === undefined ? [...defaultTranslation] : parseNumberList(translationFlag.text, translationFlag.name, 3);
  return { rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization, convention };
}
