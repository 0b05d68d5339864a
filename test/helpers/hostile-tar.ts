// Builds tar archives entry by entry, including what no honest tool writes: "../" names, absolute paths,
// symlinks a later entry is written through, hard links to outside paths. Headers are encoded by node-tar's own
// Header; PAX extended headers (for xattrs with binary values) are written here, as POSIX pax describes them.
import { Header } from 'tar';

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  content?: string | Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmaj?: number;
  devmin?: number;
  /** Written as SCHILY.xattr.NAME records in a PAX header before the entry. */
  xattrs?: Record<string, Buffer | string>;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function header(fields: ConstructorParameters<typeof Header>[0] & object): Buffer {
  const block = Buffer.alloc(512);
  new Header(fields as never).encode(block, 0);
  return block;
}

export function buildTar(entries: TarEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'File';
    const data = type === 'File' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    if (e.xattrs) {
      const body = Buffer.concat(Object.entries(e.xattrs).map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, Buffer.from(v))));
      out.push(header({ path: `PaxHeader/${e.path}`.slice(0, 99), type: 'ExtendedHeader', size: body.length, mode: 0o644, mtime: new Date(0) }), body, pad(body.length));
    }
    out.push(header({
      path: e.path, type, size: data.length, linkpath: e.linkpath, mtime: e.mtime ?? new Date(1_000_000_000_000),
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
      devmaj: e.devmaj ?? 0, devmin: e.devmin ?? 0,
    }), data, pad(data.length));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
