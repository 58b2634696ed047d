/**
 * Preloaded (node --import) into each CLI process the fuzz test spawns: at exit it writes the
 * process's peak resident set size in KiB to the file named by DRRKIT_FUZZ_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.DRRKIT_FUZZ_RSS_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
