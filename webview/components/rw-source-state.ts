// Shared rendering of a source's state (ready / down / unavailable with the reason).

import { html, type TemplateResult } from 'lit';
import type { SourceStatus } from '../../protocol/messages';

/** A state dot and word for a source, with the reason when it is not ready. */
export function sourceState(st: SourceStatus | undefined, up: number | null = null, withReason = true): TemplateResult {
  const state = st?.state ?? 'probing';
  const ok = state === 'ready' && up !== 0;
  // Not on this machine (auto-detected) is grey, not red: only a configured source that fails is loud.
  const cls = ok ? 'ok' : state === 'probing' ? 'warn' : state === 'unavailable' ? 'off' : 'bad';
  const word = state === 'ready' && up === 0 ? 'down' : state;
  return html`<span class="state" data-state=${word}
    ><span class="dot ${cls}" aria-hidden="true"></span>${word}${withReason && st?.reason && !ok ? html`<span class="muted"> — ${st.reason}</span>` : ''}</span
  >`;
}
