// check-service's plan: the User Service contract (README, "The User Service contract";
// openapi.yaml) played against a service, one rule at a time, each answer judged by the contract's
// own schemas (src/domain/contract.ts), as cognito-user-sync's client reads it. Every test user has
// a sub under one marked prefix of this run and an @example.invalid address, and is removed at the
// end, whatever happened. The requests go through an injected probe (src/clients/service-probe.ts).

import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import type { Exchange, Probe, ProbeRequest } from '../clients/service-probe.js';
import {
  AlreadyExistsSchema,
  FieldConflictSchema,
  instantOf,
  NotFoundSchema,
  StaleWriteSchema,
  UserAnswerSchema,
  UserPageSchema,
  UserPageView,
  type UserPatch,
  type UserRecord,
} from '../domain/contract.js';
import type { UserDefaults } from '../domain/user-policy.js';
import { type Check, fail, pass, skip } from './checklist.js';

const CREATE = 'Create (POST)';
const UPDATE = 'Update (PATCH)';
const DELETE = 'Delete (DELETE)';
const LIST = 'List (GET ?limit&cursor&prefix)';
const CREDENTIALS = 'Credentials';
const CLEANUP = 'Clean-up';

/** What a bare 409 costs: the words the report gives it. */
export const BARE_409_CONSEQUENCE =
  'a 409 without {"error": "already_exists", "cognitoSub": "<the sub>"} is read as a refusal: when Cognito tries the trigger again (up to three attempts for one confirmation), or a retry, backfill or replay sends a user the service holds, cognito-user-sync dead-letters it instead of counting it synced (the dead-letter alarm fires)';

export interface ContractCheckOptions {
  probe: Probe;
  /** The statuses and role cognito-user-sync sends (DEFAULT_USER_STATUS, DEFAULT_USER_ROLE). */
  defaults: UserDefaults;
  /** Whether a signing secret / an API key was given: the refusal checks run only then. */
  signing: boolean;
  apiKey: boolean;
  /** Stops the plan between two requests (Ctrl-C); the clean-up runs all the same. */
  signal?: AbortSignal;
  /** Cuts the clean-up short (a second Ctrl-C): it stops between two requests and says what may be left. */
  cutShort?: AbortSignal;
  now?: () => Date;
  /** Random hex of the run: the test users' prefix and addresses. Random by default. */
  runId?: string;
}

/** The test users of a run: subs under one prefix (UUID-shaped, as Cognito's), marked addresses. */
export const testUsersOf = (runId: string) => {
  const hex = runId.padEnd(10, '0').slice(0, 10);
  const prefix = `c0c0c0c0-${hex.slice(0, 4)}-4${hex.slice(4, 7)}-8${hex.slice(7, 10)}-`;
  return {
    prefix,
    sub: (n: number) => `${prefix}${n.toString(16).padStart(12, '0')}`,
    email: (label: string) => `check-service+${runId}-${label}@example.invalid`,
    /** A sub the run never creates: the unknown user. */
    unknown: `${prefix}ffffffffffff`,
  };
};

const short = (text: string, max = 400): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/** One exchange in a few lines: the request, and the answer (or why there was none). */
export const describeExchange = (exchange: Exchange): string[] => [
  `${exchange.request.method} ${exchange.request.url}${
    exchange.request.headers['idempotency-key']
      ? ` (idempotency-key ${exchange.request.headers['idempotency-key']})`
      : ''
  }`,
  ...(exchange.request.body ? [`  sent ${short(exchange.request.body)}`] : []),
  exchange.answer
    ? `  answered ${exchange.answer.status}${exchange.answer.body ? ` ${short(exchange.answer.body)}` : ''}`
    : `  no answer: ${exchange.error}`,
];

type Verdict = { ok: true; note?: string } | { ok: false; why: string };

/** The answer's JSON, when it is an object of the schema. */
const is = <S extends v.GenericSchema>(schema: S, json: unknown): json is v.InferOutput<S> =>
  v.is(schema, json);

/** A created or updated user: a JSON object naming this sub, if it names one (UserAnswerSchema). */
const aboutUser = (json: unknown, sub: string) =>
  is(UserAnswerSchema, json) && (json.cognitoSub ?? sub) === sub;

const NO_ANSWER_FIX = 'check --url, and that the service is reachable from here (VPN, the gateway, its TLS)';

