// A small CloudWatch alarm evaluator, for the alarm-evaluation tests: an alarm's definition (as
// template.yaml renders it or as CloudWatch's DescribeAlarms returns what Terraform applied) run
// against datapoints, minute by minute. It does what our alarms use, as AWS documents it, and
// throws on anything else rather than guess:
// - statistics per period: Sum, SampleCount, Average, Minimum, Maximum and pNN percentiles
//   (nearest rank; CloudWatch's own are approximations), periods aligned to multiples of the period;
// - metric math ("Use metric math", CloudWatch User Guide): + - * /, unary minus, comparison and
//   logical operators, FILL(ts, scalar) and IF(condition, a, b), with the documented handling of
//   missing values (0 in arithmetic and in comparisons of two series, a dropped point when dividing
//   by zero or when IF has no value to give);
// - M out of N, and missing data as "Configuring how CloudWatch alarms treat missing data" and its
//   tables describe it: the evaluation range is taken as N + 2 periods (the tables' 5 for N = 3; AWS
//   says it depends on the period), with the rule for missing data treated as missing that the AWS
//   knowledge center gives ("Why did my CloudWatch alarm send me a notification after a single
//   breached data point?").
// Not modelled: the delay with which metrics reach CloudWatch, and alarms evaluated at other than
// minute boundaries (our evaluations run every minute, on the periods that have ended).

import type { Alarm, MetricQuery } from '../iac/helpers/metrics.js';

export interface Datapoint {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** Epoch milliseconds. */
  timestamp: number;
  value: number;
}

/** A metric's identity: its namespace, name and whole dimension set. */
const keyOf = (namespace: string, name: string, dimensions: Record<string, string>) =>
  JSON.stringify([namespace, name, Object.entries(dimensions).sort()]);

/** Datapoints by metric, each metric's in time order: what CloudWatch holds. */
export class MetricStore {
  private readonly byMetric = new Map<string, Datapoint[]>();
  private sorted = true;

  add(points: readonly Datapoint[]): this {
    for (const point of points) {
      const key = keyOf(point.namespace, point.name, point.dimensions);
      const list = this.byMetric.get(key) ?? [];
      list.push(point);
      this.byMetric.set(key, list);
    }
    this.sorted = false;
    return this;
  }

  /** The values of a metric with `start <= timestamp < end`. */
  values(namespace: string, name: string, dimensions: Record<string, string>, start: number, end: number) {
    if (!this.sorted) {
      for (const list of this.byMetric.values()) list.sort((a, b) => a.timestamp - b.timestamp);
      this.sorted = true;
    }
    const list = this.byMetric.get(keyOf(namespace, name, dimensions)) ?? [];
    const first = lowerBound(list, start);
    const values: number[] = [];
    for (let i = first; i < list.length && (list[i] as Datapoint).timestamp < end; i++) {
      values.push((list[i] as Datapoint).value);
    }
    return values;
  }
}

const lowerBound = (list: readonly Datapoint[], timestamp: number) => {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((list[middle] as Datapoint).timestamp < timestamp) low = middle + 1;
    else high = middle;
  }
  return low;
};

/** A statistic of a period's values; undefined when the period has none (a missing datapoint). */
export const statistic = (stat: string, values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const percentile = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (percentile) {
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.ceil((Number(percentile[1]) / 100) * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
  switch (stat) {
    case 'Sum':
      return values.reduce((sum, value) => sum + value, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    default:
      throw new Error(`statistic ${stat} is not implemented`);
  }
};

/** A time series on the period grid: period start → value. */
export type Series = Map<number, number>;
type Value = number | Series;

const isSeries = (value: Value): value is Series => value instanceof Map;

// --- metric math: tokens, a precedence-climbing parser, and an evaluator ------------------------

type Token =
  | { kind: 'number'; value: number }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string };

const tokenize = (text: string): Token[] => {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|>=|<=|&&|\|\||[-+*/()<>,]))/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (!match) throw new Error(`cannot read the expression at "${text.slice(index)}"`);
    index = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) {
      const word = match[2];
      if (word === 'AND' || word === 'OR') tokens.push({ kind: 'op', value: word === 'AND' ? '&&' : '||' });
      else tokens.push({ kind: 'name', value: word });
    } else tokens.push({ kind: 'op', value: match[3] as string });
  }
  return tokens;
};

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; id: string }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'unary'; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node };

