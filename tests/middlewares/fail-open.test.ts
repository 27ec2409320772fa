import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { deadlineOf, failOpen } from '../../middlewares/fail-open.js';
import { lambdaContext } from '../helpers/lambda-context.js';

const event = { triggerSource: 'PostConfirmation_ConfirmSignUp', request: { userAttributes: { sub: 's' } } };

describe('failOpen', () => {
  it('answers with the event when the handler throws, after recovering the user', async () => {
    const recover = vi.fn();
    const handler = middy()
      .use(failOpen({ recover, logError: () => undefined }))
      .handler(() => {
        throw new TypeError('boom');
      });

    await expect(handler(event, lambdaContext())).resolves.toBe(event);
    expect(recover).toHaveBeenCalledWith(expect.objectContaining({ event }), new TypeError('boom'));
  });

  it('still answers with the event when recovery itself fails', async () => {
    const logError = vi.fn();
    const handler = middy()
      .use(
        failOpen({
          recover: () => Promise.reject(new Error('queue down')),
          logError,
        }),
      )
      .handler(() => Promise.reject(new Error('boom')));

    await expect(handler(event, lambdaContext())).resolves.toBe(event);
    expect(logError).toHaveBeenCalledWith('Fail-open could not recover the user', { errorName: 'Error' });
  });

  it('lets the outer onError middlewares run (the metrics flush and trace close live there)', async () => {
    const outerOnError = vi.fn();
    const handler = middy()
      .use({ onError: outerOnError })
      .use(failOpen({ logError: () => undefined }))
      .handler(() => Promise.reject(new Error('boom')));

    await handler(event, lambdaContext());

    expect(outerOnError).toHaveBeenCalledOnce();
  });

  it('catches errors from a middleware after it, as from the handler', async () => {
    const handler = middy()
      .use(failOpen({ logError: () => undefined }))
      .use({
        before: () => {
          throw new Error('secret unavailable');
        },
      })
      .handler(() => 'never');

    await expect(handler(event, lambdaContext())).resolves.toBe(event);
  });

  it('logs the error name, never the message of an error it does not own', async () => {
    const logError = vi.fn();
    const handler = middy()
      .use(failOpen({ logError }))
      .handler(() => Promise.reject(new Error('failed for ada@example.com')));

    await handler(event, lambdaContext());

    expect(JSON.stringify(logError.mock.calls)).not.toContain('ada@example.com');
    expect(logError).toHaveBeenCalledWith(expect.any(String), { errorName: 'Error' });
  });

  it('starts the invocation clock with the configured budget', async () => {
    let remaining = 0;
    const handler = middy()
      .use(failOpen({ budgetMs: () => 1234 }))
      .handler((_event: unknown, context: Context) => {
        remaining = deadlineOf(context).remaining();
        return 'ok';
      });

    await expect(handler(event, lambdaContext())).resolves.toBe('ok');
    expect(remaining).toBeGreaterThan(1200);
    expect(remaining).toBeLessThanOrEqual(1234);
  });
});