/** A failed check from a verdict, with the exchanges it saw. */
const judged = (
  id: string,
  section: string,
  title: string,
  exchanges: Exchange[],
  verdict: Verdict,
  fix: string,
): Check => {
  const seen = exchanges.flatMap(describeExchange);
  const last = exchanges.at(-1);
  if (last && !last.answer) {
    return {
      ...fail(id, section, title, [`no answer: ${last.error}`, ...seen], NO_ANSWER_FIX),
      evidence: exchanges,
    };
  }
  if (last?.answer && (last.answer.status === 401 || last.answer.status === 403) && !verdict.ok) {
    return {
      ...fail(
        id,
        section,
        title,
        [`refused our credentials (${last.answer.status})`, ...seen],
        'give the API key (USER_SERVICE_API_KEY_SECRET_ID, or USER_SERVICE_API_KEY) and the signing secret (--signing-secret, USER_SERVICE_SIGNING_SECRET_ID) the service expects',
      ),
      evidence: exchanges,
    };
  }
  if (verdict.ok)
    return {
      ...pass(id, section, title, [...(verdict.note ? [verdict.note] : []), ...seen]),
      evidence: exchanges,
    };
  return { ...fail(id, section, title, [verdict.why, ...seen], fix), evidence: exchanges };
};

const status = (exchange: Exchange): number | undefined => exchange.answer?.status;
const json = (exchange: Exchange): unknown => exchange.answer?.json;

