// smoke's plan: one throwaway user's whole life in the real pool, each change watched until the
// User Service's list shows it (GET ?prefix=<the user's sub>), each step within its own time. A
// step that times out is explained by naming the hop of the path a change travels where it
// stopped, from what can be observed: trigger, trail, rule, queue, function, service. The user is
// removed at the end whatever happened. What the world does and shows comes through SmokeWorld
// (src/clients/smoke-world.ts); this module decides.

import { functionNameOf } from '../clients/deployment.js';
import { ABSENT, type Inventory, Unreadable } from '../clients/deployment-reads.js';
import type { FunctionLogLine, PathObservations, PoolActions } from '../clients/smoke-world.js';
import type { ListedUser } from '../domain/contract.js';
import { type Check, fail, pass, skip } from './checklist.js';
import { doctorChecks, isUnreadCheck } from './doctor.js';

export type Hop = 'trigger' | 'trail' | 'rule' | 'queue' | 'function' | 'service';

/** What can be seen of the path when a change does not arrive. */
export interface Observations {
  /** doctor's checks of the path: the trail, the rule, the changes queue and its key, the user-changes function. */
  pathChecks: Check[];
  /** Messages waiting on the changes queue, visible (nothing consumes them) — when readable. */
  waiting?: number;
  /** The user-changes function's log lines for this user since the step began; a string when unreadable. */
  functionLog: FunctionLogLine[] | string;
  /** Why the user-changes function is not to be seen, when it is not: not deployed, not there, unreadable. */
  userChanges?: Unseen;
}

/** What keeps the user-changes function from view, and what to do about it. */
export interface Unseen {
  why: string;
  fix: string;
}

/**
 * Whether the user-changes function is to be seen: `absent` when the deployment has none (its
 * source says so, or there is no such function), `unreadable` when it could not be read.
 */
export const userChangesUnseen = (
  inventory: Inventory,
): (Unseen & { kind: 'absent' | 'unreadable' }) | undefined => {
  const { deployment } = inventory;
  const read = inventory.functions.userChanges;
  const named = deployment.functions.userChanges;
  if (read === null || named === null) {
    return {
      kind: 'absent',
      why: `user changes are not deployed: ${deployment.source} names no user-changes function, so no change made in the pool (an invited user, a new name, a disabled or deleted user) reaches the User Service`,
      fix: 'deploy them (EnableUserChanges / enable_user_changes, docs/deploy.md), or point smoke at the deployment that has them',
    };
  }
  if (read === ABSENT) {
    return {
      kind: 'absent',
      why: `there is no function ${functionNameOf(named.id)} in ${deployment.region}: user changes are not deployed there, or the deployment is named wrong`,
      fix: 'check --stack, --terraform-outputs or --prefix, and --region; or deploy user changes (EnableUserChanges / enable_user_changes)',
    };
  }
  if (read instanceof Unreadable) {
    return {
      kind: 'unreadable',
      why: `the user-changes function could not be read (${read.action}: ${read.reason}), so whether it is deployed is not known`,
      fix: `let the credentials call ${read.action} on it, then run cognito-user-sync doctor`,
    };
  }
  return undefined;
};

export interface HopVerdict {
  hop: Hop;
  why: string;
  fix: string;
}

const SERVICE_REASON = /^(?:http-|network-|timeout|redirect-)/;

/** The hop each of doctor's path checks stands for. */
const hopOfCheck = (id: string): Hop | undefined => {
  if (id.startsWith('trail.')) return 'trail';
  if (id.startsWith('rule')) return 'rule';
  if (id.startsWith('queue.changes') || id === 'kms.events' || id === 'kms.key') return 'queue';
  if (id.startsWith('function.userChanges.')) return 'function';
  return undefined;
};

const PATH_ORDER: Hop[] = ['trail', 'rule', 'queue', 'function'];

/**
 * Names the hop where a change stopped: the first hop of the path (trail, rule, queue, function)
 * whose doctor check fails on what it read; else what the function's own log says about the user
 * (it wrote the change: the service does not list it; the service refused or failed it; the
 * function skipped or could not read it); else messages nobody consumes; else CloudTrail, which
 * delivers to EventBridge on a best-effort basis and may not have yet.
 */
