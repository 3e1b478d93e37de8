// Why a GPU value shows n/a: the collector's reason (`details.gpu.devices[i].unavailable`), as the
// tooltip (title, which is also the accessible description) of the cell that shows the value.

import { nothing } from 'lit';
import type { GpuDevice } from '../protocol/details/gpu';

/** `power_limit_watts` → `power limit`: a metric key as a short label. */
function label(metric: string): string {
  return metric.replace(/_(ratio|bytes|celsius|watts|hertz|count|per_second)$/, '').replace(/_/g, ' ');
}

/**
 * The title of a cell showing `values` (metric key → value) of GPU `d`: why the null ones are null, or
 * `nothing` (no title attribute) when none is null or the collector gave no reason. One metric: its reason;
 * several: one `label: reason` line each.
 */
export function naTitle(d: GpuDevice | undefined, values: Record<string, number | null>): string | typeof nothing {
  const why = d?.unavailable;
  if (!why) return nothing;
  const keys = Object.keys(values).filter((k) => values[k] === null && why[k]);
  if (keys.length === 0) return nothing;
  if (Object.keys(values).length === 1) return `n/a: ${why[keys[0]]}`;
  return keys.map((k) => `${label(k)} n/a: ${why[k]}`).join('\n');
}
