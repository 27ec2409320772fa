// The alarm evaluator against AWS's own examples: the tables of "How alarm state is evaluated when
// data is missing" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data),
// the examples of "Use metric math" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html),
// and M out of N on datapoints aligned to their periods.

import { describe, expect, it } from 'vitest';
import type { Alarm } from '../iac/helpers/metrics.js';
import {
  type AlarmState,
  evaluateAlarm,
  evaluateExpression,
  MetricStore,
  parseExpression,
  type Series,
  type Slot,
  stateOf,
  statistic,
  type TreatMissingData,
} from './evaluator.js';

const MINUTE = 60_000;
const slots = (text: string) => text.split(' ') as Slot[];
/** "Retain current state" in AWS's tables. */
const RETAIN = undefined;

describe('stateOf (missing data)', () => {
  const columns: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
  const check = (m: number, n: number, rows: [string, (AlarmState | undefined)[]][]) => {
    for (const [points, expected] of rows) {
      columns.forEach((treatMissingData, column) => {
        expect(
          stateOf(slots(points), { datapointsToAlarm: m, evaluationPeriods: n }, treatMissingData),
          `${points} treated as ${treatMissingData}`,
        ).toBe(expected[column]);
      });
    }
  };

  it("gives AWS's first table: 3 of 3, five datapoints retrieved, oldest first", () => {
    check(3, 3, [
      ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
      ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
      ['- - - - -', ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
      ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
      ['- - - - X', ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
      ['X - - - -', ['ALARM', RETAIN, 'ALARM', 'OK']],
    ]);
  });

  it("gives AWS's second table: 2 of 3", () => {
    check(2, 3, [
      ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
      ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
      ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
      ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
      ['- - - - X', ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
    ]);
  });
});

describe('evaluateExpression (metric math)', () => {
  const grid = [0, 1, 2, 3, 4];
  const series = (values: (number | '-')[]): Series =>
    new Map(values.flatMap((value, t) => (value === '-' ? [] : [[t, value] as [number, number]])));
  const run = (expression: string, inputs: Record<string, Series>) => {
    const result = evaluateExpression(parseExpression(expression), inputs, grid);
    return result instanceof Map ? grid.map((t) => result.get(t) ?? '-') : result;
  };

  it("gives AWS's comparison and logical examples: a missing value is 0 between two series", () => {
    const inputs = { metric1: series([30, 20, 0, 0]), metric2: series([20, '-', 20, '-']) };

    expect(run('(metric1 < metric2)', inputs)).toEqual([0, 0, 1, 0, '-']);
    expect(run('(metric1 >= 30)', inputs)).toEqual([1, 0, 0, 0, '-']);
    expect(run('(metric1 > 15 AND metric2 > 15)', inputs)).toEqual([1, 0, 0, 0, '-']);
  });

  it("gives AWS's IF examples: true takes a (0 where it has no point), false takes b (dropped where it has none)", () => {
    const inputs = {
      metric1: series([1, 1, 0, 0, '-']),
      metric2: series([30, '-', 0, 0, 30]),
      metric3: series([0, 0, 20, '-', 20]),
    };

    expect(run('IF(metric1, metric2, metric3)', inputs)).toEqual([30, 0, 20, '-', '-']);
    expect(run('IF(metric1, 5, metric3)', inputs)).toEqual([5, 5, 20, '-', '-']);
    expect(run('IF(metric1, metric2, 5)', inputs)).toEqual([30, 0, 5, 5, '-']);
  });

  it('treats a missing value as 0 in arithmetic, and drops a point divided by zero', () => {
    const inputs = { m1: series([10, '-', 6, '-', '-']), m2: series([2, 4, 0, '-', '-']) };

    expect(run('m1 + m2', inputs)).toEqual([12, 4, 6, '-', '-']);
    expect(run('m1 / m2', inputs)).toEqual([5, 0, '-', '-', '-']);
    expect(run('-m1 * 2 + 1', inputs)).toEqual([-19, '-', -11, '-', '-']);
  });

  it('fills every period of the range with FILL, so an IF over it has a value for each', () => {
    const inputs = { queued: series([3, '-', 1, '-', 4]), synced: series(['-', 5, 1, '-', '-']) };

    expect(run('FILL(queued, 0)', inputs)).toEqual([3, 0, 1, 0, 4]);
    expect(
      run('IF(FILL(queued, 0) >= 2, 100 * FILL(queued, 0) / (FILL(queued, 0) + FILL(synced, 0)), 0)', inputs),
    ).toEqual([100, 0, 0, 0, 100]);
  });

  it('refuses what it does not implement rather than guess', () => {
    expect(() => run('FILL(m1, REPEAT)', { m1: series([1]) })).toThrow(/REPEAT/);
    expect(() => run('RATE(m1)', { m1: series([1]) })).toThrow(/RATE/);
    expect(() => run('m1 +', { m1: series([1]) })).toThrow();
  });
});

describe('statistic', () => {
  it('computes each statistic the alarms use, and none for a period without values', () => {
    const values = [4, 1, 3, 2];

    expect(statistic('Sum', values)).toBe(10);
    expect(statistic('SampleCount', values)).toBe(4);
    expect(statistic('Average', values)).toBe(2.5);
    expect(statistic('Minimum', values)).toBe(1);
    expect(statistic('Maximum', values)).toBe(4);
    expect(statistic('p50', values)).toBe(2);
    expect(
      statistic(
        'p99',
        [...Array(100).keys()].map((k) => k + 1),
      ),
    ).toBe(99);
    expect(statistic('Sum', [])).toBeUndefined();
  });
});

describe('evaluateAlarm', () => {
  const alarm = (overrides: Partial<Alarm>): Alarm => ({
    AlarmName: 'test',
    AlarmDescription: '',
    Namespace: 'Test',
    MetricName: 'Failures',
    Dimensions: { service: 'x' },
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [],
    OKActions: [],
    Metrics: [],
    ...overrides,
  });
  const failuresAt = (...minutes: number[]) =>
    new MetricStore().add(
      minutes.map((minute) => ({
        namespace: 'Test',
        name: 'Failures',
        dimensions: { service: 'x' },
        timestamp: minute * MINUTE,
        value: 1,
      })),
    );

  it('fires at the end of the second breaching period of three, and recovers only once they leave the evaluation range', () => {
    // Failures in the periods [5, 10) and [10, 15): the evaluation at minute 15 sees both. With no
    // datapoint after them, the real ones count wherever they are in the range (5 periods here).
    const { firstAlarmAt, changes } = evaluateAlarm(alarm({}), failuresAt(6, 12), {
      from: 0,
      to: 40 * MINUTE,
    });

    expect(firstAlarmAt).toBe(15 * MINUTE);
    expect(changes).toEqual([
      { at: 0, state: 'OK' },
      { at: 15 * MINUTE, state: 'ALARM' },
      { at: 35 * MINUTE, state: 'OK' },
    ]);
  });

  it('does not fire on one breaching period (2 of 3), nor on a datapoint of another dimension set', () => {
    const store = failuresAt(6).add([
      { namespace: 'Test', name: 'Failures', dimensions: { service: 'y' }, timestamp: 12 * MINUTE, value: 1 },
    ]);

    expect(evaluateAlarm(alarm({}), store, { from: 0, to: 40 * MINUTE }).firstAlarmAt).toBeUndefined();
  });

  it('treats silence as breaching when told to: a heartbeat fires once its periods pass without one', () => {
    const heartbeat = alarm({
      MetricName: undefined,
      Namespace: undefined,
      Statistic: undefined,
      Period: undefined,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      Metrics: [
        {
          Id: 'beats',
          ReturnData: false,
          MetricStat: {
            Namespace: 'Test',
            MetricName: 'Failures',
            Dimensions: { service: 'x' },
            Period: 3600,
            Stat: 'Sum',
          },
        },
        { Id: 'filled', Expression: 'FILL(beats, 0)', ReturnData: true },
      ],
    });
    const HOUR = 60 * MINUTE;
    // Beats in hours 0, 1 and 2, then none.
    const { firstAlarmAt } = evaluateAlarm(heartbeat, failuresAt(30, 90, 150), {
      from: 3 * HOUR,
      to: 8 * HOUR,
    });

    expect(firstAlarmAt).toBe(5 * HOUR);
  });
});
