import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { resolveOnce } from '../../middlewares/resolve-once.js';
import { lambdaContext } from '../helpers/lambda-context.js';

describe('resolveOnce', () => {
  it('resolves the event once and leaves the result on the context for the handler', async () => {
    const resolve = vi.fn((event: { n: number }) => ({ doubled: event.n * 2 }));
    const handler = middy<{ n: number }, unknown, Error, Context & { resolved?: { doubled: number } }>()
      .use(resolveOnce({ resolve }))
      .handler((_event, context) => context.resolved);

    await expect(handler({ n: 21 }, lambdaContext())).resolves.toEqual({ doubled: 42 });
    expect(resolve).toHaveBeenCalledOnce();
  });

  it('puts it under the key it is given', async () => {
    const handler = middy<unknown, unknown, Error, Context & { signUp?: string }>()
      .use(resolveOnce({ resolve: () => 'resolved', contextKey: 'signUp' }))
      .handler((_event, context) => context.signUp);

    await expect(handler({}, lambdaContext())).resolves.toBe('resolved');
  });

  it('answers at once when there is nothing to do: no later middleware or handler runs, cleanup does', async () => {
    const later = vi.fn();
    const handler = vi.fn();
    const cleanup = vi.fn();
    const event = { skip: true };
    const chain = middy()
      .use(
        resolveOnce({
          resolve: (e: unknown) => (e as { skip: boolean }).skip,
          earlyResponse: (skip, e) => (skip ? e : undefined),
          cleanup,
        }),
      )
      .use({ before: later })
      .handler(handler);

    await expect(chain(event, lambdaContext())).resolves.toBe(event);
    expect(later).not.toHaveBeenCalled();
    expect(handler).not.toHaveBeenCalled();
    expect(cleanup).toHaveBeenCalledOnce();
  });

  it('goes on down the chain when there is something to do', async () => {
    const cleanup = vi.fn();
    const chain = middy()
      .use(resolveOnce({ resolve: () => false, earlyResponse: () => undefined, cleanup }))
      .handler(() => 'handled');

    await expect(chain({}, lambdaContext())).resolves.toBe('handled');
    expect(cleanup).not.toHaveBeenCalled();
  });
});
