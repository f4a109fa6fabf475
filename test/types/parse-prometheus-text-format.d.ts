/** The little of parse-prometheus-text-format (an untyped CommonJS package) that tests use. */
declare module 'parse-prometheus-text-format' {
  /** One sample (or, for histograms and summaries, one label set); numbers stay strings. */
  export interface PromSample {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface PromFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: PromSample[];
  }
  /** Throws on text that is not in the Prometheus text format. */
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
