// The metrics a dashboard and alarms read, in one shape whichever flavour or API produced them:
// CloudFormation properties and CloudWatch's DescribeAlarms share their field names.

export interface MetricRef {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** The statistic the widget or alarm applies. */
  stat: string | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every metric that the dashboard's metric widgets plot (rows in the [namespace, name, dim, value, …, options] form). */
export const dashboardMetrics = (body: unknown): MetricRef[] => {
  const parsed = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  const widgets = isRecord(parsed) && Array.isArray(parsed.widgets) ? parsed.widgets : [];
  const refs: MetricRef[] = [];
  for (const widget of widgets) {
    if (!isRecord(widget) || widget.type !== 'metric' || !isRecord(widget.properties)) continue;
    const { metrics, stat } = widget.properties;
    for (const row of Array.isArray(metrics) ? metrics : []) {
      if (!Array.isArray(row)) throw new Error(`metric row is not a list: ${JSON.stringify(row)}`);
      const last = row.at(-1);
      const options = isRecord(last) ? last : {};
      // A metric-math row ([{ expression, … }]) plots no metric of its own: see dashboardExpressions.
      if (options.expression !== undefined) continue;
      const parts = (isRecord(last) ? row.slice(0, -1) : row).map(String);
      // The "." shorthand repeats the row above; rows here are written out, so a test sees every name.
      if (parts.includes('.')) throw new Error(`metric row uses the "." shorthand: ${JSON.stringify(row)}`);
      const [namespace = '', name = '', ...dimensionPairs] = parts;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < dimensionPairs.length; i += 2) {
        dimensions[dimensionPairs[i] as string] = dimensionPairs[i + 1] as string;
      }
      refs.push({ namespace, name, dimensions, stat: String(options.stat ?? stat ?? '') || undefined });
    }
  }
  return refs;
};

/** A metric-math line of a dashboard widget: its expression, and the metrics its ids name. */
export interface DashboardExpression {
  expression: string;
  /** The widget's metric rows that carry an `id`, by id. */
  inputs: Record<string, Omit<MetricRef, 'stat'> & { stat: string | undefined }>;
  period: number | undefined;
}

/** Every metric-math line of the dashboard's metric widgets, with the rows it can refer to. */
export const dashboardExpressions = (body: unknown): DashboardExpression[] => {
  const parsed = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  const widgets = isRecord(parsed) && Array.isArray(parsed.widgets) ? parsed.widgets : [];
  const found: DashboardExpression[] = [];
  for (const widget of widgets) {
    if (!isRecord(widget) || widget.type !== 'metric' || !isRecord(widget.properties)) continue;
    const { metrics, period } = widget.properties;
    const rows = (Array.isArray(metrics) ? metrics : []) as unknown[][];
    const inputs: DashboardExpression['inputs'] = {};
    const refs = dashboardMetrics({ widgets: [widget] });
    let index = 0;
    for (const row of rows) {
      const options = row.at(-1);
      if (isRecord(options) && options.expression !== undefined) continue;
      const ref = refs[index++];
      if (ref && isRecord(options) && typeof options.id === 'string') inputs[options.id] = ref;
    }
    for (const row of rows) {
      const options = row.at(-1);
      if (!isRecord(options) || typeof options.expression !== 'string') continue;
      found.push({
        expression: options.expression,
        inputs,
        period: typeof period === 'number' ? period : undefined,
      });
    }
  }
  return found;
};

/** The alarms that the dashboard's alarm-status widgets list, by ARN. */
export const dashboardAlarmArns = (body: unknown): string[] => {
  const parsed = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  const widgets = isRecord(parsed) && Array.isArray(parsed.widgets) ? parsed.widgets : [];
  return widgets.flatMap((widget) =>
    isRecord(widget) && widget.type === 'alarm' && isRecord(widget.properties)
      ? ((widget.properties.alarms as unknown[] | undefined) ?? []).map(String)
      : [],
  );
};

