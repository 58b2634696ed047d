import { Command, CommanderError } from 'commander';
import { DrrkitError, sanitizeMessage } from '../errors.js';
import { setReaderLimits } from '../io/limits.js';
import { validateFlags } from './validate.js';
import { evaluateCommand } from './evaluate.js';
import { generateCommand } from './generate.js';
import { inspectCommand } from './inspect.js';
import { reconstructCommand } from './reconstruct.js';
import { sceneCommand } from './scene.js';
import { registerCommand } from './register.js';
import { renderCommand } from './render.js';
import { workerCommand } from './worker.js';

/** Builds the `drrkit` command with all its subcommands. */
export function buildProgram(): Command {
  const program = new Command('drrkit')
    .description('differentiable X-ray rendering (DRRs) and 2D/3D registration')
    .version('0.1.0')
    .option('--allow-external-data', 'let NRRD/MetaImage headers name data files outside their own folder (refused by default)', false)
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(renderCommand());
  program.addCommand(inspectCommand());
  program.addCommand(registerCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(generateCommand());
  program.addCommand(workerCommand());
  // Commander's own messages ("error: unknown option …") in drrkit's form, "drrkit: …".
  const output = {
    writeErr: (text: string) => process.stderr.write(text.replace(/^error: /, 'drrkit: ')),
    outputError: (text: string, write: (text: string) => void) => write(text.replace(/^error: /, 'drrkit: ')),
  };
  program.configureOutput(output);
  for (const command of program.commands) command.configureOutput(output);
  // Every flag with a rule in src/cli/validate.ts is checked before any command runs.
  program.hook('preAction', (root, action) => {
    if (root.opts().allowExternalData === true) setReaderLimits({ allowExternalDataFiles: true });
    validateFlags(action.opts());
  });
  program.addCommand(reconstructCommand());
  program.addCommand(sceneCommand());
  return program;
}

/** Runs the CLI: the command's own exit status (0, or e.g. 3 from a failed registration); a DrrkitError prints one line and exits 1; a bug prints its message (stack with DRRKIT_DEBUG=1). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  try {
    await program.parseAsync(argv);
    // A command may set its own status (register: 3 when the registration failed its acceptance test).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof DrrkitError) {
      process.stderr.write(`drrkit: ${sanitizeMessage(error.message)}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/Array buffer allocation failed|Invalid typed array length|out of memory|could not allocate memory|Cannot allocate Wasm memory|Aborted\(OOM\)|Maximum call stack size exceeded/i.test(message)) {
      process.stderr.write(`drrkit: not enough memory: ${sanitizeMessage(message)}\n`);
      return 1;
    }
    process.stderr.write(`drrkit: internal error: ${sanitizeMessage(message)} (please report; set DRRKIT_DEBUG=1 for details)\n`);
    if (process.env.DRRKIT_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return 2;
  }
}

