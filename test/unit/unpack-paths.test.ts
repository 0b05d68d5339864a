// The pieces of unpacking that need no root: tar names, in-root resolution (symlinks in a temp dir), and PAX
// records with binary xattr values.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Parser, type ReadEntry } from 'tar';
import { entryComponents } from '../../src/image/unpack/entry-name.js';
import { resolveDirInRoot, resolvePathInRoot } from '../../src/image/unpack/in-root.js';
import { parsePaxRecords, XattrReader } from '../../src/image/unpack/pax-xattrs.js';
import { compressionOf, sniffCompression } from '../../src/image/unpack/decompress.js';
import { buildTar } from '../helpers/hostile-tar.js';

const root = mkdtempSync(join(tmpdir(), 'skiff-inroot-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('tar names', () => {
  test('relative names split into components; "./" and trailing slashes ignored', () => {
    assert.deepEqual(entryComponents('./usr/bin/'), ['usr', 'bin']);
    assert.deepEqual(entryComponents('.'), []);
    assert.deepEqual(entryComponents('a//b/./c'), ['a', 'b', 'c']);
    assert.deepEqual(entryComponents('/'), [], 'umoci insert names the root "/"');
    assert.deepEqual(entryComponents('/etc/passwd'), ['etc', 'passwd'], 'absolute names are joined onto the layer root');
  });
  test('".." is refused, naming the entry', () => {
    assert.throws(() => entryComponents('a/../../b'), /^SkiffError: entry "a\/\.\.\/\.\.\/b": "\.\." in a layer path$/);
    assert.throws(() => entryComponents('ok/..'), /"\.\." in a layer path/);
  });
});

describe('resolution inside a root', () => {
  mkdirSync(join(root, 'real/sub'), { recursive: true });
  writeFileSync(join(root, 'real/file'), '');
  symlinkSync('/real', join(root, 'abs'));
  symlinkSync('../../../../real', join(root, 'climb'));
  symlinkSync('abs/sub', join(root, 'chain'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/etc', join(root, 'hostetc'));

  test('absolute, climbing and chained symlinks stay inside', () => {
    assert.equal(resolveDirInRoot(root, ['abs'], 'x', false), join(root, 'real'));
    assert.equal(resolveDirInRoot(root, ['climb', 'sub'], 'x', false), join(root, 'real/sub'));
    assert.equal(resolveDirInRoot(root, ['chain', '..', '..', '..'], 'x', false), root);
    assert.equal(resolveDirInRoot(root, ['hostetc'], 'x', false), undefined, '/etc of the host is not looked at');
    assert.equal(resolvePathInRoot(root, 'hostetc/passwd', 'x'), undefined);
    assert.equal(resolvePathInRoot(root, 'abs/file', 'x'), join(root, 'real/file'));
  });

  test('create makes what is missing inside the root; errors name the input', () => {
    assert.equal(resolveDirInRoot(root, ['hostetc', 'made'], 'entry "e"', true), join(root, 'etc/made'));
    assert.throws(() => resolveDirInRoot(root, ['loop1', 'x'], 'entry "e"', true), /^SkiffError: entry "e": too many levels of symbolic links$/);
    assert.throws(() => resolveDirInRoot(root, ['real', 'file', 'x'], 'entry "e"', true), /^SkiffError: entry "e": \/real\/file is not a directory$/);
  });
});

describe('PAX xattrs', () => {
  test('records keep binary values byte for byte; size and LIBARCHIVE base64 understood', () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x0a, 0x3d]);
    const rec = (k: string, v: Buffer) => {
      const body = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
      const len = String(body.length + 3).length + body.length;
      return Buffer.concat([Buffer.from(String(len)), body]);
    };
    const parsed = parsePaxRecords(Buffer.concat([
      rec('SCHILY.xattr.security.capability', value), rec('size', Buffer.from('12')),
      rec('LIBARCHIVE.xattr.user.x', Buffer.from(Buffer.from('hi').toString('base64'))), rec('path', Buffer.from('ignored')),
    ]));
    assert.deepEqual(parsed.xattrs.get('security.capability'), value);
    assert.equal(parsed.xattrs.get('user.x')!.toString(), 'hi');
    assert.equal(parsed.size, 12);
    assert.throws(() => parsePaxRecords(Buffer.from('99 key=value\n')), /malformed PAX extended header at byte 0/);
  });

  test('the reader hands each entry its own xattrs, in the order node-tar emits the entries', async () => {
    const tar = buildTar([
      { path: 'a', content: 'x'.repeat(1000), xattrs: { 'user.one': Buffer.from([0xfe]) } },
      { path: 'b', content: 'y' },
      { path: 'c/', type: 'Directory', xattrs: { 'trusted.t': 'v' } },
    ]);
    const reader = new XattrReader();
    const parser = new Parser();
    const seen: [string, string[]][] = [];
    parser.on('entry', (e: ReadEntry) => {
      seen.push([e.path, [...reader.next()].map(([k, v]) => `${k}=${v.toString('hex')}`)]);
      e.resume();
    });
    // Small chunks: headers and bodies split across writes.
    const chunks: Buffer[] = [];
    for (let i = 0; i < tar.length; i += 100) chunks.push(tar.subarray(i, i + 100));
    await new Promise<void>((resolve, reject) => Readable.from(chunks).pipe(reader).on('error', reject).pipe(parser).on('end', resolve));
    assert.deepEqual(seen, [['a', ['user.one=fe']], ['b', []], ['c/', ['trusted.t=76']]]);
  });
});

describe('compression', () => {
  test('by media type and by magic bytes', () => {
    assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar+zstd', 'l'), 'zstd');
    assert.equal(compressionOf('application/vnd.docker.image.rootfs.diff.tar.gzip', 'l'), 'gzip');
    assert.throws(() => compressionOf('application/x-bzip', 'layer L'), /^SkiffError: layer L: layer media type "application\/x-bzip" is not supported/);
    assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(sniffCompression(Buffer.from('usr/')), 'none');
  });
});
