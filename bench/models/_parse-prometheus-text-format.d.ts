// Types for the benchmark baseline (the package ships none): the prom2json-like shape it returns.
declare module 'parse-prometheus-text-format' {
  interface PptfMetric {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  interface PptfFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: PptfMetric[];
  }
  function parsePrometheusTextFormat(text: string): PptfFamily[];
  export = parsePrometheusTextFormat;
}
