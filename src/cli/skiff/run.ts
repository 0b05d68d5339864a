// skiff run [flags] IMAGE [COMMAND...]: docker run. The container is created (the image pulled if missing, with
// docker's "Unable to find image" and progress, unless -q) and started under its monitor. With -d its ID is
// printed and skiff is done; in the foreground skiff attaches before the start (so no output is missed), passes
// its signals on to the container (docker's --sig-proxy, signal-relay.ts), and exits with the container's status
// (128+N for a signal; 127 and 126 for a command that cannot be found or run, 125 when the run itself fails); with
// --rm the container is removed after, by this process, or by the monitor's exit command if this one is gone.
import type { Command } from 'commander';
import { CommandFailure, commandFailure } from '../../engine/command-failure.js';
import type { CreateRequest } from '../../engine/container-create.js';
import type { Engine } from '../../engine/engine.js';
import { SkiffError } from '../../common/errors.js';
import { errorLine } from '../common/run-cli.js';
import { containerConfig, containerOptions, type ContainerFlags } from './container-flags.js';
import { attachTerminal, type AttachedTerminal } from './container-attach.js';
import { contextOf } from './context.js';
import { engineOf } from './engine-of.js';
import { createInPod } from './pod-member.js';
import { pullMissing } from './pull-missing.js';
import { Interrupted, SignalRelay } from './signal-relay.js';
import { printOut } from '../common/print.js';

/** docker run's status when the run itself fails (the daemon's error, not the container's). */
const RUN_FAILED = 125;

export function register(program: Command): void {
  containerOptions(program.command('run')
    .description('create and run a new container from an image')
    .argument('<image>')
    .argument('[command...]')
    .option('-d, --detach', 'run the container in the background and print its ID'))
    .passThroughOptions()
    .action(async (image: string, command: string[], f: ContainerFlags, cmd: Command) => {
      if (f.tty && !f.detach && !process.stdin.isTTY) throw new SkiffError('-t: standard input is not a terminal', 'EINVAL');
      const engine = engineOf(cmd);
      const relay = new SignalRelay();
      try {
        process.exitCode = await run(engine, contextOf(cmd).root, image, command, f, relay);
      } catch (err) {
        process.exitCode = err instanceof Interrupted || err instanceof CommandFailure ? err.exitStatus : RUN_FAILED;
        throw err;
      } finally {
        relay.stop();
      }
    });
}

async function run(engine: Engine, root: string, image: string, command: string[], f: ContainerFlags, relay: SignalRelay): Promise<number> {
  const config = containerConfig(f, command);
  const pull = pullMissing(root, image, Boolean(f.quiet));
  const req: CreateRequest = {
    image, name: f.name, config,
    // A pull cannot be stopped half way and the store survives one that is killed, so a signal ends skiff at once.
    pullMissing: async (name) => {
      const release = relay.interruptWith((signal) => {
        const err = new Interrupted(signal);
        process.stderr.write(`${errorLine('skiff', err)}\n`);
        process.exit(err.exitStatus);
      });
      try {
        await pull(name);
      } finally {
        release();
      }
    },
  };
  const member = f.pod !== undefined ? await createInPod(engine, f.pod, req) : undefined;
  const rec = member?.rec ?? await engine.create(req);
  // The pod's sandbox first: the container joins its namespaces.
  if (member) await member.pods.startSandbox(member.podId);
  const argv0 = [...(config.entrypoint ?? []), ...(config.command ?? [])][0] ?? '';
  if (f.detach) {
    try {
      await engine.start(rec.id);
    } catch (err) {
      throw commandFailure(err, argv0) ?? err;
    }
    printOut(`${rec.id}\n`);
    return 0;
  }
  try {
    relay.throwIfInterrupted();
  } catch (err) {
    await engine.remove(rec.id, { force: true, volumes: true });
    throw err;
  }
  // From here the container is ours to remove when --rm: the exit command leaves it to us while we live. Without a
  // restart policy, which only the exit command applies, we also take down its run (engine.finish): the monitor
  // then starts no exit command while we live.
  await engine.ctx.waiters.register(rec.id);
  if (config.restartPolicy.name === 'no') await engine.ctx.waiters.claimExit(rec.id);
  try {
    return await runAttached(engine, rec.id, argv0, f, relay);
  } finally {
    // Unregistered only after: until then the monitor's exit command leaves the removal to us.
    if (config.autoRemove) await engine.remove(rec.id, { force: true, volumes: true }).catch((err: SkiffError) => {
      if (err.code !== 'ENOENT') throw err;
    });
    engine.ctx.waiters.unregister(rec.id);
    engine.ctx.waiters.releaseExit(rec.id);
  }
}

/** Starts the container attached to our stdio, relays signals, and returns its exit status. */
async function runAttached(engine: Engine, id: string, argv0: string, f: ContainerFlags, relay: SignalRelay): Promise<number> {
  const forward = (signal: NodeJS.Signals) => engine.kill(id, signal).catch((err: SkiffError) => {
    // Exited (and removed) since the signal came: nothing is left to pass it to.
    if (err.code !== 'ENOENT' && err.code !== 'EINVAL') process.stderr.write(`skiff: ${signal} not passed on: ${err.message}\n`);
  });
  relay.hold();
  let attached: AttachedTerminal | undefined;
  try {
    await engine.start(id, {
      beforeStart: async () => {
        attached = await attachTerminal(engine, id, { stdin: Boolean(f.interactive), tty: Boolean(f.tty) });
      },
    });
  } catch (err) {
    throw commandFailure(err, argv0) ?? err;
  }
  relay.attach(forward);
  await attached!.done;
  const done = await engine.finish(id);
  const state = done?.state;
  return state?.signal ? 128 + state.signal : state?.exitCode ?? 255;
}