/** Runs the plan: every rule's check, then the clean-up's. */
export const checkService = async (options: ContractCheckOptions): Promise<Check[]> => {
  const { probe, defaults, signal } = options;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomBytes(5).toString('hex');
  const users = testUsersOf(runId);
  const checks: Check[] = [];
  /** Every sub a request may have created: deleted at the end. */
  const created = new Set<string>();
  const stopped = () => signal?.aborted === true;
  const send = async (request: ProbeRequest) => {
    const exchange = await probe(request);
    if (request.method === 'POST' && exchange.answer && exchange.answer.status < 300) {
      const sub = (request.body as { cognitoSub?: string } | undefined)?.cognitoSub;
      if (sub) created.add(sub);
    }
    return exchange;
  };
  const record = (sub: string, label: string, name: string): UserRecord => ({
    cognitoSub: sub,
    email: users.email(label),
    fullName: name,
    status: defaults.status,
    role: defaults.role,
    createdBy: sub,
    updatedBy: sub,
  });
  const key = () => randomBytes(16).toString('hex');

  try {
    // --- Create, replay, exists, conflict.
    const a = record(users.sub(1), 'a', `check-service ${runId} A`);
    const aKey = key();
    const create = await send({ method: 'POST', body: a, idempotencyKey: aKey });
    const createdA =
      status(create) === 201 || status(create) === 200 ? aboutUser(json(create), a.cognitoSub) : false;
    checks.push(
      judged(
        'create',
        CREATE,
        'a new user is created: 201 (or 200) with the stored user',
        [create],
        createdA
          ? { ok: true }
          : {
              ok: false,
              why:
                status(create) === 409
                  ? 'the service says the user exists: a run of check-service left it? (every run makes new subs)'
                  : `expected 201 or 200 with a JSON object naming ${a.cognitoSub}`,
            },
        "answer POST with 201 and the stored user (openapi.yaml, createUser); a 2xx that is not a JSON object about the user is read as a proxy's page and retried",
      ),
    );
    const needsA = (id: string, section: string, title: string) =>
      skip(id, section, title, 'needs the created user (create failed)');

    if (!createdA || stopped()) {
      checks.push(
        needsA('replay', CREATE, 'the same request again (same idempotency key): done, not an error'),
        needsA('already-exists', CREATE, 'a create of a sub it holds: 409 already_exists naming the sub'),
        needsA('conflict', CREATE, 'another user with a taken email: 409 conflict'),
        needsA('patch', UPDATE, 'a PATCH of the user: 200 with the user (or 204)'),
        needsA('stale-write', UPDATE, 'a PATCH older than the stored state: 412 stale_write'),
      );
    } else {
      const existsVerdict = (exchange: Exchange, allow2xx: boolean): Verdict => {
        const answer = status(exchange);
        const body = json(exchange);
        if (answer === 409 && is(AlreadyExistsSchema, body)) {
          const named = body.cognitoSub;
          return named === a.cognitoSub
            ? { ok: true }
            : { ok: false, why: `409 already_exists names ${named}, not ${a.cognitoSub}: read as a refusal` };
        }
        if (answer === 409) return { ok: false, why: `a bare 409: ${BARE_409_CONSEQUENCE}` };
        if (answer !== undefined && answer >= 200 && answer < 300) {
          if (allow2xx && aboutUser(json(exchange), a.cognitoSub))
            return { ok: true, note: 'answered as a success: done' };
          return {
            ok: false,
            why: allow2xx
              ? "a 2xx that is not the stored user is read as a proxy's page: retried"
              : `answered ${answer} for a sub it holds, with another idempotency key: the contract asks 409 already_exists (a create must not overwrite a user)`,
          };
        }
        return {
          ok: false,
          why: `expected 409 {"error": "already_exists", "cognitoSub": "${a.cognitoSub}"}`,
        };
      };
      const replay = await send({ method: 'POST', body: a, idempotencyKey: aKey });
      checks.push(
        judged(
          'replay',
          CREATE,
          'the same request again (same idempotency key): done, not an error',
          [replay],
          existsVerdict(replay, true),
          'answer a replayed create with the first answer (201) or with 409 {"error": "already_exists", "cognitoSub": "<the sub>"}',
        ),
      );
      const again = await send({ method: 'POST', body: a, idempotencyKey: key() });
      checks.push(
        judged(
          'already-exists',
          CREATE,
          'a create of a sub it holds: 409 already_exists naming the sub',
          [again],
          existsVerdict(again, false),
          'answer 409 {"error": "already_exists", "cognitoSub": "<the sub>"} for a sub the service holds',
        ),
      );

      const b = record(users.sub(5), 'a', `check-service ${runId} B`);
      const conflict = await send({ method: 'POST', body: b, idempotencyKey: key() });
      const conflictVerdict = (): Verdict => {
        const answer = status(conflict);
        if (answer === 409 && is(FieldConflictSchema, json(conflict))) return { ok: true };
        if (answer !== undefined && answer >= 200 && answer < 300) {
          return {
            ok: true,
            note: 'the service keeps emails not unique: it created the second user (no conflict to answer)',
          };
        }
        const body = json(conflict);
        if (answer === 409 && is(AlreadyExistsSchema, body) && body.cognitoSub === b.cognitoSub) {
          return {
            ok: false,
            why: 'answered already_exists naming the new sub: cognito-user-sync counts the user as created, and it never is',
          };
        }
        if (answer === 409) {
          return {
            ok: false,
            why: 'a 409 without {"error": "conflict", "field": "email", "reason": "…"}: refused as it should be (dead-lettered), but an operator cannot tell why',
          };
        }
        if (answer !== undefined && (answer >= 500 || answer === 429 || answer === 408)) {
          return {
            ok: false,
            why: `${answer}: read as "try later": the user is retried for a day before it is dead-lettered`,
          };
        }
        return { ok: false, why: 'expected 409 {"error": "conflict", "field": "email", "reason": "…"}' };
      };
      checks.push(
        judged(
          'conflict',
          CREATE,
          'another user with a taken email: 409 conflict',
          [conflict],
          conflictVerdict(),
          'answer 409 {"error": "conflict", "field": "email", "reason": "…"} when another user holds the email',
        ),
      );

      // --- Update: a PATCH, then one older than it.
      const newer = now();
      const patch: UserPatch = {
        email: a.email,
        fullName: `${a.fullName} (renamed)`,
        status: defaults.status,
        updatedBy: a.cognitoSub,
        cognitoLastModified: newer.toISOString(),
      };
      const patched = await send({
        method: 'PATCH',
        sub: a.cognitoSub,
        body: patch,
        idempotencyKey: key(),
      });
      const patchOk =
        status(patched) === 204 || (status(patched) === 200 && aboutUser(json(patched), a.cognitoSub));
      checks.push(
        judged(
          'patch',
          UPDATE,
          'a PATCH of the user: 200 with the user (or 204)',
          [patched],
          patchOk ? { ok: true } : { ok: false, why: 'expected 200 with the user, or 204' },
          'answer a JSON merge patch (application/merge-patch+json) of email, fullName, status, updatedBy and cognitoLastModified with 200 and the user, or 204',
        ),
      );
      const stale = await send({
        method: 'PATCH',
        sub: a.cognitoSub,
        body: {
          ...patch,
          fullName: `${a.fullName} (stale)`,
          cognitoLastModified: new Date(newer.getTime() - 3_600_000).toISOString(),
        },
        idempotencyKey: key(),
      });
      const staleVerdict = (): Verdict => {
        const answer = status(stale);
        if (answer === 412 && is(StaleWriteSchema, json(stale))) return { ok: true };
        if (answer === 412) {
          return {
            ok: false,
            why: 'a 412 without {"error": "stale_write", "cognitoLastModified": "…"} is read as a refusal (a gateway\'s page must not settle a write): the change is dead-lettered',
          };
        }
        if (answer !== undefined && answer >= 200 && answer < 300) {
          return {
            ok: false,
            why: 'the older write was applied: a stale write wins (two changes of a user processed out of order leave the older state)',
          };
        }
        return {
          ok: false,
          why: 'expected 412 {"error": "stale_write", "cognitoLastModified": "<the stored one>"}',
        };
      };
      checks.push(
        judged(
          'stale-write',
          UPDATE,
          'a PATCH older than the stored state: 412 stale_write',
          [stale],
          staleVerdict(),
          'keep each user\'s cognitoLastModified and refuse a PATCH with an older one: 412 {"error": "stale_write", "cognitoLastModified": "<the stored one>"}',
        ),
      );
    }

    // --- The unknown user: 404 not_found for PATCH and DELETE.
    if (!stopped()) {
      const patchUnknown = await send({
        method: 'PATCH',
        sub: users.unknown,
        body: {
          email: users.email('unknown'),
          fullName: null,
          status: defaults.status,
          updatedBy: users.unknown,
          cognitoLastModified: now().toISOString(),
        } satisfies UserPatch,
        idempotencyKey: key(),
      });
      const notFound = (exchange: Exchange, method: 'PATCH' | 'DELETE'): Verdict => {
        const answer = status(exchange);
        if (answer === 404 && is(NotFoundSchema, json(exchange))) return { ok: true };
        if (answer === 404) {
          return {
            ok: false,
            why:
              method === 'PATCH'
                ? 'a 404 without {"error": "not_found"} is read as a refusal (a wrong URL must not look like a missing user): the change is dead-lettered instead of the user being created'
                : 'a 404 without {"error": "not_found"} is read as a refusal (a wrong URL must not count every DELETE as done): the deletion is dead-lettered',
          };
        }
        if (method === 'DELETE' && answer !== undefined && answer >= 200 && answer < 300) {
          return { ok: true, note: `answered ${answer}: counted as deleted, as good as 404 not_found` };
        }
        if (method === 'PATCH' && answer !== undefined && answer >= 200 && answer < 300) {
          return {
            ok: false,
            why: `answered ${answer} for a user it does not hold: the user is never created`,
          };
        }
        return { ok: false, why: 'expected 404 {"error": "not_found"}' };
      };
      checks.push(
        judged(
          'patch-unknown',
          UPDATE,
          'a PATCH of an unknown user: 404 not_found',
          [patchUnknown],
          notFound(patchUnknown, 'PATCH'),
          'answer 404 {"error": "not_found"} for a sub the service does not hold (cognito-user-sync then creates the user)',
        ),
      );
      const deleteUnknown = await send({ method: 'DELETE', sub: users.unknown, idempotencyKey: key() });
      checks.push(
        judged(
          'delete-unknown',
          DELETE,
          'a DELETE of an unknown user: 404 not_found',
          [deleteUnknown],
          notFound(deleteUnknown, 'DELETE'),
          'answer 404 {"error": "not_found"} for a sub the service does not hold',
        ),
      );
    }

    // --- The list: paging, the prefix, the cursor's end, the fields.
    if (!stopped()) checks.push(...(await listChecks({ send, users, runId, record, key, createdA })));

    // --- Delete.
    if (!stopped()) {
      if (!createdA)
        checks.push(
          skip(
            'delete',
            DELETE,
            'a DELETE of the user: 204, and the list no longer shows it',
            'needs the created user (create failed)',
          ),
        );
      else {
        const removed = await send({ method: 'DELETE', sub: a.cognitoSub, idempotencyKey: key() });
        const listed = await send({ method: 'GET', query: { prefix: a.cognitoSub, limit: '10' } });
        const gone =
          is(UserPageView, json(listed)) && (json(listed) as { users: unknown[] }).users.length === 0;
        const answer = status(removed);
        const ok = (answer === 204 || answer === 200) && gone;
        if (ok) created.delete(a.cognitoSub);
        checks.push(
          judged(
            'delete',
            DELETE,
            'a DELETE of the user: 204, and the list no longer shows it',
            [removed, listed],
            ok
              ? { ok: true }
              : {
                  ok: false,
                  why:
                    answer === 204 || answer === 200
                      ? 'deleted, but the list still shows the user: reconcile would delete it again, every run'
                      : 'expected 204 (or 200)',
                },
            "answer DELETE with 204 and leave the user out of the list (what deletion means, erase or anonymise, is the service's business)",
          ),
        );
      }
    }

    // --- Credentials: a request without the key, unsigned, wrongly signed, must be refused.
    if (!stopped()) {
      const refusals: [string, string, Partial<ProbeRequest>, boolean, string][] = [
        [
          'api-key.missing',
          'a request without the API key is refused (401 or 403)',
          { apiKey: 'omit' },
          options.apiKey,
          "no API key given (USER_SERVICE_API_KEY_SECRET_ID or USER_SERVICE_API_KEY): the service's key check is not tried",
        ],
        [
          'signature.missing',
          'an unsigned request is refused (401)',
          { signature: 'omit' },
          options.signing,
          "no signing secret given (--signing-secret, USER_SERVICE_SIGNING_SECRET_ID): the service's signature check is not tried",
        ],
        [
          'signature.wrong',
          'a request signed with another key is refused (401)',
          { signature: 'wrong' },
          options.signing,
          "no signing secret given (--signing-secret, USER_SERVICE_SIGNING_SECRET_ID): the service's signature check is not tried",
        ],
      ];
      let n = 10;
      for (const [id, title, variant, given, none] of refusals) {
        if (!given) {
          checks.push(skip(id, CREDENTIALS, title, none));
          continue;
        }
        n++;
        const d = record(users.sub(n), `d${n}`, `check-service ${runId} D${n}`);
        const exchange = await send({ method: 'POST', body: d, idempotencyKey: key(), ...variant });
        const answer = status(exchange);
        checks.push(
          judged(
            id,
            CREDENTIALS,
            title,
            [exchange],
            answer === 401 || answer === 403
              ? { ok: true }
              : {
                  ok: false,
                  why:
                    answer !== undefined && answer < 300
                      ? 'accepted: anyone who can reach the service can write users'
                      : `answered ${answer}, not 401 or 403`,
                },
            id.startsWith('signature')
              ? "verify every request's Standard Webhooks signature (cognito-user-sync/verify, or examples/python) and answer 401 when it does not verify"
              : 'check x-api-key on every request and answer 401 when it is missing or wrong',
          ),
        );
      }
    }
  } finally {
    checks.push(await cleanUp(probe, users.prefix, created, key, options.cutShort));
  }
  return checks;
};