export interface MetricQuery {
  Id: string;
  Expression?: string;
  Label?: string;
  ReturnData: boolean;
  MetricStat?: {
    Namespace: string;
    MetricName: string;
    Dimensions: Record<string, string>;
    Period: number;
    Stat: string;
  };
}

export interface Alarm {
  AlarmName: string;
  AlarmDescription: string;
  Namespace?: string;
  MetricName?: string;
  Dimensions: Record<string, string>;
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: string[];
  OKActions: string[];
  Metrics: MetricQuery[];
}

const dimensionsOf = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    (Array.isArray(value) ? value : []).map((dimension: { Name: string; Value: string }) => [
      dimension.Name,
      String(dimension.Value),
    ]),
  );

const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });

/** An alarm as AWS::CloudWatch::Alarm properties or a DescribeAlarms MetricAlarm, in one shape. */
export const normalizeAlarm = (raw: Record<string, unknown>): Alarm => {
  const number = (key: string) => (raw[key] === undefined ? undefined : Number(raw[key]));
  const evaluationPeriods = Number(raw.EvaluationPeriods);
  const metrics = (Array.isArray(raw.Metrics) ? raw.Metrics : []).map((query: Record<string, unknown>) => {
    const stat = query.MetricStat as
      | {
          Metric: { Namespace: string; MetricName: string; Dimensions?: unknown };
          Period: unknown;
          Stat: string;
        }
      | undefined;
    return {
      Id: String(query.Id),
      ...optional('Expression', query.Expression as string | undefined),
      ...optional('Label', query.Label as string | undefined),
      ReturnData:
        query.ReturnData === undefined ? true : query.ReturnData === true || query.ReturnData === 'true',
      ...optional(
        'MetricStat',
        stat && {
          Namespace: stat.Metric.Namespace,
          MetricName: stat.Metric.MetricName,
          Dimensions: dimensionsOf(stat.Metric.Dimensions),
          Period: Number(stat.Period),
          Stat: stat.Stat,
        },
      ),
    } as MetricQuery;
  });
  return {
    AlarmName: String(raw.AlarmName),
    AlarmDescription: String(raw.AlarmDescription ?? ''),
    ...optional('Namespace', raw.Namespace as string | undefined),
    ...optional('MetricName', raw.MetricName as string | undefined),
    Dimensions: dimensionsOf(raw.Dimensions),
    ...optional('Statistic', raw.Statistic as string | undefined),
    ...optional('ExtendedStatistic', raw.ExtendedStatistic as string | undefined),
    ...optional('Period', number('Period')),
    EvaluationPeriods: evaluationPeriods,
    // AWS counts every evaluated period when DatapointsToAlarm is not set.
    DatapointsToAlarm: number('DatapointsToAlarm') ?? evaluationPeriods,
    Threshold: Number(raw.Threshold),
    ComparisonOperator: String(raw.ComparisonOperator),
    TreatMissingData: String(raw.TreatMissingData ?? 'missing'),
    AlarmActions: ((raw.AlarmActions as string[] | undefined) ?? []).map(String),
    OKActions: ((raw.OKActions as string[] | undefined) ?? []).map(String),
    // The order of an alarm's metric queries means nothing (Terraform keeps them as a set).
    Metrics: metrics.sort((a, b) => a.Id.localeCompare(b.Id)),
  };
};

/** The metrics an alarm reads: its single metric, or the metrics of its metric-math queries. */
export const alarmMetrics = (alarm: Alarm): MetricRef[] => {
  if (alarm.MetricName !== undefined) {
    return [
      {
        namespace: alarm.Namespace ?? '',
        name: alarm.MetricName,
        dimensions: alarm.Dimensions,
        stat: alarm.Statistic ?? alarm.ExtendedStatistic,
      },
    ];
  }
  return alarm.Metrics.flatMap((query) =>
    query.MetricStat
      ? [
          {
            namespace: query.MetricStat.Namespace,
            name: query.MetricStat.MetricName,
            dimensions: query.MetricStat.Dimensions,
            stat: query.MetricStat.Stat,
          },
        ]
      : [],
  );
};
