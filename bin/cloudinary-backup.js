#!/usr/bin/env node
// The AWS SDK warns about Node 20 on every run; that is for developers, not for this tool's users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../lambda/entry/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
