// `check-service`: the User Service contract played against a service, for the team that runs it:
// each rule passed or failed, with the request and answer seen (credentials cut out). The plan is
// src/core/contract-check.ts, each request src/clients/service-probe.ts.

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { credentialSources, loadCredentials, secretsManagerGetter } from '../clients/credentials.js';
import { createProbe } from '../clients/service-probe.js';
import { numberIn, parseCollectionUrl, readUserDefaults } from '../config.js';
import { checklistJson, exitCodeOf, renderChecklist } from '../core/checklist.js';
import { checkService as runContract } from '../core/contract-check.js';
import { SigningError, UsageError } from '../errors.js';
import { parseSigningSecret } from '../webhooks/signature.js';
import { command, option, text, toggle } from './flags.js';
import { underControl } from './run.js';
import type { Io } from './usage.js';

const CHECK_SERVICE = command({
  synopsis: 'Usage: cognito-user-sync check-service --url URL [--signing-secret whsec_…] [--json]',
  about: `Plays the User Service contract (openapi.yaml) against a service and prints each rule passed
(✓) or failed (✗), with the request sent and the answer seen, credentials cut out:
  create          a new user: 201 (or 200) with the stored user
  replay          the same request again, same idempotency key: the first answer, or 409
                  already_exists naming the sub
  already-exists  a create of a sub the service holds: 409 already_exists naming the sub (a bare
                  409 is flagged: Cognito's retries of the trigger would be dead-lettered)
  conflict        another user with a taken email: 409 conflict
  patch           a JSON merge patch: 200 with the user, or 204
  stale-write     a PATCH with an older cognitoLastModified: 412 stale_write
  patch-unknown, delete-unknown
                  an unknown user: 404 not_found
  list            prefix, paging by cursor in cognitoSub order, the cursor's end (null), the
                  fields as written
  delete          204, and the user gone from the list
  credentials     with an API key or a signing secret: a request without the key, unsigned, or
                  signed with another key is refused (401/403)
Each answer is judged by the contract's own schemas, as cognito-user-sync's client reads it.

Writes: test users, each with a sub under one prefix of the run (c0c0c0c0-…) and an address
check-service+<run>@example.invalid; all removed at the end, also after a failure or Ctrl-C: the
prefix is read back, and a user still under it (a create whose answer was lost but that landed)
is deleted too; the last check names what it deleted so and what it could not. Reads: the API
key and signing secret as the other commands do (USER_SERVICE_API_KEY_SECRET_ID or
USER_SERVICE_API_KEY, USER_SERVICE_SIGNING_SECRET_ID or USER_SERVICE_SIGNING_SECRET; a secret id
is read from Secrets Manager, and keeps the secret off the command line). Tested against the dev
User Service and against loopback services that each break one rule.`,
  flags: {
    url: option(
      'URL',
      parseCollectionUrl,
      'the collection URL, e.g. https://users.internal.example.com/api/v1/users',
    ),
    'signing-secret': text(
      'SECRET',
      'whsec_… (or the rotation JSON): sign every request with it, and check that the\nservice refuses unsigned and wrongly signed ones (default:\nUSER_SERVICE_SIGNING_SECRET_ID, else USER_SERVICE_SIGNING_SECRET). Given here, the\nsecret shows in the process list (ps): prefer USER_SERVICE_SIGNING_SECRET_ID',
    ),
    timeout: option(
      'MS',
      numberIn({ min: 100, max: 60_000, unit: 'milliseconds' }),
      "one request's time (default 10000)",
      10_000,
    ),
    json: toggle('print the checklist as JSON, each exchange in full'),
    verbose: toggle('show the exchanges of the passed rules, too'),
  },
  footer: `Environment: the credentials above, DEFAULT_USER_STATUS and DEFAULT_USER_ROLE (what the test users
are sent with), and the AWS SDK's own when a secret id is given.

Exit status: 0 when every rule passed (or was skipped); 1 when one failed; 2 for a usage error;
129 (SIGHUP), 130 (SIGINT), 143 (SIGTERM) when stopped: the test users are removed first.`,
});

export const CHECK_SERVICE_USAGE = CHECK_SERVICE.usage;

export const checkService = async (args: string[], io: Io): Promise<number> => {
  const flags = CHECK_SERVICE.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  if (!values.url) throw new UsageError("--url is required: the User Service's collection URL");
  const credentials = await loadCredentials(
    credentialSources(process.env),
    secretsManagerGetter(() => new SecretsManagerClient(AWS_CLIENT_PROFILES.cli)),
  );
  if (values['signing-secret'] !== undefined) {
    try {
      credentials.signingKeys = parseSigningSecret(values['signing-secret']);
    } catch (error) {
      if (error instanceof SigningError) throw new UsageError(`--signing-secret: ${error.message}`);
      throw error;
    }
  }
  const url = values.url;
  return underControl(
    io,
    async (control) => {
      const checks = await runContract({
        probe: createProbe({ url, credentials, timeoutMs: values.timeout }),
        defaults: readUserDefaults(),
        signing: (credentials.signingKeys?.length ?? 0) > 0,
        apiKey: credentials.apiKey !== undefined,
        signal: control.signal,
        cutShort: control.again,
      });
      if (values.json) {
        io.out(JSON.stringify(checklistJson('check-service', { url: url.href }, checks), null, 2));
      } else {
        io.out(`cognito-user-sync check-service: ${url.href}`);
        for (const line of renderChecklist(checks, { verbose: values.verbose === true })) io.out(line);
      }
      return control.exitCode() ?? exitCodeOf(checks);
    },
    'stopping after the request in hand; the test users are removed first (Ctrl-C again cuts that short).',
    'the clean-up is cut short: the checklist says which test users may be left, and how to remove them.',
  );
};
