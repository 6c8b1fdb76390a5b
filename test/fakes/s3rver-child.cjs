// Hosts s3rver in its own process (an unhandled store error must not take the test runner
// down). Must run with --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation
// tokens with DES. Prints {"port":N} on stdout once listening; stops on SIGTERM or stdin close.
//
// s3rver 3.7 answers AbortMultipartUpload (DELETE ?uploadId) with MethodNotAllowed and keeps
// the parts; real S3 removes them. The middleware below adds that one operation, so a test can
// prove an aborted upload leaves nothing behind by looking at <bucket>/._S3rver_uploads/.
const path = require('node:path');
const fs = require('node:fs/promises');
const S3rver = require('s3rver');
const [directory, bucketsArg, portArg] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(portArg || 0),
  silent: true,
  directory,
  allowMismatchedSignatures: true,
  configureBuckets: (bucketsArg || '').split(',').filter(Boolean).map((name) => ({ name })),
});
server.middleware.unshift(async (ctx, next) => {
  const uploadId = ctx.query.uploadId;
  if (ctx.method !== 'DELETE' || typeof uploadId !== 'string' || !/^[0-9a-f]+$/.test(uploadId)) return next();
  const bucket = ctx.path.split('/')[1];
  const dir = path.join(directory, decodeURIComponent(bucket), '._S3rver_uploads', uploadId);
  try {
    await fs.access(dir);
  } catch {
    ctx.status = 404;
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
  ctx.status = 204;
});
server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\n'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
