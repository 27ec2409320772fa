import middy from '@middy/core';
import { describe, expect, it, vi } from 'vitest';
import { failOpen } from '../../middlewares/fail-open.js';
import { lambdaContext } from '../helpers/lambda-context.js';

const event = { triggerSource: 'PostConfirmation_ConfirmSignUp', request: { userAttributes: { sub: 's' } } };

describe('failOpen', () => {
  it('answers with the event when the handler throws, after recovering', async () => {
    const recover = vi.fn();
    const handler = middy()
      .use(failOpen({ recover, logError: () => undefined }))
      .handler(() => {
        throw new TypeError('boom');
      });

    await expect(handler(event, lambdaContext())).resolves.toBe(event);
    expect(recover).toHaveBeenCalledWith(expect.objectContaining({ event }), new TypeError('boom'));
  });

  it('answers with the response it is given, when one is', async () => {
    const handler = middy()
      .use(
        failOpen({
          response: () => ({ batchItemFailures: [{ itemIdentifier: 'm-1' }] }),
          logError: () => undefined,
        }),
      )
      .handler(() => Promise.reject(new Error('boom')));

    await expect(handler(event, lambdaContext())).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-1' }],
    });
  });

  it('still answers when recovery itself fails, and reports that', async () => {
    const logError = vi.fn();
    const handler = middy()
      .use(
        failOpen({
          recover: () => Promise.reject(new Error('queue down')),
          logError,
          failureMessage: 'failed',
        }),
      )
      .handler(() => Promise.reject(new Error('boom')));

    await expect(handler(event, lambdaContext())).resolves.toBe(event);
    expect(logError.mock.calls.map(([message]) => message)).toEqual([
      'failed',
      'Fail-open could not recover',
    ]);
  });

  it('still answers when reporting throws, and when the response cannot be built', async () => {
    const handler = middy()
      .use(
        failOpen<unknown, unknown>({
          logError: () => {
            throw new Error('log sink down');
          },
          response: () => {
            throw new Error('no response');
          },
        }),
      )
      .handler(() => Promise.reject(new Error('boom')));

    await expect(handler(event, lambdaContext())).resolves.toBe(event);
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

  it('leaves alone a response an inner onError already set', async () => {
    const recover = vi.fn();
    const handler = middy()
      .use(failOpen({ recover, logError: () => undefined }))
      .use({
        onError: (request) => {
          request.response = 'handled';
        },
      })
      .handler(() => Promise.reject(new Error('boom')));

    await expect(handler(event, lambdaContext())).resolves.toBe('handled');
    expect(recover).not.toHaveBeenCalled();
  });

  it('hands the error to its reporter, which decides what a line may say of it', async () => {
    const logError = vi.fn();
    const error = new Error('failed for ada@example.com');
    const handler = middy()
      .use(failOpen({ logError }))
      .handler(() => Promise.reject(error));

    await handler(event, lambdaContext());

    expect(logError).toHaveBeenCalledWith(expect.any(String), error);
  });

  it('logs only the error name by default, never its message', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = middy()
      .use(failOpen())
      .handler(() => Promise.reject(new Error('failed for ada@example.com')));

    await handler(event, lambdaContext());

    expect(errors.mock.calls.map(([line]) => JSON.parse(String(line)))).toEqual([
      { message: 'The handler failed; answering with the fail-open response', errorName: 'Error' },
    ]);
  });
});
