/** Dot-files and operating-system files in a backup (lambda/core/system-files.ts): a restore never uploads them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSystemFile } from '../../lambda/core/system-files.ts';

test('dot-files, dot-folders and the files macOS and Windows leave are system files; asset keys are not', () => {
  const cases: Array<[prefix: string, key: string, system: boolean]> = [
    ['', 'image/upload/.DS_Store', true],
    ['', 'image/upload/._photo.jpg', true],
    ['', 'image/upload/Thumbs.db', true],
    ['', 'image/upload/thumbs.DB', true],
    ['', 'image/upload/shop/Desktop.ini', true],
    ['', 'raw/upload/.Trashes/501/x.bin', true],
    ['', 'image/upload/__MACOSX/photo.jpg', true],
    ['', 'image/upload/Icon\r', true],
    ['', 'video/private/$RECYCLE.BIN/clip.mp4', true],
    ['', 'image/upload/photo.jpg', false],
    ['', 'image/upload/my.file.name.jpg', false],
    ['', 'image/upload/Icon.png', false],
    ['', 'raw/upload/thumbs.db.bak', false],
    // The prefix itself is the user's choice: a dot in it says nothing of the objects.
    ['.backups/cld', '.backups/cld/image/upload/photo.jpg', false],
    ['.backups/cld', '.backups/cld/image/upload/.DS_Store', true],
  ];
  for (const [prefix, key, system] of cases) assert.equal(isSystemFile(prefix, key), system, JSON.stringify(key));
});
