// What the light commands load (issue 15), from the build's own record of its chunks (scripts/bundle.mjs writes
// esbuild's metafile beside each CLI's chunks): a command module's chunk and every chunk it imports statically, the
// ones that run before the command does. None may hold the registry client (undici), tar, YAML, the progress bars,
// or skiffd's gRPC, logger (pino) and streaming websockets (ws): those belong to pull, push, load, kube and skiffd,
// and loading one would cost every start of a light command.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }>;
}

const HEAVY = /node_modules\/(undici|tar|yaml|@grpc|protobufjs|pino|cli-progress|ws)\/|src\/image\/registry\//;

function metafile(cli: string): Metafile {
  return JSON.parse(readFileSync(new URL(`../../bin/lib/${cli}/metafile.json`, import.meta.url), 'utf8')) as Metafile;
}

/** The source modules that run before the command of `entry` (a module of dist/src/cli/...) does. */
function loadedBefore(meta: Metafile, entry: string): string[] {
  const start = Object.keys(meta.outputs).find((o) => meta.outputs[o].entryPoint === entry);
  assert.ok(start, `no chunk for ${entry}`);
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out) || !meta.outputs[out]) return;
    seen.add(out);
    for (const i of meta.outputs[out].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(start);
  return [...seen].flatMap((o) => Object.keys(meta.outputs[o].inputs));
}

const LIGHT: Record<string, string[]> = {
  'skiff-runtime': ['state', 'start', 'kill', 'delete', 'list'].map((c) => `dist/src/cli/runtime/${c}.js`),
  skiff: ['ps', 'images', 'rm', 'stop', 'pod'].map((c) => `dist/src/cli/skiff/${c}.js`),
};

for (const [cli, entries] of Object.entries(LIGHT)) {
  test(`${cli}: the light commands load no registry client, tar, YAML, progress bars, or skiffd's gRPC, pino or ws`, () => {
    const meta = metafile(cli);
    for (const entry of entries) {
      const heavy = loadedBefore(meta, entry).filter((m) => HEAVY.test(m));
      assert.deepEqual(heavy, [], `${entry} loads ${heavy.join(', ')}`);
    }
  });
}
