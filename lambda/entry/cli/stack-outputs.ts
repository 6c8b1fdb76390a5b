import { ConfigError, messageOf } from '../../core/errors.ts';

/**
 * Names of the deployed stack's outputs the CLI reads (infra/stack.ts declares them;
 * test/infra/cli-outputs.test.ts checks that the synthesized template still has them).
 */
export const STACK_OUTPUT = {
  secretArn: 'SecretArn',
  aliasArn: 'AliasArn',
  bucketName: 'BucketName',
  prefix: 'Prefix',
} as const;

/** The stack name `cdk deploy` uses (infra/app.ts STACK_NAME). */
export const DEFAULT_STACK_NAME = 'CloudinaryBackup';

/** The `--stack-name` option's help (run, setup). */
export const STACK_HELP = 'the deployed stack (cdk deploy\'s name)';

/** The `--region` option's help (run, setup). */
export const REGION_HELP = 'AWS region of the stack (default: AWS_REGION or your AWS profile\'s)';

/** Turns an AWS SDK failure into a one-line error that says what to fix. */
export const awsProblem = (err: unknown, what: string): Error => {
  const name = (err as { name?: string }).name ?? '';
  const msg = messageOf(err);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(msg)) {
    return new ConfigError(`${what}: no AWS credentials found; set AWS_PROFILE (or run "aws sso login"), as for cdk deploy.`);
  }
  if (/Region is missing/i.test(msg)) return new ConfigError(`${what}: no AWS region; pass --region or set AWS_REGION to the region you deployed to.`);
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || /not authorized/i.test(msg)) {
    return new ConfigError(`${what}: AWS refused (${msg.split('\n')[0]}); use the identity that ran cdk deploy, or grant it this action.`);
  }
  return new Error(`${what}: ${name && name !== 'Error' ? `${name}: ` : ''}${msg} (check your network and AWS settings, then try again)`);
};

/**
 * The outputs of a deployed stack (one DescribeStacks call). A missing stack is a
 * ConfigError naming the stack and region, the two things a user gets wrong.
 */
export const stackOutputs = async (stackName: string, region: string | undefined): Promise<Record<string, string>> => {
  // Loaded only by the commands that read the stack (setup, run): every other start skips its parse.
  // Node importing the SDK's CommonJS build (the sources through tsx) gives its exports as `default`;
  // the bundle takes its ES module build (scripts/build-cli.mjs: mainFields), which has them named.
  const sdk = await import('@aws-sdk/client-cloudformation');
  const { CloudFormationClient, DescribeStacksCommand } = sdk.default ?? sdk;
  const cf = new CloudFormationClient(region ? { region } : {});
  let stacks;
  try {
    stacks = (await cf.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
  } catch (err) {
    // DescribeStacks answers a missing stack with a ValidationError "Stack with id X does not exist".
    if (/does not exist/i.test(messageOf(err))) {
      const where = region ?? (await cf.config.region().catch(() => 'the default region'));
      throw new ConfigError(`stack "${stackName}" not found in ${where}: deploy it with "npx cdk deploy", or pass --stack-name / --region.`);
    }
    throw awsProblem(err, `reading the outputs of stack "${stackName}"`);
  } finally {
    cf.destroy();
  }
  const out: Record<string, string> = {};
  for (const o of stacks[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) out[o.OutputKey] = o.OutputValue;
  return out;
};

/** One output, or a ConfigError that says the stack predates it. */
export const requireOutput = (outputs: Record<string, string>, name: string, stackName: string): string => {
  const v = outputs[name];
  if (!v) throw new ConfigError(`stack "${stackName}" has no "${name}" output: redeploy it with this version ("npx cdk deploy").`);
  return v;
};