export const nameTheHop = (observations: Observations): HopVerdict => {
  const failing = observations.pathChecks.filter((check) => check.status === 'fail' && !isUnreadCheck(check));
  for (const hop of PATH_ORDER) {
    const check = failing.find((candidate) => hopOfCheck(candidate.id) === hop);
    if (check) {
      return {
        hop,
        why: `${check.title}: ${check.detail.join('; ')}`,
        fix: check.fix ?? 'run cognito-user-sync doctor',
      };
    }
  }
  if (Array.isArray(observations.functionLog) && observations.functionLog.length > 0) {
    const last = observations.functionLog.at(-1) as FunctionLogLine;
    const said = `the user-changes function logged outcome ${last.outcome ?? '?'}${last.reason ? `, reason ${last.reason}` : ''}${
      last.httpStatus ? `, HTTP ${last.httpStatus}` : ''
    }`;
    if (last.outcome === 'created' || last.outcome === 'updated' || last.outcome === 'deleted') {
      return {
        hop: 'service',
        why: `${said}: the User Service took the write, but its list does not show it`,
        fix: 'the User Service must list each user as last written (run cognito-user-sync check-service against it)',
      };
    }
    if (last.reason && SERVICE_REASON.test(last.reason)) {
      return {
        hop: 'service',
        why: `${said}: the User Service failed or refused the write`,
        fix: 'see why in the User Service; cognito-user-sync status shows the changes waiting, and the <prefix>/user-service-failures saved query the reasons (docs/deploy.md, alarms)',
      };
    }
    return {
      hop: 'function',
      why: said,
      fix: `the reason names the cause (cognito-…: its Cognito reads; config-…: a variable; malformed-message); docs/deploy.md#alarm-user-changes-failing`,
    };
  }
  if (observations.waiting !== undefined && observations.waiting > 0) {
    return {
      hop: 'function',
      why: `${observations.waiting} messages wait on the changes queue: the user-changes function does not consume them`,
      fix: 'check its event source mapping is Enabled, its reserved concurrency, and its errors (<prefix>/function-errors)',
    };
  }
  if (observations.userChanges) {
    return {
      hop: 'function',
      why: `no sign of the change past Cognito, and ${observations.userChanges.why}`,
      fix: observations.userChanges.fix,
    };
  }
  const noLog =
    typeof observations.functionLog === 'string'
      ? ` (its log could not be read: ${observations.functionLog})`
      : '';
  return {
    hop: 'trail',
    why: `no sign of the change past Cognito${noLog}: the trail and the rule look right, so CloudTrail has not delivered the call to EventBridge yet (it delivers on a best-effort basis)`,
    fix: "give it longer (--step-timeout), and look for the call in CloudTrail's event history; if it is there and still nothing arrives, run cognito-user-sync doctor",
  };
};

/** What smoke does in the pool (src/clients/smoke-world.ts) and sees in the User Service. */
export interface SmokeWorld extends PoolActions {
  /**
   * The User Service's user with this sub, or null; a string says why the list could not be read
   * (`signal` aborted included: a stopped run does not wait out the list's own time).
   */
  listed(sub: string, signal?: AbortSignal): Promise<ListedUser | null | string>;
  /** DELETE from the User Service itself (the clean-up of a user the path did not delete): done or why not. */
  removeFromService(sub: string, signal?: AbortSignal): Promise<true | string>;
  /** How to remove the user from the User Service by hand, for a clean-up that could not. */
  serviceRemovalCommand(sub: string): string;
}

