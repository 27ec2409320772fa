// doctor's judgement: every precondition docs/deploy.md states for a deployment, as a check that
// passes or fails with what was seen and the fix, from the inventory src/clients/deployment-reads.ts
// reads. Plain functions: no AWS call here.

import type { Deployment, FunctionRole, QueueRole } from '../clients/deployment.js';
import { functionNameOf, PART_OF_FUNCTION, PART_OF_QUEUE } from '../clients/deployment.js';
import {
  ABSENT,
  type Absent,
  type FunctionView,
  type Inventory,
  type QueueView,
  type Read,
  type RuleView,
  Unreadable,
} from '../clients/deployment-reads.js';
import {
  type PartReaders,
  POST_CONFIRMATION_CONFIG,
  RECONCILE_CONFIG,
  RETRY_WORKER_CONFIG,
  readParts,
  USER_CHANGES_CONFIG,
} from '../config.js';
import { userChangesRulePattern } from '../domain/user-events.js';
import { type Check, fail, pass, skip } from './checklist.js';
import {
  accountOfArn,
  allowsService,
  arnMatchesAny,
  canonical,
  coversAction,
  delegatesToIam,
  exemptPrincipalArns,
  exemptsService,
  isEveryone,
  type Statement,
  servicePrincipals,
  sourceArnsOf,
} from './policy-documents.js';
import { selectorsTakeCognitoWrites } from './trail-selectors.js';

const DEPLOY_DOC = 'docs/deploy.md';
const REDEPLOY = 'redeploy the stack or apply the module (its templates make this as documented)';

const FUNCTION_LABEL: Record<FunctionRole, string> = {
  postConfirmation: 'post-confirmation',
  retryWorker: 'retry worker',
  userChanges: 'user changes',
  reconcile: 'reconcile',
};

const QUEUE_LABEL: Record<QueueRole, string> = {
  retry: 'retry queue',
  deadLetter: 'dead-letter queue',
  changes: 'changes queue',
  changesDeadLetter: 'changes dead-letter queue',
  reconcile: 'reconcile queue',
  reconcileDeadLetter: 'reconcile dead-letter queue',
};

/** Marks a check that failed for want of a read, not for what it read (smoke names no hop from it). */
export const isUnreadCheck = (check: Check): boolean =>
  typeof check.evidence === 'object' && check.evidence !== null && 'unreadable' in check.evidence;

/** What a failed read needs, as a failed check's detail and fix. */
const unreadable = (id: string, section: string, title: string, read: Unreadable): Check => ({
  ...fail(
    id,
    section,
    title,
    `could not read it: ${read.action} answered ${read.reason}`,
    `let the credentials doctor runs with call ${read.action} (doctor --help lists the reads), or check by hand`,
  ),
  evidence: { unreadable: read.action },
});

const isThere = <T>(read: Read<T> | Absent | null): read is T =>
  read !== null && read !== ABSENT && !(read instanceof Unreadable);

/** The queue's `account/name`, from its ARN or its URL: how a function's variable is compared with the queue. */
const queueKey = (arnOrUrl: string): string => {
  if (arnOrUrl.startsWith('arn:')) {
    const [, , , , account, name] = arnOrUrl.split(':');
    return `${account}/${name}`;
  }
  try {
    return new URL(arnOrUrl).pathname.replace(/^\/|\/$/g, '');
  } catch {
    return arnOrUrl;
  }
};

// ---------------------------------------------------------------------------------------------
// The trigger.

const TRIGGER = 'Trigger (sign-up → post-confirmation)';

