import { MAX_RESULTS } from '../lambda/adapters/cloudinary/source.ts';
import { RESOURCE_TYPES, listingsFor } from '../lambda/core/asset.ts';
import type { CloudinaryFake, FakeAsset, ResourceType } from './fakes/cloudinary-fake.ts';

/**
 * Names in several scripts (Chinese, Japanese, Cyrillic, Arabic, accented Latin, emoji) and a
 * few plain ones. Answers reach a client in pieces (test/fakes/cloudinary/pieces.ts); with most
 * names multi-byte, every suite that lists, restores or verifies meets a character split between
 * two pieces.
 */
export const SCRIPT_NAMES = ['photo', '夏天的照片', '日本語の写真', 'папка фото', 'صورة العائلة', 'café déjà vu', 'emoji 🎉😀', 'Ünïcödé Ñoño', 'a+b', '100%'];
/** Folders of the populated account, in the same scripts. */
export const SCRIPT_FOLDERS = ['folder', '相册', '写真', 'Документы', 'مجلد', 'été'];
/** Tags of the populated account, in the same scripts. */
export const SCRIPT_TAGS = ['旅行', 'ночь', 'عائلة', 'été', '🎉 party', 'お気に入り', 't1'];
const TYPES = ['upload', 'upload', 'upload', 'private', 'authenticated'];

/**
 * Fills a fake account: `images` images (more than two listing pages at 1,200), some videos
 * and raw files, every backed-up delivery type, public_ids with folders, spaces and names in
 * several scripts (SCRIPT_NAMES), tags and context in those scripts too, and two remote
 * (`fetch`) assets that must be skipped. Sizes are small and deterministic.
 */
export const populate = (fake: CloudinaryFake, counts = { images: 1100, videos: 60, raw: 50 }): FakeAsset[] => {
  const out: FakeAsset[] = [];
  const add = (resourceType: ResourceType, i: number): void => {
    const folder = i % 3 === 0 ? '' : `${SCRIPT_FOLDERS[i % SCRIPT_FOLDERS.length]} ${i % 7}/sub/`;
    const name = `${folder}${SCRIPT_NAMES[i % SCRIPT_NAMES.length]} ${i}`;
    const type = TYPES[i % TYPES.length] as string;
    out.push(
      fake.addAsset({
        publicId: resourceType === 'raw' ? `${name}.txt` : name,
        resourceType,
        type,
        bytes: 200 + ((i * 7919) % 6000),
        tags: i % 4 === 0 ? ['tagged', SCRIPT_TAGS[i % SCRIPT_TAGS.length] as string] : [],
        context: i % 5 === 0 ? { alt: `${SCRIPT_NAMES[(i + 3) % SCRIPT_NAMES.length]} ${i}`, caption: 'é|=', 説明: 'заметка №1' } : {},
        metadata: i % 6 === 0 ? { rating: i % 5 } : {},
      }),
    );
  };
  for (let i = 0; i < counts.images; i += 1) add('image', i);
  for (let i = 0; i < counts.videos; i += 1) add('video', i);
  for (let i = 0; i < counts.raw; i += 1) add('raw', i);
  fake.addAsset({ publicId: 'https://example.com/remote.jpg', type: 'fetch', bytes: 500 });
  fake.addAsset({ publicId: 'someone', type: 'twitter', bytes: 500 });
  return out;
};

/**
 * Listing pages a full pass needs at 500 per page: each resource type's `upload`, `private` and
 * `authenticated` listings separately (the production list of listings, imported), and at least
 * one call for an empty listing.
 */
export const pagesFor = (fake: CloudinaryFake, resourceTypes: readonly string[] = RESOURCE_TYPES): number => {
  const per = new Map<string, number>();
  for (const a of fake.listAssets()) per.set(`${a.resourceType}/${a.type}`, (per.get(`${a.resourceType}/${a.type}`) ?? 0) + 1);
  return listingsFor(resourceTypes).reduce((sum, l) => sum + Math.max(1, Math.ceil((per.get(`${l.resourceType}/${l.type}`) ?? 0) / MAX_RESULTS)), 0);
};
