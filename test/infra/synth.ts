/**
 * Builds the app the way `cdk synth` does, for the infra tests: the context of cdk.json plus
 * overrides, cdk-nag registered, and (unless asked for) inline function code so that no test but
 * the CLI one pays for esbuild, and no CloudFormation rule engine run (~9 s a synth).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildApp } from '../../infra/app.ts';
import type { CloudinaryBackupStack } from '../../infra/stack.ts';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `context` block of cdk.json: what a user gets with no `-c` at all. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = (
  JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

/** Stand-in function code: the template does not depend on what the bundle holds. */
export const INLINE_CODE = lambda.Code.fromInline('exports.handler = async () => ({});');

/** One synthesized stack. */
export interface Synthesized {
  readonly stack: CloudinaryBackupStack;
  readonly template: Template;
  /** The template as JSON text, for scans. */
  readonly text: string;
}

/** Synthesizes the stack with cdk.json's context plus `overrides` (values as `-c` gives them). */
export function synth(overrides: Readonly<Record<string, unknown>> = {}): Synthesized {
  const { stack } = buildApp({
    appProps: {
      context: { ...CDK_JSON_CONTEXT, ...overrides },
      outdir: mkdtempSync(path.join(tmpdir(), 'cb-infra-')),
      builtinCloudFormationValidation: false,
    },
    code: INLINE_CODE,
  });
  const template = Template.fromStack(stack);
  return { stack, template, text: JSON.stringify(template.toJSON()) };
}

/** The logical id of the only resource of a type. */
export function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
}

/** An IAM policy statement as it appears in the template. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of every AWS::IAM::Policy in the template. */
export function policyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (r) => (r as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

/** A statement's actions as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}
