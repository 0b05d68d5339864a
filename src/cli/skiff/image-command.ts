// The `skiff image` group: every `image SUBCOMMAND` module adds itself to the one group through this function.
import type { Command } from 'commander';

export function imageCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'image') ?? program.command('image').description('image details and maintenance');
}
