import { Command, CommanderError } from 'commander';
import { DrrkitError } from '../errors.js';
import { evaluateCommand } from './evaluate.js';
import { inspectCommand } from './inspect.js';
import { reconstructCommand } from './reconstruct.js';
import { sceneCommand } from './scene.js';
import { registerCommand } from './register.js';
import { renderCommand } from './render.js';

/** Builds the `drrkit` command with all its subcommands. */
export function buildProgram(): Command {
  const program = new Command('drrkit')
    .description('differentiable X-ray rendering (DRRs) and 2D/3D registration')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(renderCommand());
  program.addCommand(inspectCommand());
  program.addCommand(registerCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(reconstructCommand());
  program.addCommand(sceneCommand());
  return program;
}

/** Runs the CLI: a DrrkitError prints one line and exits 1; a bug prints its message (stack with DRRKIT_DEBUG=1). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof DrrkitError) {
      process.stderr.write(`drrkit: ${error.message}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/Array buffer allocation failed|Invalid typed array length|out of memory/i.test(message)) {
      process.stderr.write(`drrkit: not enough memory: ${message}\n`);
      return 1;
    }
    process.stderr.write(`drrkit: internal error: ${message} (please report; set DRRKIT_DEBUG=1 for details)\n`);
    if (process.env.DRRKIT_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return 2;
  }
}

