// The per-GPU health verdict: healthy / degraded / action needed, with reasons a user can act on.

import type { GpuHealth, GpuVerdict, GpuXidSummary } from '../../../protocol/details/gpu';
import type { SeriesMap } from '../../../protocol';

/** Series value of each verdict (`gpu.<i>.health_state`). */
export const VERDICT_STATE: Readonly<Record<GpuVerdict, number>> = { healthy: 0, degraded: 1, 'action-needed': 2 };

/** Share of the interval under hardware/thermal slowdown from which the GPU counts as degraded. */
export const HW_SLOWDOWN_DEGRADED_RATIO = 0.5;

/** Everything the verdict looks at for one GPU. */
export interface HealthInputs {
  /** Series of this tick; read as `gpu.<index>.<metric>`. */
  series: SeriesMap;
  prefix: string;
  lost: boolean;
  /** Events still within the hold. */
  recentEvents: GpuXidSummary[];
  /** Volatile uncorrected ECC count when the collector started watching (new ones count). */
  uncorrectedBaseline: number | null;
}

/** Computes the verdict of one GPU. */
export function gpuHealth(h: HealthInputs): GpuHealth {
  const v = (m: string): number | null => h.series[h.prefix + m] ?? null;
  let verdict: GpuVerdict = 'healthy';
  const reasons: string[] = [];
  const raise = (to: GpuVerdict, why: string): void => {
    reasons.push(why);
    if (VERDICT_STATE[to] > VERDICT_STATE[verdict]) verdict = to;
  };
  if (h.lost) raise('action-needed', 'GPU is lost (fell off the bus): drain the node and reboot');
  if (v('remap_failure_state') === 1) raise('action-needed', 'a row remapping failed: contact support/RMA');
  if (v('remap_pending_state') === 1) raise('action-needed', 'row remapping pending: the GPU needs a reset');
  if (v('retired_pages_pending_state') === 1) raise('action-needed', 'page retirement pending: the GPU needs a reset');
  const unc = v('ecc_volatile_uncorrected_count');
  if (unc !== null && unc > (h.uncorrectedBaseline ?? 0))
    raise('action-needed', `${unc} uncorrected ECC error(s) since the driver loaded: restart the affected work and reset the GPU`);
  for (const e of h.recentEvents) {
    const label = /^\d+$/.test(e.code) ? `Xid ${e.code}` : e.code;
    raise(e.severity === 'critical' ? 'action-needed' : 'degraded', `${label} ×${e.count}: ${e.meaning}. ${e.action}`);
  }
  const links = v('nvlink_links_count');
  const up = v('nvlink_links_active_count');
  if (links !== null && up !== null && up < links)
    raise('degraded', `${links - up} of ${links} NVLink link(s) down: check the NVLink bridge/switch and the peer GPU; reset the GPUs if it persists`);
  const slow = v('hw_slowdown_ratio');
  if (slow !== null && slow >= HW_SLOWDOWN_DEGRADED_RATIO) raise('degraded', `hardware/thermal slowdown ${Math.round(slow * 100)} % of the last interval`);
  return { verdict, reasons };
}
