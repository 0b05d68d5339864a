// Bundles each CLI for a fast start (issue 15): every command is a process that engines start once per container
// operation, so what a start loads and compiles is the budget.
// - esbuild splits each CLI into chunks: the entry (flags and the command table) and one chunk per command module
//   loaded with import(), plus the chunks they share, so `skiff-runtime state` never loads a registry client or tar.
// - Each chunk is turned into a script that evaluates to a CommonJS-style function and is run by the chunk loader
//   (src/cli/common/chunk-loader.ts) with V8's code cache, which Node 20 offers for scripts only.
// - dist/bin/NAME.cjs is the command (a shebang and the loader): CommonJS, because an .mjs entry starts Node's ES
//   module loader, which cost 8% of `skiff --help`. The chunks and their caches are in dist/bin/lib/NAME/.
// - Last, a few harmless commands run once to write the caches, and every chunk they did not load gets one from
//   its compiled top level.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, transform } from 'esbuild';

const common = { platform: 'node', target: 'node20', logLevel: 'warning', minifyWhitespace: true, minifySyntax: true };
// What the bundled code sees as import.meta.url: the launcher's URL in dist/bin (see chunk-loader.ts).
const META_URL = '__skiffImportMetaUrl';

// Each launcher's #! line starts node without NODE_EXTRA_CA_CERTS, whose value it passes on to be put back
// (src/cli/common/deferred-ca.ts says why); env(1) -S expands ${VAR} and takes -u in its one argument.
//
// Each CLI with the node flags of its launcher's #! line. skiffd is long-lived: V8 grows the young generation's
// semi-spaces up to 16 MB each as a daemon allocates, which showed as ~300 KiB of private memory per pod in
// bench/cri.ts; 1 MB semi-spaces keep the daemon's growth to what it holds. The short-lived CLIs keep V8's default.
const CLIS = [
  ['skiff-runtime', 'dist/src/cli/runtime/main.js', ''],
  ['skiff', 'dist/src/cli/skiff/main.js', ''],
  ['skiffd', 'dist/src/cli/skiffd/main.js', '--max-semi-space-size=1'],
];

for (const [cli, entry, nodeFlags] of CLIS) {
  const dir = `dist/bin/lib/${cli}`;
  const result = await build({
    ...common,
    entryPoints: { main: entry },
    bundle: true,
    splitting: true,
    format: 'esm',
    outdir: dir,
    write: false,
    metafile: true,
    // Content hashes in every name: a rebuilt chunk never meets the code cache of its previous content.
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    define: { 'import.meta.url': META_URL },
  });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of result.outputFiles) {
    // ES module syntax becomes require() and exports (import() of a chunk too), which the loader provides.
    const { code } = await transform(file.text.replace(/^#!.*\n/, ""), { ...common, format: "cjs", supported: { "dynamic-import": false } });
    writeFileSync(file.path, `(function(exports,require,module,${META_URL}){${code}\n})`);
  }
  // Which modules each chunk holds and which chunks it imports: test/unit/startup-chunks.test.ts checks with it
  // what the light commands load.
  writeFileSync(`${dir}/metafile.json`, JSON.stringify(result.metafile));
  const main = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === entry)[0].split('/').pop();
  await build({
    ...common,
    stdin: {
      contents: `import { runChunks } from './dist/src/cli/common/chunk-loader.js';
        import { pathToFileURL } from 'node:url';
        runChunks(__dirname + '/lib/${cli}', '${main}', pathToFileURL(__filename).href);`,
      resolveDir: '.',
    },
    bundle: true,
    format: 'cjs',
    outfile: `dist/bin/${cli}.cjs`,
    banner: { js: `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS SKIFF_DEFERRED_CA_CERTS=\${NODE_EXTRA_CA_CERTS} node${nodeFlags ? ` ${nodeFlags}` : ''}` },
  });
  chmodSync(`dist/bin/${cli}.cjs`, 0o755);
}

// The layer writer thread's module goes beside the launchers, where `new URL('./layer-writer-worker.js',
// import.meta.url)` finds it from there as it does from tsc's output.
await build({
  ...common,
  entryPoints: ['dist/src/image/unpack/layer-writer-worker.js'],
  outfile: 'dist/bin/layer-writer-worker.js',
  bundle: true,
  format: 'esm',
  // CommonJS dependencies call require(); an ES module bundle has to provide it.
  banner: { js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);" },
});

// Code caches: the commands below write the caches of the chunks they load, with the functions they ran compiled
// in; they only print help or read an empty private store. Both these and the caches of the chunks they did not
// load are made under the node flags of each CLI's #! line: V8 rejects a code cache made under other heap flags
// (skiffd's --max-semi-space-size), and skiffd would then compile everything again at its first start.
const flagsOf = Object.fromEntries(CLIS.map(([cli, , flags]) => [cli, flags ? flags.split(' ') : []]));
const scratch = mkdtempSync(join(tmpdir(), 'skiff-build-'));
try {
  const train = [
    ['skiff-runtime', '--help'], ['skiff-runtime', '--root', scratch, 'state', 'none'], ['skiff-runtime', '--root', scratch, 'list'],
    ['skiff', '--help'], ['skiff', '--root', scratch, '--state', scratch, 'ps'], ['skiff', '--root', scratch, '--state', scratch, 'images'],
    ['skiffd', '--help'],
  ];
  for (const [cli, ...args] of train) {
    try {
      execFileSync(process.execPath, [...flagsOf[cli], `dist/bin/${cli}.cjs`, ...args], { stdio: 'ignore', env: { ...process.env, SKIFF_CODE_CACHE: '1' } });
    } catch {
      // An error exit (state of no container) still writes its caches.
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
for (const [cli] of CLIS) {
  execFileSync(process.execPath, [...flagsOf[cli], 'scripts/write-code-caches.mjs', `dist/bin/lib/${cli}`], { stdio: 'inherit' });
}
