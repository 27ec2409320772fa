// `doctor`: every precondition docs/deploy.md states for a deployment, read from the account and
// printed as a checklist (✓, or ✗ with what was seen and the fix). Read-only. The reads are
// src/clients/deployment-reads.ts, the judgement src/core/doctor.ts.

import { parseRegion, resolveDeployment } from '../clients/deployment.js';
import { doctorClients, readInventory } from '../clients/deployment-reads.js';
import { parsePoolId } from '../config.js';
import { checklistJson, exitCodeOf, renderChecklist } from '../core/checklist.js';
import { describeDeployment, doctorChecks } from '../core/doctor.js';
import { command, option, text, toggle } from './flags.js';
import type { Io } from './usage.js';

/** How doctor and smoke are told which deployment: one source. */
export const DEPLOYMENT_FLAGS = {
  stack: text('NAME', 'the SAM (CloudFormation) stack made from template.yaml'),
  'terraform-outputs': text(
    'FILE',
    "the outputs of the root module using terraform/modules/cognito-user-sync, as\n`terraform output -json > FILE` writes them (an example's, or one output holding the module)",
  ),
  prefix: text(
    'PREFIX',
    'the name prefix every resource starts with (NamePrefix / name_prefix), with --user-pool-id;\nwith --terraform-outputs, it overrides theirs (--stack takes neither: the stack gives both)',
  ),
  'user-pool-id': option('ID', parsePoolId, "the pool, with --prefix (its region is the deployment's)"),
  region: option('REGION', parseRegion, "default: the source's (an ARN, the pool id), else AWS_REGION"),
};

/** The deployment the flags name (exactly one source, or a usage error). */
export const deploymentOfFlags = (
  values: {
    [K in keyof typeof DEPLOYMENT_FLAGS]: ReturnType<(typeof DEPLOYMENT_FLAGS)[K]['read']>;
  },
) =>
  resolveDeployment({
    stack: values.stack,
    terraformOutputs: values['terraform-outputs'],
    prefix: values.prefix,
    userPoolId: values['user-pool-id'],
    region: values.region,
  });

const DOCTOR = command({
  synopsis:
    'Usage: cognito-user-sync doctor (--stack NAME | --terraform-outputs FILE | --prefix PREFIX --user-pool-id ID) [--json]',
  about: `Checks every precondition of a deployment that docs/deploy.md states, and prints a checklist:
each check passed (✓), or failed (✗) with what was seen and the fix; skipped (–) for a part not
deployed (user changes, reconcile). In order:
  trigger     the pool's PostConfirmation trigger is the post-confirmation function, runs its
              deployed code (a version or alias: the same code), and Cognito may invoke it for
              this pool only
  functions   each function's variables (read with the functions' own parsers: the pool, its
              queues, the User Service URL), active; its role can read its secrets and use the
              queues' KMS key (IAM's policy simulator); a consumer's event source mapping is
              enabled (with ReportBatchItemFailures); its reserved concurrency lets it run
  trail       a trail logs the region's write management events, cognito-idp's included (basic
              or advanced selectors)
  rule        the user-changes rule is enabled, its pattern is the one this version ships, and it
              targets the changes queue
  queues      each queue's policy lets its senders send (EventBridge for the rule, the roles), and
              nobody else; every queue is encrypted
  KMS key     with a customer-managed key: enabled, IAM policies may grant it, and it lets
              events.amazonaws.com deliver to the changes queue
  alarms      every alarm has an action
  reconcile   the schedule is enabled and targets the reconcile function

Reads (writes nothing): cloudformation:DescribeStacks and ListStackResources (--stack);
cognito-idp:DescribeUserPool; lambda:GetFunctionConfiguration, GetFunctionConcurrency,
ListEventSourceMappings, GetPolicy; secretsmanager:DescribeSecret (never a secret's value);
iam:SimulatePrincipalPolicy; sqs:GetQueueUrl, GetQueueAttributes; kms:DescribeKey, GetKeyPolicy;
cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors; events:DescribeRule,
ListTargetsByRule; cloudwatch:DescribeAlarms. A read that is refused fails its check and names
the action; credentials that are missing, expired or invalid stop doctor at the first read, with
one line saying so. With --stack, everything else is found from the stack: a stack that does not
exist is a usage error, and a stack read refused or failed stops doctor with one line naming
the action. Tested against the moto emulator; IAM's policy simulator, which moto lacks, against
recorded answers.`,
  flags: {
    ...DEPLOYMENT_FLAGS,
    json: toggle('print the checklist as JSON'),
    verbose: toggle('show what each passed check saw, too'),
  },
  footer: `Environment: the AWS SDK's own (AWS_PROFILE, AWS_REGION…).

Exit status: 0 when every check passed (or was skipped); 1 when one failed, or when the
credentials are missing, expired or invalid, or the stack could not be read (one line says so); 2
for a usage error (a stack that does not exist among them).`,
});

export const DOCTOR_USAGE = DOCTOR.usage;

export const doctor = async (args: string[], io: Io): Promise<number> => {
  const flags = DOCTOR.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  const deployment = await deploymentOfFlags(values);
  const inventory = await readInventory(doctorClients(deployment.region), deployment);
  const checks = doctorChecks(inventory);
  if (values.json) {
    io.out(JSON.stringify(checklistJson('doctor', deployment, checks), null, 2));
  } else {
    io.out(`cognito-user-sync doctor: ${describeDeployment(deployment)}`);
    for (const line of renderChecklist(checks, { verbose: values.verbose === true })) io.out(line);
  }
  return exitCodeOf(checks);
};
