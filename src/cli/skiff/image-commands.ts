// skiff tag, skiff rmi, skiff image inspect: names in the local image store.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { ContentStore, type Descriptor } from '../../image/content-store.js';
import { collectGarbage } from '../../image/gc.js';
import { ImageStore } from '../../image/image-store.js';
import { formatReference, parseReference } from '../../image/reference.js';
import { contextOf } from './context.js';

async function record(root: string, name: string) {
  const full = formatReference(parseReference(name));
  const rec = await new ImageStore(root).get(full);
  if (!rec) throw new SkiffError(`image "${name}" (${full}) is not in the local store`, 'ENOENT');
  return rec;
}

export function register(program: Command): void {
  program.command('tag').description('give an image another name').argument('<source>').argument('<target>')
    .action(async (source: string, target: string, _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const rec = await record(root, source);
      await new ImageStore(root).put(formatReference(parseReference(target)), rec.target);
    });

  // Every name is checked before any goes; then what no name or container uses any more is collected.
  program.command('rmi').description('remove images').argument('<image...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const recs = await Promise.all(names.map((n) => record(root, n)));
      for (const r of recs) {
        await new ImageStore(root).delete(r.name);
        process.stdout.write(`Untagged: ${r.name}\n`);
      }
      await collectGarbage(root);
    });

  const image = program.command('image').description('image details and maintenance');
  image.command('prune').description('remove blobs and unpacked layers no image or container uses')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await collectGarbage(contextOf(cmd).root);
      process.stdout.write(`Removed ${r.blobs} blobs and ${r.snapshots} snapshots\n`);
    });
  image.command('inspect').argument('<image...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const content = new ContentStore(root);
      const out = [];
      for (const n of names) {
        const rec = await record(root, n);
        const manifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(rec.target.digest);
        out.push({ name: rec.name, digest: rec.target.digest, created: rec.created, manifest, config: await content.readJson(manifest.config.digest) });
      }
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}
