// skiff-runtime spec: write a default config.json into the bundle (runc spec).
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { defaultSpec } from '../../oci/default-spec.js';

export function register(program: Command): void {
  program.command('spec')
    .description('create a new specification file (config.json) in the bundle')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--rootless', 'generate a configuration for a rootless container')
    .action(async (o: { bundle: string; rootless?: boolean }) => {
      const path = join(o.bundle, 'config.json');
      if (await access(path).then(() => true, () => false)) {
        throw new SkiffError(`File ${path} exists. Remove it first`, 'EEXIST');
      }
      await writeFile(path, JSON.stringify(defaultSpec({ rootless: o.rootless }), null, '\t'));
    });
}
