// Quantiles from cumulative histogram buckets — the method of Prometheus' histogram_quantile().

/** A cumulative bucket: count of observations ≤ `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The q-quantile (0..1) of cumulative buckets sorted by `le`, as histogram_quantile() computes it:
 * find the bucket holding rank q·total and interpolate linearly inside it, taking 0 as the lower
 * bound of the first bucket (when its upper bound is positive). A rank in the `+Inf` bucket answers
 * the highest finite bound. Null when there are no observations or no `+Inf` bucket.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const n = buckets.length;
  if (n < 2 || Number.isNaN(q)) return null;
  if (buckets[n - 1].le !== Infinity) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // Monotonic fix-up like Prometheus: scrape races can make a higher bucket briefly smaller.
  const counts: number[] = new Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    max = Math.max(max, buckets[i].count);
    counts[i] = max;
  }
  const total = counts[n - 1];
  if (!(total > 0)) return null;
  const rank = q * total;
  let b = 0;
  while (b < n - 1 && counts[b] < rank) b++;
  if (b === n - 1) return buckets[n - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;
  const upper = buckets[b].le;
  const lower = b === 0 ? 0 : buckets[b - 1].le;
  const below = b === 0 ? 0 : counts[b - 1];
  const inBucket = counts[b] - below;
  if (inBucket <= 0) return upper;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}
