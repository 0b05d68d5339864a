// skiff kube play FILE.yaml | kube down FILE.yaml: a Kubernetes v1 Pod (or a Deployment's pod template, one
// replica) run as a skiff pod without any daemon, and removed again. The file is checked whole first: a field skiff
// does not do is an error naming its path in the YAML.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { downKube, playKube } from '../../pod/kube-play.js';
import { parseKubeFile } from '../../pod/kube-spec.js';
import { contextOf } from './context.js';
import { podsOf } from './pod.js';
import { pullMissing } from './pull-missing.js';
import { printOut } from '../common/print.js';

function readPods(file: string, what: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError(`kube ${what} ${file}: ${(err as Error).message}`, (err as NodeJS.ErrnoException).code ?? 'ENOENT');
  }
  return parseKubeFile(text, `kube ${what} ${basename(file)}`);
}

export function register(program: Command): void {
  const kube = program.command('kube').description('run Kubernetes Pod files without a daemon');

  kube.command('play').description('create and start the pods a Kubernetes YAML file describes').argument('<file>')
    .option('-q, --quiet', 'suppress the pull output')
    .option('--start <bool>', 'start the pods (true) or only create them (false)', 'true')
    .action(async (file: string, o: { quiet?: boolean; start: string }, cmd: Command) => {
      if (o.start !== 'true' && o.start !== 'false') throw new SkiffError(`--start ${o.start}: expected true or false`, 'EINVAL');
      const kubePods = readPods(file, 'play');
      const pods = podsOf(cmd);
      const root = contextOf(cmd).root;
      for (const k of kubePods) {
        const view = await playKube(pods, k, { pullMissing: (image) => pullMissing(root, image, Boolean(o.quiet))(image), noStart: o.start === 'false' });
        printOut(`Pod:\n${view.id}\nContainers:\n${view.containers.join('\n')}\n`);
      }
    });

  kube.command('down').description('stop and remove the pods a Kubernetes YAML file describes').argument('<file>')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const pods = podsOf(cmd);
      for (const k of readPods(file, 'down')) {
        const id = await downKube(pods, k);
        printOut(id ? `Pods stopped:\n${id}\nPods removed:\n${id}\n` : `no pod ${k.name}\n`);
      }
    });
}
