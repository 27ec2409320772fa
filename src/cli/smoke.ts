// `smoke`: one throwaway user's whole life in the real pool, each change watched until the User
// Service lists it; the hop a change stopped at named; the user always removed. Writes, so only
// with --yes. The plan is src/core/smoke.ts; the pool's side src/clients/smoke-world.ts.

import { randomBytes } from 'node:crypto';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { functionNameOf } from '../clients/deployment.js';
import { doctorClients } from '../clients/deployment-reads.js';
import { createPoolActions } from '../clients/smoke-world.js';
import { userUrlOf } from '../clients/user-service.js';
import { numberIn } from '../config.js';
import { checklistJson, exitCodeOf, renderChecklist } from '../core/checklist.js';
import { describeDeployment } from '../core/doctor.js';
import { runSmoke, type SmokeWorld, smokeAddressOf } from '../core/smoke.js';
import { writeKey } from '../domain/idempotency.js';
import { UsageError } from '../errors.js';
import { DEPLOYMENT_FLAGS, deploymentOfFlags } from './doctor.js';
import { command, option, toggle } from './flags.js';
import { underControl } from './run.js';
import type { Io } from './usage.js';
import { budgetOf, openWrites } from './writes.js';

const SMOKE = command({
  synopsis:
    'Usage: cognito-user-sync smoke --yes (--stack NAME | --terraform-outputs FILE | --prefix PREFIX --user-pool-id ID)',
  about: `Walks one throwaway user through its whole life in the deployment's real pool, and watches each
change reach the User Service through its list (GET ?prefix=<the user's sub>):
  create    AdminCreateUser smoke+<run>@example.invalid (the invited path; no message sent)
  confirm   AdminSetUserPassword, permanent (a random password, never printed): CONFIRMED
  update    its name, AdminUpdateUserAttributes
  disable   AdminDisableUser, then enable, AdminEnableUser
  delete    AdminDeleteUser
Each step has --step-timeout. A step whose change does not arrive names the hop it stopped at, from
what can be read: trigger (checked first: sign-ups need it), trail, rule, queue, function or service
(doctor's checks of the path, the changes queue's depth, the user-changes function's log lines for
the user). The user is removed at the end whatever happened, from the pool and, if the path did not
remove it, from the User Service; Ctrl-C stops the step in hand and removes it first; Ctrl-C again
cuts the clean-up short: the checklist says what may be left, with the commands that remove it.
When user changes are not deployed (the source names no user-changes function, or there is none
by its name), smoke says so and makes no user: no change could arrive.

Writes (hence --yes): the user in the pool (created, changed, deleted) and, through the deployment,
in the User Service; a DELETE to the User Service when the clean-up has to remove it there. Reads:
cognito-idp:DescribeUserPool, AdminGetUser; what doctor reads of the trigger and the path; the User
Service's list; logs:FilterLogEvents on the user-changes function's log group. Calls:
cognito-idp:AdminCreateUser, AdminSetUserPassword, AdminUpdateUserAttributes, AdminDisableUser,
AdminEnableUser, AdminDeleteUser. Tested against the moto emulator with EventBridge routing; moto
has no CloudTrail-to-EventBridge delivery, so the test stands in for the trail.`,
  flags: {
    ...DEPLOYMENT_FLAGS,
    yes: toggle('write to the real pool and the User Service (required)'),
    'step-timeout': option(
      'SECONDS',
      numberIn({ min: 1, max: 3600, unit: 'seconds' }),
      "each step's time for its change to arrive (default 300: CloudTrail delivers to\nEventBridge on a best-effort basis)",
      300,
    ),
    interval: option(
      'SECONDS',
      numberIn({ min: 0.1, max: 60, integer: false, unit: 'seconds' }),
      "between two reads of the User Service's list (default 5)",
      5,
    ),
    json: toggle('print the checklist as JSON'),
    verbose: toggle('show what each passed step saw, too'),
  },
  footer: `Environment: USER_SERVICE_URL and the credentials (USER_SERVICE_API_KEY_SECRET_ID…), as the other
commands take them; unset, those of the deployed user-changes function. The AWS SDK's own; the
region is the deployment's (its secrets are read there too).

Exit status: 0 when every step arrived and the user is gone; 1 when one failed (its hop named); 2
for a usage error (without --yes); 129 (SIGHUP), 130 (SIGINT), 143 (SIGTERM) when stopped, the
user removed.`,
});

