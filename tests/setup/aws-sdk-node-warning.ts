// vitest globalSetup. On Node 20 the AWS SDK warns that its releases after January 2027 need Node 22
// (NodeVersionSupportWarning), once per process: once per vitest worker, a dozen times a run. This
// runs once, in vitest's own process, before the workers start: it lets the SDK say it here, once,
// then turns the warning off with the SDK's own switch, which every worker (and every process a
// test starts) inherits. On Node 22 the SDK has nothing to say, and this sets nothing.

import { SQSClient } from '@aws-sdk/client-sqs';

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

export default function showTheAwsSdkNodeWarningOnce(): void {
  if (Number(process.versions.node.split('.')[0]) >= 22 || process.env[SWITCH] === 'true') return;
  // Making a client is where the SDK checks the version: the warning is its own, word for word.
  new SQSClient({ region: 'us-east-1' }).destroy();
  process.env[SWITCH] = 'true';
}
