// An OCI layout (or an extracted docker-archive) as a directory: members are read where a document names them,
// so the blobs of platforms not chosen are never read. A member must resolve to a regular file inside the
// directory: a symlink out of it is no member.
import { realpathSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { ContentStore } from '../content-store.js';
import { fileChunks } from './file-chunks.js';
import { MAX_JSON_BYTES, memberPath, storeMember, tooLarge, type ArchiveMembers, type StoredBlob } from './members.js';

export function directoryMembers(content: ContentStore, dir: string, input: string, signal?: AbortSignal): ArchiveMembers {
  const top = realpathSync(dir);
  const locate = async (path: string): Promise<{ path: string; file: string; size: number } | undefined> => {
    const p = memberPath(path);
    if (p === undefined) return undefined;
    const file = await realpath(join(top, p)).catch(() => undefined);
    if (file === undefined || !file.startsWith(top + sep)) return undefined;
    const st = await stat(file);
    return st.isFile() ? { path: p, file, size: st.size } : undefined;
  };
  const stored = new Map<string, Promise<StoredBlob>>();
  return {
    input,
    has: async (path) => (await locate(path)) !== undefined,
    bytes: async (path) => {
      const m = await locate(path);
      if (!m) return undefined;
      if (m.size > MAX_JSON_BYTES) throw tooLarge(input, m.path, m.size);
      return readFile(m.file, { signal });
    },
    blob: async (path) => {
      const m = await locate(path);
      if (!m) return undefined;
      let job = stored.get(m.file);
      if (!job) stored.set(m.file, (job = storeMember(content, fileChunks(m.file, signal), m.path, m.size, input)));
      return job;
    },
  };
}
