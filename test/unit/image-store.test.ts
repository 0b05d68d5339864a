// The image store's files, without root: a name as long as the distribution spec allows, files named by a hash of
// the name, the layout's index.json kept in step (also with several processes naming at once), old stores moved over.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImageStore, REF_NAME_ANNOTATION } from '../../src/image/image-store.js';
import { normalizeReference } from '../../src/image/reference.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-image-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const target = (n: number) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: n });
const indexNames = (root: string) => (JSON.parse(readFileSync(join(root, 'content', 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] })
  .manifests.map((m) => m.annotations[REF_NAME_ANNOTATION]);

test('a 255-character repository with a 128-character tag is stored, listed, found and removed', async () => {
  const root = join(dir, 'long');
  const name = normalizeReference(`localhost/${'a'.repeat(100)}/${'b'.repeat(144)}:${'t'.repeat(128)}`);
  assert.equal(name.length, 255 + 1 + 128);
  const store = new ImageStore(root);
  await store.put(name, target(1));
  assert.equal((await store.get(name))?.name, name);
  assert.deepEqual((await store.list()).map((r) => r.name), [name]);
  assert.deepEqual(readdirSync(join(root, 'images')).filter((f) => !f.startsWith('.')).map((f) => f.length), [64 + '.json'.length]);
  assert.deepEqual(indexNames(root), [name]);
  assert.equal(await store.delete(name), true);
  assert.equal(await store.get(name), undefined);
  assert.deepEqual(indexNames(root), []);
  assert.deepEqual(readdirSync(join(root, 'images')), [], 'no record, temporary file or lock left');
});

test('a record that is not JSON is skipped by list and named by get', async () => {
  const root = join(dir, 'bad');
  const store = new ImageStore(root);
  await store.put('localhost/good:1', target(2));
  await store.put('localhost/bad:1', target(3));
  const bad = readdirSync(join(root, 'images')).find((f) => readFileSync(join(root, 'images', f), 'utf8').includes('bad:1'))!;
  writeFileSync(join(root, 'images', bad), '{"name":');
  assert.deepEqual((await store.list()).map((r) => r.name), ['localhost/good:1']);
  await assert.rejects(store.get('localhost/bad:1'), /image "localhost\/bad:1": its record .* is not valid JSON/);
});

test('records of a store from before hashed names are moved over once', async () => {
  const root = join(dir, 'legacy');
  mkdirSync(join(root, 'images'), { recursive: true });
  const name = 'localhost/old:1';
  writeFileSync(join(root, 'images', encodeURIComponent(name)), JSON.stringify({ name, target: target(4), created: '2020-01-01T00:00:00Z' }));
  const store = new ImageStore(root);
  assert.equal((await store.get(name))?.created, '2020-01-01T00:00:00Z');
  const files = readdirSync(join(root, 'images')).filter((f) => !f.startsWith('.'));
  assert.equal(files.length, 1);
  assert.match(files[0], /^[a-f0-9]{64}\.json$/);
  assert.deepEqual(indexNames(root), [name]);
});

test('sources say what they are; those of older records (a plain string) are read as the same', async () => {
  const root = join(dir, 'sources');
  const store = new ImageStore(root);
  await store.put('localhost/pulled:1', target(5), { source: { kind: 'registry', reference: 'registry.lan/team/app:1' } });
  await store.put('localhost/loaded:1', target(6), { source: { kind: 'archive', path: '/tmp/x.tar' } });
  const file = (name: string) => readdirSync(join(root, 'images')).find((f) => readFileSync(join(root, 'images', f), 'utf8').includes(name))!;
  const rewrite = (name: string, source: unknown) => {
    const path = join(root, 'images', file(name));
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), source }));
  };
  await store.put('localhost/old-pull:1', target(7));
  rewrite('old-pull:1', 'registry.lan/team/app:1');
  await store.put('localhost/old-load:1', target(8));
  rewrite('old-load:1', '/tmp/Old Archive.tar');
  await store.put('localhost/broken:1', target(9));
  rewrite('broken:1', { kind: 'registry', reference: '/not/a/reference' });
  const sources = Object.fromEntries((await store.list()).map((r) => [r.name, r.source]));
  assert.deepEqual(sources, {
    'localhost/broken:1': undefined,
    'localhost/loaded:1': { kind: 'archive', path: '/tmp/x.tar' },
    'localhost/old-load:1': { kind: 'archive', path: '/tmp/Old Archive.tar' },
    'localhost/old-pull:1': { kind: 'registry', reference: 'registry.lan/team/app:1' },
    'localhost/pulled:1': { kind: 'registry', reference: 'registry.lan/team/app:1' },
  });
});

test('names written by several processes at once all reach index.json', async () => {
  const root = join(dir, 'concurrent');
  const script = fileURLToPath(new URL('../../src/image/image-store.js', import.meta.url));
  // Each process names 15 images in a row, so their writes of the index overlap.
  const names = (p: number) => Array.from({ length: 15 }, (_, i) => `localhost/p${p}:${i}`);
  const putAll = (p: number) => promisify(execFile)(process.execPath, ['--input-type=module', '-e',
    `import { ImageStore } from ${JSON.stringify(script)}; const s = new ImageStore(${JSON.stringify(root)});
     for (const n of ${JSON.stringify(names(p))}) await s.put(n, ${JSON.stringify(target(p))});`]);
  await Promise.all([1, 2, 3, 4, 5, 6].map(putAll));
  const all = [1, 2, 3, 4, 5, 6].flatMap(names).sort();
  assert.deepEqual(indexNames(root).sort(), all);
  assert.deepEqual((await new ImageStore(root).list()).map((r) => r.name).sort(), all);
});
