// IAM's policy simulator for the AWS tier, from recorded answers: moto 5.2.1 has no
// SimulatePrincipalPolicy. A loopback endpoint speaking IAM's query protocol (form-encoded request,
// XML answer, as the SDK sends and parses it) answers each question with the recorded result of
// tests/fixtures/aws/iam-simulate-principal-policy.json for the decision the test chose (allowed
// unless it denied the role that action), the question's action and resource put in. Point the
// SDK at it with AWS_ENDPOINT_URL_IAM; nothing else of IAM is asked by doctor.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type Decision = 'allowed' | 'implicitDeny' | 'explicitDeny';

interface RecordedResult {
  EvalActionName: string;
  EvalResourceName: string;
  EvalDecision: Decision;
  MatchedStatements: {
    SourcePolicyId: string;
    SourcePolicyType: string;
    StartPosition: { Line: number; Column: number };
    EndPosition: { Line: number; Column: number };
  }[];
}

const RECORDED = JSON.parse(
  readFileSync(new URL('../fixtures/aws/iam-simulate-principal-policy.json', import.meta.url), 'utf8'),
) as Record<Decision, RecordedResult>;

const xmlText = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const resultXml = (result: RecordedResult) => `<member>
<EvalActionName>${xmlText(result.EvalActionName)}</EvalActionName>
<EvalResourceName>${xmlText(result.EvalResourceName)}</EvalResourceName>
<EvalDecision>${result.EvalDecision}</EvalDecision>
<MatchedStatements>${result.MatchedStatements.map(
  (statement) => `<member><SourcePolicyId>${xmlText(statement.SourcePolicyId)}</SourcePolicyId>
<SourcePolicyType>${xmlText(statement.SourcePolicyType)}</SourcePolicyType>
<StartPosition><Line>${statement.StartPosition.Line}</Line><Column>${statement.StartPosition.Column}</Column></StartPosition>
<EndPosition><Line>${statement.EndPosition.Line}</Line><Column>${statement.EndPosition.Column}</Column></EndPosition></member>`,
).join('')}</MatchedStatements>
<MissingContextValues/>
<EvalDecisionDetails/>
</member>`;

export interface Question {
  role: string;
  action: string;
  resource: string;
  context: Record<string, string>;
}

export interface IamSimulator {
  endpoint: string;
  questions: Question[];
  /** Makes the simulator answer `decision` for this role (ARN) and action; the rest stays allowed. */
  decide(roleArn: string, action: string, decision: Decision): void;
  /** Every answer allowed again. */
  reset(): void;
  close(): Promise<void>;
}

export const startIamSimulator = async (): Promise<IamSimulator> => {
  const decisions = new Map<string, Decision>();
  const questions: Question[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('Action') !== 'SimulatePrincipalPolicy') {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only SimulatePrincipalPolicy is recorded</Message></Error></ErrorResponse>`,
        );
        return;
      }
      const role = form.get('PolicySourceArn') ?? '';
      const members = (prefix: string) =>
        [...form.entries()].filter(([key]) => key.startsWith(`${prefix}.member.`)).map(([, value]) => value);
      const actions = members('ActionNames');
      const [resource = '*'] = members('ResourceArns');
      const context: Record<string, string> = {};
      for (const [key, value] of form.entries()) {
        const match = /^ContextEntries\.member\.(\d+)\.ContextKeyName$/.exec(key);
        if (match)
          context[value] = form.get(`ContextEntries.member.${match[1]}.ContextKeyValues.member.1`) ?? '';
      }
      const results = actions.map((action) => {
        questions.push({ role, action, resource, context });
        const decision = decisions.get(`${role} ${action}`) ?? 'allowed';
        return resultXml({ ...RECORDED[decision], EvalActionName: action, EvalResourceName: resource });
      });
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>${results.join('')}</EvaluationResults></SimulatePrincipalPolicyResult>
<ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</SimulatePrincipalPolicyResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    questions,
    decide: (roleArn, action, decision) => decisions.set(`${roleArn} ${action}`, decision),
    reset: () => decisions.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