const PRECEDENCE: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '>=': 3,
  '<=': 3,
  '>': 3,
  '<': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
};

export const parseExpression = (text: string): Node => {
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position];
  const expect = (value: string) => {
    const token = tokens[position++];
    if (token?.kind !== 'op' || token.value !== value) throw new Error(`expected "${value}" in ${text}`);
  };
  const primary = (): Node => {
    const token = tokens[position++];
    if (!token) throw new Error(`unexpected end of ${text}`);
    if (token.kind === 'number') return { kind: 'number', value: token.value };
    if (token.kind === 'op' && token.value === '(') {
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (token.kind === 'op' && token.value === '-') return { kind: 'unary', operand: primary() };
    if (token.kind === 'name') {
      const next = peek();
      if (next?.kind === 'op' && next.value === '(') {
        position++;
        const args: Node[] = [];
        if (!(peek()?.kind === 'op' && peek()?.value === ')')) {
          args.push(binary(0));
          while (peek()?.kind === 'op' && peek()?.value === ',') {
            position++;
            args.push(binary(0));
          }
        }
        expect(')');
        return { kind: 'call', name: token.value, args };
      }
      return { kind: 'id', id: token.value };
    }
    throw new Error(`unexpected "${token.value}" in ${text}`);
  };
  const binary = (minimum: number): Node => {
    let left = primary();
    for (;;) {
      const token = peek();
      if (token?.kind !== 'op') return left;
      const precedence = PRECEDENCE[token.value];
      if (precedence === undefined || precedence < minimum) return left;
      position++;
      const right = binary(precedence + 1);
      left = { kind: 'binary', op: token.value, left, right };
    }
  };
  const node = binary(0);
  if (position !== tokens.length) throw new Error(`unexpected "${tokens[position]?.value}" in ${text}`);
  return node;
};

const apply = (op: string, a: number, b: number): number | undefined => {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b; // "the data point is dropped"
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '&&':
      return a !== 0 && b !== 0 ? 1 : 0;
    case '||':
      return a !== 0 || b !== 0 ? 1 : 0;
    default:
      throw new Error(`operator ${op} is not implemented`);
  }
};

