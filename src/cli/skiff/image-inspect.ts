// skiff image inspect IMAGE...: docker's shape (a JSON array of ImageInspect objects), by name or image ID. As
// docker does, the images found are printed and each one that is not is an error line after them (exit 1).
import type { Command } from 'commander';
import { dockerInspect, type DockerImageInspect } from '../../image/docker-inspect.js';
import { resolveImage } from '../../image/image-summary.js';
import { errorLine } from '../common/run-cli.js';
import { contextOf } from './context.js';
import { imageCommand } from './image-command.js';
import { printErr, printOut } from '../common/print.js';

export function register(program: Command): void {
  imageCommand(program).command('inspect').argument('<image...>')
    .action(async (inputs: string[], _o: unknown, cmd: Command) => {
      const root = contextOf(cmd).root;
      const found: DockerImageInspect[] = [];
      const errors: string[] = [];
      const warnings: string[] = [];
      for (const input of inputs) {
        try {
          const { image, names } = await resolveImage(root, input);
          const { id, config, problem } = image;
          if (id === undefined || config === undefined) throw new Error(`image "${input}": ${problem}`);
          if (problem) warnings.push(`skiff: warning: image "${image.record.name}": ${problem}`);
          found.push(dockerInspect({ ...image, id }, names));
        } catch (err) {
          errors.push(errorLine('skiff', err));
        }
      }
      printOut(JSON.stringify(found, null, 4) + '\n');
      printErr([...warnings, ...errors].map((l) => `${l}\n`).join(''));
      if (errors.length) process.exitCode = 1;
    });
}
