// The `skiff image` group: the command table adds it (with its summary) before it loads an `image SUBCOMMAND`
// module, and each such module adds itself to the group through this function.
import type { Command } from 'commander';

export function imageCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'image') ?? program.command('image');
}
