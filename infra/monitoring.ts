import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_SERVICE } from '../lambda/core/metrics.ts';
import type { RunMetricName } from '../lambda/core/metrics.ts';

/** Properties of {@link BackupMonitoring}. */
export interface BackupMonitoringProps {
  /** The backup function (unqualified: Lambda's metrics by function name cover every version). */
  readonly function: lambda.IFunction;
  /** Receives scheduled invocations EventBridge Scheduler could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Receives the events of runs that ended in failure. */
  readonly failedRunQueue: sqs.IQueue;
  /** The backup key prefix, shown on the dashboard. */
  readonly prefix: string;
  /** The namespace of the custom metrics (POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /**
   * E-mail address subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly notificationEmail?: string;
  /**
   * How long without a completed run before the missed-run alarm fires (whole hours, 1 to 168).
   * @default Duration.hours(26)
   */
  readonly missedRunAlarmAfter?: Duration;
}

/** The alarm topic, the alarms and the dashboard of one backup. */
export class BackupMonitoring extends Construct {
  /** Alarm notifications go here. */
  readonly topic: sns.Topic;
  /** Every alarm, by name. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The nightly figures. */
  readonly dashboard: cloudwatch.Dashboard;

  private readonly props: BackupMonitoringProps;

  constructor(scope: Construct, id: string, props: BackupMonitoringProps) {
    super(scope, id);
    this.props = props;
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Cloudinary backup alarms', enforceSSL: true });
    this.allowAlarmsToPublish();
    if (props.notificationEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.notificationEmail));
    this.alarms = this.createAlarms(props.missedRunAlarmAfter ?? Duration.hours(26));
    this.dashboard = this.createDashboard();
  }

  /** A custom metric the function publishes through Powertools. */
  runMetric(metricName: RunMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.metricsNamespace,
      metricName,
      // The function publishes with the same shared service name (lambda/core/metrics.ts).
      dimensionsMap: { service: METRICS_SERVICE },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.days(1),
      ...props,
    });
  }

  /** A metric Lambda publishes for this function's durable executions (e.g. DurableExecutionFailed). */
  durableMetric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.props.function.metric(metricName, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    const region = Stack.of(this).region;
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }

  /**
   * `enforceSSL` gives the topic a policy of its own, which replaces SNS's default policy: with
   * only the TLS Deny in it, nothing allows CloudWatch to publish and every alarm notification is
   * dropped. AWS Knowledge Center, "Why didn't I receive an SNS notification for my CloudWatch
   * alarm trigger?" (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger):
   * allow `cloudwatch.amazonaws.com` to sns:Publish, narrowed by aws:SourceArn to alarms; we
   * narrow further to this account's alarms in this region.
   */
  private allowAlarmsToPublish(): void {
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        },
      }),
    );
  }

  private createAlarms(missedRunAfter: Duration): Record<string, cloudwatch.Alarm> {
    const missedHours = missedRunAfter.toHours({ integral: false });
    if (!Number.isInteger(missedHours) || missedHours < 1 || missedHours > 168) {
      throw new Error(`BackupMonitoring: missedRunAlarmAfter must be 1 to 168 whole hours, got ${missedRunAfter.toHumanString()}`);
    }
    const hour = Duration.hours(1);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const fn = this.props.function;
    const alarms: Record<string, cloudwatch.Alarm> = {
      FunctionErrors: fn.metricErrors({ period: hour, statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'FunctionErrorsAlarm', {
        alarmDescription: 'The backup function threw or timed out in an invocation. Read its log group.',
        ...atLeastOnce,
      }),
      RunsFailed: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: this.durableMetric('DurableExecutionFailed', { period: hour }),
          timedOut: this.durableMetric('DurableExecutionTimedOut', { period: hour }),
        },
        period: hour,
        label: 'Runs failed or timed out',
      }).createAlarm(this, 'RunsFailedAlarm', {
        alarmDescription: 'A backup run ended FAILED or TIMED_OUT. Its event is in the failed-run queue; read the log group.',
        ...atLeastOnce,
      }),
      AssetsFailed: this.runMetric('AssetsFailed', { period: hour }).createAlarm(this, 'AssetsFailedAlarm', {
        alarmDescription: `Some assets could not be copied. The run report under ${this.props.prefix}/_reports/ lists them.`,
        ...atLeastOnce,
      }),
      ScheduleDeadLetters: this.queueAlarm(
        this.props.scheduleDeadLetterQueue,
        'ScheduleDeadLettersAlarm',
        'EventBridge Scheduler could not start the backup function; the undelivered event is in the schedule dead-letter queue.',
      ),
      FailedRunDeadLetters: this.queueAlarm(
        this.props.failedRunQueue,
        'FailedRunDeadLettersAlarm',
        'A backup run ended in failure; its event is in the failed-run queue.',
      ),
      MissedRun: this.runMetric('RunCompleted', { period: hour }).createAlarm(this, 'MissedRunAlarm', {
        alarmDescription:
          `No backup run completed in the last ${missedHours} hours. Check that the secret holds a ` +
          'cloudinary:// URL, that the schedule is enabled, and the function log group.',
        threshold: 1,
        evaluationPeriods: missedHours,
        datapointsToAlarm: missedHours,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data point at all is exactly the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    };
    const action = new cloudwatchActions.SnsAction(this.topic);
    for (const alarm of Object.values(alarms)) alarm.addAlarmAction(action);
    return alarms;
  }

  /**
   * Alarms on messages *sent* in a period, not on messages visible: a message stays visible for
   * the queue's 14 days, which would hold the alarm in ALARM and swallow every later failure.
   * Lambda and EventBridge Scheduler deliver to these queues with SendMessage, which
   * NumberOfMessagesSent counts (only SQS's own redrive into a dead-letter queue is not counted:
   * Amazon SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS"). With missing data
   * not breaching, the alarm returns to OK after a quiet period, so the next failure notifies again.
   */
  private queueAlarm(queue: sqs.IQueue, id: string, description: string): cloudwatch.Alarm {
    return queue
      .metricNumberOfMessagesSent({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM })
      .createAlarm(this, id, {
        alarmDescription: description,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
  }

  private createDashboard(): cloudwatch.Dashboard {
    const width = 12;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(30),
      periodOverride: cloudwatch.PeriodOverride.INHERIT,
    });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# Cloudinary backup\nOne point per night. Backups are under \`${this.props.prefix}/\` in the bucket; ` +
          `each run's report is under \`${this.props.prefix}/_reports/\`.`,
        width: 24,
        height: 2,
      }),
    );
    for (const row of [...this.runRows(width), this.functionRow(width)]) dashboard.addWidgets(...row);
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }));
    return dashboard;
  }

  /** Two dashboard rows of what each run reports (its metrics, one point per night). */
  private runRows(width: number): cloudwatch.IWidget[][] {
    return [
      [
        new cloudwatch.GraphWidget({
          title: 'Assets per night',
          left: (['AssetsListed', 'AssetsCopied', 'AssetsFailed', 'AssetsPending'] as const).map((name) => this.runMetric(name)),
          width,
        }),
        new cloudwatch.GraphWidget({ title: 'Bytes copied per night', left: [this.runMetric('BytesCopied')], width }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Cloudinary Admin API',
          left: [this.runMetric('AdminApiCalls', { label: 'Calls' })],
          right: [this.runMetric('AdminApiRemaining', { statistic: cloudwatch.Stats.MINIMUM, label: 'Remaining (lowest)' })],
          width,
        }),
        new cloudwatch.GraphWidget({
          title: 'Run duration and completion',
          left: [this.runMetric('RunDurationSeconds', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Duration (s)' })],
          right: [
            this.runMetric('RunCompleted', { label: 'Runs completed' }),
            // A skipped run found another run holding the lease; the missed-run alarm catches a lease that never frees.
            this.runMetric('RunSkipped', { label: 'Runs skipped (lease held)' }),
          ],
          width,
        }),
      ],
    ];
  }

  /** The dashboard row of what Lambda reports about the function: durable executions and invocations. */
  private functionRow(width: number): cloudwatch.IWidget[] {
    const day = Duration.days(1);
    const fn = this.props.function;
    return [
      new cloudwatch.GraphWidget({
        title: 'Durable executions',
        left: ['DurableExecutionStarted', 'DurableExecutionSucceeded', 'DurableExecutionFailed', 'DurableExecutionTimedOut'].map(
          (name) => this.durableMetric(name, { period: day, label: name.replace('DurableExecution', '') }),
        ),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Invocations and errors',
        left: [
          fn.metricInvocations({ period: day, statistic: cloudwatch.Stats.SUM }),
          fn.metricErrors({ period: day, statistic: cloudwatch.Stats.SUM }),
          fn.metricThrottles({ period: day, statistic: cloudwatch.Stats.SUM }),
        ],
        width,
      }),
    ];
  }
}