const triggerChecks = (inventory: Inventory): Check[] => {
  const { pool, trigger, deployment } = inventory;
  const fn = inventory.functions.postConfirmation;
  const fnName = deployment.functions.postConfirmation?.id
    ? functionNameOf(deployment.functions.postConfirmation.id)
    : `${deployment.prefix}-post-confirmation`;
  const attachedTitle = `the pool's PostConfirmation trigger is ${fnName}`;
  if (pool === ABSENT) {
    return [
      fail(
        'trigger.attached',
        TRIGGER,
        attachedTitle,
        `the pool ${deployment.userPoolId} does not exist in ${deployment.region}`,
        'check the pool id (and the region, the account of the credentials)',
      ),
    ];
  }
  if (pool instanceof Unreadable) return [unreadable('trigger.attached', TRIGGER, attachedTitle, pool)];
  if (!isThere(fn)) {
    return [
      fail(
        'trigger.attached',
        TRIGGER,
        attachedTitle,
        fn instanceof Unreadable
          ? `could not read the function: ${fn.reason}`
          : `there is no function ${fnName}`,
        REDEPLOY,
      ),
    ];
  }
  const checks: Check[] = [];
  const unqualified = (arn: string) => arn.split(':').slice(0, 7).join(':');
  const wiringFix = `set the pool's PostConfirmation trigger to ${fn.arn}: in the pool's own template, or with update-user-pool from the pool's current settings (it resets what it is not given) as ${DEPLOY_DOC}#wiring-an-existing-user-pool-safely says`;
  if (!pool.postConfirmation || !trigger) {
    return [
      fail(
        'trigger.attached',
        TRIGGER,
        attachedTitle,
        'the pool has no PostConfirmation trigger: sign-ups are never synced',
        wiringFix,
      ),
    ];
  }
  if (unqualified(trigger.arn) !== fn.arn) {
    return [fail('trigger.attached', TRIGGER, attachedTitle, `the trigger is ${trigger.arn}`, wiringFix)];
  }
  checks.push(
    pass('trigger.attached', TRIGGER, attachedTitle, `LambdaConfig.PostConfirmation: ${trigger.arn}`),
  );

  const currentTitle = 'the trigger runs the deployed code';
  if (trigger.qualifier === undefined) {
    checks.push(pass('trigger.current', TRIGGER, currentTitle, 'unqualified: Cognito invokes $LATEST'));
  } else if (trigger.codeSha256 === ABSENT) {
    checks.push(
      fail(
        'trigger.current',
        TRIGGER,
        currentTitle,
        `the version or alias ${trigger.qualifier} does not exist: every confirmation fails to invoke it`,
        `point the trigger at ${fn.arn}, or create the alias`,
      ),
    );
  } else if (trigger.codeSha256 instanceof Unreadable) {
    checks.push(unreadable('trigger.current', TRIGGER, currentTitle, trigger.codeSha256));
  } else if (trigger.codeSha256 !== fn.codeSha256) {
    checks.push(
      fail(
        'trigger.current',
        TRIGGER,
        currentTitle,
        `the trigger names ${trigger.qualifier}, whose code (${trigger.codeSha256}) is not the deployed code (${fn.codeSha256})`,
        `publish the deployed code and move the alias to it, or point the trigger at ${fn.arn}`,
      ),
    );
  } else {
    checks.push(
      pass('trigger.current', TRIGGER, currentTitle, `${trigger.qualifier} runs the deployed code`),
    );
  }

  const permissionTitle = `Cognito may invoke it, for this pool only`;
  const permissionFix = `${REDEPLOY}; by hand: aws lambda add-permission --function-name ${trigger.arn} --statement-id cognito --action lambda:InvokeFunction --principal cognito-idp.amazonaws.com --source-arn ${pool.arn ?? `<the pool's ARN>`} --source-account ${accountOfArn(fn.arn) ?? '<account>'}`;
  if (trigger.policy instanceof Unreadable) {
    checks.push(unreadable('trigger.permission', TRIGGER, permissionTitle, trigger.policy));
    return checks;
  }
  const grants = allowsService(trigger.policy, 'cognito-idp.amazonaws.com', 'lambda:InvokeFunction');
  const scoped = grants.filter((statement) => {
    const sources = sourceArnsOf(statement);
    return pool.arn !== undefined && sources.length > 0 && arnMatchesAny(pool.arn, sources);
  });
  if (scoped.length > 0) {
    checks.push(
      pass('trigger.permission', TRIGGER, permissionTitle, `statement ${scoped[0]?.Sid ?? '(no Sid)'}`),
    );
  } else if (grants.some((statement) => sourceArnsOf(statement).length === 0)) {
    checks.push(
      fail(
        'trigger.permission',
        TRIGGER,
        permissionTitle,
        'the function lets cognito-idp.amazonaws.com invoke it for any pool (no aws:SourceArn condition)',
        permissionFix,
      ),
    );
  } else {
    checks.push(
      fail(
        'trigger.permission',
        TRIGGER,
        permissionTitle,
        `no statement of its resource policy lets cognito-idp.amazonaws.com invoke it for ${pool.arn ?? deployment.userPoolId}: Cognito cannot call it, and confirmations fail to sync`,
        permissionFix,
      ),
    );
  }
  return checks;
};

// ---------------------------------------------------------------------------------------------
// The functions.

const CONFIG_READERS: Record<FunctionRole, PartReaders<object>> = {
  postConfirmation: POST_CONFIRMATION_CONFIG,
  retryWorker: RETRY_WORKER_CONFIG,
  userChanges: USER_CHANGES_CONFIG,
  reconcile: RECONCILE_CONFIG,
};

/** The queues each function's variables name, and which queue of the deployment each must be. */
const QUEUE_VARIABLES: Record<FunctionRole, Partial<Record<string, QueueRole>>> = {
  postConfirmation: { RETRY_QUEUE_URL: 'retry', DEAD_LETTER_QUEUE_URL: 'deadLetter' },
  retryWorker: { RETRY_QUEUE_URL: 'retry', DEAD_LETTER_QUEUE_URL: 'deadLetter' },
  userChanges: { CHANGES_QUEUE_URL: 'changes', CHANGES_DEAD_LETTER_QUEUE_URL: 'changesDeadLetter' },
  reconcile: { RECONCILE_QUEUE_URL: 'reconcile', CHANGES_QUEUE_URL: 'changes' },
};

/** The queue a consumer's event source mapping reads. */
const SOURCE_QUEUE: Partial<Record<FunctionRole, QueueRole>> = {
  retryWorker: 'retry',
  userChanges: 'changes',
  reconcile: 'reconcile',
};

/** Consumers whose handler reports partial batch failures: without ReportBatchItemFailures Lambda ignores the report. */
const REPORTS_BATCH_FAILURES: readonly FunctionRole[] = ['retryWorker', 'userChanges'];

