import type { Asset } from './asset.ts';

/** S3 allows 2 KB of user metadata in all; a longer public_id is left to the catalog. */
const MAX_ENCODED_PUBLIC_ID = 1024;

/**
 * The Cloudinary identity an object carries as user metadata. Values are ASCII: the public_id
 * is percent-encoded (S3 metadata travels in HTTP headers), decoded by readObjectMetadata.
 */
export const objectMetadata = (asset: Asset): Record<string, string> => {
  const publicId = encodeURIComponent(asset.publicId);
  return {
    ...(publicId.length <= MAX_ENCODED_PUBLIC_ID ? { 'cld-public-id': publicId } : {}),
    'cld-asset-id': encodeURIComponent(asset.assetId),
    'cld-resource-type': encodeURIComponent(asset.resourceType),
    'cld-type': encodeURIComponent(asset.type),
    'cld-format': encodeURIComponent(asset.format),
    'cld-version': String(asset.version),
    'cld-bytes': String(asset.bytes),
  };
};

/** The identity read back from object metadata (keys lower-cased, as S3 returns them). */
export const readObjectMetadata = (
  meta: Readonly<Record<string, string | undefined>>,
): Partial<Pick<Asset, 'publicId' | 'assetId' | 'resourceType' | 'type' | 'format' | 'version' | 'bytes'>> => {
  const dec = (k: string): string | undefined => (meta[k] === undefined ? undefined : decodeURIComponent(meta[k] as string));
  const num = (k: string): number | undefined => (meta[k] === undefined ? undefined : Number(meta[k]));
  const out: Record<string, string | number> = {};
  const put = (name: string, v: string | number | undefined): void => {
    if (v !== undefined) out[name] = v;
  };
  put('publicId', dec('cld-public-id'));
  put('assetId', dec('cld-asset-id'));
  put('resourceType', dec('cld-resource-type'));
  put('type', dec('cld-type'));
  put('format', dec('cld-format'));
  put('version', num('cld-version'));
  put('bytes', num('cld-bytes'));
  return out;
};
