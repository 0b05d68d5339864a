// skiff run --rm IMAGE [COMMAND...]: the image (pulled if missing, with docker's "Unable to find image" and the
// progress skiff pull shows, unless -q; the built-in default image made locally), its rootfs as an overlay, its
// config and the flags applied, run in the foreground through the runtime library with our stdio, then container
// and rootfs removed. Signals to skiff are passed on to the container (signal-relay.ts). Exits as docker run does:
// with the container's status (128+N for a signal), 127 for a command that is not found, 126 for one that cannot
// be invoked.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { containerSpec } from '../../image/container-config.js';
import { localImage } from '../../image/local-image.js';
import { pull } from '../../image/pull.js';
import { prepareRootfs } from '../../image/rootfs.js';
import { ContainerStore } from '../../runtime/container-store.js';
import { Runtime } from '../../runtime/runtime.js';
import { errorLine } from '../common/run-cli.js';
import { CommandFailure, commandFailure } from '../../engine/command-failure.js';
import { contextOf } from './context.js';
import { Interrupted, SignalRelay } from './signal-relay.js';
import { transferProgress } from './transfer-progress.js';

interface RunFlags {
  rm?: boolean;
  env: string[];
  workdir?: string;
  user?: string;
  name?: string;
  entrypoint?: string;
  tty?: boolean;
  quiet?: boolean;
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
    .option('-q, --quiet', 'suppress the pull output')
    .passThroughOptions()
    .action(async (image: string, command: string[], o: RunFlags, cmd: Command) => {
      if (!o.rm) throw new SkiffError('--rm is required for now: keeping a stopped container needs `skiff rm`, which does not exist yet', 'ENOTSUP');
      if (o.tty && !process.stdin.isTTY) throw new SkiffError('-t: standard input is not a terminal', 'EINVAL');
      const ctx = contextOf(cmd);
      const id = o.name ?? randomBytes(6).toString('hex');
      ContainerStore.checkId(id);
      const runtime = new Runtime({ root: join(ctx.state, 'runtime') });
      if ((await runtime.store.ids()).includes(id)) throw new SkiffError(`a container named "${id}" already exists`, 'EEXIST');
      const relay = new SignalRelay();
      try {
        const img = await localImage(ctx.root, image, { pullMissing: (name) => pullMissing(ctx.root, image, name, Boolean(o.quiet), relay) });
        relay.throwIfInterrupted();
        const bundle = join(ctx.state, 'containers', id);
        mkdirSync(bundle, { recursive: true });
        try {
          const rootfs = await prepareRootfs(ctx.root, id, img.layers);
          try {
            relay.throwIfInterrupted();
            const spec = containerSpec(img.config, rootfs.path, {
              command, entrypoint: o.entrypoint !== undefined ? [o.entrypoint] : undefined, env: o.env, workdir: o.workdir,
              user: o.user, hostname: id.slice(0, 64), terminal: Boolean(o.tty),
            });
            writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
            process.exitCode = await runForeground(runtime, id, bundle, spec.process?.args?.[0] ?? '', Boolean(o.tty), relay);
          } finally {
            await rootfs.unmount();
          }
        } finally {
          rmSync(bundle, { recursive: true, force: true });
        }
      } catch (err) {
        if (err instanceof Interrupted || err instanceof CommandFailure) process.exitCode = err.exitStatus;
        throw err;
      } finally {
        relay.stop();
      }
    });
}

/** Creates and starts the container, relays signals to it, and waits for its exit status. */
async function runForeground(runtime: Runtime, id: string, bundle: string, command: string, tty: boolean, relay: SignalRelay): Promise<number> {
  const forward = (signal: NodeJS.Signals) => runtime.kill(id, signal).catch((err: NodeJS.ErrnoException) => {
    // The container may have exited (and been deleted) since the signal came: nothing is left to pass it to.
    if (err.code !== 'ESRCH' && err.code !== 'ENOENT') process.stderr.write(`skiff: ${signal} not passed on: ${err.message}\n`);
  });
  relay.hold();
  try {
    const { exitCode } = await runtime.run(id, {
      bundle,
      consoleSocket: tty ? '' : undefined,
      // Without -t, Ctrl-C makes the terminal signal our whole process group: the native parent, which would pass
      // SIGINT on too, is kept out of it, so the container gets it once. With -t the terminal is raw (no signal
      // for Ctrl-C, which reaches the container through its pty), and the parent stays in our process group, which
      // keeps job control: a run in the background is stopped (SIGTTIN, SIGTTOU) before it takes the terminal,
      // and a resize (SIGWINCH) reaches the parent that resizes the container's pty.
      ownSession: !tty,
      onStarted: () => relay.attach(forward),
    });
    return exitCode;
  } catch (err) {
    throw commandFailure(err, command) ?? err;
  }
}

/**
 * The pull of a missing image, shown as docker run shows it (on stderr, so stdout stays the container's). A pull
 * cannot be stopped half-way, and the store survives one that is killed (downloads resume; a dead process's lease
 * is collected), so a signal during it ends skiff at once; nothing of the container exists yet.
 */
async function pullMissing(root: string, input: string, name: string, quiet: boolean, relay: SignalRelay): Promise<void> {
  if (!quiet) process.stderr.write(`Unable to find image '${name}' locally\n`);
  const progress = transferProgress({ quiet });
  const release = relay.interruptWith((signal) => {
    progress.stop();
    const err = new Interrupted(signal);
    process.stderr.write(`${errorLine('skiff', err)}\n`);
    process.exit(err.exitStatus);
  });
  try {
    await pull(root, input, { onProgress: progress.onProgress, log: progress.log, unpack: true });
  } finally {
    release();
    progress.stop();
  }
}