const configProblems = (role: FunctionRole, fn: FunctionView, inventory: Inventory): string[] => {
  const env = fn.environment;
  const reading = readParts(CONFIG_READERS[role], env);
  const problems = Object.values(reading.errors).map((error) => (error as Error).message);
  for (const [variable, queueRole] of Object.entries(QUEUE_VARIABLES[role])) {
    const value = env[variable]?.trim();
    const queue = inventory.queues[queueRole as QueueRole];
    if (!value) {
      // The trigger treats its queues as optional; deployed without them, a user not synced is dropped.
      if (!problems.some((problem) => problem.startsWith(variable))) {
        problems.push(`${variable} is not set: a user that cannot be synced now is dropped`);
      }
    } else if (isThere(queue) && queueKey(value) !== queueKey(queue.arn)) {
      problems.push(
        `${variable} is ${value}, not the deployment's ${QUEUE_LABEL[queueRole as QueueRole]} (${queue.url})`,
      );
    }
  }
  if ('USER_POOL_ID' in env || role === 'userChanges' || role === 'reconcile') {
    const pool = env.USER_POOL_ID?.trim();
    if (pool && pool !== inventory.deployment.userPoolId) {
      problems.push(`USER_POOL_ID is ${pool}, not the deployment's pool ${inventory.deployment.userPoolId}`);
    }
  }
  if (env.USER_SERVICE_API_KEY?.trim()) {
    problems.push(
      'USER_SERVICE_API_KEY holds a plain API key in the function configuration (local development only): keep it in Secrets Manager (USER_SERVICE_API_KEY_SECRET_ID)',
    );
  }
  if (env.USER_SERVICE_SIGNING_SECRET?.trim()) {
    problems.push(
      'USER_SERVICE_SIGNING_SECRET holds a plain signing secret in the function configuration (local development only): keep it in Secrets Manager (USER_SERVICE_SIGNING_SECRET_ID)',
    );
  }
  return problems;
};

const simulationCheck = (
  inventory: Inventory,
  role: FunctionRole,
  id: string,
  section: string,
  title: string,
  which: (purpose: string) => boolean,
  none: string,
  fix: string,
): Check => {
  const simulations = inventory.simulations.filter(
    (simulation) => simulation.role === role && which(simulation.purpose),
  );
  if (simulations.length === 0) return skip(id, section, title, none);
  const unread = simulations.find((simulation) => simulation.decision instanceof Unreadable);
  if (unread && unread.decision instanceof Unreadable) {
    return {
      ...fail(
        id,
        section,
        title,
        [
          `the IAM policy simulator could not answer: ${unread.decision.reason}`,
          `needed: ${simulations.map((simulation) => `${simulation.action} on ${simulation.resource}`).join('; ')}`,
        ],
        "let doctor call iam:SimulatePrincipalPolicy on the functions' roles, or check the roles' policies by hand",
      ),
      evidence: { unreadable: 'iam:SimulatePrincipalPolicy' },
    };
  }
  const denied = simulations.filter((simulation) => simulation.decision !== 'allowed');
  const seen = simulations.map(
    (simulation) => `${simulation.action} on ${simulation.resource}: ${simulation.decision as string}`,
  );
  if (denied.length === 0) return pass(id, section, title, seen);
  return fail(
    id,
    section,
    title,
    denied.map(
      (simulation) =>
        `${simulation.roleArn} may not ${simulation.action} on ${simulation.resource} (to ${simulation.purpose}): ${
          simulation.decision === 'explicitDeny'
            ? 'explicitly denied (a Deny statement, its permissions boundary or an SCP)'
            : 'no statement allows it'
        }`,
    ),
    fix,
  );
};

