// Bundles each CLI into one file: loading one module instead of dozens takes tens of milliseconds off every
// command, which matters for a runtime that engines start once per container operation.
import { build } from 'esbuild';

// The layer writer thread's module goes beside the skiff bundle, where `new URL('./layer-writer-worker.js',
// import.meta.url)` finds it from there as it does from tsc's output.
for (const [entry, out] of [
  ['dist/src/cli/runtime/main.js', 'dist/bin/skiff-runtime.mjs'],
  ['dist/src/cli/skiff/main.js', 'dist/bin/skiff.mjs'],
  ['dist/src/cli/skiffd/main.js', 'dist/bin/skiffd.mjs'],
  ['dist/src/image/unpack/layer-writer-worker.js', 'dist/bin/layer-writer-worker.js'],
]) {
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // Less to parse at every start; identifiers are kept so stack traces (SKIFF_DEBUG=1) stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    // CommonJS dependencies (commander) call require(); an ES module bundle has to provide it.
    banner: { js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);" },
  });
}