/** Evaluates an expression; `inputs` are the series of the alarm's metric queries, `grid` the range's periods. */
export const evaluateExpression = (
  node: Node,
  inputs: Record<string, Series>,
  grid: readonly number[],
): Value => {
  const evaluate = (current: Node): Value => {
    switch (current.kind) {
      case 'number':
        return current.value;
      case 'id': {
        const series = inputs[current.id];
        if (!series) throw new Error(`no query has the id ${current.id}`);
        return series;
      }
      case 'unary': {
        const operand = evaluate(current.operand);
        return isSeries(operand) ? new Map([...operand].map(([t, v]) => [t, -v])) : -operand;
      }
      case 'binary': {
        const left = evaluate(current.left);
        const right = evaluate(current.right);
        if (!isSeries(left) && !isSeries(right)) {
          const value = apply(current.op, left, right);
          if (value === undefined) throw new Error('a scalar divided by zero');
          return value;
        }
        // Two series: every timestamp of either, a missing value taken as 0 (arithmetic, comparison).
        const timestamps =
          isSeries(left) && isSeries(right)
            ? [...new Set([...left.keys(), ...right.keys()])].sort((a, b) => a - b)
            : [...((isSeries(left) ? left : right) as Series).keys()];
        const result: Series = new Map();
        for (const t of timestamps) {
          const a = isSeries(left) ? (left.get(t) ?? 0) : left;
          const b = isSeries(right) ? (right.get(t) ?? 0) : right;
          const value = apply(current.op, a, b);
          if (value !== undefined) result.set(t, value);
        }
        return result;
      }
      case 'call':
        return call(current.name, current.args.map(evaluate));
    }
  };
  const call = (name: string, args: Value[]): Value => {
    switch (name) {
      case 'FILL': {
        const [series, filler] = args;
        if (series === undefined || !isSeries(series) || typeof filler !== 'number') {
          throw new Error('FILL is implemented for (series, scalar) only');
        }
        return new Map(grid.map((t) => [t, series.get(t) ?? filler]));
      }
      case 'IF': {
        const [condition, whenTrue, whenFalse] = args;
        if (condition === undefined || whenTrue === undefined)
          throw new Error('IF takes (condition, a[, b])');
        if (!isSeries(condition)) {
          const chosen = condition !== 0 ? whenTrue : whenFalse;
          if (chosen === undefined) return new Map();
          return isSeries(chosen) ? chosen : new Map(grid.map((t) => [t, chosen]));
        }
        const result: Series = new Map();
        for (const [t, value] of condition) {
          if (value !== 0) {
            // TRUE: the value of a; 0 where a series has no point.
            result.set(t, isSeries(whenTrue) ? (whenTrue.get(t) ?? 0) : whenTrue);
          } else if (whenFalse !== undefined) {
            // FALSE: the value of b; dropped where a series has no point (or b is left out).
            const other = isSeries(whenFalse) ? whenFalse.get(t) : whenFalse;
            if (other !== undefined) result.set(t, other);
          }
        }
        return result;
      }
      default:
        throw new Error(`function ${name} is not implemented`);
    }
  };
  return evaluate(node);
};

// --- alarms ----------------------------------------------------------------------------------

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';
/** A slot of the evaluation range: breaching, not breaching, or missing. */
export type Slot = 'X' | '0' | '-';

/**
 * The state an alarm goes to from its evaluation range (oldest slot first) as "How alarm state is
 * evaluated when data is missing" describes it; `undefined` keeps the current state (ignore).
 */
export const stateOf = (
  slots: readonly Slot[],
  { datapointsToAlarm: m, evaluationPeriods: n }: { datapointsToAlarm: number; evaluationPeriods: number },
  treatMissingData: TreatMissingData,
): AlarmState | undefined => {
  const present = slots.filter((slot) => slot !== '-');
  if (present.length >= n) {
    // Enough real datapoints: the most recent N of them decide.
    return present.slice(-n).filter((slot) => slot === 'X').length >= m ? 'ALARM' : 'OK';
  }
  const breaching = present.filter((slot) => slot === 'X').length;
  const fill = n - present.length;
  switch (treatMissingData) {
    case 'breaching':
      return breaching + fill >= m ? 'ALARM' : 'OK';
    case 'notBreaching':
      return breaching >= m ? 'ALARM' : 'OK';
    case 'ignore':
      if (breaching >= m) return 'ALARM';
      return present.length > breaching ? 'OK' : undefined;
    case 'missing': {
      if (breaching >= m) return 'ALARM';
      if (present.length > breaching) return 'OK';
      if (present.length === 0) return 'INSUFFICIENT_DATA';
      // Only breaching points, too few: ALARM when the oldest is at least M periods old and the
      // newer slots are breaching or missing (AWS knowledge center); otherwise not enough data.
      const oldest = slots.indexOf('X');
      return slots.length - oldest >= m ? 'ALARM' : 'INSUFFICIENT_DATA';
    }
  }
};

const breaches = (alarm: Alarm, value: number): boolean => {
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanThreshold':
      return value > alarm.Threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.Threshold;
    case 'LessThanThreshold':
      return value < alarm.Threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= alarm.Threshold;
    default:
      throw new Error(`comparison ${alarm.ComparisonOperator} is not implemented`);
  }
};

