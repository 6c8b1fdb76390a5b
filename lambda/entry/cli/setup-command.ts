import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import { checkCloudinary } from './check-cloudinary.ts';
import { existingBackupLine } from './existing-backup.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { PromptCancelled, promptHidden } from './hidden-prompt.ts';
import { DEFAULT_STACK_NAME, REGION_HELP, STACK_HELP, STACK_OUTPUT, awsProblem, requireOutput, stackOutputs } from './stack-outputs.ts';

interface SetupFlags {
  stackName: string;
  region?: string;
  checkOnly?: boolean;
  verbose?: boolean;
}

/** CLOUDINARY_URL from the environment, or typed at a hidden prompt when on a terminal. */
const readUrl = async (): Promise<string> => {
  const fromEnv = process.env.CLOUDINARY_URL?.trim();
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new ConfigError('CLOUDINARY_URL is not set and there is no terminal to ask on: set CLOUDINARY_URL=cloudinary://API_KEY:API_SECRET@CLOUD_NAME and run setup again.');
  }
  const typed = (await promptHidden('Paste the "API environment variable" from the Cloudinary console (cloudinary://...; input hidden): ')).trim();
  return typed.replace(/^CLOUDINARY_URL=/, '');
};

/** Stores the URL as the secret's new value; the error never carries the value. */
const putSecret = async (secretArn: string, url: string, region: string | undefined): Promise<void> => {
  // Loaded only by setup: every other start skips its parse.
  // Node importing the SDK's CommonJS build (the sources through tsx) gives its exports as `default`;
  // the bundle takes its ES module build (scripts/build-cli.mjs: mainFields), which has them named.
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const { PutSecretValueCommand, SecretsManagerClient } = sdk.default ?? sdk;
  const sm = new SecretsManagerClient(region ? { region } : {});
  try {
    await sm.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: url }));
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') {
      throw new ConfigError(`the secret ${secretArn} (stack output ${STACK_OUTPUT.secretArn}) does not exist: redeploy the stack ("npx cdk deploy").`);
    }
    throw awsProblem(err, `storing the secret ${secretArn}`);
  } finally {
    sm.destroy();
  }
};

const setup = async (flags: SetupFlags): Promise<number> => {
  let url: string | undefined;
  try {
    try {
      url = await readUrl();
    } catch (err) {
      if (err instanceof PromptCancelled) return EXIT.interrupted;
      throw err;
    }
    const account = await checkCloudinary(url);
    const credits = account.creditLimit === undefined ? '' : `, ${account.creditsUsed?.toFixed(2) ?? '?'} of ${account.creditLimit} credits used this month`;
    process.stderr.write(`Cloudinary accepted the API key ending ${account.keyHint} for cloud "${account.cloudName}"${account.plan ? ` (plan ${account.plan}${credits})` : credits}.\n`);
    if (flags.checkOnly) return EXIT.ok;
    const outputs = await stackOutputs(flags.stackName, flags.region);
    const secretArn = requireOutput(outputs, STACK_OUTPUT.secretArn, flags.stackName);
    await putSecret(secretArn, url, flags.region);
    process.stdout.write(`Stored in ${secretArn}. The nightly backup uses it from its next run; start one now with: cloudinary-backup run --follow\n`);
    const bucket = outputs[STACK_OUTPUT.bucketName];
    if (bucket) process.stderr.write(`${await existingBackupLine(bucket, outputs[STACK_OUTPUT.prefix] ?? '')}\n`);
    return EXIT.ok;
  } catch (err) {
    // Messages name parts of the URL, never the URL; scrub message and stack all the same,
    // of the typed URL and of the environment's.
    for (const secret of [url?.trim(), process.env.CLOUDINARY_URL?.trim()]) {
      if (secret && err instanceof Error) {
        err.message = err.message.split(secret).join('***');
        if (err.stack) err.stack = err.stack.split(secret).join('***');
      }
    }
    return failWith(err, Boolean(flags.verbose));
  }
};

/** Adds `setup` to the program; `setCode` receives its exit code. */
export const registerSetupCommand = (program: Command, setCode: (code: number) => void): Command =>
  program
    .command('setup')
    .description('check your Cloudinary credentials and store them in the deployed stack\'s secret (no AWS CLI needed)')
    .option('--stack-name <name>', STACK_HELP, DEFAULT_STACK_NAME)
    .option('--region <region>', REGION_HELP)
    .option('--check-only', 'only check the credentials with Cloudinary; store nothing')
    .option('-v, --verbose', 'the stack of a fatal error')
    .addHelpText(
      'after',
      '\nExample:\n  CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD cloudinary-backup setup\n  cloudinary-backup setup            (asks for it on the terminal, without echo)\n' +
        'Makes one Admin API call (GET /usage) to check the cloud name, key and secret; then reads the secret\'s ARN from\n' +
        `the stack output ${STACK_OUTPUT.secretArn} (CloudFormation DescribeStacks) and calls Secrets Manager PutSecretValue.\n` +
        'The secret is never printed. Needs AWS credentials allowed cloudformation:DescribeStacks and secretsmanager:PutSecretValue.\n' +
        `Then says whether the bucket (stack outputs ${STACK_OUTPUT.bucketName}, ${STACK_OUTPUT.prefix}) already holds a backup, e.g. after a redeploy onto a kept bucket.\n` +
        'Exit codes: 0 stored (or checked), 1 AWS or Cloudinary could not be reached, 2 a credential or setting to fix, 130 cancelled.',
    )
    .action(async (flags: SetupFlags) => setCode(await setup(flags)));
