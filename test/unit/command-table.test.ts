// The command tables: each run loads only the module of the command it names (none for help), and every line of a
// table is the command its module registers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerCommandsFor, type CommandEntry } from '../../src/cli/common/command-table.js';
import { SKIFF_COMMANDS } from '../../src/cli/skiff/commands.js';

/** A table of stand-in commands that records which modules were loaded. */
function recordingTable(loaded: string[]): CommandEntry[] {
  const leaf = (path: string, aliases?: string[]): CommandEntry => {
    const name = path.split(' ').pop()!;
    return {
      name, aliases, summary: `the ${path} command`,
      load: async () => {
        loaded.push(path);
        return { register: (program: Command) => void (path.includes(' ') ? program.commands.find((c) => c.name() === path.split(' ')[0])! : program).command(name) };
      },
    };
  };
  return [leaf('run'), leaf('list', ['ls']), { name: 'image', summary: 'the image group', subcommands: [leaf('image inspect'), leaf('image mount')] }];
}

async function registered(args: string[]) {
  const loaded: string[] = [];
  const program = new Command('prog').option('--root <dir>').option('--debug').option('--opt [value]');
  await registerCommandsFor(program, recordingTable(loaded), args);
  return { loaded, program };
}

const names = (cmd: Command) => cmd.commands.map((c) => [c.name(), ...c.aliases()].join('|'));

test('help and usage errors list the table without loading a module', async () => {
  for (const args of [[], ['--help'], ['-h', 'run'], ['--root', '/x'], ['frob', 'run'], ['--bogus', 'run'], ['help'], ['help', 'frob']]) {
    const { loaded, program } = await registered(args);
    assert.deepEqual(loaded, [], args.join(' '));
    assert.deepEqual(names(program), ['run', 'list|ls', 'image'], args.join(' '));
    assert.equal(program.commands[0].description(), 'the run command');
  }
});

test('a command loads its module alone, past the program\'s options and their values', async () => {
  for (const [args, path] of [
    [['run', 'img', 'image'], 'run'],
    [['--root', 'image', 'run'], 'run'],
    [['--root=/x', '--debug', 'ls'], 'list'],
    [['--opt', 'v', 'run'], 'run'],
    [['--opt', '--debug', 'run'], 'run'],
    [['--', 'run'], 'run'],
    [['help', 'run'], 'run'],
    [['image', 'mount', 'inspect'], 'image mount'],
  ] as const) {
    const { loaded, program } = await registered([...args]);
    assert.deepEqual(loaded, [path], args.join(' '));
    assert.deepEqual(names(program), [path.split(' ')[0]], args.join(' '));
  }
});

test('a group without a subcommand named lists its subcommands without loading them', async () => {
  for (const args of [['image'], ['image', '--help'], ['help', 'image'], ['image', 'frob']]) {
    const { loaded, program } = await registered(args);
    assert.deepEqual(loaded, [], args.join(' '));
    assert.deepEqual(names(program), ['image']);
    assert.deepEqual(names(program.commands[0]), ['inspect', 'mount']);
    assert.equal(program.commands[0].description(), 'the image group');
  }
});

/** Every path through a table: ['run'], ['image', 'inspect'], ... */
function paths(table: CommandEntry[], prefix: string[] = []): { path: string[]; entry: CommandEntry }[] {
  return table.flatMap((entry) => 'load' in entry ? [{ path: [...prefix, entry.name], entry }] : paths(entry.subcommands, [...prefix, entry.name]));
}

for (const [cli, table] of [['skiff', SKIFF_COMMANDS]] as const) {
  test(`${cli}: each line of the table is the command its module registers`, async () => {
    for (const { path, entry } of paths(table)) {
      const program = new Command(cli).enablePositionalOptions();
      await registerCommandsFor(program, table, path);
      let cmd: Command | undefined = program;
      for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
      assert.ok(cmd, path.join(' '));
      assert.deepEqual(cmd.aliases(), entry.aliases ?? [], path.join(' '));
      assert.ok(cmd.description(), `${path.join(' ')} has a description`);
    }
  });
}
