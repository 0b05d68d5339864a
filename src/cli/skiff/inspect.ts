// skiff inspect NAME...: docker inspect: each name a container (docker's ContainerJSON shape) or, failing that, an
// image (docker's ImageInspect). Found objects are printed as one JSON array; each name found as neither is an
// error line after it (exit 1), as docker does.
import type { Command } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { dockerInspect } from '../../image/docker-inspect.js';
import { resolveImage } from '../../image/image-summary.js';
import { SkiffError } from '../../common/errors.js';
import { errorLine } from '../common/run-cli.js';
import { dockerContainerInspect } from './container-inspect-format.js';
import { contextOf } from './context.js';
import { engineOf } from './engine-of.js';
import { printErr, printOut } from '../common/print.js';

export async function inspectContainer(engine: Engine, ref: string): Promise<Record<string, unknown>> {
  const view = await engine.inspect(ref);
  const id = view.record.id;
  return dockerContainerInspect(view, engine.spec(id)?.process, {
    containerDir: engine.ctx.paths.container(id), logPath: engine.ctx.paths.log(id), volumeMountpoint: (n) => engine.ctx.volumes.mountpoint(n),
  });
}

export async function printInspected(refs: string[], find: (ref: string) => Promise<unknown>): Promise<void> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await find(ref));
    } catch (err) {
      errors.push(errorLine('skiff', err));
    }
  }
  printOut(JSON.stringify(found, null, 4) + '\n');
  printErr(errors.map((l) => `${l}\n`).join(''));
  if (errors.length) process.exitCode = 1;
}

export function register(program: Command): void {
  program.command('inspect')
    .description('return low-level information on containers or images (JSON)')
    .argument('<name...>')
    .option('--type <type>', 'only container or image')
    .action(async (refs: string[], o: { type?: string }, cmd: Command) => {
      if (o.type !== undefined && o.type !== 'container' && o.type !== 'image') throw new SkiffError(`--type ${o.type}: expected container or image`, 'EINVAL');
      const engine = engineOf(cmd);
      const root = contextOf(cmd).root;
      await printInspected(refs, async (ref) => {
        if (o.type !== 'image') {
          try {
            return await inspectContainer(engine, ref);
          } catch (err) {
            if ((err as SkiffError).code !== 'ENOENT' || o.type === 'container') throw err;
          }
        }
        const { image, names } = await resolveImage(root, ref).catch(() => {
          throw new SkiffError(`No such object: ${ref}`, 'ENOENT');
        });
        if (image.id === undefined || image.config === undefined) throw new SkiffError(`image "${ref}": ${image.problem}`, 'EIO');
        return dockerInspect({ ...image, id: image.id }, names);
      });
    });
}
