// An EMF blob as CloudWatch turns it into metrics ("Specification: Embedded metric format",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// each metric of each directive is published once per dimension set, with the dimensions' values
// read from the blob's own keys; a value may be one number or an array of them.

import type { Datapoint } from './evaluator.js';

export type EmfBlob = Record<string, unknown>;

interface Directive {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string }[];
}

/**
 * The datapoints of a blob written at `timestamp` (the simulation's clock, not the blob's own).
 * `dimensions` overrides dimension values: the functions are deployed with POWERTOOLS_SERVICE_NAME
 * set to the name prefix, the tests' runs were not.
 */
export const emfDatapoints = (
  blob: EmfBlob,
  timestamp: number,
  dimensions: Record<string, string> = {},
): Datapoint[] => {
  const aws = blob._aws as { CloudWatchMetrics?: Directive[] } | undefined;
  if (!aws?.CloudWatchMetrics) throw new Error('not an EMF blob');
  const points: Datapoint[] = [];
  for (const directive of aws.CloudWatchMetrics) {
    for (const set of directive.Dimensions) {
      const values = Object.fromEntries(set.map((name) => [name, dimensions[name] ?? String(blob[name])]));
      for (const metric of directive.Metrics) {
        const raw = blob[metric.Name];
        for (const value of Array.isArray(raw) ? raw : [raw]) {
          if (typeof value !== 'number') throw new Error(`${metric.Name} has no numeric value`);
          points.push({
            namespace: directive.Namespace,
            name: metric.Name,
            dimensions: values,
            timestamp,
            value,
          });
        }
      }
    }
  }
  return points;
};

/** The count metrics a blob holds, by name (what an invocation's outcome was). */
export const emfCounts = (blob: EmfBlob): Record<string, number> => {
  const aws = blob._aws as {
    CloudWatchMetrics?: (Directive & { Metrics: { Name: string; Unit?: string }[] })[];
  };
  const counts: Record<string, number> = {};
  for (const directive of aws.CloudWatchMetrics ?? []) {
    for (const metric of directive.Metrics) {
      if (metric.Unit !== 'Count') continue;
      const raw = blob[metric.Name];
      counts[metric.Name] = (Array.isArray(raw) ? raw : [raw]).reduce(
        (sum: number, value) => sum + Number(value),
        0,
      );
    }
  }
  return counts;
};
