// Layer media types -> a stream that yields the uncompressed tar. gzip is Node's zlib; zstd is Debian's `zstd`
// command as a child process, since Node 20's zlib has no zstd (it arrived in Node 22.15) and the npm zstd
// packages are native addons or WebAssembly ports that lag the reference implementation.
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SkiffError } from '../../common/errors.js';
import { layerCompression, type Compression } from '../media-types.js';

export type { Compression };

export function compressionOf(mediaType: string, what: string): Compression {
  const c = layerCompression(mediaType);
  if (!c) throw new SkiffError(`${what}: layer media type "${mediaType}" is not supported (tar, tar+gzip, tar+zstd are)`, 'ENOTSUP');
  return c;
}

/** Compression told by the first bytes, for archives whose layers carry no media type (docker-archive). */
export function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function zstdDecompressor(what: string): Duplex {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on('error', (err) => duplex.destroy(new SkiffError(`${what}: zstd: ${err.message} (scripts/setup.sh installs zstd)`, 'ENOENT')));
  child.on('exit', (code) => {
    if (code) duplex.destroy(new SkiffError(`${what}: zstd: ${stderr.trim() || `exit status ${code}`}`, 'EINVAL'));
  });
  duplex.on('close', () => child.kill());
  return duplex;
}

export function decompressor(c: Compression, what: string): Duplex {
  switch (c) {
    case 'none': return new PassThrough();
    // Bigger output chunks than zlib's 16 KiB default: fewer callbacks, and file contents written in fewer write(2)s.
    case 'gzip': return createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd': return zstdDecompressor(what);
  }
}