const functionChecks = (inventory: Inventory): Check[] => {
  const checks: Check[] = [];
  const { deployment } = inventory;
  for (const role of Object.keys(inventory.functions) as FunctionRole[]) {
    const read = inventory.functions[role];
    const resource = deployment.functions[role];
    const section = `Function: ${FUNCTION_LABEL[role]}`;
    const name = resource ? functionNameOf(resource.id) : `${deployment.prefix}-${role}`;
    // A part not deployed: the source says so, or a name derived from the prefix is not there.
    if (read === null || (read === ABSENT && PART_OF_FUNCTION[role] !== 'core' && !resource?.given)) continue;
    if (read === ABSENT) {
      checks.push(
        fail(
          `function.${role}.config`,
          section,
          `${name} exists`,
          `the source names ${name}, which does not exist`,
          REDEPLOY,
        ),
      );
      continue;
    }
    if (read instanceof Unreadable) {
      checks.push(unreadable(`function.${role}.config`, section, `${name}: its configuration`, read));
      continue;
    }
    const configTitle = `${read.name}: its variables, and it is active`;
    const problems = configProblems(role, read, inventory);
    if (read.state && read.state !== 'Active') problems.push(`its state is ${read.state}`);
    if (read.lastUpdateStatus === 'Failed') problems.push('its last update failed');
    checks.push(
      problems.length === 0
        ? pass(`function.${role}.config`, section, configTitle, `role ${read.roleArn}`)
        : fail(
            `function.${role}.config`,
            section,
            configTitle,
            problems,
            `${REDEPLOY} with the right parameters (README, Configuration, says what each variable holds)`,
          ),
    );

    const missingSecrets = (inventory.secrets[role] ?? []).filter((secret) => secret.arn === ABSENT);
    if (missingSecrets.length > 0) {
      checks.push(
        fail(
          `function.${role}.secrets`,
          section,
          'its role can read its secrets',
          missingSecrets.map((secret) => `${secret.variable} names ${secret.id}, which does not exist`),
          'create the secret, or redeploy with the right ARN (ApiKeySecretArn / api_key_secret_arn, SigningSecretArn / signing_secret_arn)',
        ),
      );
    } else {
      checks.push(
        simulationCheck(
          inventory,
          role,
          `function.${role}.secrets`,
          section,
          'its role can read its secrets',
          (purpose) => purpose.startsWith('read ') || purpose.startsWith('decrypt '),
          'no secret configured (no USER_SERVICE_API_KEY_SECRET_ID or USER_SERVICE_SIGNING_SECRET_ID)',
          `${REDEPLOY} (the roles get secretsmanager:GetSecretValue on the given secrets); a secret under another customer-managed key needs kms:Decrypt on that key too (${DEPLOY_DOC}#permissions-and-nothing-more)`,
        ),
      );
    }
    checks.push(
      simulationCheck(
        inventory,
        role,
        `function.${role}.key`,
        section,
        "its role can use the queues' KMS key",
        (purpose) => purpose.startsWith('use the queues'),
        'the queues use no customer-managed key (SQS-managed encryption)',
        `${REDEPLOY} with KmsKeyArn / kms_key_arn set to the queues' key (each role gets kms:Decrypt and kms:GenerateDataKey through SQS)`,
      ),
    );

    const sourceRole = SOURCE_QUEUE[role];
    if (sourceRole) {
      const queue = inventory.queues[sourceRole];
      const title = `its event source on the ${QUEUE_LABEL[sourceRole]} is enabled`;
      if (read.eventSources instanceof Unreadable) {
        checks.push(unreadable(`function.${role}.event-source`, section, title, read.eventSources));
      } else if (!isThere(queue)) {
        checks.push(
          fail(
            `function.${role}.event-source`,
            section,
            title,
            `the ${QUEUE_LABEL[sourceRole]} cannot be read`,
            REDEPLOY,
          ),
        );
      } else {
        const mapping = read.eventSources.find((candidate) => candidate.eventSourceArn === queue.arn);
        const problems: string[] = [];
        if (!mapping) problems.push(`no event source mapping reads ${queue.arn}: nothing consumes the queue`);
        else {
          if (mapping.state !== 'Enabled')
            problems.push(`the mapping ${mapping.uuid} is ${mapping.state}: the queue is not consumed`);
          if (
            REPORTS_BATCH_FAILURES.includes(role) &&
            !mapping.functionResponseTypes.includes('ReportBatchItemFailures')
          ) {
            problems.push(
              `the mapping ${mapping.uuid} lacks ReportBatchItemFailures: Lambda ignores the failures the function reports and deletes those messages`,
            );
          }
        }
        checks.push(
          problems.length === 0
            ? pass(`function.${role}.event-source`, section, title, `mapping ${mapping?.uuid}`)
            : fail(
                `function.${role}.event-source`,
                section,
                title,
                problems,
                mapping && mapping.state !== 'Enabled'
                  ? `aws lambda update-event-source-mapping --uuid ${mapping.uuid} --enabled`
                  : REDEPLOY,
              ),
        );
      }
    }

    const concurrencyTitle = 'its reserved concurrency lets it run';
    if (read.reservedConcurrency instanceof Unreadable) {
      checks.push(
        unreadable(`function.${role}.concurrency`, section, concurrencyTitle, read.reservedConcurrency),
      );
    } else if (read.reservedConcurrency === undefined) {
      checks.push(pass(`function.${role}.concurrency`, section, concurrencyTitle, 'none reserved'));
    } else {
      const reserved = read.reservedConcurrency;
      const mapping =
        sourceRole && Array.isArray(read.eventSources)
          ? read.eventSources.find((candidate) => candidate.maximumConcurrency !== undefined)
          : undefined;
      if (reserved === 0) {
        checks.push(
          fail(
            `function.${role}.concurrency`,
            section,
            concurrencyTitle,
            'its reserved concurrency is 0: the function never runs',
            `aws lambda delete-function-concurrency --function-name ${read.name} (or set ${role === 'postConfirmation' ? 'PostConfirmationReservedConcurrency' : 'the *ReservedConcurrency parameter'})`,
          ),
        );
      } else if (mapping?.maximumConcurrency !== undefined && reserved < mapping.maximumConcurrency) {
        checks.push(
          fail(
            `function.${role}.concurrency`,
            section,
            concurrencyTitle,
            `reserved ${reserved}, below its event source's MaximumConcurrency ${mapping.maximumConcurrency}: Lambda throttles it and messages count receives towards the dead-letter queue`,
            `reserve at least ${mapping.maximumConcurrency}, or none (${DEPLOY_DOC}#concurrency-and-memory)`,
          ),
        );
      } else {
        checks.push(pass(`function.${role}.concurrency`, section, concurrencyTitle, `reserved ${reserved}`));
      }
    }
  }
  return checks;
};

