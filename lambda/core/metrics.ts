/**
 * The custom metrics of a nightly run: one list that the function publishes from and the CDK
 * alarms and dashboard read from, so a renamed metric cannot leave an alarm watching nothing.
 * Pure data (no SDK): `infra/` imports it, and nothing here imports `infra/`.
 */

/** The CloudWatch namespace of the custom metrics (the function's POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'CloudinaryBackup';

/**
 * The value of the `service` dimension on every custom metric (Powertools adds it from its
 * `serviceName`; the function's POWERTOOLS_SERVICE_NAME). Alarms select on it, so the function
 * must publish with exactly this value.
 */
export const METRICS_SERVICE = 'cloudinary-backup';

/** A CloudWatch unit, spelled as CloudWatch and Powertools' `MetricUnit` spell it. */
export type RunMetricUnit = 'Count' | 'Bytes' | 'Seconds';

/** One metric the function publishes: its unit and what one data point means. */
export interface RunMetricDefinition {
  /** The CloudWatch unit. */
  readonly unit: RunMetricUnit;
  /** What one data point means (shown nowhere; for readers of this list). */
  readonly meaning: string;
}

/** Every metric the function publishes once per run, by name. */
export const RUN_METRICS = {
  AssetsListed: { unit: 'Count', meaning: 'assets the listing returned' },
  AssetsCopied: { unit: 'Count', meaning: 'assets written to the destination' },
  AssetsFailed: { unit: 'Count', meaning: 'assets that could not be copied (listed in the run report)' },
  AssetsPending: { unit: 'Count', meaning: 'assets Cloudinary is still processing (not ready to download); the next night takes them' },
  BytesCopied: { unit: 'Bytes', meaning: 'bytes downloaded from Cloudinary and written' },
  AdminApiCalls: { unit: 'Count', meaning: 'Cloudinary Admin API calls the run made' },
  AdminApiRemaining: { unit: 'Count', meaning: "the lowest Admin API allowance left that Cloudinary reported" },
  RunDurationSeconds: { unit: 'Seconds', meaning: 'from the start of the run to its report' },
  RunCompleted: { unit: 'Count', meaning: '1 when a run finished its listing and wrote its report' },
  RunSkipped: { unit: 'Count', meaning: '1 when a run stopped because another run holds the lease' },
} as const satisfies Readonly<Record<string, RunMetricDefinition>>;

/** The name of one metric the function publishes. */
export type RunMetricName = keyof typeof RUN_METRICS;

/** Every metric name, in the order of {@link RUN_METRICS}. */
export const RUN_METRIC_NAMES: readonly RunMetricName[] = Object.keys(RUN_METRICS) as RunMetricName[];
