// Sequential round trips from request spans (browser-safe: the bench workers import it).
/** A request's span, in performance.now() milliseconds. */
export interface Span {
  start: number;
  end: number;
}

/**
 * How many of the requests ran strictly one after another: the largest set of spans no two of which overlap
 * (greedy by earliest end). All in parallel gives 1, all sequential gives their count. On a link, each costs at
 * least one RTT, so this times the RTT is a floor under the operation's time.
 */
export function sequentialRoundTrips(spans: readonly Span[]): number {
  let count = 0;
  let freeAt = -Infinity;
  for (const s of [...spans].sort((a, b) => a.end - b.end)) {
    if (s.start >= freeAt) {
      count++;
      freeAt = s.end;
    }
  }
  return count;
}
