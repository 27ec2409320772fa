// template.yaml through the SAM transform (scripts/iac-sam-transform.py, aws-sam-translator), as
// CloudFormation would receive it after `sam package`.

import type { CfnTemplate } from './cloudformation.js';
import { runOk } from './run.js';

export const transformTemplate = async ({
  bucket,
  region = 'eu-west-1',
}: {
  bucket?: string;
  region?: string;
} = {}): Promise<CfnTemplate> => {
  const args = ['scripts/iac-sam-transform.py', '--template', 'template.yaml', '--region', region];
  if (bucket) args.push('--bucket', bucket);
  return JSON.parse(await runOk('python3', args)) as CfnTemplate;
};
