import middy from '@middy/core';
import { clearCache, getCache, processCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { awaitSecrets } from '../../middlewares/await-secrets.js';
import { lambdaContext } from '../helpers/lambda-context.js';

type Settled = Record<string, PromiseSettledResult<unknown>>;

/** Stands in for @middy/secrets-manager: the values as promises on request.internal, cached. */
const fetched = (values: Record<string, Promise<unknown>>, cacheKey = 'secrets') => ({
  before: (request: { internal: Record<string, unknown> }) => {
    const { value } = processCache({ cacheKey, cacheExpiry: -1 }, () => values);
    Object.assign(request.internal, value);
  },
});

const chainOf = (
  values: Record<string, Promise<unknown>>,
  options: Partial<Parameters<typeof awaitSecrets<Settled>>[0]> = {},
) =>
  middy<unknown, Settled, Error, Context & { secrets?: Settled }>()
    .use(fetched(values))
    .use(
      awaitSecrets<Settled>({
        keys: Object.keys(values),
        cacheKey: 'secrets',
        parse: (settled) => settled,
        ...options,
      }),
    )
    .handler((_event, context) => context.secrets as Settled);

describe('awaitSecrets', () => {
  beforeEach(() => clearCache());

  it('waits for every fetch and hands each one, settled, to parse; the result goes on the context', async () => {
    const handler = chainOf({
      apiKey: Promise.resolve('k'),
      signing: Promise.reject(new Error('AccessDenied')),
    });

    const settled = await handler({}, lambdaContext());

    expect(settled.apiKey).toEqual({ status: 'fulfilled', value: 'k' });
    expect(settled.signing).toMatchObject({ status: 'rejected', reason: new Error('AccessDenied') });
  });

  it('throws what parse throws (a secret that cannot be used)', async () => {
    const handler = middy()
      .use(fetched({ apiKey: Promise.resolve('') }))
      .use(
        awaitSecrets({
          keys: ['apiKey'],
          cacheKey: 'secrets',
          parse: () => {
            throw new Error('USER_SERVICE_API_KEY_SECRET_ID is unusable');
          },
        }),
      )
      .handler(() => 'never');

    await expect(handler({}, lambdaContext())).rejects.toThrow('unusable');
  });

  it('gives up when `within` does, marks every key failed with its reason, and clears the pending cache entry', async () => {
    const parse = vi.fn((settled: Settled) => settled);
    const timeout = new Error('Secrets Manager did not finish before the deadline');
    const handler = chainOf(
      { apiKey: new Promise(() => undefined) },
      { parse, within: () => Promise.reject(timeout) },
    );

    const settled = await handler({}, lambdaContext());

    expect(settled.apiKey).toEqual({ status: 'rejected', reason: timeout });
    // The next invocation fetches again instead of awaiting a request that never answered.
    expect(getCache('secrets')).toEqual({});
  });

  it('keeps the cache when every fetch settled in time', async () => {
    const handler = chainOf({ apiKey: Promise.resolve('k') }, { within: (_request, pending) => pending });

    await handler({}, lambdaContext());

    expect(getCache('secrets')).toHaveProperty('value');
  });

  it('puts the result under the key it is given', async () => {
    const handler = middy<unknown, unknown, Error, Context & { credentials?: unknown }>()
      .use(fetched({ apiKey: Promise.resolve('k') }))
      .use(
        awaitSecrets({
          keys: ['apiKey'],
          cacheKey: 'secrets',
          contextKey: 'credentials',
          parse: (settled) => (settled.apiKey as PromiseFulfilledResult<unknown>).value,
        }),
      )
      .handler((_event, context) => context.credentials);

    await expect(handler({}, lambdaContext())).resolves.toBe('k');
  });
});
