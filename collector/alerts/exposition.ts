// How alert instances are shown: the `AlertInstance` clients receive (with its rendered message, in the
// rule's unit, past tense once resolved) and the Prometheus `ALERTS`-style lines for /metrics.

import { formatCompared, formatValue, type AlertInstance } from '../../protocol';
import { escapeLabelValue as esc } from '../../protocol/prometheus';
import { formatDuration, renderMessage } from './format';
import type { Instance } from './state-machine';

/** What the engine knows about an instance beyond the instance itself, for its message. */
export interface ViewContext {
  /** Why it holds (a source's down reason), if any. */
  reason: string | undefined;
  /** What the value is about (`{subject}`), `n/a` when unknown. */
  subject: string;
  /** The effective mute deadline (instance or rule), if any. */
  mutedUntil: number | undefined;
}

/** The client view of an instance at `t`; `resolvedAt` set renders the resolved (past tense) form. */
export function alertView(inst: Instance, t: number, ctx: ViewContext, resolvedAt?: number): AlertInstance {
  const r = inst.entry.rule;
  const level = (inst.severity === 'critical' ? r.critical : r.warning) ?? ((r.warning ?? r.critical) as number);
  // Relative rules show absolute values: the temperature and the GPU's own limit, not their difference.
  const shift = r.relativeTo !== null ? (inst.offsetBase ?? 0) : 0;
  const threshold = level + shift;
  const shown = inst.value === null ? null : inst.value + shift;
  const compared = formatCompared(r.unit, shown, threshold);
  const thresholdText = compared[1];
  let value = compared[0];
  let template = r.message;
  if (resolvedAt !== undefined) {
    // Past tense: what it reached, what it is now; the "(above …)" clause no longer holds.
    const peak = inst.peak === undefined ? null : inst.peak + shift;
    const why = inst.resolvedReason;
    if (why !== undefined) value = `was ${formatCompared(r.unit, peak ?? shown, threshold)[0]}`;
    else
      value =
        peak !== null && peak !== shown
          ? `was ${formatCompared(r.unit, peak, threshold)[0]}, now ${formatValue(r.unit, shown)}`
          : `now ${formatValue(r.unit, shown)}`;
    template = template.includes('{value}') ? template.replace(/\s*\((above|below|slowdown|at|near)\b[^)]*\)\s*$/, '') : `${template} — resolved`;
    // Resolved by something other than its value (the source left the config): say so.
    if (why !== undefined) template = `${template.replace(/ \u2014 resolved$/, '')} — resolved: ${why}`;
  }
  const message = renderMessage(template, {
    rule: r.id,
    series: inst.series,
    severity: inst.severity,
    value,
    threshold: thresholdText,
    op: r.comparison,
    for: formatDuration(inst.severity === 'critical' ? r.criticalForMs : r.warningForMs),
    reason: ctx.reason ?? 'no reason given',
    subject: ctx.subject,
    relativeTo: formatValue(r.unit, r.relativeTo !== null ? inst.offsetBase : null),
    captures: inst.captures,
    raw: inst.value,
    changedAt: inst.changedAt,
  });
  const a: AlertInstance = {
    id: inst.id,
    ruleId: r.id,
    series: inst.series,
    state: resolvedAt !== undefined ? 'resolved' : inst.state === 'firing' ? 'firing' : 'pending',
    severity: inst.severity,
    value: shown,
    threshold,
    unit: r.unit ?? undefined,
    message,
    activeSince: inst.activeSince ?? t,
    acknowledged: inst.acknowledged,
  };
  if (inst.firingSince !== undefined) a.firingSince = inst.firingSince;
  if (resolvedAt !== undefined) a.resolvedAt = resolvedAt;
  const mu = ctx.mutedUntil;
  if (mu !== undefined && mu > t) a.mutedUntil = mu;
  return a;
}

/** `ALERTS`-style exposition lines for /metrics: one `rigwatch_alerts` and one `_for_state` series per active instance. */
export function alertExpositionLines(active: readonly AlertInstance[]): string[] {
  const lines = ['# HELP rigwatch_alerts Rigwatch alert instances that are pending or firing (one series per instance).', '# TYPE rigwatch_alerts gauge'];
  for (const a of active) {
    lines.push(`rigwatch_alerts{alertname="${esc(a.ruleId)}",alertstate="${a.state}",severity="${a.severity}",series="${esc(a.series)}"} 1`);
  }
  lines.push('# HELP rigwatch_alerts_for_state Epoch seconds at which each active alert instance became active.', '# TYPE rigwatch_alerts_for_state gauge');
  for (const a of active) {
    lines.push(`rigwatch_alerts_for_state{alertname="${esc(a.ruleId)}",severity="${a.severity}",series="${esc(a.series)}"} ${a.activeSince / 1000}`);
  }
  return lines;
}
