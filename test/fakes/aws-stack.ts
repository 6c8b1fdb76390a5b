/**
 * Local stand-ins for the three AWS APIs `setup` and `run` call, on one loopback HTTP server
 * reached through the SDK's standard endpoint variables (AWS_ENDPOINT_URL_CLOUDFORMATION,
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_LAMBDA). Signatures are not checked.
 * Each refuses what the real API refuses, as its reference says:
 *
 * - CloudFormation DescribeStacks (awsQuery protocol: form-encoded POST, XML answer; the
 *   SDK's client-cloudformation uses AwsQueryProtocol). API reference, DescribeStacks:
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
 *   A stack that does not exist is a 400 `ValidationError` "Stack with id NAME does not exist".
 * - Secrets Manager PutSecretValue / GetSecretValue (AWS JSON 1.1, X-Amz-Target). API reference:
 *   https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 *   A SecretId that names no secret is a 400 `ResourceNotFoundException`.
 * - Lambda Invoke (REST JSON, POST /2015-03-31/functions/{FunctionName}/invocations). API
 *   reference: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: an Event invoke
 *   answers 202; DurableExecutionName travels in X-Amz-Durable-Execution-Name and must match
 *   [a-zA-Z0-9-_]+ (1-64); the same name with other input is a 409
 *   DurableExecutionAlreadyStartedException (status from client-lambda's error schema). A
 *   durable function invoked by an unqualified ARN is refused with InvalidParameterValueException
 *   "You cannot invoke a durable function using an unqualified ARN." (quoted from AWS in
 *   serverless/serverless#13589; the Lambda guide "Invoking durable Lambda functions" always
 *   invokes `my-durable-function:1`). An unknown function is a 404 ResourceNotFoundException.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** One stack's outputs, by OutputKey. */
export type StackOutputs = Record<string, string>;

/** A call to Invoke that was accepted. */
export interface AcceptedInvoke {
  readonly functionArn: string;
  readonly qualifier: string;
  readonly invocationType: string;
  readonly executionName: string;
  readonly payload: string;
}

/** Options of startAwsStack. */
export interface AwsStackOptions {
  readonly stacks: Record<string, StackOutputs>;
  /** Secret ARNs that exist (PutSecretValue on any other id fails). */
  readonly secretArns: readonly string[];
  /** Unqualified ARNs of the durable functions; their aliases are `<arn>:<alias>`. */
  readonly durableFunctions: Record<string, { readonly aliases: Record<string, string> }>;
  /** Called after each accepted Invoke (a test's stand-in for the run itself). */
  readonly onInvoke?: (call: AcceptedInvoke) => void;
}