// ---------------------------------------------------------------------------------------------
// The trail.

const TRAIL = 'Trail (Cognito calls → EventBridge)';

const trailChecks = (inventory: Inventory): Check[] => {
  const title = `a trail logs ${inventory.deployment.region}'s write management events, cognito-idp's included`;
  if (!hasPart(inventory, 'userChanges')) {
    return [skip('trail.logging', TRAIL, title, 'user changes are not deployed: no trail is needed')];
  }
  const { trails } = inventory;
  if (trails instanceof Unreadable) return [unreadable('trail.logging', TRAIL, title, trails)];
  const region = inventory.deployment.region;
  const verdicts = trails.map((trail) => {
    if (!trail.multiRegion && trail.homeRegion !== undefined && trail.homeRegion !== region) {
      return { trail, why: `it logs ${trail.homeRegion} only` };
    }
    if (trail.isLogging instanceof Unreadable) return { trail, why: `its status: ${trail.isLogging.reason}` };
    if (!trail.isLogging) return { trail, why: 'logging is off' };
    if (trail.selectors instanceof Unreadable)
      return { trail, why: `its selectors: ${trail.selectors.reason}` };
    const taken = selectorsTakeCognitoWrites(trail.selectors);
    return taken.ok ? { trail, why: undefined } : { trail, why: taken.why };
  });
  const suitable = verdicts.find((verdict) => verdict.why === undefined);
  if (suitable) {
    return [
      pass(
        'trail.logging',
        TRAIL,
        title,
        `${suitable.trail.name}${suitable.trail.organization ? ' (organization trail)' : ''}${suitable.trail.multiRegion ? ' (multi-region)' : ''}`,
      ),
    ];
  }
  const stopped = verdicts.find((verdict) => verdict.why === 'logging is off');
  return [
    fail(
      'trail.logging',
      TRAIL,
      title,
      verdicts.length === 0
        ? "no trail applies to this region: EventBridge never sees Cognito's calls, so invited, updated, disabled and deleted users are not followed"
        : verdicts.map((verdict) => `${verdict.trail.name}: ${verdict.why}`),
      stopped
        ? `aws cloudtrail start-logging --name ${stopped.trail.arn} (or set CreateTrail=true / create_trail = true for a trail of the deployment's own)`
        : `log write management events in a trail (${DEPLOY_DOC}#does-the-account-have-a-suitable-trail), or set CreateTrail=true / create_trail = true`,
    ),
  ];
};

// ---------------------------------------------------------------------------------------------
// The rule.

const RULE = 'Rule (EventBridge → changes queue)';

const hasPart = (inventory: Inventory, part: 'userChanges' | 'reconcile'): boolean =>
  (Object.keys(inventory.functions) as FunctionRole[]).some((role) => {
    const read = inventory.functions[role];
    return (
      PART_OF_FUNCTION[role] === part &&
      read !== null &&
      !(read === ABSENT && !inventory.deployment.functions[role]?.given)
    );
  });

const ruleRead = (
  read: Read<RuleView> | Absent | null,
  id: string,
  section: string,
  title: string,
  name: string,
): { rule: RuleView } | { check: Check } => {
  if (read === null || read === ABSENT) {
    return { check: fail(id, section, title, `there is no rule ${name}`, REDEPLOY) };
  }
  if (read instanceof Unreadable) return { check: unreadable(id, section, title, read) };
  return { rule: read };
};

const ruleChecks = (inventory: Inventory): Check[] => {
  if (!hasPart(inventory, 'userChanges')) {
    return [skip('rule', RULE, 'the user-changes rule', 'user changes are not deployed')];
  }
  const name = `${inventory.deployment.prefix}-user-changes`;
  const found = ruleRead(inventory.rules.userChanges, 'rule.enabled', RULE, `${name} is enabled`, name);
  if ('check' in found) return [found.check];
  const { rule } = found;
  const checks: Check[] = [];
  checks.push(
    rule.state === 'ENABLED'
      ? pass('rule.enabled', RULE, `${rule.name} is enabled`)
      : fail(
          'rule.enabled',
          RULE,
          `${rule.name} is enabled`,
          `its state is ${rule.state}: no change reaches the changes queue`,
          `aws events enable-rule --name ${rule.name}`,
        ),
  );
  const expected = userChangesRulePattern(inventory.deployment.userPoolId);
  const same = JSON.stringify(canonical(rule.eventPattern)) === JSON.stringify(canonical(expected));
  const patternTitle = 'its pattern is the one this version ships';
  if (same && (rule.eventBusName ?? 'default') === 'default') {
    checks.push(pass('rule.pattern', RULE, patternTitle));
  } else {
    checks.push(
      fail(
        'rule.pattern',
        RULE,
        patternTitle,
        [
          ...((rule.eventBusName ?? 'default') !== 'default'
            ? [`it is on the bus ${rule.eventBusName}: CloudTrail's events arrive on the default bus`]
            : []),
          ...(same
            ? []
            : [`it is ${JSON.stringify(rule.eventPattern)}`, `expected ${JSON.stringify(expected)}`]),
        ],
        `${REDEPLOY}: the pattern comes from src/domain/user-events.ts (userChangesRulePattern)`,
      ),
    );
  }
  const changes = inventory.queues.changes;
  const targetTitle = 'it targets the changes queue';
  if (rule.targets instanceof Unreadable)
    checks.push(unreadable('rule.target', RULE, targetTitle, rule.targets));
  // The queue's own check says what is wrong with it: the rule is not what broke.
  else if (!isThere(changes))
    checks.push(skip('rule.target', RULE, targetTitle, 'the changes queue cannot be read (see its check)'));
  else if (rule.targets.some((target) => target.arn === changes.arn)) {
    checks.push(pass('rule.target', RULE, targetTitle, changes.arn));
  } else {
    checks.push(
      fail(
        'rule.target',
        RULE,
        targetTitle,
        rule.targets.length === 0
          ? 'it has no target: matched events go nowhere'
          : `its targets are ${rule.targets.map((target) => target.arn).join(', ')}`,
        REDEPLOY,
      ),
    );
  }
  return checks;
};

