/**
 * The CDK app (`cdk.json` runs `npx tsx infra/app.ts`): reads the context, validates it, builds
 * the `CloudinaryBackup` stack and registers cdk-nag's AWS Solutions checks.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, parseConfig } from './config.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { CloudinaryBackupStack } from './stack.ts';

/** The stack's name, as `cdk deploy` shows it. */
export const STACK_NAME = 'CloudinaryBackup';

/** Options of {@link buildApp}; the CLI passes none. */
export interface BuildAppOptions {
  /**
   * Properties of the App (tests pass `context` and `outdir` here).
   * @default - read from the CDK CLI's environment
   */
  readonly appProps?: AppProps;
  /**
   * Function code instead of the esbuild bundle.
   * @default - lambda/entry/handler.ts bundled by local esbuild
   */
  readonly code?: lambda.Code;
}

/**
 * Builds the app exactly as `cdk synth` does.
 *
 * @throws ContextError when a context value is invalid (before any construct is created).
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: CloudinaryBackupStack } {
  const app = new App(options.appProps);
  const config = parseConfig(app.node.getAllContext());
  const stack = new CloudinaryBackupStack(app, STACK_NAME, {
    config,
    ...(options.code ? { code: options.code } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  acknowledgeNagFindings(stack.backup);
  return { app, stack };
}

function isMain(): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(realpathSync(script)).href === import.meta.url;
}

if (isMain()) {
  try {
    // The App synthesizes itself on exit when the CDK CLI runs it.
    buildApp();
  } catch (err) {
    if (!(err instanceof ContextError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
