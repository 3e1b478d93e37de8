// Alert rules and the engine the tick loop feeds.
export { createAlertEngine, RuleAlertEngine, type AlertEngineOptions } from './engine';
export { parseAlertsConfig, DEFAULT_RULE_CONFIGS, type AlertRule, type RuleConfig, type AlertOptions } from './rules';
export { formatValue } from '../../protocol';
