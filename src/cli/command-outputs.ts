/**
 * All-or-nothing outputs for commands that write a folder (`register`, `evaluate`): wrap the
 * command's action with {@link withAtomicOutputs} and everything it writes under `--out-dir` goes
 * to a temporary folder beside it, moved into place only when the action finishes; a failure
 * (a bad input, an encoder out of memory under `ulimit -v`) leaves nothing behind. The wrapper also
 * applies `--animation` / `--no-animation` and `--degrees` to the run outputs.
 */
import { Option, type Command } from 'commander';
import { writeOutputsAtomically } from '../io/files.js';
import { parseAnimationFormats, withOutputSettings } from '../registration/outputs.js';

/** Wraps a commander action whose first argument holds `outDir`; see the module comment. */
export function withAtomicOutputs<Arguments extends [Record<string, unknown>, ...unknown[]]>(
  action: (...args: Arguments) => Promise<void>,
): (...args: Arguments) => Promise<void> {
  return (...args: Arguments) => {
    const options = args[0];
    const settings = { animation: parseAnimationFormats(options.animation), degrees: options.degrees === true };
    return writeOutputsAtomically(String(options.outDir), () => withOutputSettings(settings, () => action(...args)));
  };
}

/** Adds `--animation <formats>` (gif,webp by default; gif, webp or none) and `--no-animation`. */
export function addAnimationOptions(command: Command): Command {
  return command
    .addOption(new Option('--animation <formats>', 'animations to write: gif,webp, gif, webp or none (writing both takes most of the output time)').default('gif,webp'))
    .option('--no-animation', 'write no animation (same as --animation none)');
}
