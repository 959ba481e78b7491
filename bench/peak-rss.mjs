// Preloaded (node --import) into a measured process: writes its peak resident memory (KiB) to the
// file named by WM_BENCH_RSS_FILE when it exits. Only used on the memory runs, never on timed ones.
import { writeFileSync } from 'node:fs';

const file = process.env.WM_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
