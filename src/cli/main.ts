#!/usr/bin/env node
/** The `drrkit` executable. */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
