/**
 * The S3 operation a request is, by method, path and subresource, with the names
 * test/fakes/s3rver-child.cjs counts under (the benchmarks compare both servers' counts).
 */
export const operationOf = (method: string, rawPath: string, q: Record<string, string>, copySource: boolean): string => {
  const parts = rawPath.split('/').filter(Boolean);
  const keys = Object.keys(q).filter((k) => k !== 'x-id');
  if (parts.length === 0) return method === 'GET' ? 'ListBuckets' : `${method} /`;
  if (parts.length === 1) {
    if (method === 'GET') return q['list-type'] === '2' ? 'ListObjectsV2' : 'uploads' in q ? 'ListMultipartUploads' : keys.length ? `GetBucket?${keys.sort().join('&')}` : 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'PUT') return keys.length ? `PutBucket?${keys.sort().join('&')}` : 'CreateBucket';
    if (method === 'POST' && 'delete' in q) return 'DeleteObjects';
    if (method === 'DELETE') return 'DeleteBucket';
    return `${method} bucket`;
  }
  if (method === 'GET') return keys.length ? `GetObject?${keys.sort().join('&')}` : 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT') return 'partNumber' in q ? 'UploadPart' : copySource ? 'CopyObject' : keys.length ? `PutObject?${keys.sort().join('&')}` : 'PutObject';
  if (method === 'POST') return 'uploads' in q ? 'CreateMultipartUpload' : 'uploadId' in q ? 'CompleteMultipartUpload' : 'PostObject';
  if (method === 'DELETE') return 'uploadId' in q ? 'AbortMultipartUpload' : 'DeleteObject';
  return `${method} object`;
};
