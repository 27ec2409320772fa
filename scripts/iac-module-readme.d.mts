// Types for scripts/iac-module-readme.mjs, for tests/iac/validate.test.ts.

export interface ModuleVariable {
  name: string;
  type: string;
  /** As written in HCL (a string quoted); undefined when the variable is required. */
  default: string | undefined;
  description: string;
}

export interface ModuleOutput {
  name: string;
  description: string;
}

export declare const MODULE_DIR: string;
export declare const parseVariables: (source: string) => ModuleVariable[];
export declare const parseOutputs: (source: string) => ModuleOutput[];
export declare const renderTables: (
  variables: ModuleVariable[],
  outputs: ModuleOutput[],
) => { inputs: string; outputs: string };
export declare const renderReadme: (readme: string, tables: { inputs: string; outputs: string }) => string;
export declare const readModule: (dir?: string) => {
  variables: ModuleVariable[];
  outputs: ModuleOutput[];
  readme: string;
  expected: string;
};
