// CSV logging and history export.
export { createCsvLogger, CsvFileLogger, CSV_ERROR_SERIES, type CsvLoggerOptions } from './csv-logger';
export {
  exportCsv,
  exportCsvChunks,
  exportCsvColumnChunks,
  exportJson,
  exportJsonChunks,
  exportJsonSeriesChunks,
  toColumns,
  type ColumnSeries,
  type CsvExportOptions,
} from './history-export';
export { csvField, csvRow, csvNumber } from './csv';
