// Prometheus text format: parse a page, pick values, compute rates and windowed percentiles.

export * from './parse';
export * from './select';
export * from './quantile';
export * from './window';