// ---------------------------------------------------------------------------------------------
// The queues: encryption, and who may send.

const QUEUES = 'Queues (who may send)';

/** Who may send to each queue (docs/deploy.md, "Queue policies: who may send"); operators besides. */
const SENDERS: Record<QueueRole, FunctionRole[]> = {
  retry: ['postConfirmation'],
  deadLetter: ['postConfirmation', 'retryWorker'],
  changes: ['reconcile'],
  changesDeadLetter: ['userChanges'],
  reconcile: ['reconcile'],
  reconcileDeadLetter: ['reconcile'],
};

const queuePolicyProblems = (
  role: QueueRole,
  queue: QueueView,
  inventory: Inventory,
): { problems: string[]; others: string[] } => {
  const statements = (queue.policy ?? []) as Statement[];
  const problems: string[] = [];
  if (queue.policy === undefined) {
    return {
      problems: ['it has no queue policy: any principal of the account that IAM allows may send to it'],
      others: [],
    };
  }
  const denies = statements.filter(
    (statement) =>
      statement.Effect === 'Deny' && isEveryone(statement) && coversAction(statement, 'sqs:SendMessage'),
  );
  const exempt = denies.flatMap(exemptPrincipalArns);
  if (denies.length === 0 || exempt.length === 0) {
    problems.push(
      'no Deny keeps other principals from sending: anyone of the account that IAM allows may send',
    );
  }
  const roleArns = SENDERS[role].flatMap((sender) => {
    const fn = inventory.functions[sender];
    return isThere(fn) ? [{ sender, arn: fn.roleArn }] : [];
  });
  for (const { sender, arn } of roleArns) {
    if (
      denies.length > 0 &&
      exempt.length > 0 &&
      !denies.every((deny) => arnMatchesAny(arn, exemptPrincipalArns(deny)))
    ) {
      problems.push(`the ${FUNCTION_LABEL[sender]} role (${arn}) may not send: the Deny covers it`);
    }
  }
  if (exempt.includes('*')) problems.push('the Deny exempts every principal ("*")');
  const allowsAnyone = statements.filter(
    (statement) =>
      statement.Effect === 'Allow' &&
      isEveryone(statement) &&
      coversAction(statement, 'sqs:SendMessage') &&
      statement.Condition === undefined,
  );
  if (allowsAnyone.length > 0)
    problems.push(`statement ${allowsAnyone[0]?.Sid ?? '(no Sid)'} lets anyone send`);

  if (role === 'changes') {
    const rule = inventory.rules.userChanges;
    const ruleArn = isThere(rule) ? rule.arn : undefined;
    const grants = allowsService(statements, 'events.amazonaws.com', 'sqs:SendMessage').filter(
      (statement) => !isEveryone(statement),
    );
    if (grants.length === 0) {
      problems.push(
        'nothing allows events.amazonaws.com to send: the rule cannot deliver (FailedInvocations)',
      );
    } else if (ruleArn && !grants.some((statement) => arnMatchesAny(ruleArn, sourceArnsOf(statement)))) {
      problems.push(
        grants.some((statement) => sourceArnsOf(statement).length === 0)
          ? 'EventBridge may send for any rule (no aws:SourceArn condition): scope it to the rule'
          : `EventBridge may send only for ${grants.flatMap(sourceArnsOf).join(', ')}, not for the rule ${ruleArn}`,
      );
    }
    if (denies.length > 0 && !denies.every((deny) => exemptsService(deny, 'events.amazonaws.com'))) {
      problems.push(
        'the Deny also covers EventBridge (no StringNotEquals aws:PrincipalServiceName events.amazonaws.com): the rule cannot deliver',
      );
    }
  }
  const known = new Set(roleArns.map(({ arn }) => arn));
  const others = [...new Set(exempt)].filter((arn) => !known.has(arn) && arn !== '*');
  return { problems, others };
};

