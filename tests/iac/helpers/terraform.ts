// An example of terraform/examples (or a root module of the tests' own, tests/iac/fixtures), applied
// as a user would, in a scratch copy: state, .terraform and the lock file stay out of the work tree,
// and the example finds the module and the zips at the same relative paths (../../modules,
// dist/) as in the repository. The provider comes from the local plugin directory that
// scripts/iac-terraform-plugin-dir.sh finds, so nothing is downloaded.

import { existsSync } from 'node:fs';
import { access, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT, run, runOk } from './run.js';

/** A variable's value; undefined leaves it out (its default), null sets it to null. */
export type Variables = Record<string, string | number | boolean | string[] | null | undefined>;

export interface TerraformExample {
  /** The scratch copy of the example. */
  dir: string;
  apply(variables: Variables): Promise<string>;
  destroy(variables: Variables): Promise<string>;
  /** `terraform plan`, its exit code and output, without failing on a non-zero exit. */
  plan(variables: Variables): Promise<{ code: number; output: string }>;
  /** The plan as `terraform show -json` gives it. */
  planJson(variables: Variables): Promise<PlanJson>;
  /** The state as `terraform show -json` gives it. */
  state(): Promise<StateJson>;
  outputs(): Promise<Record<string, unknown>>;
  /** Puts back the module files left out of the scratch copy (ExampleSource.leaveOut), for a plan to show them. */
  restoreLeftOut(): Promise<void>;
  remove(): Promise<void>;
}

export interface StateResource {
  address: string;
  type: string;
  name: string;
  values: Record<string, unknown>;
}

export interface StateJson {
  values?: { root_module: { child_modules?: { resources?: StateResource[] }[] } };
}

export interface PlanJson {
  resource_changes: {
    address: string;
    type: string;
    change: { actions: string[]; after: Record<string, unknown> | null };
  }[];
}

export const ZIPS = [
  'post-confirmation.zip',
  'retry-worker.zip',
  'user-changes.zip',
  'reconcile.zip',
] as const;

export const pluginDir = async (): Promise<string> =>
  (await runOk('bash', [join(REPO_ROOT, 'scripts/iac-terraform-plugin-dir.sh')])).trim();

// A list as HCL (JSON's form of a list of strings is HCL's too). A null cannot be given with -var
// (a string variable would take "null" literally): the nulls go in a variables file of their own.
const variableArgs = async (dir: string, variables: Variables) => {
  const nulls = Object.entries(variables).filter(([, value]) => value === null);
  const file = join(dir, 'scratch-nulls.tfvars.json');
  await writeFile(file, JSON.stringify(Object.fromEntries(nulls)));
  return [
    ...Object.entries(variables).flatMap(([name, value]) =>
      value === undefined || value === null
        ? []
        : ['-var', `${name}=${Array.isArray(value) ? JSON.stringify(value) : value}`],
    ),
    `-var-file=${file}`,
  ];
};

export interface ExampleSource {
  /** terraform/examples/<example> (the default: basic) … */
  example?: string;
  /** … or tests/iac/fixtures/<fixture>, placed beside the examples. */
  fixture?: string;
  /**
   * Files of the module left out of the scratch copy, for what the emulator lacks (moto 5.2.1 has no
   * CloudWatch Logs query definitions: queries.tf); `restoreLeftOut` puts them back for a plan.
   */
  leaveOut?: string[];
}

export const prepareExample = async (
  env: NodeJS.ProcessEnv,
  { example = 'basic', fixture, leaveOut = [] }: ExampleSource = {},
): Promise<TerraformExample> => {
  for (const zip of ZIPS) {
    await access(join(REPO_ROOT, 'dist', zip)).catch(() => {
      throw new Error(`dist/${zip} is missing: run \`npm run package\` first`);
    });
  }
  const root = await mkdtemp(join(tmpdir(), 'cognito-user-sync-terraform-'));
  await cp(join(REPO_ROOT, 'terraform'), join(root, 'terraform'), {
    recursive: true,
    filter: (source) => !/^(\.terraform|terraform\.tfstate.*|\.terraform\.lock\.hcl)$/.test(basename(source)),
  });
  await mkdir(join(root, 'dist'));
  for (const zip of ZIPS) await cp(join(REPO_ROOT, 'dist', zip), join(root, 'dist', zip));
  const moduleDir = join(root, 'terraform/modules/cognito-user-sync');
  for (const file of leaveOut) await rm(join(moduleDir, file));
  const dir = join(root, 'terraform/examples', fixture ?? example);
  if (fixture) await cp(join(REPO_ROOT, 'tests/iac/fixtures', fixture), dir, { recursive: true });
  const tfEnv: NodeJS.ProcessEnv = { ...env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
  // A CLI configuration file that is named but absent only earns a warning on every command.
  if (tfEnv.TF_CLI_CONFIG_FILE && !existsSync(tfEnv.TF_CLI_CONFIG_FILE)) delete tfEnv.TF_CLI_CONFIG_FILE;
  const terraform = (args: string[]) => runOk('terraform', [...args, '-no-color'], { cwd: dir, env: tfEnv });

  await terraform(['init', '-input=false', `-plugin-dir=${await pluginDir()}`]);

  return {
    dir,
    apply: async (variables) =>
      terraform(['apply', '-auto-approve', '-input=false', ...(await variableArgs(dir, variables))]),
    destroy: async (variables) =>
      terraform(['destroy', '-auto-approve', '-input=false', ...(await variableArgs(dir, variables))]),
    plan: async (variables) => {
      const result = await run(
        'terraform',
        ['plan', '-input=false', '-no-color', ...(await variableArgs(dir, variables))],
        {
          cwd: dir,
          env: tfEnv,
        },
      );
      return { code: result.code, output: `${result.stdout}\n${result.stderr}` };
    },
    planJson: async (variables) => {
      await terraform([
        'plan',
        '-input=false',
        '-out=scratch.tfplan',
        ...(await variableArgs(dir, variables)),
      ]);
      return JSON.parse(await terraform(['show', '-json', 'scratch.tfplan'])) as PlanJson;
    },
    restoreLeftOut: async () => {
      for (const file of leaveOut) {
        await cp(join(REPO_ROOT, 'terraform/modules/cognito-user-sync', file), join(moduleDir, file));
      }
    },
    state: async () => JSON.parse(await terraform(['show', '-json'])) as StateJson,
    outputs: async () => {
      const outputs = JSON.parse(await terraform(['output', '-json'])) as Record<string, { value: unknown }>;
      return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
};

/** The module's resources in the state, by type and name (e.g. "aws_lambda_function.post_confirmation"). */
export const stateResources = (state: StateJson): Map<string, StateResource> =>
  new Map(
    (state.values?.root_module.child_modules ?? [])
      .flatMap((module) => module.resources ?? [])
      .map((resource) => [`${resource.type}.${resource.name}`, resource]),
  );

/** The saved Logs Insights queries a plan of the example would create (moto has none to read back). */
export const plannedQueryDefinitions = async (example: TerraformExample, variables: Variables) => {
  await example.restoreLeftOut();
  const plan = await example.planJson(variables);
  return plan.resource_changes
    .filter((resource) => resource.type === 'aws_cloudwatch_query_definition')
    .map(({ change }) => {
      expect(change.actions).toEqual(['create']);
      const after = change.after ?? {};
      return {
        Name: String(after.name),
        QueryString: String(after.query_string),
        LogGroupNames: (after.log_group_names as string[]).map(String),
      };
    });
};
