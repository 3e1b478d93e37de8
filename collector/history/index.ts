// Multi-resolution history: tiered rings per series, downsampled queries, atomic persistence.
export { TieredHistory, columnsToPoints, DEFAULT_POINTS, MAX_POINTS, DEFAULT_MAX_SERIES, type TieredHistoryOptions } from './tiered-history';
export { RAW_SPAN_MS, AGG_TIERS, RETENTION_MS } from './rings';
export { HISTORY_MAGIC, HISTORY_FILE_VERSION } from './file-format';
