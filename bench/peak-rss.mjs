// Preloaded (node --import) into a measured process: writes its peak resident memory (KiB) to the
// file named by WM_BENCH_RSS_FILE when it exits. Only used on the memory runs, never on timed ones.
//
// On Linux it reads VmHWM from /proc/self/status, the high-water mark of this process's own memory
// since it started. getrusage's maxRSS is not that: Linux carries into it the peak of the memory
// the process had before exec, a copy of its parent's, so a child of a large benchmark process
// reported the benchmark's size (118 MiB for every SQLite command once the bench itself had grown).
import { readFileSync, writeFileSync } from 'node:fs';

function peakKiB() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // Not Linux: below.
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.WM_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(peakKiB())));
