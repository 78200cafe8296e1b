/**
 * The daemon's clock for durations: epoch milliseconds that advance with the monotonic clock
 * (`performance.now()`), anchored once on the wall clock. A wall-clock step (NTP correcting a wrong clock, an
 * operator's `date -s`, a VM resumed hours later) moves neither the load/AVAILABLE deadlines, the admission quiet
 * windows, the bake period nor the approval timeouts: forward, nothing expires early (a good version is never
 * rejected for a deadline it did not miss, a held candidate never auto-promoted early); back, nothing waits hours
 * longer. Calendar rules (promotion windows, freezes, the retention schedule) read the wall clock instead and are
 * carried onto this scale (plan-options.ts). Values stay epoch ms, so the journal keeps them across restarts; a
 * restart re-anchors on the wall clock.
 */
export function steadyClock(
  wall: () => number = Date.now,
  monotonic: () => number = () => performance.now(),
): () => number {
  const offset = wall() - monotonic();
  return () => Math.round(offset + monotonic());
}
