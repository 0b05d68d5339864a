// The layer media types a pull or load accepts (checkManifest) are exactly those the unpacker can decompress, and
// each with the right compression: Docker's tar.zstd was once accepted by one and refused by the other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { checkManifest } from '../../src/image/pull.js';
import { compressionOf } from '../../src/image/unpack/decompress.js';

const digest = `sha256:${'a'.repeat(64)}`;
const manifestWith = (mediaType: string) => ({
  schemaVersion: 2, config: { mediaType: MEDIA_TYPES.ociConfig, digest, size: 2 }, layers: [{ mediaType, digest, size: 1 }],
});
const accepted = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

describe('layer media types', () => {
  test('checkManifest and the unpacker agree on every known media type', () => {
    for (const mediaType of [...Object.values(MEDIA_TYPES), 'application/x-bzip', '__proto__', 'constructor']) {
      const byManifest = accepted(() => checkManifest(manifestWith(mediaType), 'img'));
      const byUnpack = accepted(() => compressionOf(mediaType, 'layer'));
      assert.equal(byUnpack, byManifest, mediaType);
    }
  });

  test('each compression as its media type says', () => {
    assert.equal(compressionOf(MEDIA_TYPES.dockerLayerZstd, 'l'), 'zstd');
    assert.equal(compressionOf(MEDIA_TYPES.dockerLayerGzip, 'l'), 'gzip');
    assert.equal(compressionOf(MEDIA_TYPES.dockerLayer, 'l'), 'none');
    assert.equal(compressionOf(MEDIA_TYPES.ociLayerZstd, 'l'), 'zstd');
    assert.equal(compressionOf(MEDIA_TYPES.ociLayerGzip, 'l'), 'gzip');
    assert.equal(compressionOf(MEDIA_TYPES.ociLayer, 'l'), 'none');
  });
});
