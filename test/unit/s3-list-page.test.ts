/**
 * lambda/adapters/s3/list-page.ts: ListObjectsV2 bodies of the plain shape are read
 * without the SDK's XML parser, and must give exactly what the SDK's own deserializer gives for
 * the same bytes. The reference here is the S3 client itself (ListObjectsV2Command, its
 * XmlShapeDeserializer over @aws-sdk/xml-builder), answered by a request handler that returns
 * the document; the shape is S3's (API_ListObjectsV2.html: ListBucketResult, Contents with Key,
 * LastModified, ETag, Size, StorageClass; NextContinuationToken while truncated). Key text is
 * XML-escaped by S3 (&amp; &lt; ...; control characters as numeric references).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { HttpResponse } from '@smithy/core/protocols';
import { listObjectsPage, parseListPage } from '../../lambda/adapters/s3/list-page.ts';

/** A client whose every request is answered with `status` and `xml`; counts the requests. */
const clientAnswering = (xml: string, status = 200): { client: S3Client; calls: () => number } => {
  let calls = 0;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => {
        calls += 1;
        return { response: new HttpResponse({ statusCode: status, headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(xml, 'utf8')]) }) };
      },
    },
  });
  return { client, calls: () => calls };
};

/** What the S3 client itself makes of the document, as destination.list() used it. */
const sdkReading = async (xml: string): Promise<{ objects: Array<{ key: string; size: number; lastModified: Date }>; nextToken?: string }> => {
  const out = await clientAnswering(xml).client.send(new ListObjectsV2Command({ Bucket: 'b' }));
  const objects = (out.Contents ?? []).filter((o) => o.Key !== undefined).map((o) => ({ key: o.Key as string, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) }));
  return out.NextContinuationToken ? { objects, nextToken: out.NextContinuationToken } : { objects };
};

const contents = (key: string, extra = ''): string =>
  `<Contents><Key>${key}</Key><LastModified>2026-11-29T10:11:12.345Z</LastModified><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass>${extra}</Contents>`;
const doc = (body: string, head = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>${head}<KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${body}</ListBucketResult>`;

const PLAIN: ReadonlyArray<readonly [string, string]> = [
  ['two objects, not truncated', doc(contents('p/image/upload/a.jpg') + contents('p/raw/upload/b'))],
  ['truncated: the token before the objects', doc(contents('p/a'), '<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>')],
  ['the token after the objects', doc(contents('p/a') + '<NextContinuationToken>tok&amp;en</NextContinuationToken>')],
  ['no objects', doc('')],
  ['escaped characters and numeric references in keys', doc(contents('p/a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;') + contents('p/tab&#x9;cr&#13;lf&#10;') + contents('p/caf&#233;/&#x1F600;'))],
  ['an unknown named entity (the SDK reads it as nothing)', doc(contents('p/x&nbsp;y'))],
  ['line ends inside a key (CR LF and CR read as LF)', doc(contents('p/line\r\nend\rx'))],
  ['a key of white space with a line end', doc(contents(' \n '))],
  ['non-ASCII keys', doc(contents('p/日本語/ファイル.png') + contents('p/Ünïcödé'))],
  ['an empty key, no size, no date', doc('<Contents><Key></Key></Contents><Contents><Key>k</Key></Contents>')],
  ['an object with an owner and a checksum algorithm', doc(contents('p/o', '<Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>'))],
  ['a date with an offset and no fraction', doc('<Contents><Key>k</Key><LastModified>2026-01-02T03:04:05+01:00</LastModified><Size>0</Size></Contents>')],
  ['common prefixes beside the objects', doc(contents('p/a') + '<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>')],
];

describe('parseListPage reads what the SDK reads', () => {
  for (const [name, xml] of PLAIN) {
    test(name, async () => {
      const mine = parseListPage(Buffer.from(xml, 'utf8'));
      assert.ok(mine, 'a plain document is read here, not left to the SDK');
      assert.deepEqual(mine, await sdkReading(xml));
    });
  }
});

describe('documents of another shape are left to the SDK', () => {
  const OTHER: ReadonlyArray<readonly [string, string]> = [
    ['an error document', '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>x</Message></Error>'],
    ['CDATA in a key', doc(contents('<![CDATA[p/a<b]]>'))],
    ['a comment', doc(`<!-- c -->${contents('p/a')}`)],
    ['an attribute on Contents', doc('<Contents a="1"><Key>k</Key></Contents>')],
    ['two keys in one Contents', doc('<Contents><Key>k</Key><Key>l</Key></Contents>')],
  ];
  for (const [name, xml] of OTHER) test(name, () => assert.equal(parseListPage(Buffer.from(xml, 'utf8')), undefined));

  test('listObjectsPage gives the SDK reading for them, and the plain reading otherwise', async () => {
    for (const [, xml] of [...OTHER.slice(1), ...PLAIN.slice(0, 3)]) {
      const { client } = clientAnswering(xml);
      // Either the same page, or the same error (two Keys in one Contents fail the SDK's schema).
      const outcome = (p: Promise<unknown>): Promise<unknown> => p.then((value) => ({ value }), (err: Error) => ({ error: err.message }));
      assert.deepEqual(await outcome(listObjectsPage(client, { Bucket: 'b' })), await outcome(sdkReading(xml)));
    }
  });

  test('an error answer is the SDK error, as before', async () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    const { client, calls } = clientAnswering(xml, 403);
    await assert.rejects(listObjectsPage(client, { Bucket: 'b' }), (err: Error) => err.name === 'AccessDenied');
    assert.equal(calls(), 1);
  });
});

test('keys read from a page do not keep the page alive (the engine keeps every key for the run)', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Pages as S3 writes them, ~16 times the bytes of their keys (owner, ETag, storage class).
  const owner = `<Owner><ID>${'7'.repeat(64)}</ID><DisplayName>${'d'.repeat(40)}</DisplayName></Owner>`;
  const page = (p: number): Buffer => Buffer.from(doc(Array.from({ length: 1000 }, (_, i) => contents(`k/${p}/${String(i).padStart(10, '0')}`, owner)).join('')), 'utf8');
  const kept: string[] = [];
  let pageBytes = 0;
  let keyBytes = 0;
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let p = 0; p < 40; p += 1) {
    const body = page(p);
    pageBytes += body.length;
    for (const o of parseListPage(body)?.objects ?? []) {
      kept.push(o.key);
      keyBytes += o.key.length;
    }
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(kept.length, 40_000);
  // Each key as a string of its own: its bytes plus a string header (~16-24 bytes) and the array slot.
  assert.ok(grown < keyBytes * 4 && grown < pageBytes / 4, `heap grew ${grown} bytes for ${keyBytes} bytes of keys out of ${pageBytes} bytes of pages`);
});
