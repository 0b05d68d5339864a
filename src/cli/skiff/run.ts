// skiff run --rm IMAGE [COMMAND...]: the image (pulled if missing; the built-in default image made locally), its
// rootfs as an overlay, its config and the flags applied, run in the foreground through the runtime library with
// our stdio, then container and rootfs removed. Exits with the container's status (128+N for a signal).
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { containerSpec } from '../../image/container-config.js';
import { localImage } from '../../image/local-image.js';
import { prepareRootfs } from '../../image/rootfs.js';
import { ContainerStore } from '../../runtime/container-store.js';
import { Runtime } from '../../runtime/runtime.js';
import { contextOf } from './context.js';

interface RunFlags {
  rm?: boolean;
  env: string[];
  workdir?: string;
  user?: string;
  name?: string;
  entrypoint?: string;
  tty?: boolean;
}

export function register(program: Command): void {
  program.command('run')
    .description('run a command in a new container (foreground; --rm required for now)')
    .argument('<image>')
    .argument('[command...]')
    .option('--rm', 'remove the container when it exits')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user (name or uid) and group')
    .option('--name <name>', 'container name')
    .option('--entrypoint <command>', 'override the image\'s entrypoint')
    .option('-t, --tty', 'allocate a terminal')
    .passThroughOptions()
    .action(async (image: string, command: string[], o: RunFlags, cmd: Command) => {
      if (!o.rm) throw new SkiffError('--rm is required for now: keeping a stopped container needs `skiff rm`, which does not exist yet', 'ENOTSUP');
      if (o.tty && !process.stdin.isTTY) throw new SkiffError('-t: standard input is not a terminal', 'EINVAL');
      const ctx = contextOf(cmd);
      const id = o.name ?? randomBytes(6).toString('hex');
      ContainerStore.checkId(id);
      const runtime = new Runtime({ root: join(ctx.state, 'runtime') });
      if ((await runtime.store.ids()).includes(id)) throw new SkiffError(`a container named "${id}" already exists`, 'EEXIST');
      const img = await localImage(ctx.root, image, { pull: true, log: (l) => process.stderr.write(`${l}\n`) });
      const bundle = join(ctx.state, 'containers', id);
      mkdirSync(bundle, { recursive: true });
      try {
        const rootfs = await prepareRootfs(ctx.root, id, img.layers);
        try {
          const spec = containerSpec(img.config, rootfs.path, {
            command, entrypoint: o.entrypoint !== undefined ? [o.entrypoint] : undefined, env: o.env, workdir: o.workdir,
            user: o.user, hostname: id.slice(0, 64), terminal: Boolean(o.tty),
          });
          writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
          const { exitCode } = await runtime.run(id, { bundle, consoleSocket: o.tty ? '' : undefined });
          process.exitCode = exitCode;
        } finally {
          await rootfs.unmount();
        }
      } finally {
        rmSync(bundle, { recursive: true, force: true });
      }
    });
}
