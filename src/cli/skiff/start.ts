// skiff start [-a] [-i] CONTAINER...: docker start. With -a (one container) its output follows until it exits and
// skiff exits with its status.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { attachTerminal, type AttachedTerminal } from './container-attach.js';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';

export function register(program: Command): void {
  program.command('start')
    .description('start one or more stopped containers')
    .argument('<container...>')
    .option('-a, --attach', "attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "attach the container's STDIN")
    .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      const engine = engineOf(cmd);
      if (o.attach || o.interactive) {
        if (refs.length > 1) throw new SkiffError('you cannot start and attach multiple containers at once', 'EINVAL');
        const id = await engine.resolve(refs[0]);
        const rec = await engine.inspect(id);
        let attached: AttachedTerminal | undefined;
        await engine.start(id, { beforeStart: async () => { attached = await attachTerminal(engine, id, { stdin: Boolean(o.interactive), tty: rec.record.config.tty }); } });
        await attached!.done;
        const done = await engine.finish(id);
        process.exitCode = done?.state.signal ? 128 + done.state.signal : done?.state.exitCode ?? 0;
        return;
      }
      await eachContainer(refs, async (ref) => {
        await engine.start(ref);
        return ref;
      });
    });
}
