// Renders a CloudFormation template the way CloudFormation would for given parameters: conditions
// decided, intrinsic functions resolved, AWS::NoValue dropped. Physical names and ARNs follow
// AWS's formats, so what the tests read is what an account would hold. Covers the functions the
// SAM-transformed template.yaml uses; anything else throws rather than guess.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface CfnResource {
  Type: string;
  Condition?: string;
  Properties?: JsonObject;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** A parameter's declaration: its type, default and the constraints CloudFormation checks. */
export interface CfnParameter {
  Type: string;
  Default?: Json;
  AllowedPattern?: string;
  AllowedValues?: Json[];
  MinValue?: number;
  MaxValue?: number;
  MaxLength?: number;
}

export interface CfnTemplate {
  Parameters?: Record<string, CfnParameter>;
  Rules?: Record<
    string,
    { RuleCondition?: Json; Assertions: { Assert: Json; AssertDescription?: string }[] }
  >;
  Conditions?: Record<string, Json>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: Json; Condition?: string }>;
}

export interface RenderedResource {
  Type: string;
  Properties: JsonObject;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface Rendered {
  resources: Record<string, RenderedResource>;
  outputs: Record<string, Json>;
  /** Resources of a type, by logical id. */
  ofType(type: string): Record<string, RenderedResource>;
  /** The one resource of a type; throws when there are none or several. */
  only(type: string, which?: (properties: JsonObject) => boolean): RenderedResource;
}

export interface Environment {
  region: string;
  accountId: string;
  partition?: string;
  stackName?: string;
}

const NO_VALUE = Symbol('AWS::NoValue');
type Value = Json | typeof NO_VALUE;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asString = (value: Value, where: string): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
};

/**
 * Why CloudFormation refuses a parameter's value, or undefined: a String's AllowedPattern (the
 * whole value must match, as Java's String.matches) and MaxLength, a Number's MinValue and
 * MaxValue, and AllowedValues (CloudFormation User Guide, "Parameters" section).
 */
const refusal = (name: string, declaration: CfnParameter, value: string): string | undefined => {
  const { AllowedPattern, AllowedValues, MinValue, MaxValue, MaxLength } = declaration;
  if (AllowedValues && !AllowedValues.map(String).includes(value)) return `${name} ${value} is not allowed`;
  if (declaration.Type === 'String') {
    if (AllowedPattern !== undefined && !new RegExp(`^(?:${AllowedPattern})$`).test(value)) {
      return `${name} ${value} does not match ${AllowedPattern}`;
    }
    if (MaxLength !== undefined && value.length > MaxLength) return `${name} is longer than ${MaxLength}`;
  }
  if (declaration.Type === 'Number') {
    const number = Number(value);
    if (Number.isNaN(number)) return `${name} ${value} is not a number`;
    if (MinValue !== undefined && number < MinValue) return `${name} ${value} is below ${MinValue}`;
    if (MaxValue !== undefined && number > MaxValue) return `${name} ${value} is above ${MaxValue}`;
  }
  return undefined;
};