const periodOf = (alarm: Alarm): number => {
  if (alarm.Period !== undefined) return alarm.Period;
  const periods = new Set(
    alarm.Metrics.flatMap((query) => (query.MetricStat ? [query.MetricStat.Period] : [])),
  );
  if (periods.size !== 1) throw new Error(`${alarm.AlarmName}: an alarm's metrics share one period`);
  return [...periods][0] as number;
};

/** The alarm's datapoints over the periods of `grid` (period starts, ms). */
export const alarmSeries = (alarm: Alarm, store: MetricStore, grid: readonly number[]): Series => {
  const periodMs = periodOf(alarm) * 1000;
  const seriesOf = (namespace: string, name: string, dimensions: Record<string, string>, stat: string) => {
    const series: Series = new Map();
    for (const start of grid) {
      const value = statistic(stat, store.values(namespace, name, dimensions, start, start + periodMs));
      if (value !== undefined) series.set(start, value);
    }
    return series;
  };
  if (alarm.MetricName !== undefined) {
    const stat = alarm.Statistic ?? alarm.ExtendedStatistic;
    if (!stat || !alarm.Namespace) throw new Error(`${alarm.AlarmName} has no statistic or namespace`);
    return seriesOf(alarm.Namespace, alarm.MetricName, alarm.Dimensions, stat);
  }
  const inputs: Record<string, Series> = {};
  for (const query of alarm.Metrics.filter(
    (candidate): candidate is MetricQuery & Required<Pick<MetricQuery, 'MetricStat'>> =>
      candidate.MetricStat !== undefined,
  )) {
    const { Namespace, MetricName, Dimensions, Stat } = query.MetricStat;
    inputs[query.Id] = seriesOf(Namespace, MetricName, Dimensions, Stat);
  }
  const returned = alarm.Metrics.filter((query) => query.ReturnData);
  if (returned.length !== 1 || returned[0]?.Expression === undefined) {
    throw new Error(`${alarm.AlarmName}: one expression returns the alarm's data`);
  }
  const value = evaluateExpression(parseExpression(returned[0].Expression), inputs, grid);
  return isSeries(value) ? value : new Map(grid.map((t) => [t, value]));
};

export interface Evaluation {
  /** When the alarm first went to ALARM, if it did. */
  firstAlarmAt: number | undefined;
  /** Every change of state: when, and to what. */
  changes: { at: number; state: AlarmState }[];
  /** The state at the end. */
  state: AlarmState;
}

/** Evaluates the alarm every `stepMs` from `from` to `to` (ms), each time on the periods that have ended. */
export const evaluateAlarm = (
  alarm: Alarm,
  store: MetricStore,
  { from, to, stepMs = 60_000 }: { from: number; to: number; stepMs?: number },
): Evaluation => {
  const periodMs = periodOf(alarm) * 1000;
  const n = alarm.EvaluationPeriods;
  const range = n + 2;
  const treatMissingData = alarm.TreatMissingData as TreatMissingData;
  let state: AlarmState = 'INSUFFICIENT_DATA';
  const changes: Evaluation['changes'] = [];
  for (let at = from; at <= to; at += stepMs) {
    const lastStart = Math.floor(at / periodMs) * periodMs - periodMs;
    const grid = Array.from({ length: range }, (_, index) => lastStart - (range - 1 - index) * periodMs);
    const series = alarmSeries(alarm, store, grid);
    const slots = grid.map((t): Slot => {
      const value = series.get(t);
      return value === undefined ? '-' : breaches(alarm, value) ? 'X' : '0';
    });
    const next: AlarmState =
      stateOf(
        slots,
        { datapointsToAlarm: alarm.DatapointsToAlarm, evaluationPeriods: n },
        treatMissingData,
      ) ?? state;
    if (next !== state) {
      changes.push({ at, state: next });
      state = next;
    }
  }
  return { firstAlarmAt: changes.find((change) => change.state === 'ALARM')?.at, changes, state };
};
