// The "limit" of benchmark 1 (issue 14): the least any copier must spend to move the same bytes
// from the same HTTP source into the same s3rver. One plain GET piped into one plain PUT per
// file: no SDK, no signing, no hashing, no length check, no retry, no catalog. Plain JavaScript
// so it starts without tsx; run as its own process so its CPU is measured like ours and rclone's.
//
// s3rver takes an unsigned request as anonymous and serves it (lib/middleware/authentication.js:
// "if (mechanismCount === 0) return next()"); S3 takes one PutObject of up to 5 GiB ("Uploading
// objects" in the S3 user guide), so every size here is one PUT.
//
// Usage: node limit-copier.mjs MANIFEST.json
//   MANIFEST: { "source": "http://127.0.0.1:P/", "target": "http://127.0.0.1:Q/bucket/prefix/",
//               "concurrency": 8, "files": [["image/upload/a.jpg", 12345], ...] }
import http from 'node:http';
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const encodePath = (p) => p.split('/').map(encodeURIComponent).join('/');

const copyOne = ([rel, size]) =>
  new Promise((resolve, reject) => {
    const get = http.get(new URL(encodePath(rel), manifest.source), { agent }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${rel}: HTTP ${res.statusCode}`));
        return;
      }
      const put = http.request(new URL(encodePath(rel), manifest.target), {
        method: 'PUT',
        agent,
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
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
