/**
 * "Are the function's permissions sufficient?" — given a synthesized template and the AWS calls
 * the function really makes (action + resource ARN, recorded by the tests), tell which calls the
 * function's role does not allow.
 *
 * IAM evaluation, reduced to what our templates hold (IAM User Guide, "Policy evaluation logic"
 * and "IAM JSON policy elements: Action / Resource"):
 *  - a call is allowed when some Allow statement matches it and no Deny statement does;
 *  - Action matches case-insensitively, Resource case-sensitively; in both `*` matches any run of
 *    characters (including `:` and `/`) and `?` matches one character;
 *  - NotAction / NotResource match what they do not list;
 *  - a statement with a Condition is not counted as an Allow (we cannot know the request's context:
 *    the check errs on the side of "not allowed"), while a conditional Deny is counted (same reason).
 * Identity policies only: bucket, key and secret policies of the test resources are not evaluated.
 */
import type { Template } from 'aws-cdk-lib/assertions';

/** One AWS call: the IAM action and the ARN of the resource it acts on. */
export interface ApiCall {
  /** IAM action, e.g. `s3:PutObject`. */
  readonly action: string;
  /** Resource ARN, e.g. `arn:aws:s3:::bucket/key`. */
  readonly resource: string;
}

/** The environment the template is resolved in, and the physical ids of its resources. */
export interface IamCheckOptions {
  /** @default '123456789012' */
  readonly account?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /**
   * The function whose role is checked.
   * @default - the only AWS::Lambda::Function with a DurableConfig (or the only function)
   */
  readonly functionLogicalId?: string;
  /**
   * Physical values of resources, by logical id: `Ref` and any `Fn::GetAtt` attribute
   * (e.g. `{ BackupBucketABC: { Ref: 'bundle', Arn: 'arn:aws:s3:::bundle' } }`).
   * @default - derived from the resource's own name property or its logical id (see {@link defaultPhysical})
   */
  readonly physical?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A template as JSON (what `Template.toJSON()` returns). */
export interface TemplateJson {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>>;
}

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

/**
 * The AWS managed policies a role of ours may carry, copied from the AWS Managed Policy Reference
 * (docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html). An unknown managed policy
 * makes the check throw rather than guess.
 */
const AWS_MANAGED: Readonly<Record<string, readonly Statement[]>> = {
  'service-role/AWSLambdaBasicExecutionRole': [
    { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
  ],
  'service-role/AWSLambdaBasicDurableExecutionRolePolicy': [
    {
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'lambda:CheckpointDurableExecution',
        'lambda:GetDurableExecutionState',
      ],
      Resource: '*',
    },
  ],
};

/** Returns the calls that the function's role does NOT allow (empty: every call is allowed). */
export function deniedCalls(template: Template | TemplateJson, calls: readonly ApiCall[], options: IamCheckOptions = {}): ApiCall[] {
  const json = 'Resources' in template ? template : (template.toJSON() as TemplateJson);
  const resolver = new Resolver(json, options);
  const statements = roleStatements(json, roleOf(json, options.functionLogicalId), resolver);
  return calls.filter((call) => !isAllowed(statements, call));
}

/** Whether the resolved statements allow one call. */
function isAllowed(statements: readonly ResolvedStatement[], call: ApiCall): boolean {
  const matching = statements.filter((st) => matches(st, call));
  if (matching.some((st) => st.effect === 'Deny')) return false;
  return matching.some((st) => st.effect === 'Allow' && !st.conditional);
}

interface ResolvedStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly notActions: boolean;
  readonly resources: readonly string[];
  readonly notResources: boolean;
  readonly conditional: boolean;
}

function matches(st: ResolvedStatement, call: ApiCall): boolean {
  const action = st.actions.some((a) => wildcard(a, call.action, true));
  const resource = st.resources.some((r) => wildcard(r, call.resource, false));
  return action !== st.notActions && resource !== st.notResources;
}

/** IAM wildcard match: `*` any run of characters, `?` exactly one. */
export function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** The logical id of the function's role. */
function roleOf(json: TemplateJson, functionLogicalId: string | undefined): string {
  const functions = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const durable = functions.filter(([, r]) => r.Properties?.['DurableConfig'] !== undefined);
  const chosen = functionLogicalId
    ? functions.find(([id]) => id === functionLogicalId)
    : durable.length === 1
      ? durable[0]
      : functions.length === 1
        ? functions[0]
        : undefined;
  if (!chosen) throw new Error(`iam-check: cannot tell which function to check (${functions.length} functions); pass functionLogicalId`);
  const role = chosen[1].Properties?.['Role'] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleId = role?.['Fn::GetAtt']?.[0];
  if (!roleId) throw new Error(`iam-check: the role of ${chosen[0]} is not a role of this template`);
  return roleId;
}

