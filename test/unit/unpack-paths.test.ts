// The pieces of unpacking that need no root: tar names, in-root resolution (symlinks in a temp dir), PAX records
// with binary xattr values, and the tar reader on archives built byte by byte.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { entryComponents } from '../../src/image/unpack/entry-name.js';
import { resolveDirInRoot, resolvePathInRoot } from '../../src/image/unpack/in-root.js';
import { parsePaxRecords, TarReader, type TarHeader } from '../../src/image/unpack/tar-reader.js';
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

  test('the reader hands each entry its own xattrs, whatever the chunks', () => {
    const tar = buildTar([
      { path: 'a', content: 'x'.repeat(1000), xattrs: { 'user.one': Buffer.from([0xfe]) } },
      { path: 'b', content: 'y' },
      { path: 'c/', type: 'Directory', xattrs: { 'trusted.t': 'v' } },
    ]);
    for (const size of [1, 100, 512, 513, tar.length]) {
      const seen = readAll(tar, size);
      assert.deepEqual(seen.map((e) => [e.path, e.xattrs]), [['a', ['user.one=fe']], ['b', []], ['c/', ['trusted.t=76']]], `chunks of ${size}`);
      assert.equal(seen[0].content, 'x'.repeat(1000));
    }
  });
});

interface Seen { path: string; type: string; content: string; xattrs: string[]; header: TarHeader }

/** Every entry `TarReader` finds in `tar`, fed in chunks of `size` bytes. */
function readAll(tar: Buffer, size = 100): Seen[] {
  const seen: Seen[] = [];
  const reader = new TarReader((header, xattrs) => {
    const e: Seen = { path: header.path, type: header.type, content: '', xattrs: [...xattrs].map(([k, v]) => `${k}=${v.toString('hex')}`), header };
    seen.push(e);
    return { write: (c) => (e.content += c.toString()), end: () => {}, abandon: () => {} };
  });
  for (let i = 0; i < tar.length; i += size) reader.push(tar.subarray(i, i + size));
  reader.end();
  return seen;
}

/** A raw 512-byte header, fields written as tar does, checksum computed. */
function rawHeader(f: { name: string; type: string; size?: number | Buffer; mode?: string; linkname?: string; magic?: string; prefix?: string }): Buffer {
  const b = Buffer.alloc(512);
  b.write(f.name, 0, 100, 'utf8');
  b.write(f.mode ?? '0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  if (Buffer.isBuffer(f.size)) f.size.copy(b, 124);
  else b.write(`${(f.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  b.write('14000000000\0', 136);
  b.write(f.type, 156);
  if (f.linkname) b.write(f.linkname, 157);
  b.write(f.magic ?? 'ustar\u000000', 257, 'latin1');
  if (f.prefix) b.write(f.prefix, 345);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}
const body = (data: Buffer | string) => {
  const d = Buffer.from(data);
  return Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
};
const END = Buffer.alloc(1024);

describe('tar reader', () => {
  test('GNU long names and long link targets, the ustar prefix, pax path and size', () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
    const tar = Buffer.concat([
      rawHeader({ name: '././@LongLink', type: 'L', size: long.length + 1, magic: 'ustar  \0' }), body(`${long}\0`),
      rawHeader({ name: long.slice(0, 99), type: '0', size: 2, magic: 'ustar  \0' }), body('hi'),
      rawHeader({ name: '././@LongLink', type: 'K', size: long.length, magic: 'ustar  \0' }), body(long),
      rawHeader({ name: 'hl', type: '1', linkname: 'short', magic: 'ustar  \0' }),
      rawHeader({ name: 'file', type: '0', size: 1, prefix: 'usr/share' }), body('x'),
      rawHeader({ name: 'PaxHeader/x', type: 'x', size: 30 }), body('14 path=p/q/r\n16 size=0000003\n'),
      rawHeader({ name: 'truncated-name', type: '0', size: 999 }), body('abc'),
      END,
    ]);
    const seen = readAll(tar, 77);
    assert.deepEqual(seen.map((e) => [e.path, e.type, e.content, e.header.linkpath]), [
      [long, 'File', 'hi', undefined],
      ['hl', 'Link', '', long],
      ['usr/share/file', 'File', 'x', undefined],
      ['p/q/r', 'File', 'abc', undefined],
    ]);
  });

  test('base-256 sizes, V7 directories, header-only types whose size is not zero, a GNU dumpdir', () => {
    const size = Buffer.alloc(12);
    size[0] = 0x80;
    size.writeUInt32BE(5, 8);
    const tar = Buffer.concat([
      rawHeader({ name: 'big', type: '0', size }), body('12345'),
      rawHeader({ name: 'old/', type: '\0' }),
      rawHeader({ name: 'dir', type: '5', size: 4096 }),
      rawHeader({ name: 'dump', type: 'D', size: 6 }), body('Yfile\0'),
      rawHeader({ name: 'after', type: '0', size: 1 }), body('z'),
      END,
    ]);
    assert.deepEqual(readAll(tar).map((e) => [e.path, e.type, e.content]), [
      ['big', 'File', '12345'], ['old/', 'Directory', ''], ['dir', 'Directory', ''], ['dump', 'Directory', ''], ['after', 'File', 'z'],
    ]);
  });

  test('a global pax header sets owners and times for the entries after it', () => {
    const tar = Buffer.concat([
      rawHeader({ name: 'pax_global_header', type: 'g', size: 29 }), body('12 uid=1000\n17 mtime=86400.5\n'),
      rawHeader({ name: 'a', type: '0' }),
      END,
    ]);
    const [a] = readAll(tar);
    assert.equal(a.header.uid, 1000);
    assert.equal(a.header.mtime.getTime(), 86_400_500);
  });

  test('bad archives: one error naming what is wrong', () => {
    const file = Buffer.concat([rawHeader({ name: 'f', type: '0', size: 600 }), body('x'.repeat(600))]);
    assert.throws(() => readAll(file.subarray(0, 700)), /^SkiffError: entry "f": the archive ends in the middle of an entry \(truncated\)$/);
    assert.throws(() => readAll(file.subarray(0, 300)), /the archive ends in the middle of an entry/);
    const broken = Buffer.from(file);
    broken[10] ^= 1;
    assert.throws(() => readAll(broken), /^SkiffError: header at byte 0 \("f"\): checksum does not match: not a tar archive, or a corrupt one$/);
    assert.throws(() => readAll(Buffer.concat([rawHeader({ name: 's', type: 'S', size: 0 }), END])), /^SkiffError: entry "s": a GNU sparse file is not supported in a layer$/);
    assert.throws(() => readAll(Buffer.concat([rawHeader({ name: 'q', type: 'Q', size: 0 }), END])), /^SkiffError: entry "q": entry type 'Q' is not supported in a layer$/);
    assert.throws(() => readAll(Buffer.concat([rawHeader({ name: 'l', type: '2' }), END])), /^SkiffError: entry "l": a symbolic link without a target$/);
    assert.throws(() => readAll(Buffer.concat([rawHeader({ name: 'x', type: 'x', size: 11 }), body('11 size=-1\n')])), /PAX record size="-1" is not a non-negative integer/);
    assert.throws(() => readAll(Buffer.concat([rawHeader({ name: 'x', type: 'x', size: 22 }), body('22 GNU.sparse.major=1\n')])), /GNU sparse files/);
    assert.throws(() => readAll(Buffer.concat([rawHeader({ name: 'x', type: 'x', size: 6 }), body('6 a=b\n'), END])), /the archive ends in the middle of an entry/);
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
