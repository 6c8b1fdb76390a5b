/**
 * The Cloudinary fake, split by endpoint under ./cloudinary/ (see cloudinary/fake.ts for the
 * map). This file only re-exports it, so tests keep importing `fakes/cloudinary-fake.ts`.
 */
export { CloudinaryFake } from './cloudinary/fake.ts';
export { RESOURCE_TYPES } from './cloudinary/types.ts';
export type {
  CloudinaryFakeOptions,
  DownloadFaultOptions,
  FakeAccessRule,
  FakeAsset,
  FakeAssetSpec,
  FakeStats,
  ListingFaultOptions,
  RequestKind,
  ResourceType,
} from './cloudinary/types.ts';
export { encodePublicId, formatTryAgain } from './cloudinary/params.ts';
export type { UsagePatch } from './cloudinary/params.ts';
