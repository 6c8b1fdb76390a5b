import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import { EXECUTION_NAME } from '../../store/progress.ts';
import { parseTarget } from '../compose.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { follow } from './follow.ts';
import { DEFAULT_STACK_NAME, REGION_HELP, STACK_HELP, STACK_OUTPUT, awsProblem, requireOutput, stackOutputs } from './stack-outputs.ts';

interface RunFlags {
  stackName: string;
  region?: string;
  name?: string;
  follow?: boolean;
  interval: number;
  firstProgressWithin: number;
  verbose?: boolean;
}

/** `manual-<UTC time>-<6 hex>`: sorts by time, unique, and within the Invoke API's name pattern. */
export const newExecutionName = (now = new Date()): string =>
  `manual-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;

/**
 * True for a version or alias ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER`).
 * Lambda refuses to invoke a durable function by an unqualified ARN, so the check is made here
 * with a message that says what to do, before any request.
 */
export const isQualifiedFunctionArn = (arn: string): boolean => /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+:[A-Za-z0-9_$-]+$/.test(arn);

const executionName = (value: string): string => {
  if (!EXECUTION_NAME.test(value)) throw new InvalidArgumentError('1-64 letters, digits, hyphens or underscores.');
  return value;
};

const run = async (flags: RunFlags): Promise<number> => {
  try {
    const outputs = await stackOutputs(flags.stackName, flags.region);
    const aliasArn = requireOutput(outputs, STACK_OUTPUT.aliasArn, flags.stackName);
    if (!isQualifiedFunctionArn(aliasArn)) {
      throw new ConfigError(`stack output ${STACK_OUTPUT.aliasArn} is "${aliasArn}", not an alias or version ARN (a durable function cannot be invoked unqualified): redeploy the stack.`);
    }
    const name = flags.name ?? newExecutionName();
    // Loaded only by the command that invokes the Lambda: every other start skips its parse.
    // Node importing the SDK's CommonJS build (the sources through tsx) gives its exports as `default`;
    // the bundle takes its ES module build (scripts/build-cli.mjs: mainFields), which has them named.
    const sdk = await import('@aws-sdk/client-lambda');
    const { InvokeCommand, LambdaClient } = sdk.default ?? sdk;
    const lambda = new LambdaClient(flags.region ? { region: flags.region } : {});
    let arn: string | undefined;
    try {
      const r = await lambda.send(
        new InvokeCommand({
          FunctionName: aliasArn,
          InvocationType: 'Event',
          DurableExecutionName: name,
          Payload: Buffer.from(JSON.stringify({ trigger: 'cli', executionName: name })),
        }),
      );
      arn = r.DurableExecutionArn;
    } catch (err) {
      if ((err as { name?: string }).name === 'DurableExecutionAlreadyStartedException') {
        throw new ConfigError(`a run named "${name}" already exists with other input: choose another --name, or leave it out.`);
      }
      throw awsProblem(err, `starting ${aliasArn}`);
    } finally {
      lambda.destroy();
    }
    process.stdout.write(`${name}\n`);
    process.stderr.write(`Started durable execution ${name}${arn ? ` (${arn})` : ''}.\n`);
    if (!flags.follow) {
      process.stderr.write('Follow it with: cloudinary-backup run --follow, or see the result later with: cloudinary-backup status --from s3://BUCKET/PREFIX\n');
      return EXIT.ok;
    }
    const bucket = requireOutput(outputs, STACK_OUTPUT.bucketName, flags.stackName);
    const target = parseTarget(`s3://${bucket}/${outputs[STACK_OUTPUT.prefix] ?? ''}`, `stack output ${STACK_OUTPUT.bucketName}`);
    return await follow(target.destination, target.prefix, name, flags.interval * 1000, flags.firstProgressWithin * 1000);
  } catch (err) {
    return failWith(err, Boolean(flags.verbose));
  }
};

const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('a number of seconds from 0.1 to 3600.');
  return n;
};

/** Adds `run` to the program; `setCode` receives its exit code. */
export const registerRunCommand = (program: Command, setCode: (code: number) => void): Command =>
  program
    .command('run')
    .description('start the deployed nightly backup now (asynchronous invoke of its alias as a durable execution) and print the execution name')
    .option('--stack-name <name>', STACK_HELP, DEFAULT_STACK_NAME)
    .option('--region <region>', REGION_HELP)
    .option('--name <execution-name>', 'the durable execution name (default: manual-<UTC time>-<random>); the same name and input start nothing new', executionName)
    .option('--follow', 'show the run\'s progress until it ends, then its report')
    .option('--interval <seconds>', 'with --follow: how often to read the progress object', seconds, 15)
    .option('--first-progress-within <seconds>', 'with --follow: give up when the run has written no progress after this long', seconds, 900)
    .option('-v, --verbose', 'the stack of a fatal error')
    .addHelpText(
      'after',
      '\nExample:\n  cloudinary-backup run --follow\n' +
        `Invokes the stack output ${STACK_OUTPUT.aliasArn} (a qualified ARN: durable functions refuse unqualified ones) with InvocationType Event.\n` +
        'Progress comes from a small object each step of the run writes beside the reports,\n' +
        '  s3://BUCKET/PREFIX/_reports/progress/<execution-name>.json (one S3 GET per --interval), not from the execution history.\n' +
        'Ctrl-C stops following; the run goes on.\n' +
        'Exit codes: 0 started (with --follow: finished without failures), 1 the run failed or some assets failed, 2 usage or configuration error, 130 stopped following.',
    )
    .action(async (flags: RunFlags) => setCode(await run(flags)));