export interface SmokeOptions {
  runId: string;
  stepTimeoutMs: number;
  intervalMs: number;
  /** Stops the run: the step in hand (its list, its wait) is cut short, and the clean-up runs. */
  signal?: AbortSignal;
  /** Cuts the clean-up short (a second signal): it stops where it is and says what may be left. */
  cutShort?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const SECTION_STEPS = "A user's life, watched in the User Service";
const SECTION_CLEANUP = 'Clean-up';

// Its listener goes when the wait ends: a run polls hundreds of times on the one signal.
const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** The address of a run's user: marked, and in a domain that never delivers (RFC 2606, .invalid). */
export const smokeAddressOf = (runId: string) => `smoke+${runId}@example.invalid`;

interface Step {
  id: string;
  title: string;
  /** What Cognito is asked to do. */
  act: (world: SmokeWorld, user: SmokeUser) => Promise<void>;
  /** Whether the listed user shows the change (null: not listed). */
  arrived: (listed: ListedUser | null, user: SmokeUser) => boolean;
  /** What was expected, in words. */
  expected: (user: SmokeUser) => string;
  /** No event follows: the step checks Cognito, and that the service still lists the user unchanged. */
  noEvent?: boolean;
}

interface SmokeUser {
  username: string;
  email: string;
  sub: string;
  name: string;
  /** The status the service gave the user while enabled (DEFAULT_USER_STATUS), once seen. */
  enabledStatus?: string;
}

const STEPS: Step[] = [
  {
    id: 'confirm',
    title: 'confirmed with a permanent password (AdminSetUserPassword): CONFIRMED, still listed as it was',
    act: (world, user) => world.confirm(user.username),
    arrived: (listed, user) => listed !== null && listed.status === user.enabledStatus,
    expected: () => 'the user still listed, status unchanged',
    noEvent: true,
  },
  {
    id: 'update',
    title: 'its name updated (AdminUpdateUserAttributes): the service lists the new name',
    act: async (world, user) => {
      user.name = `${user.name} (renamed)`;
      await world.rename(user.username, user.name);
    },
    arrived: (listed, user) => listed?.fullName === user.name,
    expected: (user) => `fullName ${JSON.stringify(user.name)}`,
  },
  {
    id: 'disable',
    title: 'disabled (AdminDisableUser): the service lists the disabled status',
    act: (world, user) => world.disable(user.username),
    arrived: (listed, user) => listed !== null && listed.status !== user.enabledStatus,
    expected: (user) => `a status other than ${user.enabledStatus}`,
  },
  {
    id: 'enable',
    title: 'enabled again (AdminEnableUser): the service lists the enabled status',
    act: (world, user) => world.enable(user.username),
    arrived: (listed, user) => listed?.status === user.enabledStatus,
    expected: (user) => `status ${user.enabledStatus}`,
  },
  {
    id: 'delete',
    title: 'deleted (AdminDeleteUser): the service no longer lists it',
    act: async (world, user) => {
      await world.remove(user.username);
    },
    arrived: (listed) => listed === null,
    expected: () => 'no user listed',
  },
];

/** Polls the service until `arrived`, the step's time is up, or the run is stopped. */
const watch = async (
  world: SmokeWorld,
  sub: string,
  arrived: (listed: ListedUser | null) => boolean,
  options: Required<Pick<SmokeOptions, 'stepTimeoutMs' | 'intervalMs' | 'now' | 'sleep'>> & {
    signal?: AbortSignal;
  },
): Promise<
  | { arrived: true; listed: ListedUser | null; ms: number }
  | { arrived: false; last: ListedUser | null | string; ms: number }
> => {
  const started = options.now();
  let last: ListedUser | null | string = null;
  for (;;) {
    last = await world.listed(sub, options.signal);
    if (typeof last !== 'string' && arrived(last))
      return { arrived: true, listed: last, ms: options.now() - started };
    if (options.signal?.aborted || options.now() - started >= options.stepTimeoutMs) {
      return { arrived: false, last, ms: options.now() - started };
    }
    await options.sleep(
      Math.min(options.intervalMs, Math.max(0, options.stepTimeoutMs - (options.now() - started))),
      options.signal,
    );
  }
};

const describeListed = (listed: ListedUser | null | string): string =>
  typeof listed === 'string'
    ? `the service's list could not be read: ${listed}`
    : listed === null
      ? 'the service does not list the user'
      : `the service lists ${JSON.stringify({ fullName: listed.fullName, status: listed.status })}`;

/** A step that did not arrive: the hop named, with what was seen. */
const stepFailed = async (
  world: SmokeWorld,
  id: string,
  title: string,
  user: SmokeUser,
  since: Date,
  outcome: { last: ListedUser | null | string; ms: number },
  expected: string,
  stopped: boolean,
): Promise<Check> => {
  if (stopped) {
    return skip(
      `step.${id}`,
      SECTION_STEPS,
      title,
      'stopped (SIGINT, SIGTERM or SIGHUP) before the change arrived',
    );
  }
  const waited = `waited ${(outcome.ms / 1000).toFixed(1)} s for ${expected}; ${describeListed(outcome.last)}`;
  const verdict =
    typeof outcome.last === 'string'
      ? {
          hop: 'service' as const,
          why: `the User Service's list failed: ${outcome.last}`,
          fix: 'the list must answer GET ?prefix=…&limit=… (run cognito-user-sync check-service against it)',
        }
      : nameTheHop(judgePath(await world.observe(user.sub, since)));
  return {
    ...fail(
      `step.${id}`,
      SECTION_STEPS,
      title,
      [`the change stopped at: ${verdict.hop}`, waited, verdict.why],
      verdict.fix,
    ),
    evidence: { hop: verdict.hop, waitedMs: outcome.ms },
  };
};

/** The doctor checks that stand for the path a change travels. */
const PATH_CHECK = /^(?:trail\.|rule|queue\.changes|kms\.|function\.userChanges\.)/;

/** What can be seen of the path, judged: doctor's checks of it, the queue, the function's log. */
export const judgePath = ({ inventory, waiting, functionLog }: PathObservations): Observations => {
  const unseen = userChangesUnseen(inventory);
  return {
    pathChecks: doctorChecks(inventory).filter((check) => PATH_CHECK.test(check.id)),
    ...(waiting !== undefined && { waiting }),
    functionLog,
    ...(unseen && { userChanges: { why: unseen.why, fix: unseen.fix } }),
  };
};

/** Runs the whole life of one user, then removes it, whatever happened. */
export const runSmoke = async (world: SmokeWorld, options: SmokeOptions): Promise<Check[]> => {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const timing = { ...options, now, sleep };
  // The trigger is no hop of an invited user's path, but of every sign-up's: checked first.
  const inventory = await world.readPath();
  const checks: Check[] = doctorChecks(inventory).filter((check) => check.id.startsWith('trigger.'));
  const email = smokeAddressOf(options.runId);
  const user: SmokeUser = {
    username: world.usernameFor(email, options.runId),
    email,
    sub: '',
    name: `cognito-user-sync smoke ${options.runId}`,
  };
  const stopped = () => options.signal?.aborted === true;
  const createTitle = 'invited (AdminCreateUser, no message sent): the service lists the user';
  /** The step in hand: an error thrown part-way fails it, and the clean-up still runs and is reported. */
  let inHand = { id: 'create', title: createTitle };
  // No change made in the pool can arrive without the user-changes function: no user is made to
  // wait --step-timeout for each, and no CloudTrail blamed after.
  const unseen = userChangesUnseen(inventory);
  if (unseen?.kind === 'absent') {
    checks.push(
      fail(
        'user-changes',
        SECTION_STEPS,
        'user changes are deployed: smoke follows each change through them',
        unseen.why,
        unseen.fix,
      ),
    );
    for (const step of [inHand, ...STEPS]) {
      checks.push(
        skip(`step.${step.id}`, SECTION_STEPS, step.title, 'not run: user changes are not deployed'),
      );
    }
    return checks;
  }
  /** The steps, in order: each a check; the first that does not pass ends the walk. */
  const walk = async (): Promise<void> => {
    const since = new Date(now());
    try {
      user.sub = await world.create(user.username, user.email, user.name);
    } catch (error) {
      checks.push(refused('create', createTitle, 'AdminCreateUser', error));
      return;
    }
    const created = await watch(
      world,
      user.sub,
      (listed) => listed !== null && listed.email === user.email && listed.fullName === user.name,
      timing,
    );
    if (!created.arrived) {
      checks.push(
        await stepFailed(
          world,
          'create',
          createTitle,
          user,
          since,
          created,
          `the user listed with its email and name`,
          stopped(),
        ),
      );
      return;
    }
    user.enabledStatus = created.listed?.status;
    checks.push({
      ...pass(
        'step.create',
        SECTION_STEPS,
        createTitle,
        `listed after ${(created.ms / 1000).toFixed(1)} s (sub ${user.sub}, status ${user.enabledStatus})`,
      ),
      evidence: { waitedMs: created.ms, sub: user.sub },
    });
    for (const step of STEPS) {
      if (stopped()) return;
      inHand = step;
      const stepSince = new Date(now());
      try {
        await step.act(world, user);
      } catch (error) {
        checks.push(refused(step.id, step.title, step.title.match(/\((\w+)/)?.[1] ?? 'Cognito', error));
        return;
      }
      if (step.noEvent) {
        let status: string | undefined;
        try {
          status = await world.statusOf(user.username);
        } catch (error) {
          checks.push(refused(step.id, step.title, 'AdminGetUser', error));
          return;
        }
        const listed = await world.listed(user.sub, options.signal);
        if (stopped()) return;
        const ok = status === 'CONFIRMED' && typeof listed !== 'string' && step.arrived(listed, user);
        checks.push(
          ok
            ? pass(
                `step.${step.id}`,
                SECTION_STEPS,
                step.title,
                `Cognito status ${status}; ${describeListed(listed)}`,
              )
            : fail(
                `step.${step.id}`,
                SECTION_STEPS,
                step.title,
                [`Cognito status ${status ?? 'none'}`, describeListed(listed)],
                status !== 'CONFIRMED'
                  ? 'the pool refused the permanent password: its password policy, or the user is not in the pool'
                  : 'no change was made that the service should see: run cognito-user-sync doctor and check-service',
              ),
        );
        if (!ok) return;
        continue;
      }
      const outcome = await watch(world, user.sub, (listed) => step.arrived(listed, user), timing);
      if (!outcome.arrived) {
        checks.push(
          await stepFailed(
            world,
            step.id,
            step.title,
            user,
            stepSince,
            outcome,
            step.expected(user),
            stopped(),
          ),
        );
        return;
      }
      checks.push({
        ...pass(
          `step.${step.id}`,
          SECTION_STEPS,
          step.title,
          `arrived after ${(outcome.ms / 1000).toFixed(1)} s`,
        ),
        evidence: { waitedMs: outcome.ms },
      });
    }
  };
  try {
    try {
      await walk();
    } catch (error) {
      checks.push(
        fail(
          `step.${inHand.id}`,
          SECTION_STEPS,
          inHand.title,
          `smoke failed: ${(error as Error).name}: ${(error as Error).message}`,
          'the clean-up below says what is left; run again, and if it fails the same way, report it',
        ),
      );
    }
    for (const step of STEPS) {
      if (!checks.some((check) => check.id === `step.${step.id}`)) {
        checks.push(
          skip(
            `step.${step.id}`,
            SECTION_STEPS,
            step.title,
            stopped() ? 'stopped before it' : 'not run: a step before it failed',
          ),
        );
      }
    }
  } finally {
    checks.push(await cleanUp(world, user, options.cutShort));
  }
  return checks;
};

/** A step Cognito refused: the call and AWS's answer, and what to look at. */
const refused = (id: string, title: string, call: string, error: unknown): Check =>
  fail(
    `step.${id}`,
    SECTION_STEPS,
    title,
    `Cognito refused ${call}: ${(error as Error).name}: ${(error as Error).message}`,
    `let the credentials call cognito-idp:${call} on the pool (smoke --help lists the calls); a pool with required attributes or a strict password policy may refuse the smoke user`,
  );

/**
 * Removes the user from the pool and, if the path did not, from the User Service. Cut short, or
 * failing, it says what may be left and the commands that remove it.
 */
const cleanUp = async (world: SmokeWorld, user: SmokeUser, cutShort?: AbortSignal): Promise<Check> => {
  const title = 'the smoke user is gone from the pool and the User Service';
  const seen: string[] = [];
  let poolDone = false;
  const leftBehind = (why: string): Check => {
    const left = [
      ...(poolDone ? [] : [[`the user ${user.username} in the pool`, world.removalCommand(user.username)]]),
      ...(user.sub
        ? [[`the user ${user.sub} in the User Service`, world.serviceRemovalCommand(user.sub)]]
        : []),
    ];
    return fail(
      'cleanup',
      SECTION_CLEANUP,
      title,
      [...seen, why, ...left.map(([what]) => `left, perhaps: ${what}`)],
      `remove what is left: ${left.map(([, command]) => command).join('; ')}`,
    );
  };
  const cutShortWhy = 'the clean-up was cut short (a second signal)';
  try {
    if (cutShort?.aborted) return leftBehind(cutShortWhy);
    const removed = await world.remove(user.username, cutShort);
    poolDone = true;
    seen.push(removed ? 'deleted from the pool by the clean-up' : 'not in the pool');
    if (!user.sub) return pass('cleanup', SECTION_CLEANUP, title, seen);
    const listed = await world.listed(user.sub, cutShort);
    if (listed === null) {
      seen.push('not in the User Service');
      return pass('cleanup', SECTION_CLEANUP, title, seen);
    }
    if (cutShort?.aborted) return leftBehind(cutShortWhy);
    const done = await world.removeFromService(user.sub, cutShort);
    if (done === true) {
      seen.push('deleted from the User Service by the clean-up (the path did not)');
      return pass('cleanup', SECTION_CLEANUP, title, seen);
    }
    return leftBehind(cutShort?.aborted ? cutShortWhy : `still in the User Service: ${done}`);
  } catch (error) {
    return leftBehind(
      cutShort?.aborted
        ? cutShortWhy
        : `the clean-up failed: ${(error as Error).name}: ${(error as Error).message}`,
    );
  }
};