/** A running stand-in. */
export interface AwsStack {
  readonly endpoint: string;
  /** Environment that sends the SDK's three clients here. */
  readonly env: Record<string, string>;
  /** The value each secret holds now (tests compare, never print). */
  readonly secrets: Map<string, string>;
  readonly invokes: AcceptedInvoke[];
  /** Requests by API operation. */
  readonly calls: Record<string, number>;
  stop(): Promise<void>;
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

const read = async (req: IncomingMessage): Promise<string> => {
  let body = '';
  for await (const c of req as AsyncIterable<Buffer>) body += c.toString();
  return body;
};

/** Starts the stand-in on 127.0.0.1. */
export const startAwsStack = async (opts: AwsStackOptions): Promise<AwsStack> => {
  const secrets = new Map<string, string>(opts.secretArns.map((a) => [a, '']));
  const invokes: AcceptedInvoke[] = [];
  const calls: Record<string, number> = {};
  const count = (op: string): void => {
    calls[op] = (calls[op] ?? 0) + 1;
  };

  const cloudFormation = (res: ServerResponse, form: URLSearchParams): void => {
    const action = form.get('Action') ?? '';
    count(`cloudformation.${action}`);
    const fail = (code: string, message: string): void => {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`);
    };
    if (action !== 'DescribeStacks') return fail('InvalidAction', `Unsupported action ${action}`);
    const name = form.get('StackName') ?? '';
    const outputs = opts.stacks[name];
    if (!outputs) return fail('ValidationError', `Stack with id ${name} does not exist`);
    const members = Object.entries(outputs)
      .map(([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`)
      .join('');
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
        `<StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${xml(name)}/1</StackId>` +
        `<CreationTime>2026-11-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>` +
        `</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  };

  const secretsManager = (res: ServerResponse, target: string, body: string): void => {
    const reply = (status: number, json: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(json));
    };
    const op = target.replace(/^secretsmanager\./, '');
    count(`secretsmanager.${op}`);
    const input = JSON.parse(body || '{}') as { SecretId?: string; SecretString?: string };
    const id = input.SecretId ?? '';
    if (!secrets.has(id)) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    if (op === 'PutSecretValue') {
      if (typeof input.SecretString !== 'string') return reply(400, { __type: 'InvalidParameterException', message: 'You must provide either SecretString or SecretBinary.' });
      secrets.set(id, input.SecretString);
      return reply(200, { ARN: id, Name: id.split(':').pop(), VersionId: randomBytes(16).toString('hex'), VersionStages: ['AWSCURRENT'] });
    }
    if (op === 'GetSecretValue') return reply(200, { ARN: id, SecretString: secrets.get(id), VersionStages: ['AWSCURRENT'] });
    reply(400, { __type: 'InvalidAction', message: `Unsupported ${op}` });
  };

  const lambda = (req: IncomingMessage, res: ServerResponse, url: URL, body: string): void => {
    count('lambda.Invoke');
    const fail = (status: number, type: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ Type: 'User', message }));
    };
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (!m || req.method !== 'POST') return fail(404, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`);
    const name = decodeURIComponent(m[1] ?? '');
    const parts = name.split(':');
    const base = parts.slice(0, 7).join(':');
    const qualifier = parts[7] ?? url.searchParams.get('Qualifier') ?? '';
    const fn = opts.durableFunctions[base];
    if (!fn) return fail(404, 'ResourceNotFoundException', `Function not found: ${name}`);
    if (!qualifier) return fail(400, 'InvalidParameterValueException', 'You cannot invoke a durable function using an unqualified ARN.');
    const version = fn.aliases[qualifier] ?? (/^\d+$/.test(qualifier) ? qualifier : undefined);
    if (!version) return fail(404, 'ResourceNotFoundException', `Function not found: ${base}:${qualifier}`);
    const executionName = String(req.headers['x-amz-durable-execution-name'] ?? randomBytes(8).toString('hex'));
    if (!NAME.test(executionName)) return fail(400, 'InvalidParameterValueException', `1 validation error detected: Value '${executionName}' at 'durableExecutionName' failed to satisfy constraint`);
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const earlier = invokes.find((i) => i.functionArn === base && i.executionName === executionName);
    if (earlier && earlier.payload !== body) {
      return fail(409, 'DurableExecutionAlreadyStartedException', `Durable execution ${executionName} already started with a different input`);
    }
    const executionArn = `${base}:${version}/durable-execution/${executionName}/${randomBytes(8).toString('hex')}`;
    if (!earlier) {
      const call = { functionArn: base, qualifier, invocationType, executionName, payload: body };
      invokes.push(call);
      opts.onInvoke?.(call);
    }
    res.writeHead(invocationType === 'Event' ? 202 : 200, { 'x-amz-durable-execution-arn': executionArn, 'x-amz-executed-version': version });
    res.end();
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const url = new URL(req.url ?? '/', 'http://aws.invalid');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('secretsmanager.')) return secretsManager(res, target, body);
      if (url.pathname.startsWith('/2015-03-31/')) return lambda(req, res, url, body);
      if (req.method === 'POST' && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return cloudFormation(res, new URLSearchParams(body));
      }
      res.writeHead(404);
      res.end();
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_ENDPOINT_URL_LAMBDA: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example-secret-access-key',
    },
    secrets,
    invokes,
    calls,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
};
