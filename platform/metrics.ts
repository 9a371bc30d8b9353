/**
 * Prometheus metrics registered once per registry: several instances of a service (or services sharing a
 * process) get the same metric objects instead of a "metric already registered" error.
 */
import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Registry,
} from "prom-client";

export function counter<T extends string = string>(
  registry: Registry,
  config: Omit<CounterConfiguration<T>, "registers">,
): Counter<T> {
  return (
    (registry.getSingleMetric(config.name) as Counter<T> | undefined) ??
    new Counter({ ...config, registers: [registry] })
  );
}

export function gauge<T extends string = string>(
  registry: Registry,
  config: Omit<GaugeConfiguration<T>, "registers">,
): Gauge<T> {
  return (
    (registry.getSingleMetric(config.name) as Gauge<T> | undefined) ?? new Gauge({ ...config, registers: [registry] })
  );
}

export function histogram<T extends string = string>(
  registry: Registry,
  config: Omit<HistogramConfiguration<T>, "registers">,
): Histogram<T> {
  return (
    (registry.getSingleMetric(config.name) as Histogram<T> | undefined) ??
    new Histogram({ ...config, registers: [registry] })
  );
}
