// Types for scripts/package.mjs, for the tests and the benchmark that build with it.
import type { BuildOptions } from 'esbuild';

export declare const FUNCTIONS: { name: string; entry: string }[];
export declare const LAMBDA_ONLY: Pick<BuildOptions, 'alias' | 'plugins'>;
export declare const lambdaBuildOptions: (entry: string, outfile: string) => BuildOptions;
export declare const packageFunction: (fn: { name: string; entry: string }) => Promise<{
  name: string;
  zip: string;
  rawBytes: number;
  zipBytes: number;
}>;
export declare const packageVerifier: () => Promise<string>;
