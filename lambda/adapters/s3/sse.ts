import type { ServerSideEncryption } from '../../core/sse.ts';

/**
 * The SDK parameters of a write with server-side encryption: PutObject, CreateMultipartUpload and
 * CopyObject take the same two (`ServerSideEncryption`, `SSEKMSKeyId`; @aws-sdk/client-s3
 * PutObjectRequest, CreateMultipartUploadRequest, CopyObjectRequest). UploadPart and UploadPartCopy take none (their request syntax in
 * API_UploadPart.html and API_UploadPartCopy.html has only the SSE-C headers): a part is encrypted
 * as its upload was started. Empty without encryption, so a request is what it was before.
 */
export const sseParams = (sse: ServerSideEncryption | undefined): { ServerSideEncryption?: ServerSideEncryption['mode']; SSEKMSKeyId?: string } =>
  sse === undefined ? {} : { ServerSideEncryption: sse.mode, ...(sse.kmsKeyId === undefined ? {} : { SSEKMSKeyId: sse.kmsKeyId }) };

/**
 * The same as request headers, for a PutObject signed without the SDK (signed-put.ts): the names of
 * the PutObject API reference (API_PutObject.html, "Request Syntax"). They are x-amz-* headers, so
 * they are signed with the rest (sig-v4-header-based-auth.html: every x-amz-* header sent is signed).
 */
export const sseHeaders = (sse: ServerSideEncryption | undefined): Record<string, string> =>
  sse === undefined
    ? {}
    : { 'x-amz-server-side-encryption': sse.mode, ...(sse.kmsKeyId === undefined ? {} : { 'x-amz-server-side-encryption-aws-kms-key-id': sse.kmsKeyId }) };