const queueChecks = (inventory: Inventory): Check[] => {
  const checks: Check[] = [];
  const encrypted: string[] = [];
  const unencrypted: string[] = [];
  for (const role of Object.keys(inventory.queues) as QueueRole[]) {
    const read = inventory.queues[role];
    const resource = inventory.deployment.queues[role];
    const part = PART_OF_QUEUE[role];
    if (read === null) continue;
    if (read === ABSENT && part !== 'core' && !resource?.given && !hasPart(inventory, part)) continue;
    const id = `queue.${role}.policy`;
    const title = `${QUEUE_LABEL[role]}: only its senders may send`;
    if (read === ABSENT) {
      checks.push(fail(id, QUEUES, title, `there is no queue ${resource?.id}`, REDEPLOY));
      continue;
    }
    if (read instanceof Unreadable) {
      checks.push(unreadable(id, QUEUES, title, read));
      continue;
    }
    (read.kmsMasterKeyId || read.sqsManagedSse ? encrypted : unencrypted).push(read.url);
    const { problems, others } = queuePolicyProblems(role, read, inventory);
    const senders = [
      ...(role === 'changes' ? ['EventBridge (the rule)'] : []),
      ...SENDERS[role].map((sender) => `the ${FUNCTION_LABEL[sender]} role`),
      ...(others.length > 0 ? [`also ${others.join(', ')} (operators)`] : []),
    ];
    checks.push(
      problems.length === 0
        ? pass(id, QUEUES, title, `may send: ${senders.join(', ')}`)
        : fail(
            id,
            QUEUES,
            title,
            problems,
            `${REDEPLOY}; operators go in OperatorRoleArns / operator_role_arns (${DEPLOY_DOC}#queue-policies-who-may-send)`,
          ),
    );
  }
  const title = "every queue is encrypted (they hold users' PII)";
  checks.push(
    unencrypted.length === 0
      ? pass('queue.encryption', QUEUES, title, `${encrypted.length} queues`)
      : fail(
          'queue.encryption',
          QUEUES,
          title,
          unencrypted.map((url) => `${url} is not encrypted`),
          REDEPLOY,
        ),
  );
  return checks;
};

// ---------------------------------------------------------------------------------------------
// The KMS key.

const KMS = 'KMS key';

const keyChecks = (inventory: Inventory): Check[] => {
  const keyIds = new Set<string>();
  let changesKey: string | undefined;
  for (const role of Object.keys(inventory.queues) as QueueRole[]) {
    const queue = inventory.queues[role];
    if (isThere(queue) && queue.kmsMasterKeyId) {
      keyIds.add(queue.kmsMasterKeyId);
      if (role === 'changes') changesKey = queue.kmsMasterKeyId;
    }
  }
  if (keyIds.size === 0) {
    return [
      skip(
        'kms',
        KMS,
        "the queues' customer-managed key",
        'the queues use SQS-managed encryption: no key policy to check',
      ),
    ];
  }
  const checks: Check[] = [];
  const account = accountOfArn(
    (Object.values(inventory.functions).find(isThere) as FunctionView | undefined)?.arn ?? '',
  );
  for (const keyId of keyIds) {
    const key = inventory.keys[keyId];
    const label = keyId.split('/').at(-1) ?? keyId;
    const usableTitle = `the key ${label} is enabled, and lets the roles' IAM policies grant it`;
    if (key === undefined || key instanceof Unreadable) {
      checks.push(
        key === undefined
          ? fail(
              'kms.key',
              KMS,
              usableTitle,
              `the key ${keyId} was not read`,
              'check the key id the queues hold',
            )
          : unreadable('kms.key', KMS, usableTitle, key),
      );
      continue;
    }
    const problems: string[] = [];
    if (key.state && key.state !== 'Enabled')
      problems.push(`its state is ${key.state}: nothing can be sent to or received from the queues`);
    if (key.policy instanceof Unreadable) {
      checks.push(unreadable('kms.key', KMS, usableTitle, key.policy));
      continue;
    }
    if (
      key.manager !== 'AWS' &&
      account &&
      !delegatesToIam(key.policy, account, ['kms:Decrypt', 'kms:GenerateDataKey'])
    ) {
      problems.push(
        `its policy does not allow the account (arn:aws:iam::${account}:root): the roles' kms: permissions have no effect`,
      );
    }
    checks.push(
      problems.length === 0
        ? pass('kms.key', KMS, usableTitle, key.arn)
        : fail(
            'kms.key',
            KMS,
            usableTitle,
            problems,
            `fix the key policy (${DEPLOY_DOC}#a-customer-managed-kms-key)`,
          ),
    );
    if (keyId !== changesKey) continue;
    const eventsTitle = `the key ${label} lets EventBridge deliver to the changes queue`;
    const rule = inventory.rules.userChanges;
    const ruleArn = isThere(rule) ? rule.arn : undefined;
    // An AWS managed key's policy is the service's own and cannot be changed (AWS KMS Developer
    // Guide, "Change a key policy": https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying.html),
    // so it can never grant EventBridge, which sends as a service with no role of the account.
    if (key.manager === 'AWS') {
      checks.push(
        fail(
          'kms.events',
          KMS,
          eventsTitle,
          'the changes queue is encrypted with an AWS managed key, whose policy cannot grant events.amazonaws.com: every delivery fails',
          'encrypt the queues with a customer-managed key (KmsKeyArn / kms_key_arn) or with SQS-managed encryption',
        ),
      );
      continue;
    }
    const missing = ['kms:GenerateDataKey', 'kms:Decrypt'].filter(
      (action) =>
        !allowsService(key.policy as Statement[], 'events.amazonaws.com', action).some(
          (statement) =>
            (servicePrincipals(statement).includes('events.amazonaws.com') || isEveryone(statement)) &&
            (sourceArnsOf(statement).length === 0 ||
              (ruleArn !== undefined && arnMatchesAny(ruleArn, sourceArnsOf(statement)))),
        ),
    );
    checks.push(
      missing.length === 0
        ? pass('kms.events', KMS, eventsTitle)
        : fail(
            'kms.events',
            KMS,
            eventsTitle,
            `no statement allows events.amazonaws.com ${missing.join(' and ')}${ruleArn ? ` for ${ruleArn}` : ''}: the rule's deliveries fail (FailedInvocations) and the changes are lost until reconcile`,
            `add the EventBridgeSendsToTheChangesQueue statement to the key policy (${DEPLOY_DOC}#a-customer-managed-kms-key)`,
          ),
    );
  }
  return checks;
};