/** The list's checks: three more users under the run's prefix, read back in pages of 3. */
const listChecks = async ({
  send,
  users,
  runId,
  record,
  key,
  createdA,
}: {
  send: (request: ProbeRequest) => Promise<Exchange>;
  users: ReturnType<typeof testUsersOf>;
  runId: string;
  record: (sub: string, label: string, name: string) => UserRecord;
  key: () => string;
  createdA: boolean;
}): Promise<Check[]> => {
  const made: Exchange[] = [];
  const expected = createdA ? [users.sub(1)] : [];
  for (const n of [2, 3, 4]) {
    const user = record(users.sub(n), `c${n}`, `check-service ${runId} C${n}`);
    const exchange = await send({ method: 'POST', body: user, idempotencyKey: key() });
    made.push(exchange);
    if (exchange.answer && exchange.answer.status < 300) expected.push(user.cognitoSub);
  }
  const titles = {
    prefix: 'prefix: only the users whose sub starts with it, all of them',
    paging: 'paging: at most limit users a page, in cognitoSub order, the cursor leading on',
    end: "the cursor's end: the last page's nextCursor is null",
    fields: 'the listed fields are what was written (email, fullName, status, cognitoLastModified)',
  };
  if (expected.length < 2) {
    return Object.entries(titles).map(([name, title]) =>
      skip(`list.${name}`, LIST, title, 'needs users to list (the creates failed)'),
    );
  }
  const pages: Exchange[] = [];
  const seen: {
    cognitoSub: string;
    email: unknown;
    fullName: unknown;
    status: unknown;
    cognitoLastModified: unknown;
  }[] = [];
  const problems = {
    prefix: [] as string[],
    paging: [] as string[],
    end: [] as string[],
    fields: [] as string[],
  };
  const notes: string[] = [];
  let cursor: string | undefined;
  const cursors = new Set<string>();
  for (let page = 0; page < 10; page++) {
    const exchange = await send({
      method: 'GET',
      query: { prefix: users.prefix, limit: '3', ...(cursor && { cursor }) },
    });
    pages.push(exchange);
    const body = json(exchange);
    if (status(exchange) !== 200 || !is(UserPageView, body)) {
      problems.paging.push(
        `page ${page + 1} is not {"users": […], "nextCursor": …} (answered ${status(exchange) ?? exchange.error})`,
      );
      break;
    }
    if (!is(UserPageSchema, body)) {
      notes.push(
        `page ${page + 1} is readable, but not exactly the contract's shape (extra keys, or nulls left out)`,
      );
    }
    if (body.users.length > 3)
      problems.paging.push(`page ${page + 1} has ${body.users.length} users, over limit=3`);
    seen.push(...(body.users as typeof seen));
    if (body.nextCursor === null) {
      cursor = undefined;
      break;
    }
    if (cursors.has(body.nextCursor)) {
      problems.end.push(`page ${page + 1} gives a cursor already given: the list never ends`);
      break;
    }
    cursors.add(body.nextCursor);
    cursor = body.nextCursor;
    if (page === 9)
      problems.end.push('ten pages of 3 and still a nextCursor, for 4 users: the list does not end');
  }
  const subs = seen.map((user) => user.cognitoSub);
  const outside = subs.filter((sub) => !sub.startsWith(users.prefix));
  if (outside.length > 0)
    problems.prefix.push(`listed users outside the prefix: ${outside.slice(0, 3).join(', ')}`);
  const missing = expected.filter((sub) => !subs.includes(sub));
  if (missing.length > 0) problems.prefix.push(`not listed: ${missing.join(', ')}`);
  if (new Set(subs).size !== subs.length) problems.paging.push('a user is listed twice');
  const sorted = [...subs].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  if (subs.join() !== sorted.join()) problems.paging.push('not in cognitoSub order across pages');
  if (pages.length < 2 && expected.length > 3 && problems.paging.length === 0) {
    problems.paging.push(`${expected.length} users came in one page with limit=3`);
  }
  const listedA = seen.find((user) => user.cognitoSub === users.sub(1));
  if (createdA && listedA) {
    if (listedA.email !== users.email('a')) problems.fields.push(`email is ${JSON.stringify(listedA.email)}`);
    if (typeof listedA.fullName !== 'string' || !listedA.fullName.endsWith('(renamed)')) {
      problems.fields.push(`fullName is ${JSON.stringify(listedA.fullName)}, not the patched one`);
    }
    if (instantOf(listedA.cognitoLastModified) === undefined) {
      problems.fields.push(
        `cognitoLastModified is ${JSON.stringify(listedA.cognitoLastModified)}, not the patched instant`,
      );
    }
  }
  const verdict = (name: keyof typeof problems, fix: string, extra: string[] = []): Check =>
    judged(
      `list.${name}`,
      LIST,
      titles[name],
      // The pages are what each rule judges; the creates are the prefix's own evidence.
      name === 'prefix' ? [...made, ...pages] : pages,
      problems[name].length === 0
        ? { ok: true, ...(extra[0] && { note: extra[0] }) }
        : { ok: false, why: problems[name].join('; ') },
      fix,
    );
  return [
    verdict(
      'prefix',
      'list only the users whose cognitoSub starts with prefix (reconcile reads the service slice by slice with it)',
    ),
    verdict(
      'paging',
      'order by cognitoSub (byte order), at most limit users a page, and give a cursor that leads to the next page',
      notes,
    ),
    verdict('end', 'answer nextCursor null on the last page: reconcile reads until then'),
    createdA
      ? verdict(
          'fields',
          'list each user as last written: reconcile compares these fields with Cognito, and patches any that differ',
        )
      : skip('list.fields', LIST, titles.fields, 'needs the created and patched user (create failed)'),
  ];
};