/** Every statement that applies to the role: inline, AWS::IAM::Policy, customer and AWS managed. */
function roleStatements(json: TemplateJson, roleId: string, resolver: Resolver): ResolvedStatement[] {
  const role = json.Resources[roleId];
  const documents: unknown[] = [];
  for (const inline of (role?.Properties?.['Policies'] as { PolicyDocument: unknown }[] | undefined) ?? []) documents.push(inline.PolicyDocument);
  for (const [, r] of Object.entries(json.Resources)) {
    const attached = (r.Properties?.['Roles'] as unknown[] | undefined)?.some((x) => JSON.stringify(x) === JSON.stringify({ Ref: roleId }));
    if (attached && (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')) documents.push(r.Properties?.['PolicyDocument']);
  }
  const statements = documents.flatMap((d) => (d as { Statement: Statement[] }).Statement);
  for (const arn of (role?.Properties?.['ManagedPolicyArns'] as unknown[] | undefined) ?? []) {
    const resolved = resolver.resolve(arn);
    const name = /:iam::aws:policy\/(.+)$/.exec(resolved)?.[1];
    const known = name ? AWS_MANAGED[name] : undefined;
    if (!known) throw new Error(`iam-check: managed policy ${resolved} is not known; add its document to AWS_MANAGED`);
    statements.push(...known);
  }
  return statements.map((st) => ({
    effect: st.Effect,
    actions: list(st.Action ?? st.NotAction).map((a) => resolver.resolve(a)),
    notActions: st.Action === undefined,
    resources: list(st.Resource ?? st.NotResource).map((r) => resolver.resolve(r)),
    notResources: st.Resource === undefined,
    conditional: st.Condition !== undefined,
  }));
}

function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Resolves the intrinsic functions CDK writes into policies, against fixed physical values. */
class Resolver {
  private readonly pseudo: Readonly<Record<string, string>>;

  constructor(
    private readonly json: TemplateJson,
    private readonly options: IamCheckOptions,
  ) {
    this.pseudo = {
      'AWS::Partition': options.partition ?? 'aws',
      'AWS::Region': options.region ?? 'us-east-1',
      'AWS::AccountId': options.account ?? '123456789012',
      'AWS::URLSuffix': 'amazonaws.com',
    };
  }

  resolve(value: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value !== 'object' || value === null) throw new Error(`iam-check: cannot resolve ${JSON.stringify(value)}`);
    const node = value as Record<string, unknown>;
    if ('Ref' in node) return this.attribute(String(node['Ref']), 'Ref');
    if ('Fn::GetAtt' in node) {
      const [id, attr] = node['Fn::GetAtt'] as [string, string];
      return this.attribute(id, attr);
    }
    if ('Fn::Join' in node) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => this.resolve(p)).join(delimiter);
    }
    if ('Fn::Select' in node) {
      const [index, items] = node['Fn::Select'] as [number | string, unknown];
      return this.list(items)[Number(index)] ?? '';
    }
    if ('Fn::Sub' in node) {
      const template = String(Array.isArray(node['Fn::Sub']) ? node['Fn::Sub'][0] : node['Fn::Sub']);
      return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [id, attr] = name.split('.');
        return attr ? this.attribute(id ?? '', attr) : this.attribute(name, 'Ref');
      });
    }
    throw new Error(`iam-check: cannot resolve ${JSON.stringify(value)}`);
  }

  private list(value: unknown): string[] {
    const node = value as Record<string, unknown>;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (node && 'Fn::Split' in node) {
      const [delimiter, source] = node['Fn::Split'] as [string, unknown];
      return this.resolve(source).split(delimiter);
    }
    throw new Error(`iam-check: cannot resolve list ${JSON.stringify(value)}`);
  }

  private attribute(id: string, attr: string): string {
    if (attr === 'Ref' && id in this.pseudo) return this.pseudo[id] as string;
    const given = this.options.physical?.[id]?.[attr];
    if (given !== undefined) return given;
    const resource = this.json.Resources[id];
    if (!resource) throw new Error(`iam-check: ${id} is not a resource of the template`);
    const value = defaultPhysical(id, resource.Type, resource.Properties ?? {}, (v) => this.resolve(v), this.pseudo)[attr];
    if (value === undefined) throw new Error(`iam-check: no physical ${attr} for ${id} (${resource.Type}); pass it in options.physical`);
    return value;
  }
}

/**
 * Stand-in physical values for a resource with no explicit one: its name property when set, else
 * a name derived from its logical id, formatted as the service formats its ARNs.
 */
export function defaultPhysical(
  id: string,
  type: string,
  props: Readonly<Record<string, unknown>>,
  resolve: (v: unknown) => string,
  env: Readonly<Record<string, string>>,
): Record<string, string> {
  const named = (key: string, fallback: string): string => (props[key] !== undefined ? resolve(props[key]) : fallback);
  const p = env['AWS::Partition'];
  const r = env['AWS::Region'];
  const a = env['AWS::AccountId'];
  switch (type) {
    case 'AWS::S3::Bucket': {
      const name = named('BucketName', id.toLowerCase());
      return { Ref: name, Arn: `arn:${p}:s3:::${name}` };
    }
    case 'AWS::SecretsManager::Secret': {
      // Secrets Manager appends six random characters to the name in the ARN.
      const arn = `arn:${p}:secretsmanager:${r}:${a}:secret:${named('Name', id)}-AbCdEf`;
      return { Ref: arn, Id: arn };
    }
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName', id);
      return { Ref: name, Arn: `arn:${p}:lambda:${r}:${a}:function:${name}` };
    }
    case 'AWS::KMS::Key':
      return { Ref: id, KeyId: id, Arn: `arn:${p}:kms:${r}:${a}:key/${id}` };
    case 'AWS::SQS::Queue': {
      const name = named('QueueName', id);
      return { Ref: `https://sqs.${r}.amazonaws.com/${a}/${name}`, QueueName: name, Arn: `arn:${p}:sqs:${r}:${a}:${name}` };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName', `/aws/lambda/${id}`);
      return { Ref: name, Arn: `arn:${p}:logs:${r}:${a}:log-group:${name}:*` };
    }
    default:
      return {};
  }
}
