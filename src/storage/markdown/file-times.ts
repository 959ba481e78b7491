/**
 * When a file's size and times can be trusted to say it has not changed: the "racily clean" rule
 * git knows. A file changed again within the same tick of the file system's clock as its last
 * change keeps the same times, so a record taken in that tick could miss the second change. Once
 * a tick has passed since a file's last change, any later change moves its time.
 *
 * A file system that keeps whole seconds (ext3, HFS+, FAT's 2 s, some network mounts) has ticks of
 * up to 2 s. One with finer times (ext4, XFS, btrfs, APFS, NTFS) stamps files from a clock that
 * ticks at least every 10 ms (Linux's coarse clock; the others are finer), so 50 ms leaves room.
 */
const WHOLE_SECOND_MS = 2_000;
const FINE_MS = 50;

/** How long after `timeMs` (a file's mtime or ctime) its record can be trusted. */
export function racyWindowMs(timeMs: number): number {
  // Whole seconds: a coarse file system (a fine one lands on a whole second once in 10^9 changes,
  // and then only waits longer).
  return timeMs % 1000 === 0 ? WHOLE_SECOND_MS : FINE_MS;
}

/** True if a file last changed at `timeMs` can no longer change unseen for a record taken at `at`. */
export function settledAt(timeMs: number, at: number): boolean {
  return timeMs < at - racyWindowMs(timeMs);
}