/**
 * Deletes every test user, then reads the run's prefix back: nothing of the run may be left. A
 * user listed there that no create was seen to make (its answer lost, a timeout, while the create
 * landed) is the run's all the same, under its own marked prefix: deleted too, and named. A user
 * outside the prefix (a service that ignores it) is never touched.
 */
const cleanUp = async (
  probe: Probe,
  prefix: string,
  created: Set<string>,
  key: () => string,
  cutShort?: AbortSignal,
): Promise<Check> => {
  const title = 'every test user is removed';
  const exchanges: Exchange[] = [];
  /** Subs whose DELETE was answered 2xx or 404. */
  const removed = new Set<string>();
  const remove = async (sub: string) => {
    if (cutShort?.aborted) throw new CleanUpCutShort();
    const exchange = await probe({ method: 'DELETE', sub, idempotencyKey: key() });
    const answer = status(exchange);
    if (answer !== undefined && (answer < 300 || answer === 404)) removed.add(sub);
    exchanges.push(exchange);
    return exchange;
  };
  /** The subs listed under the prefix, or undefined when the list cannot be read. */
  const listed = async () => {
    const exchange = await probe({ method: 'GET', query: { prefix, limit: '100' } });
    exchanges.push(exchange);
    const body = exchange.answer?.json;
    return is(UserPageView, body)
      ? body.users.map((user) => user.cognitoSub).filter((sub) => sub.startsWith(prefix))
      : undefined;
  };
  const unlisted = () => ({
    ...fail(
      'cleanup',
      CLEANUP,
      title,
      [`could not list the prefix ${prefix} to see`, ...exchanges.flatMap(describeExchange)],
      `delete the users whose sub starts with ${prefix} (their emails end @example.invalid)`,
    ),
    evidence: exchanges,
  });

  const removeAll = async (): Promise<Check> => {
    for (const sub of created) await remove(sub);
    let left = await listed();
    if (left === undefined) return unlisted();
    const deleted: string[] = [];
    const refused: string[] = [];
    if (left.length > 0) {
      for (const sub of left) {
        const exchange = await remove(sub);
        const answer = status(exchange);
        if (answer !== undefined && (answer < 300 || answer === 404)) deleted.push(sub);
        else
          refused.push(
            `${sub} (${answer === undefined ? `no answer: ${exchange.error}` : `answered ${answer}`})`,
          );
      }
      left = await listed();
      if (left === undefined) return unlisted();
    }
    const unseen = deleted.filter((sub) => !created.has(sub));
    const seen = [
      ...(unseen.length > 0
        ? [
            `deleted what was left under the run's prefix, though no create of it was seen to succeed: ${unseen.join(', ')}`,
          ]
        : []),
      ...(deleted.length > unseen.length
        ? [
            `deleted again, still listed after the first DELETE: ${deleted.filter((sub) => created.has(sub)).join(', ')}`,
          ]
        : []),
    ];
    return left.length === 0
      ? { ...pass('cleanup', CLEANUP, title, [`nothing left under ${prefix}`, ...seen]), evidence: exchanges }
      : {
          ...fail(
            'cleanup',
            CLEANUP,
            title,
            [
              `left: ${left.join(', ')}`,
              ...(refused.length > 0 ? [`could not delete: ${refused.join(', ')}`] : []),
              ...seen,
            ],
            `delete them: DELETE {url}/{sub} for each (their emails end @example.invalid)`,
          ),
          evidence: exchanges,
        };
  };

  try {
    return await removeAll();
  } catch (error) {
    if (!(error instanceof CleanUpCutShort)) throw error;
    const perhaps = [...created].filter((sub) => !removed.has(sub));
    return {
      ...fail(
        'cleanup',
        CLEANUP,
        title,
        [
          'the clean-up was cut short (a second signal)',
          ...(perhaps.length > 0 ? [`left, perhaps: ${perhaps.join(', ')}`] : []),
        ],
        `delete the users whose sub starts with ${prefix}: DELETE {url}/{sub} for each (their emails end @example.invalid)`,
      ),
      evidence: exchanges,
    };
  }
};

/** A second signal came while the clean-up ran. */
class CleanUpCutShort extends Error {
  override name = 'CleanUpCutShort';
}
