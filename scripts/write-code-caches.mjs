// Writes the code cache of every chunk in DIR that has none yet, from its compiled top level. scripts/bundle.mjs
// runs it with the node flags of the CLI whose chunks these are: V8 accepts a cache only under the flags it was
// made with.   node [FLAGS] scripts/write-code-caches.mjs DIR
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { writeCodeCache } from '../dist/src/cli/common/chunk-loader.js';

const dir = process.argv[2];
for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
  const path = join(dir, name);
  if (existsSync(`${path}.cache`)) continue;
  const source = readFileSync(path);
  writeCodeCache(`${path}.cache`, name, source, new Script(source.toString('utf8'), { filename: path }).createCachedData());
}
