// Layer unpacking on the real file system (root: devices, ownership, trusted.* xattrs): every kind of entry,
// whiteouts in overlayfs form, compression, digests, and hostile archives that try to write outside the layer.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { unpackLayer } from '../../src/image/unpack/unpack-layer.js';
import type { Compression } from '../../src/image/unpack/decompress.js';
import { buildTar, type TarEntry } from '../helpers/hostile-tar.js';

const work = mkdtempSync(join(tmpdir(), 'skiff-unpack-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const xattr = (path: string, name: string) =>
  spawnSync('getfattr', ['-h', '-n', name, '-e', 'hex', '--only-values', path]).stdout;

/** `entries` may be a function of the directory beside the layer that nothing may touch. */
async function unpack(entries: TarEntry[] | Buffer | ((outside: string) => TarEntry[]), compression: Compression = 'none', diffId?: string) {
  const dir = join(work, `case-${n++}`);
  mkdirSync(join(dir, 'layer'), { recursive: true });
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'secret'), 's');
  const tar = Buffer.isBuffer(entries) ? entries : buildTar(typeof entries === 'function' ? entries(join(dir, 'outside')) : entries);
  const blob = join(dir, 'blob');
  writeFileSync(blob, compression === 'gzip' ? gzipSync(tar) : compression === 'zstd' ? execFileSync('zstd', ['-c', '-q'], { input: tar }) : tar);
  const run = () => unpackLayer({ blob, compression, dest: join(dir, 'layer'), diffId: diffId ?? digest(tar), what: 'layer L' });
  return { dir, layer: join(dir, 'layer'), outside: join(dir, 'outside'), run, tar };
}

