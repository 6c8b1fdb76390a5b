// The "limit" of benchmark 1: the least any copier must spend to move the same bytes
// from the same HTTP source into the same s3rver. One plain GET piped into one plain PUT per
// file: no SDK, no signing, no hashing, no length check, no retry, no catalog. Plain JavaScript
// so it starts without tsx; run as its own process so its CPU is measured like ours and rclone's.
//
// Each PUT is signed as S3 requires of any request to a private bucket (the test s3rver refuses
// anonymous ones, as S3 does: test/fakes/s3rver-strict.cjs), with the cheapest signature S3
// takes: SigV4 over the headers with `x-amz-content-sha256: UNSIGNED-PAYLOAD` ("Signature
// Calculations for the Authorization Header", docs.aws.amazon.com/AmazonS3/latest/API/
// sig-v4-header-based-auth.html) — a few HMACs per request, nothing per byte. S3 takes one
// PutObject of up to 5 GiB ("Uploading objects" in the S3 user guide), so every size here is one PUT.
//
// Usage: node limit-copier.mjs MANIFEST.json
//   MANIFEST: { "source": "http://127.0.0.1:P/", "target": "http://127.0.0.1:Q/bucket/prefix/",
//               "credentials": { "accessKeyId": "...", "secretAccessKey": "...", "region": "us-east-1" },
//               "concurrency": 8, "files": [["image/upload/a.jpg", 12345], ...] }
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// S3's URI encoding: encodeURIComponent plus !'()* (sig-v4-header-based-auth.html, "UriEncode").
const uriEncode = (x) => encodeURIComponent(x).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const encodePath = (p) => p.split('/').map(uriEncode).join('/');

const { accessKeyId, secretAccessKey, region } = manifest.credentials;
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

/** The SigV4 headers of an UNSIGNED-PAYLOAD PUT to `url`. */
const signedHeaders = (url) => {
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = date.slice(0, 8);
  const headers = { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': date };
  const names = Object.keys(headers).join(';');
  const canonical = ['PUT', url.pathname, '', ...Object.entries(headers).map(([k, v]) => `${k}:${v}`), '', names, 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names}, Signature=${signature}` };
};

const copyOne = ([rel, size]) =>
  new Promise((resolve, reject) => {
    const get = http.get(new URL(encodePath(rel), manifest.source), { agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${rel}: HTTP ${res.statusCode}`));
        return;
      }
      const url = new URL(encodePath(rel), manifest.target);
      const put = http.request(url, {
        method: 'PUT',
        agent,
        headers: { ...signedHeaders(url), 'content-length': String(size), 'content-type': 'application/octet-stream' },
      });
      put.on('response', (r) => {
        r.resume();
        r.on('end', () => (r.statusCode === 200 ? resolve() : reject(new Error(`PUT ${rel}: HTTP ${r.statusCode}`))));
      });
      put.on('error', reject);
      res.on('error', reject);
      res.pipe(put);
    });
    get.on('error', reject);
  });

const files = [...manifest.files];
const worker = async () => {
  for (let f = files.shift(); f !== undefined; f = files.shift()) await copyOne(f);
};
await Promise.all(Array.from({ length: manifest.concurrency }, worker));
agent.destroy();