export const renderTemplate = (
  template: CfnTemplate,
  parameterValues: Record<string, string | number>,
  environment: Environment,
): Rendered => {
  const { region, accountId } = environment;
  const partition = environment.partition ?? 'aws';
  const parameters: Record<string, string | string[]> = {};
  for (const [name, declaration] of Object.entries(template.Parameters ?? {})) {
    const given = parameterValues[name];
    const value = given ?? declaration.Default;
    if (value === undefined || value === null) throw new Error(`parameter ${name} needs a value`);
    const refused = refusal(name, declaration, String(value));
    if (refused !== undefined) throw new Error(`CloudFormation refuses the parameter: ${refused}`);
    // CloudFormation hands every parameter to the template as a string, a list parameter as a
    // list of strings ("" is [""]).
    parameters[name] = declaration.Type.startsWith('CommaDelimitedList')
      ? String(value).split(',')
      : String(value);
  }
  for (const name of Object.keys(parameterValues)) {
    if (!(name in parameters)) throw new Error(`the template has no parameter ${name}`);
  }
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': partition,
    'AWS::StackName': environment.stackName ?? 'stack',
    'AWS::URLSuffix': 'amazonaws.com',
  };

  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const definition = template.Conditions?.[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    const value = evaluateCondition(definition);
    conditions.set(name, value);
    return value;
  };
  const evaluateCondition = (node: Json): boolean => {
    if (!isObject(node)) throw new Error(`not a condition: ${JSON.stringify(node)}`);
    const [fn, args] = Object.entries(node)[0] ?? [];
    if (fn === 'Condition') return condition(asString(args ?? null, 'Condition'));
    if (!Array.isArray(args)) throw new Error(`${fn} takes a list`);
    switch (fn) {
      case 'Fn::Equals':
        return asString(evaluate(args[0] ?? null), fn) === asString(evaluate(args[1] ?? null), fn);
      case 'Fn::Not':
        return !evaluateCondition(args[0] ?? null);
      case 'Fn::And':
        return args.every(evaluateCondition);
      case 'Fn::Or':
        return args.some(evaluateCondition);
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  };

  // Rules: CloudFormation refuses the parameters when an assertion of an applicable rule fails.
  const evaluateRule = (node: Json): boolean => {
    if (!isObject(node)) throw new Error(`not a rule function: ${JSON.stringify(node)}`);
    const [fn, args] = Object.entries(node)[0] ?? [];
    if (!Array.isArray(args)) throw new Error(`${fn} takes a list`);
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(evaluate(args[0] ?? null)) === JSON.stringify(evaluate(args[1] ?? null));
      case 'Fn::Not':
        return !evaluateRule(args[0] ?? null);
      case 'Fn::And':
        return args.every(evaluateRule);
      case 'Fn::Or':
        return args.some(evaluateRule);
      case 'Fn::Contains': {
        const list = evaluate(args[0] ?? null);
        if (!Array.isArray(list)) throw new Error('Fn::Contains needs a list');
        return list.includes(evaluate(args[1] ?? null) as Json);
      }
      case 'Fn::EachMemberEquals': {
        const list = evaluate(args[0] ?? null);
        if (!Array.isArray(list)) throw new Error('Fn::EachMemberEquals needs a list');
        return list.every((item) => item === evaluate(args[1] ?? null));
      }
      default:
        throw new Error(`unsupported rule function ${fn}`);
    }
  };

  const included = (resource: CfnResource) =>
    resource.Condition === undefined || condition(resource.Condition);

  const properties = new Map<string, JsonObject>();
  const inProgress = new Set<string>();
  const propertiesOf = (logicalId: string): JsonObject => {
    const known = properties.get(logicalId);
    if (known) return known;
    const resource = template.Resources[logicalId];
    if (!resource || !included(resource)) throw new Error(`reference to absent resource ${logicalId}`);
    if (inProgress.has(logicalId)) throw new Error(`circular reference through ${logicalId}`);
    inProgress.add(logicalId);
    const value = evaluate(resource.Properties ?? {});
    inProgress.delete(logicalId);
    if (!isObject(value)) throw new Error(`${logicalId}: properties did not render to an object`);
    properties.set(logicalId, value);
    return value;
  };

  const arn = (service: string, resource: string, inRegion = true) =>
    `arn:${partition}:${service}:${inRegion ? region : ''}:${accountId}:${resource}`;

  const nameOf = (logicalId: string, property: string) => {
    const value = propertiesOf(logicalId)[property];
    return typeof value === 'string' ? value : `stack-${logicalId}`;
  };

  const refOf = (logicalId: string): string => {
    const resource = template.Resources[logicalId];
    switch (resource?.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${accountId}/${nameOf(logicalId, 'QueueName')}`;
      case 'AWS::Lambda::Function':
        return nameOf(logicalId, 'FunctionName');
      case 'AWS::Logs::LogGroup':
        return nameOf(logicalId, 'LogGroupName');
      case 'AWS::IAM::Role':
        return nameOf(logicalId, 'RoleName');
      case 'AWS::CloudWatch::Dashboard':
        return nameOf(logicalId, 'DashboardName');
      case 'AWS::CloudWatch::Alarm':
        return nameOf(logicalId, 'AlarmName');
      case 'AWS::Events::Rule':
        return nameOf(logicalId, 'Name');
      case 'AWS::CloudTrail::Trail':
        return nameOf(logicalId, 'TrailName');
      case 'AWS::DynamoDB::Table':
        return nameOf(logicalId, 'TableName');
      // CloudFormation names a bucket from the stack and the logical id, in lower case.
      case 'AWS::S3::Bucket': {
        const name = propertiesOf(logicalId).BucketName;
        return typeof name === 'string' ? name : `stack-${logicalId.toLowerCase()}-generated`;
      }
      case 'AWS::Cognito::UserPool':
        propertiesOf(logicalId);
        return `${region}_${logicalId}`;
      default:
        propertiesOf(logicalId);
        return logicalId;
    }
  };

  const attributeOf = (logicalId: string, attribute: string): string => {
    const type = template.Resources[logicalId]?.Type;
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::SQS::Queue.Arn':
        return arn('sqs', nameOf(logicalId, 'QueueName'));
      case 'AWS::SQS::Queue.QueueName':
        return nameOf(logicalId, 'QueueName');
      case 'AWS::SQS::Queue.QueueUrl':
        return refOf(logicalId);
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${refOf(logicalId)}`);
      // CloudFormation's log group ARN ends in ":*", covering the group's streams.
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${refOf(logicalId)}:*`);
      case 'AWS::IAM::Role.Arn':
        return arn('iam', `role/${refOf(logicalId)}`, false);
      case 'AWS::Cognito::UserPool.Arn':
        return arn('cognito-idp', `userpool/${refOf(logicalId)}`);
      case 'AWS::Events::Rule.Arn':
        return arn('events', `rule/${refOf(logicalId)}`);
      case 'AWS::CloudTrail::Trail.Arn':
        return arn('cloudtrail', `trail/${refOf(logicalId)}`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:${partition}:s3:::${refOf(logicalId)}`;
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${refOf(logicalId)}`);
      default:
        throw new Error(`unsupported attribute ${key} (of ${logicalId})`);
    }
  };

  const reference = (name: string): string | string[] | typeof NO_VALUE => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in parameters) return parameters[name] as string | string[];
    if (name in pseudo) return pseudo[name] as string;
    if (name in template.Resources) return refOf(name);
    throw new Error(`unknown reference ${name}`);
  };

  const substitute = (text: string, variables: Record<string, Value>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in variables) return asString(variables[name] ?? null, `Fn::Sub \${${name}}`);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return attributeOf(name.slice(0, dot), name.slice(dot + 1));
      return asString(reference(name), `Fn::Sub \${${name}}`);
    });

  const evaluate = (node: Json): Value => {
    if (Array.isArray(node)) {
      return node.map(evaluate).filter((item): item is Json => item !== NO_VALUE);
    }
    if (!isObject(node)) return node;
    const keys = Object.keys(node);
    const fn = keys.length === 1 ? keys[0] : undefined;
    const args = fn === undefined ? undefined : (node[fn] as Json);
    switch (fn) {
      case 'Ref':
        return reference(asString(args ?? null, 'Ref'));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(args)
          ? args.map((part) => asString(part, 'Fn::GetAtt'))
          : asString(args ?? null, 'Fn::GetAtt').split(/\.(.*)/s);
        return attributeOf(logicalId ?? '', attribute ?? '');
      }
      case 'Fn::Sub': {
        if (typeof args === 'string') return substitute(args, {});
        if (!Array.isArray(args) || !isObject(args[1] ?? null))
          throw new Error('Fn::Sub takes text or [text, map]');
        const variables: Record<string, Value> = {};
        for (const [name, value] of Object.entries(args[1] as JsonObject)) variables[name] = evaluate(value);
        return substitute(asString(args[0] ?? null, 'Fn::Sub'), variables);
      }
      case 'Fn::If': {
        if (!Array.isArray(args) || args.length !== 3)
          throw new Error('Fn::If takes [condition, then, else]');
        return evaluate((condition(asString(args[0] ?? null, 'Fn::If')) ? args[1] : args[2]) ?? null);
      }
      case 'Fn::Join': {
        if (!Array.isArray(args)) throw new Error('Fn::Join takes [delimiter, list]');
        const list = evaluate(args[1] ?? null);
        if (!Array.isArray(list)) throw new Error('Fn::Join needs a list');
        return list.map((item) => asString(item, 'Fn::Join')).join(asString(args[0] ?? null, 'Fn::Join'));
      }
      case 'Fn::Split': {
        if (!Array.isArray(args)) throw new Error('Fn::Split takes [delimiter, text]');
        return asString(evaluate(args[1] ?? null), 'Fn::Split').split(asString(args[0] ?? null, 'Fn::Split'));
      }
      case 'Fn::Select': {
        if (!Array.isArray(args)) throw new Error('Fn::Select takes [index, list]');
        const list = evaluate(args[1] ?? null);
        if (!Array.isArray(list)) throw new Error('Fn::Select needs a list');
        return list[Number(evaluate(args[0] ?? null))] ?? null;
      }
      default: {
        if (fn?.startsWith('Fn::')) throw new Error(`unsupported intrinsic function ${fn}`);
        const result: JsonObject = {};
        for (const [key, value] of Object.entries(node)) {
          const evaluated = evaluate(value);
          if (evaluated !== NO_VALUE) result[key] = evaluated;
        }
        return result;
      }
    }
  };

  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    if (rule.RuleCondition !== undefined && !evaluateRule(rule.RuleCondition)) continue;
    for (const assertion of rule.Assertions) {
      if (!evaluateRule(assertion.Assert)) {
        throw new Error(`rule ${name} refuses the parameters: ${assertion.AssertDescription ?? ''}`);
      }
    }
  }

  const resources: Record<string, RenderedResource> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!included(resource)) continue;
    resources[logicalId] = {
      Type: resource.Type,
      Properties: propertiesOf(logicalId),
      ...(resource.DeletionPolicy && { DeletionPolicy: resource.DeletionPolicy }),
      ...(resource.UpdateReplacePolicy && { UpdateReplacePolicy: resource.UpdateReplacePolicy }),
    };
  }
  const outputs: Record<string, Json> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !condition(output.Condition)) continue;
    const value = evaluate(output.Value);
    if (value !== NO_VALUE) outputs[name] = value;
  }

  const ofType = (type: string) =>
    Object.fromEntries(Object.entries(resources).filter(([, resource]) => resource.Type === type));
  return {
    resources,
    outputs,
    ofType,
    only: (type, which = () => true) => {
      const found = Object.values(ofType(type)).filter((resource) => which(resource.Properties));
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0] as RenderedResource;
    },
  };
};