describe('unpacking a layer', () => {
  test('files, directories, links, devices, fifos, owners, modes, xattrs and times', async () => {
    // A capability set with bytes above 0x7f (CAP_SETUID is bit 7): it must survive byte for byte.
    const cap = Buffer.from('0100000280000000000000000000000000000000', 'hex');
    const u = await unpack([
      { path: 'usr/', type: 'Directory', mode: 0o755, mtime: new Date('2001-02-03T04:05:06Z') },
      { path: 'usr/bin/', type: 'Directory', mode: 0o751, uid: 7, gid: 8 },
      { path: 'usr/bin/tool', content: 'x'.repeat(70_000), mode: 0o4755, uid: 1000, gid: 1001, xattrs: { 'security.capability': cap, 'user.note': 'hi' } },
      { path: 'usr/bin/same', type: 'Link', linkpath: 'usr/bin/tool' },
      { path: 'lib', type: 'SymbolicLink', linkpath: 'usr/lib', uid: 5, gid: 6 },
      { path: 'tmp/', type: 'Directory', mode: 0o1777 },
      { path: 'dev/null', type: 'CharacterDevice', devmaj: 1, devmin: 3, mode: 0o666 },
      { path: 'dev/loop9', type: 'BlockDevice', devmaj: 7, devmin: 9, mode: 0o660, gid: 6 },
      { path: 'run/fifo', type: 'FIFO', mode: 0o620 },
      { path: 'etc/.wh.gone', content: '' },
      { path: 'var/cache/', type: 'Directory' },
      { path: 'var/cache/.wh..wh..opq', content: '' },
      { path: 'var/cache/keep', content: 'k' },
      { path: 'var/opaque/', type: 'Directory', xattrs: { 'trusted.overlay.opaque': 'y' } },
      { path: 'keep', content: 'mine' },
      { path: '.wh.keep', content: '' },
    ]);
    await u.run();
    const tool = statSync(join(u.layer, 'usr/bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o4755);
    assert.deepEqual([tool.uid, tool.gid, tool.size, tool.nlink], [1000, 1001, 70_000, 2]);
    assert.equal(statSync(join(u.layer, 'usr/bin/same')).ino, tool.ino);
    assert.deepEqual(xattr(join(u.layer, 'usr/bin/tool'), 'security.capability'), cap);
    assert.equal(xattr(join(u.layer, 'usr/bin/tool'), 'user.note').toString(), 'hi');
    const bin = statSync(join(u.layer, 'usr/bin'));
    assert.deepEqual([bin.mode & 0o7777, bin.uid, bin.gid], [0o751, 7, 8]);
    assert.equal(statSync(join(u.layer, 'usr')).mtime.toISOString(), '2001-02-03T04:05:06.000Z', 'a directory keeps its time after its content is written');
    assert.equal(readlinkSync(join(u.layer, 'lib')), 'usr/lib');
    assert.deepEqual([lstatSync(join(u.layer, 'lib')).uid, lstatSync(join(u.layer, 'lib')).gid], [5, 6]);
    assert.equal(statSync(join(u.layer, 'tmp')).mode & 0o7777, 0o1777);
    const nul = lstatSync(join(u.layer, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.deepEqual([nul.rdev, nul.mode & 0o777], [(1 << 8) | 3, 0o666]);
    const loop = lstatSync(join(u.layer, 'dev/loop9'));
    assert.ok(loop.isBlockDevice());
    assert.deepEqual([loop.rdev, loop.gid], [(7 << 8) | 9, 6]);
    assert.ok(lstatSync(join(u.layer, 'run/fifo')).isFIFO());
    assert.equal(lstatSync(join(u.layer, 'run/fifo')).mode & 0o777, 0o620);
    const gone = lstatSync(join(u.layer, 'etc/gone'));
    assert.ok(gone.isCharacterDevice() && gone.rdev === 0, 'a whiteout is a 0/0 character device');
    assert.ok(!existsSync(join(u.layer, 'etc/.wh.gone')));
    assert.equal(xattr(join(u.layer, 'var/cache'), 'trusted.overlay.opaque').toString(), 'y');
    assert.ok(!existsSync(join(u.layer, 'var/cache/.wh..wh..opq')));
    assert.equal(xattr(join(u.layer, 'var/opaque'), 'trusted.overlay.opaque').toString(), 'y', 'an opaque mark as an xattr is the marker file');
    assert.equal(readFileSync(join(u.layer, 'keep'), 'utf8'), 'mine', 'a whiteout does not hide what its own layer holds');
  });

  test('gzip and zstd; the uncompressed digest is checked against the diff_id', async () => {
    const entries: TarEntry[] = [{ path: 'a', content: 'hello' }];
    for (const c of ['gzip', 'zstd'] as const) {
      const u = await unpack(entries, c);
      assert.equal(await u.run(), digest(u.tar));
      assert.equal(readFileSync(join(u.layer, 'a'), 'utf8'), 'hello');
    }
    const bad = await unpack(entries, 'gzip', `sha256:${'0'.repeat(64)}`);
    await assert.rejects(bad.run(), /^SkiffError: layer L: uncompressed content has digest sha256:[0-9a-f]{64}, the image config says sha256:0{64}$/);
  });

  test('a truncated or corrupt blob is an error naming the layer', async () => {
    const big = buildTar([{ path: 'big', content: Buffer.alloc(200_000, 7) }]);
    const cut = await unpack(big.subarray(0, 100_000));
    await assert.rejects(cut.run(), /^SkiffError: layer L: entry "big": the archive ends in the middle of an entry \(truncated\)$/);
    const u = await unpack(buildTar([{ path: 'random', content: randomBytes(200_000) }]), 'gzip');
    writeFileSync(join(u.dir, 'blob'), readFileSync(join(u.dir, 'blob')).subarray(0, 100_000));
    await assert.rejects(u.run(), /^SkiffError: layer L: corrupt or truncated/);
  });

  test('a hard link to a lower layer\'s file is materialized: copied up with its metadata, then linked', async () => {
    const cap = Buffer.from('0100000200100000000000000000000000000000', 'hex');
    const lower = await unpack([
      { path: 'opt/', type: 'Directory', mode: 0o750, uid: 3, gid: 4 },
      { path: 'opt/tool', content: 'lower tool', mode: 0o4711, uid: 1000, gid: 1001, xattrs: { 'security.capability': cap } },
      { path: 'gone/file', content: 'hidden' },
    ]);
    await lower.run();
    const upperTar = buildTar([
      { path: 'bin/', type: 'Directory', mode: 0o755 },
      { path: 'bin/tool', type: 'Link', linkpath: 'opt/tool' },
    ]);
    const dir = join(work, `case-${n++}`);
    mkdirSync(join(dir, 'layer'), { recursive: true });
    writeFileSync(join(dir, 'blob'), upperTar);
    await unpackLayer({ blob: join(dir, 'blob'), compression: 'none', dest: join(dir, 'layer'), diffId: digest(upperTar), lowers: [lower.layer], what: 'layer U' });
    const copy = statSync(join(dir, 'layer/opt/tool'));
    const link = statSync(join(dir, 'layer/bin/tool'));
    assert.equal(copy.ino, link.ino);
    assert.deepEqual([copy.mode & 0o7777, copy.uid, copy.gid, copy.nlink], [0o4711, 1000, 1001, 2]);
    assert.equal(readFileSync(join(dir, 'layer/bin/tool'), 'utf8'), 'lower tool');
    assert.deepEqual(xattr(join(dir, 'layer/opt/tool'), 'security.capability'), cap);
    const opt = statSync(join(dir, 'layer/opt'));
    assert.deepEqual([opt.mode & 0o7777, opt.uid, opt.gid], [0o750, 3, 4], 'the copied-up parent keeps the lower one\'s metadata');
    assert.equal(statSync(join(lower.layer, 'opt/tool')).nlink, 1, 'the lower layer is untouched');

    // A whiteout in a layer between hides the target: the link is refused, naming the entry.
    const middle = join(dir, 'middle');
    mkdirSync(middle);
    execFileSync('mknod', [join(middle, 'gone'), 'c', '0', '0']);
    const hiddenTar = buildTar([{ path: 'h', type: 'Link', linkpath: 'gone/file' }]);
    writeFileSync(join(dir, 'blob2'), hiddenTar);
    mkdirSync(join(dir, 'layer2'));
    await assert.rejects(unpackLayer({ blob: join(dir, 'blob2'), compression: 'none', dest: join(dir, 'layer2'), lowers: [middle, lower.layer], what: 'layer V' }),
      /layer V: entry "h": hard link target "gone\/file" is in neither this layer nor a lower one/);
  });

  test('parents a layer leaves out are made as the lower layers show them: owners, symlinks, whiteouts, opaque directories', async () => {
    const lower = await unpack([
      { path: 'home/', type: 'Directory' },
      { path: 'home/user/', type: 'Directory', mode: 0o700, uid: 1000, gid: 1000 },
      { path: 'usr/', type: 'Directory' },
      { path: 'usr/lib/', type: 'Directory' },
      { path: 'lib', type: 'SymbolicLink', linkpath: 'usr/lib' },
      { path: 'opt/', type: 'Directory', uid: 5 },
      { path: 'srv/', type: 'Directory' },
      { path: 'srv/sub/', type: 'Directory', uid: 7 },
    ]);
    await lower.run();
    const middle = await unpack([
      { path: '.wh.opt', content: '' },
      { path: 'srv/', type: 'Directory', uid: 9, gid: 9, mode: 0o2775 },
      { path: 'srv/.wh..wh..opq', content: '' },
    ]);
    await middle.run();
    const upperTar = buildTar([
      { path: 'home/user/file', content: 'mine' },
      { path: 'lib/x.so', content: 'elf' },
      { path: 'opt/f', content: '' },
      { path: 'srv/sub/f', content: '' },
    ]);
    const dir = join(work, `case-${n++}`);
    mkdirSync(join(dir, 'layer'), { recursive: true });
    writeFileSync(join(dir, 'blob'), upperTar);
    await unpackLayer({ blob: join(dir, 'blob'), compression: 'none', dest: join(dir, 'layer'), lowers: [middle.layer, lower.layer], what: 'layer U' });
    const meta = (p: string) => { const st = lstatSync(join(dir, 'layer', p)); return [st.isDirectory(), st.mode & 0o7777, st.uid, st.gid]; };
    assert.deepEqual(meta('home/user'), [true, 0o700, 1000, 1000], 'a lower directory is made again with its owner and mode');
    assert.equal(existsSync(join(dir, 'layer/lib')), false, 'a lower symlink is followed, not hidden by a new directory');
    assert.equal(readFileSync(join(dir, 'layer/usr/lib/x.so'), 'utf8'), 'elf');
    assert.deepEqual(meta('opt'), [true, 0o755, 0, 0], 'what a whiteout hides is not copied');
    assert.deepEqual(meta('srv'), [true, 0o2775, 9, 9], 'from the middle layer');
    // mkdir(2) in a setgid directory: the new one takes its group and its setgid bit.
    assert.deepEqual(meta('srv/sub'), [true, 0o2755, 0, 9], 'an opaque directory hides the lower layer\'s srv/sub');
    assert.equal(lstatSync(join(dir, 'layer/srv/sub/f')).gid, 0, 'in a setgid parent a file still gets the group its entry names');
  });

  test('a hard link to a device node of the same layer', async () => {
    const u = await unpack([
      { path: 'dev/', type: 'Directory', mode: 0o755 },
      { path: 'dev/zero', type: 'CharacterDevice', devmaj: 1, devmin: 5, mode: 0o640, uid: 2, gid: 3 },
      { path: 'dev/zero2', type: 'Link', linkpath: 'dev/zero' },
    ]);
    await u.run();
    const a = lstatSync(join(u.layer, 'dev/zero'));
    const b = lstatSync(join(u.layer, 'dev/zero2'));
    assert.ok(a.isCharacterDevice());
    assert.deepEqual([a.ino, a.nlink, a.mode & 0o7777, a.uid, a.gid, a.rdev], [b.ino, 2, 0o640, 2, 3, b.rdev]);
  });

  describe('hostile archives write nothing outside the layer', () => {
    const refused: [string, (outside: string) => TarEntry[], RegExp][] = [
      ['"../" in a name', () => [{ path: '../escaped', content: 'x' }], /entry "\.\.\/escaped": "\.\." in a layer path/],
      ['".." deeper in a name', () => [{ path: 'a/b/../../../escaped', content: 'x' }], /entry "a\/b\/\.\.\/\.\.\/\.\.\/escaped"/],
      ['an overlayfs redirect xattr', () => [{ path: 'd/', type: 'Directory', xattrs: { 'trusted.overlay.redirect': '/etc' } }],
        /entry "d\/": xattr trusted.overlay.redirect is overlayfs's own: a layer may not set it/],
      ['an overlayfs metacopy xattr on a file', () => [{ path: 'f', content: 'x', xattrs: { 'trusted.overlay.metacopy': '' } }],
        /entry "f": xattr trusted.overlay.metacopy is overlayfs's own/],
      ['a hard link to a path outside', () => [{ path: 'h', type: 'Link', linkpath: '../../../../etc/passwd' }], /entry "h": hard link target "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd": "\.\." in a layer path/],
      ['a hard link to an absolute path', () => [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], /entry "h": hard link target "\/etc\/passwd" is in neither this layer nor a lower one/],
      ['a hard link through a symlink to outside', (o) => [
        { path: 'out', type: 'SymbolicLink', linkpath: o },
        { path: 'h', type: 'Link', linkpath: 'out/secret' },
      ], /entry "h": hard link target "out\/secret" is in neither this layer nor a lower one/],
      // Nodes are made at the end of the layer, by the native helper: by then `a` is a symlink to the outside.
      ['a whiteout whose directory a later entry turns into a symlink to outside', (o) => [
        { path: 'a/', type: 'Directory' },
        { path: 'a/.wh.secret', content: '' },
        { path: 'a', type: 'SymbolicLink', linkpath: o },
      ], /entry "a\/\.wh\.secret": parent of \/a\/secret: no such file or directory/],
    ];
    for (const [name, make, error] of refused) {
      test(`refused: ${name}`, async () => {
        const again = await unpack(make);
        await assert.rejects(again.run(), (err: Error) => {
          assert.match(err.message, /^layer L: /);
          assert.match(err.message, error);
          return true;
        });
        assert.deepEqual(readdirSync(again.outside), ['secret']);
        assert.deepEqual(readdirSync(join(again.dir)).sort(), ['blob', 'layer', 'outside']);
      });
    }

    const confined: [string, (outside: string) => TarEntry[], string][] = [
      ['an absolute name (joined onto the layer root)', (o) => [{ path: `${o}/escaped`, content: 'x' }], 'OUTSIDE/escaped'],
      ['an absolute symlink, then a file under it', (o) => [
        { path: 'link', type: 'SymbolicLink', linkpath: o },
        { path: 'link/escaped', content: 'x' },
      ], 'OUTSIDE/escaped'],
      ['a relative symlink climbing above the root', () => [
        { path: 'a/', type: 'Directory' },
        { path: 'a/up', type: 'SymbolicLink', linkpath: '../../../../../../..' },
        { path: 'a/up/escaped', content: 'x' },
      ], 'escaped'],
      ['chained symlinks', (o) => [
        { path: 'one', type: 'SymbolicLink', linkpath: 'two' },
        { path: 'two', type: 'SymbolicLink', linkpath: 'three/..' },
        { path: 'three', type: 'SymbolicLink', linkpath: `${o}/..` },
        { path: 'one/outside/escaped', content: 'x' },
      ], 'WORK/outside/escaped'],
      ['a directory entry through a symlink', (o) => [
        { path: 'd', type: 'SymbolicLink', linkpath: o },
        { path: 'd/sub/', type: 'Directory' },
      ], 'OUTSIDE/sub'],
    ];
    for (const [name, make, inside] of confined) {
      test(`confined to the layer: ${name}`, async () => {
        const again = await unpack(make);
        await again.run();
        assert.deepEqual(readdirSync(again.outside), ['secret'], 'nothing written outside');
        const expected = inside.replace('WORK', work).replace('OUTSIDE', again.outside);
        assert.ok(existsSync(join(again.layer, expected)), `${expected} inside the layer`);
      });
    }

    test('a symlink loop is an error naming the entry', async () => {
      const u = await unpack([
        { path: 'x', type: 'SymbolicLink', linkpath: 'y' },
        { path: 'y', type: 'SymbolicLink', linkpath: 'x' },
        { path: 'x/file', content: '' },
      ]);
      await assert.rejects(u.run(), /^SkiffError: layer L: entry "x\/file": too many levels of symbolic links$/);
    });
  });
});
