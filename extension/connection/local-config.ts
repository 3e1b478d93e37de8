// Builds the config file handed to the local collector from settings: extra source config plus alert
// rule overrides (format: docs/alerts.md, `alerts.rules` / `alerts.disable`). Pure.

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The settings this builder reads. */
export interface LocalConfigSettings {
  localConfig: Record<string, unknown>;
  alertRules: Record<string, unknown>[];
  alertDisable: string[];
  /** Training runs to watch (`rigwatch.runs`), appended to the config's `runs.watch`. */
  runs?: Record<string, unknown>[];
}

/** The config file for the local collector: extra source config from settings plus alert overrides. */
export function localCollectorConfig(s: LocalConfigSettings): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...s.localConfig };
  // Core keys that the extension controls through flags must not be overridden by the config object.
  for (const k of ['port', 'host', 'token', 'dataDir', 'interval']) delete cfg[k];
  if (s.alertRules.length > 0 || s.alertDisable.length > 0) {
    const base = isObj(cfg.alerts) ? cfg.alerts : {};
    cfg.alerts = {
      ...base,
      rules: [...(Array.isArray(base.rules) ? base.rules : []), ...s.alertRules],
      ...(s.alertDisable.length ? { disable: s.alertDisable } : {}),
    };
  }
  if (s.runs !== undefined && s.runs.length > 0 && cfg.runs !== false) {
    const base = isObj(cfg.runs) ? cfg.runs : Array.isArray(cfg.runs) ? { watch: cfg.runs } : {};
    cfg.runs = { ...base, watch: [...(Array.isArray(base.watch) ? base.watch : []), ...s.runs] };
  }
  return cfg;
}
