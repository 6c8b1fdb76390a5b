import type { Asset } from '../../lambda/core/asset.ts';

/**
 * An asset as a Source lists it, for tests with an in-memory source: an image upload of 3 bytes
 * named `publicId`, with `fields` replacing any of its values.
 */
export const listedAsset = (publicId: string, fields: Partial<Asset> = {}): Asset => ({
  assetId: publicId,
  publicId,
  resourceType: 'image',
  type: 'upload',
  format: 'jpg',
  version: 1_700_000_000,
  bytes: 3,
  createdAt: '2023-11-14T22:13:20Z',
  secureUrl: `https://res.cloudinary.com/demo/image/upload/${publicId}.jpg`,
  tags: [],
  context: {},
  metadata: {},
  ...fields,
});
