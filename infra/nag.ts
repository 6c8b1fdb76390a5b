/**
 * The cdk-nag (AwsSolutions) findings this design keeps on purpose, each acknowledged with the
 * reason, through CDK's own `Validations.of(...).acknowledge` (cdk-nag v3). Anything not listed
 * here fails `cdk synth`.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { CloudinaryBackupConstruct } from './backup-construct.ts';
import { copyRecordRoot } from '../lambda/core/keys.ts';

/** One deliberate finding: the rule id (with its finding suffix, if any) and why it stays. */
export interface NagAcknowledgement {
  /** The construct the finding is reported on (or an ancestor of it). */
  readonly path: string;
  /** cdk-nag rule id, e.g. `AwsSolutions-SMG4` or `AwsSolutions-IAM5[Resource::...]`. */
  readonly id: string;
  /** Why the finding is accepted. */
  readonly reason: string;
}

/**
 * Records every deliberate AwsSolutions finding on the construct, each with its reason.
 *
 * @returns the acknowledgements made, for the record and for tests.
 */
export function acknowledgeNagFindings(backup: CloudinaryBackupConstruct): NagAcknowledgement[] {
  const made: NagAcknowledgement[] = [];
  const acknowledge = (scope: IConstruct, id: string, reason: string): void => {
    Validations.of(scope).acknowledge({ id, reason });
    made.push({ path: scope.node.path, id, reason });
  };

  acknowledge(
    backup.secret,
    'AwsSolutions-SMG4',
    'The secret holds a Cloudinary API key and secret, which only Cloudinary can issue; Secrets Manager has no ' +
      'rotation function for them. Rotate in the Cloudinary console, then put-secret-value.',
  );
  acknowledge(
    backup.scheduleDeadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue is the dead-letter queue of the EventBridge schedule (cdk-nag only recognises SQS redrive ' +
      'dead-letter queues). A dead-letter queue of a dead-letter queue adds nothing; an alarm fires on its first message.',
  );

  const role = backup.function.role;
  if (role) {
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${flatten(Stack.of(backup).resolve(backup.durableExecutionsArn))}]`,
      'Durable checkpoint and state calls name an execution ARN (function:NAME:VERSION/durable-execution/...), ' +
        'which exists only at run time; the wildcard is confined to this one function\'s executions, as the Lambda ' +
        'Developer Guide (durable-security) recommends instead of the managed policy\'s Resource "*".',
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${flatten(Stack.of(backup).resolve(backup.bucket.arnForObjects(`${backup.prefix}/*`)))}]`,
      'Object permissions (GetObject, PutObject, AbortMultipartUpload, and DeleteObject only when prune is on) must ' +
        `name keys; the wildcard is confined to the backup prefix '${backup.prefix}/', never the whole bucket.`,
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${flatten(Stack.of(backup).resolve(backup.bucket.arnForObjects(`${copyRecordRoot(backup.prefix)}/*`)))}]`,
      'DeleteObject of the copy records a committed catalog holds: file names carry the run id, known only at run ' +
        `time; the wildcard is confined to '${copyRecordRoot(backup.prefix)}/', never an asset.`,
    );
    // With prune on, the prefix's grant covers `_history/` and no statement names it alone.
    if (!backup.prune) acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${flatten(Stack.of(backup).resolve(backup.bucket.arnForObjects(`${backup.prefix}/_history/*`)))}]`,
      'Retention deletes retired originals, whose keys exist only once a run retires them (docs/history.md); ' +
        `the wildcard is confined to '${backup.prefix}/_history/', and DeleteObjectVersion is never granted.`,
    );
  }

  return made;
}

/**
 * Flattens a resolved CloudFormation value the way cdk-nag names findings
 * (`<LogicalId.Arn>`, `<AWS::Partition>`), so the acknowledgement id matches the finding id.
 */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    const join = node['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flatten(getAtt[0])}.${flatten(getAtt[1])}>`;
    if ('Ref' in node) return `<${flatten(node['Ref'])}>`;
  }
  return JSON.stringify(value);
}
