// skiff pod create|start|stop|restart|rm|ps|inspect|top|logs|kill: podman's pod commands on the pod layer. A pod is
// run without a daemon: its pause and its containers' monitors outlive this process.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { Pods, type PodView } from '../../pod/pods.js';
import { humanDuration } from './docker-units.js';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';
import { alignTabs } from './format-template.js';
import { podOptions, podRequest, type PodFlags } from './pod-flags.js';
import { parseTimeout } from './stop.js';
import { printOut } from '../common/print.js';

export function podsOf(cmd: Command): Pods {
  return new Pods(engineOf(cmd));
}

function statusText(v: PodView, now: number): string {
  if (v.status === 'running') return `Running (${humanDuration(now - Date.parse(v.started ?? v.created))})`;
  if (v.status === 'exited') return 'Exited';
  return 'Created';
}

export function register(program: Command): void {
  const pod = program.command('pod').description('manage pods');

  podOptions(pod.command('create').description('create a pod (started by pod start, or by run --pod)'))
    .action(async (f: PodFlags, cmd: Command) => {
      printOut(`${(await podsOf(cmd).create(podRequest(f))).id}\n`);
    });

  pod.command('start').description('start pods: the sandbox, then their containers').argument('<pod...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const pods = podsOf(cmd);
      await eachContainer(refs, async (ref) => (await pods.start(ref)).id);
    });

  pod.command('stop').description('stop pods: their containers in reverse order, then the sandbox').argument('<pod...>')
    .option('-t, --time <seconds>', 'seconds to wait for each container before killing it (default: its own, else 10)')
    .action(async (refs: string[], o: { time?: string }, cmd: Command) => {
      const pods = podsOf(cmd);
      const timeout = parseTimeout(o.time);
      await eachContainer(refs, async (ref) => {
        await pods.stop(ref, timeout);
        return (await pods.resolve(ref));
      });
    });

  pod.command('restart').description('stop and start pods').argument('<pod...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const pods = podsOf(cmd);
      await eachContainer(refs, async (ref) => {
        await pods.stop(ref);
        return (await pods.start(ref)).id;
      });
    });

  pod.command('rm').description('remove pods and their containers').argument('<pod...>')
    .option('-f, --force', 'stop a running pod first')
    .action(async (refs: string[], o: { force?: boolean }, cmd: Command) => {
      const pods = podsOf(cmd);
      await eachContainer(refs, async (ref) => {
        const id = await pods.resolve(ref);
        await pods.remove(id, { force: o.force });
        return id;
      });
    });

  pod.command('kill').description('send a signal to the containers of pods').argument('<pod...>')
    .option('-s, --signal <signal>', 'the signal (default SIGKILL)', 'SIGKILL')
    .action(async (refs: string[], o: { signal: string }, cmd: Command) => {
      const pods = podsOf(cmd);
      await eachContainer(refs, async (ref) => {
        await pods.kill(ref, o.signal);
        return pods.resolve(ref);
      });
    });

  pod.command('ps').alias('ls').description('list pods')
    .option('-q, --quiet', 'only IDs')
    .option('--no-trunc', 'full IDs')
    .action(async (o: { quiet?: boolean; trunc: boolean }, cmd: Command) => {
      const views = await podsOf(cmd).list();
      const id = (v: PodView) => (o.trunc ? v.id.slice(0, 12) : v.id);
      if (o.quiet) {
        printOut(views.map((v) => `${id(v)}\n`).join(''));
        return;
      }
      const now = Date.now();
      const rows = ['POD ID\tNAME\tSTATUS\tCREATED\tIP\t# OF CONTAINERS',
        ...views.map((v) => [id(v), v.name, statusText(v, now), `${humanDuration(now - Date.parse(v.created))} ago`, v.ip ?? '', String(v.containers.length)].join('\t'))];
      printOut(alignTabs(rows, 3));
    });

  pod.command('inspect').description('show pods as JSON').argument('<pod...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const pods = podsOf(cmd);
      const out: PodView[] = [];
      for (const ref of refs) out.push(await pods.inspect(ref));
      printOut(`${JSON.stringify(out, null, 2)}\n`);
    });

  pod.command('top').description('the processes of a pod\'s running containers').argument('<pod>')
    .argument('[ps-options...]', 'options for ps(1) (default: -ef)')
    .passThroughOptions().allowUnknownOption()
    .action(async (ref: string, psArgs: string[], _o: unknown, cmd: Command) => {
      const pods = podsOf(cmd);
      const view = await pods.inspect(ref);
      const rows: string[] = [];
      for (const cid of view.containers) {
        const c = await pods.engine.inspect(cid).catch(() => undefined);
        if (c?.status !== 'running') continue;
        const { titles, processes } = await pods.engine.top(cid, psArgs);
        if (!rows.length) rows.push(['CONTAINER', ...titles].join('\t'));
        for (const p of processes) rows.push([c.record.name, ...p].join('\t'));
      }
      if (!rows.length) throw new SkiffError(`pod ${view.name} has no running container`, 'EINVAL');
      printOut(alignTabs(rows, 3));
    });

  pod.command('logs').description('the logs of a pod\'s containers, each line after its container\'s name').argument('<pod>')
    .option('-c, --container <name>', 'only this container')
    .option('-f, --follow', 'follow until the containers stop')
    .option('-n, --tail <n>', 'lines from the end of each log ("all" for all)', 'all')
    .action(async (ref: string, o: { container?: string; follow?: boolean; tail: string }, cmd: Command) => {
      if (o.tail !== 'all' && !/^\d+$/.test(o.tail)) throw new SkiffError(`--tail ${o.tail}: expected a number or "all"`, 'EINVAL');
      const pods = podsOf(cmd);
      const view = await pods.inspect(ref);
      let ids = view.containers;
      if (o.container !== undefined) {
        const want = await pods.engine.resolve(o.container);
        if (!ids.includes(want)) throw new SkiffError(`-c ${o.container}: not a container of pod ${view.name}`, 'EINVAL');
        ids = [want];
      }
      await Promise.all(ids.map(async (cid) => {
        const name = (await pods.engine.inspect(cid)).record.name;
        const logs = pods.engine.logs(cid, { follow: o.follow, tail: o.tail === 'all' ? undefined : Number(o.tail) });
        for await (const e of logs) (e.stream === 'stdout' ? process.stdout : process.stderr).write(`${name} ${e.text}`);
      }));
    });
}
