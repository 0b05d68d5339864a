// Runs a CLI bundled by scripts/bundle.mjs: one chunk per command plus shared chunks, each a script that evaluates
// to a CommonJS-style function, compiled with vm.Script and V8's code cache. Node 20 has no code cache for ES
// modules (module.enableCompileCache is 22.1+), and compiling the bundle was the largest part of a cold start
// (--cpu-prof: 47 of 136 ms of `skiff --help` in compileSourceTextModule), so the chunks are scripts, not modules.
//
// The cache of `dir/NAME.js` is `dir/NAME.js.cache`. Chunk names carry esbuild's hash of their content, so a rebuilt
// chunk has a new name and no cache until one is written for it; the cache's header repeats the name and the length
// of the source it was made from, and V8 checks its own version, flags and the source's length. A cache that is
// missing, unreadable, for another source or rejected by V8 (`cachedDataRejected`) only means a plain compile:
// every start is correct without it. Checking the whole content (a hash) would need node:crypto or node:zlib,
// whose loading alone costs more than the cache saves on the smaller commands.
//
// A chunk that ran without a usable cache gets one written when the process exits (`createCachedData` then holds
// the functions this run compiled too), into a temporary file renamed into place, so concurrent runs never see half
// a file; a directory that is not writable only means no cache. The install step (scripts/bundle.mjs) runs a few
// harmless commands to write them. SKIFF_CODE_CACHE=0 turns reading and writing off.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

const MAGIC = 'skiff-code-cache 1\n';

/** What each chunk's file evaluates to: its body wrapped as `(function (exports, require, module, ...) {...})`. */
type ChunkFunction = (exports: object, require: (id: string) => unknown, module: { exports: object }, importMetaUrl: string) => void;

export type CacheUse = 'used' | 'missing' | 'stale' | 'rejected' | 'off';

export interface ChunkRun {
  /** Per chunk loaded, in load order: what became of its cache. */
  caches: Map<string, CacheUse>;
}

function cacheHeader(name: string, source: Buffer): Buffer {
  return Buffer.from(`${MAGIC}${name} ${source.length}\n`, 'latin1');
}

/** The V8 data of `cachePath` if its header says it was made from `source` (named `name`); else why not. */
export function readCodeCache(cachePath: string, name: string, source: Buffer): Buffer | 'missing' | 'stale' {
  let data: Buffer;
  try {
    data = readFileSync(cachePath);
  } catch {
    return 'missing';
  }
  const header = cacheHeader(name, source);
  if (data.length <= header.length || !data.subarray(0, header.length).equals(header)) return 'stale';
  return data.subarray(header.length);
}

/** Writes the cache of a chunk atomically; false when it cannot (a read-only install, a full disk). */
export function writeCodeCache(cachePath: string, name: string, source: Buffer, v8data: Buffer): boolean {
  const tmp = `${cachePath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([cacheHeader(name, source), v8data]));
    renameSync(tmp, cachePath);
    return true;
  } catch {
    try { unlinkSync(tmp); } catch { /* never written */ }
    return false;
  }
}

/**
 * Node's module `id`, or while it is not loaded yet a stand-in that loads it at the first use of one of its exports:
 * modules import at their top what some of their functions call, and loading node:child_process (for commander's
 * executable subcommands, which skiff has none of) took 11 of the 21 ms that `skiff-runtime state` spent above
 * Node's own start. A module that Node has loaded already (node:fs, node:path) is returned as it is.
 */
/**
 * Builtins whose module is itself a function (assert(), class X extends require('events')): a stand-in object could
 * not be called or extended, so they load at once. Node 20's list: typeof require(name) === 'function'.
 */
const CALLABLE_BUILTINS = new Set(['assert', 'assert/strict', 'events', 'module', 'stream']);

function lazyBuiltin(nodeRequire: NodeJS.Require, id: string): unknown {
  const name = id.startsWith('node:') ? id.slice(5) : id;
  // Node's (undocumented) list of the modules it has loaded; without it, every one is a stand-in.
  const loaded = (process as { moduleLoadList?: string[] }).moduleLoadList;
  if (loaded?.includes(`NativeModule ${name}`) || CALLABLE_BUILTINS.has(name)) return nodeRequire(id);
  let real: Record<string | symbol, unknown> | undefined;
  const load = () => (real ??= nodeRequire(id) as Record<string | symbol, unknown>);
  return new Proxy(Object.create(null) as object, {
    get: (_, key) => load()[key],
    set: (_, key, value) => { load()[key] = value; return true; },
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      // A proxy may not report a property its (empty) target lacks as non-configurable.
      return d && { ...d, configurable: true };
    },
  });
}

/**
 * Loads `dir/entry` and, as it requires them, the chunks it imports (`./NAME.js`); anything else it requires is
 * Node's (builtins). `importMetaUrl` is what the bundled code sees as import.meta.url (the launcher's URL in dist/bin,
 * as for a single-file bundle there). Returns when the entry's top level has run; commands go on asynchronously.
 */
export function runChunks(dir: string, entry: string, importMetaUrl: string, useCache = process.env.SKIFF_CODE_CACHE !== '0'): ChunkRun {
  const nodeRequire = createRequire(importMetaUrl);
  const modules = new Map<string, { exports: object }>();
  const caches = new Map<string, CacheUse>();
  const toWrite: { name: string; source: Buffer; script: Script }[] = [];

  const load = (name: string): object => {
    const known = modules.get(name);
    if (known) return known.exports;
    const filename = join(dir, name);
    const source = readFileSync(filename);
    const cachePath = `${filename}.cache`;
    const cached = useCache ? readCodeCache(cachePath, name, source) : 'off';
    const script = new Script(source.toString('utf8'), {
      filename,
      cachedData: typeof cached === 'string' ? undefined : cached,
    });
    const use: CacheUse = typeof cached === 'string' ? cached : script.cachedDataRejected ? 'rejected' : 'used';
    caches.set(name, use);
    if (use !== 'used' && use !== 'off') toWrite.push({ name, source, script });
    const module = { exports: {} };
    // Registered before it runs, as CommonJS does, so that chunks importing each other see the exports so far.
    modules.set(name, module);
    (script.runInThisContext() as ChunkFunction)(module.exports, require, module, importMetaUrl);
    return module.exports;
  };
  const builtins = new Map<string, unknown>();
  const require = (id: string): unknown => {
    if (id.startsWith('./')) return load(id.slice(2));
    if (!isBuiltin(id)) return nodeRequire(id);
    if (!builtins.has(id)) builtins.set(id, lazyBuiltin(nodeRequire, id));
    return builtins.get(id);
  };

  if (useCache) {
    process.once('exit', () => {
      for (const { name, source, script } of toWrite) {
        writeCodeCache(join(dir, `${name}.cache`), name, source, script.createCachedData());
      }
    });
  }
  load(entry);
  return { caches };
}
