/**
 * What the cheap rescan compares between ticks: one stat of the base path, no readdir and never a look inside a
 * version directory (a thousand models cost a thousand stats). Its mtime and ctime change whenever a child is
 * created, removed or renamed (a version replaced under the same name included), its link count whenever a child
 * directory comes or goes, its inode when the base path itself is replaced.
 *
 * A timestamp is only as fine as the kernel's clock tick: a second change in the tick of the last stat could leave
 * mtime as it was. So a base path changed less than UNSETTLED_MS ago is UNSETTLED, which never compares equal:
 * the rescan looks at it again next time.
 */
import { stat } from "node:fs/promises";

export const MISSING_LISTING = "missing";
export const UNSETTLED_LISTING = "unsettled";
const UNSETTLED_MS = 2_000;

/** A key that changes whenever the base path's children change; UNSETTLED_LISTING while it just changed. */
export async function baseListingKey(basePath: string, now = Date.now()): Promise<string> {
  try {
    const s = await stat(basePath);
    if (Math.abs(now - s.mtimeMs) < UNSETTLED_MS) return UNSETTLED_LISTING;
    return `${s.ino}:${s.mtimeMs}:${s.ctimeMs}:${s.nlink}`;
  } catch {
    return MISSING_LISTING;
  }
}

/** Whether the model must be looked at: its listing changed, or is too fresh to compare. */
export function listingChanged(before: string, now: string): boolean {
  return now !== before || now === UNSETTLED_LISTING;
}