export const SMOKE_USAGE = SMOKE.usage;

/** The User Service variables of a deployed function: where smoke lists when the environment says nothing. */
const SERVICE_VARIABLES = [
  'USER_SERVICE_URL',
  'USER_SERVICE_API_KEY_SECRET_ID',
  'USER_SERVICE_SIGNING_SECRET_ID',
  'USER_SERVICE_TIMEOUT_MS',
] as const;

/** One read of the list or one delete: its time with the User Service. */
const SERVICE_BUDGET_MS = 15_000;

const runIdOf = (at: Date) =>
  `${at
    .toISOString()
    .replace(/[-:]|\.\d+/g, '')
    .toLowerCase()}-${randomBytes(2).toString('hex')}`;

export const smoke = async (args: string[], io: Io): Promise<number> => {
  const flags = SMOKE.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  if (values.yes !== true) {
    throw new UsageError(
      'smoke writes: it creates, changes and deletes one user (smoke+<run>@example.invalid) in the real pool, and so in the User Service. Run it with --yes',
    );
  }
  const deployment = await deploymentOfFlags(values);
  const clients = doctorClients(deployment.region);

  let env: Readonly<Record<string, string | undefined>> = process.env;
  if (!process.env.USER_SERVICE_URL?.trim()) {
    const userChanges = deployment.functions.userChanges;
    if (!userChanges)
      throw new UsageError('user changes are not deployed: smoke follows a user through them');
    const name = functionNameOf(userChanges.id);
    let deployed: Record<string, string>;
    try {
      const { Environment } = await clients.lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: name }),
      );
      deployed = Environment?.Variables ?? {};
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      io.err(
        `cognito-user-sync: there is no function ${name} in ${deployment.region}: user changes are not deployed there, or the deployment is named wrong (check --stack, --terraform-outputs or --prefix, and --region). smoke follows a user through them.`,
      );
      return 1;
    }
    env = { ...process.env, ...Object.fromEntries(SERVICE_VARIABLES.map((name) => [name, deployed[name]])) };
  }
  // The secrets the deployment's functions read are in its region, whatever AWS_REGION says.
  const writes = await openWrites(env, { region: deployment.region });
  const actions = await createPoolActions({ deployment, clients });
  const world: SmokeWorld = {
    ...actions,
    async listed(sub, signal) {
      const result = await writes.client.listUsers({
        limit: 10,
        prefix: sub,
        credentials: writes.credentials,
        deadline: budgetOf(SERVICE_BUDGET_MS, signal),
      });
      if (!result.page) return result.reason;
      return result.page.users.find((user) => user.cognitoSub === sub) ?? null;
    },
    async removeFromService(sub, signal) {
      const result = await writes.remove(
        sub,
        writeKey(deployment.userPoolId, sub, { method: 'DELETE' }),
        signal,
      );
      return result.outcome === 'deleted' ? true : result.reason;
    },
    serviceRemovalCommand: (sub) =>
      `DELETE ${userUrlOf(writes.url, sub).href} (with the User Service's credentials)`,
  };

  const runId = runIdOf(new Date());
  return underControl(
    io,
    async (control) => {
      const checks = await runSmoke(world, {
        runId,
        stepTimeoutMs: values['step-timeout'] * 1000,
        intervalMs: values.interval * 1000,
        signal: control.signal,
        cutShort: control.again,
      });
      const subject = { deployment, user: smokeAddressOf(runId) };
      if (values.json) io.out(JSON.stringify(checklistJson('smoke', subject, checks), null, 2));
      else {
        io.out(`cognito-user-sync smoke: ${describeDeployment(deployment)}; user ${subject.user}`);
        for (const line of renderChecklist(checks, { verbose: values.verbose === true })) io.out(line);
      }
      return control.exitCode() ?? exitCodeOf(checks);
    },
    'stopping the step in hand; the smoke user is removed first (Ctrl-C again cuts that short).',
    'the clean-up is cut short: the checklist says what may be left, and the commands that remove it.',
  );
};
