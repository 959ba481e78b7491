/**
 * Named crash points for the kill tests (SPEC section 9: an operation killed at any point converges
 * on a rerun). `faultPoint('migrate:after-commit')` kills the process with SIGKILL, as a power cut
 * or `kill -9` would, when WHITEMAGIC_FAULT names that point; otherwise it does nothing.
 */
export function faultPoint(name: string): void {
  if (process.env.WHITEMAGIC_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
