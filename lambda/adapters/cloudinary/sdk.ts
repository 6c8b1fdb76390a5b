import type { CloudinaryConfig } from './config.ts';

/** The part of the `cloudinary` SDK's v2 namespace this project uses. */
export type CloudinaryV2 = typeof import('cloudinary').v2;

/**
 * Loads the `cloudinary` SDK for one account. The project uses it only to sign parameters and
 * build URLs (the requests themselves go through api-client.ts and upload-client.ts, which
 * decode answers whole). The SDK reads CLOUDINARY_URL when it is first loaded, so the variable
 * is set before the first import (in this process only). `hide_sensitive` keeps the key and
 * secret out of anything the SDK would attach to an error.
 */
export const loadCloudinary = async (config: CloudinaryConfig, url: string): Promise<CloudinaryV2> => {
  if (process.env.CLOUDINARY_URL !== url) process.env.CLOUDINARY_URL = url;
  const mod = await import('cloudinary');
  const v2 = (mod as unknown as { v2?: CloudinaryV2; default?: { v2: CloudinaryV2 } }).v2 ??
    (mod as unknown as { default: { v2: CloudinaryV2 } }).default.v2;
  v2.config({
    cloud_name: config.cloudName,
    api_key: config.apiKey,
    api_secret: config.apiSecret,
    upload_prefix: config.uploadPrefix,
    secure: true,
    hide_sensitive: true,
  });
  return v2;
};