// ---------------------------------------------------------------------------------------------
// The alarms.

const ALARMS = 'Alarms';

const alarmChecks = (inventory: Inventory): Check[] => {
  const title = 'every alarm notifies someone';
  const { alarms, deployment } = inventory;
  if (alarms instanceof Unreadable) return [unreadable('alarms.actions', ALARMS, title, alarms)];
  if (alarms.length === 0) {
    return [
      fail(
        'alarms.actions',
        ALARMS,
        title,
        `no alarm named ${deployment.prefix}-… exists`,
        `${REDEPLOY} with AlarmTopicArn / alarm_sns_topic_arn`,
      ),
    ];
  }
  const found = new Set(alarms.map((alarm) => alarm.name));
  const missing = (deployment.alarmNames ?? []).filter((name) => !found.has(name));
  const silent = alarms.filter((alarm) => !alarm.actionsEnabled || alarm.alarmActions.length === 0);
  if (missing.length === 0 && silent.length === 0) {
    return [pass('alarms.actions', ALARMS, title, `${alarms.length} alarms, each with an action`)];
  }
  return [
    fail(
      'alarms.actions',
      ALARMS,
      title,
      [
        ...missing.map((name) => `${name} does not exist`),
        ...silent.map((alarm) =>
          alarm.actionsEnabled
            ? `${alarm.name} has no alarm action: it pages nobody`
            : `${alarm.name} has its actions disabled`,
        ),
      ],
      `${REDEPLOY} with AlarmTopicArn / alarm_sns_topic_arn (an SNS topic your on-call is subscribed to)${
        silent.some((alarm) => !alarm.actionsEnabled)
          ? '; aws cloudwatch enable-alarm-actions --alarm-names …'
          : ''
      }`,
    ),
  ];
};

// ---------------------------------------------------------------------------------------------
// The reconcile schedule.

const RECONCILE = 'Reconcile schedule';

const reconcileChecks = (inventory: Inventory): Check[] => {
  const title = 'the reconcile schedule is enabled and starts the reconcile function';
  if (!hasPart(inventory, 'reconcile')) {
    return [
      skip(
        'reconcile.schedule',
        RECONCILE,
        title,
        'reconcile is not deployed (opted out): lost events are never repaired; set ReconcileSchedule / reconcile_schedule to have it',
      ),
    ];
  }
  const name = `${inventory.deployment.prefix}-reconcile`;
  const found = ruleRead(inventory.rules.reconcile, 'reconcile.schedule', RECONCILE, title, name);
  if ('check' in found) return [found.check];
  const { rule } = found;
  const fn = inventory.functions.reconcile;
  const problems: string[] = [];
  if (rule.state !== 'ENABLED') problems.push(`${rule.name} is ${rule.state}: no run starts`);
  if (!rule.scheduleExpression) problems.push(`${rule.name} has no schedule expression`);
  if (rule.targets instanceof Unreadable)
    return [unreadable('reconcile.schedule', RECONCILE, title, rule.targets)];
  if (isThere(fn) && !rule.targets.some((target) => target.arn === fn.arn)) {
    problems.push(`${rule.name} does not target ${fn.arn}`);
  }
  return [
    problems.length === 0
      ? pass('reconcile.schedule', RECONCILE, title, `${rule.name}: ${rule.scheduleExpression}`)
      : fail(
          'reconcile.schedule',
          RECONCILE,
          title,
          problems,
          rule.state !== 'ENABLED' ? `aws events enable-rule --name ${rule.name}` : REDEPLOY,
        ),
  ];
};

/** Every check of a deployment, in the order a sign-up and a change travel. */
export const doctorChecks = (inventory: Inventory): Check[] => [
  ...triggerChecks(inventory),
  ...functionChecks(inventory),
  ...trailChecks(inventory),
  ...ruleChecks(inventory),
  ...queueChecks(inventory),
  ...keyChecks(inventory),
  ...alarmChecks(inventory),
  ...reconcileChecks(inventory),
];

/** What the report's heading says of the deployment. */
export const describeDeployment = (deployment: Deployment): string =>
  `${deployment.source} (region ${deployment.region}, prefix ${deployment.prefix}, pool ${deployment.userPoolId})`;
