// A CLI's commands as a table of names, one-line summaries and module loaders, so that each run loads only the
// module of the command it runs: a Node process pays for every module it evaluates, and `skiff-runtime state` or
// `skiff --help` should not pay for a registry client, tar or progress bars.
import { Help, type Command } from 'commander';

/** A command's module: adds its command (flags, arguments, action) to the program, under its group if it has one. */
export interface CommandModule {
  register(program: Command): void;
}

interface EntryName {
  name: string;
  aliases?: string[];
  /** The line in the parent's help; also the command's own description unless its module sets a longer one. */
  summary: string;
  /**
   * What the parent's help shows after the name, as the module's command would (`[options] <container-id>`), so
   * the listing reads as if every module were loaded; without it the line shows the name alone.
   */
  usage?: string;
}

/** A command, or a group that one module registers whole (`skiff network`). */
export interface CommandLeaf extends EntryName {
  load: () => Promise<CommandModule>;
}

/** A group whose subcommands come from modules of their own (`skiff image inspect`, `skiff image mount`). */
export interface CommandGroup extends EntryName {
  subcommands: CommandEntry[];
}

export type CommandEntry = CommandLeaf | CommandGroup;

const named = (e: EntryName, word: string | undefined) => e.name === word || (e.aliases?.includes(word!) ?? false);

/**
 * The index in `args` of the first word that is not one of `cmd`'s own options or their values (what commander
 * takes for the subcommand's name), or -1: there is none, or an option `cmd` does not know (help, or an error
 * commander reports).
 */
function firstOperand(cmd: Command, args: string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') return i + 1;
    if (!arg.startsWith('-') || arg === '-') return i;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const option = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (!option) return -1;
    if (eq >= 0) continue;
    if (option.required || (option.optional && args[i + 1] !== undefined && !args[i + 1].startsWith('-'))) i++;
  }
  return -1;
}

/** The group's or the help listing's command for an entry, with its summary and aliases but no module behind it. */
function addListed(parent: Command, e: CommandEntry): Command {
  const cmd = parent.command(e.name).description(e.summary);
  if (e.aliases) cmd.aliases(e.aliases);
  if (e.usage !== undefined) {
    listedTerms.set(cmd, [e.name, ...(e.aliases ?? [])].slice(0, 2).join('|') + (e.usage ? ` ${e.usage}` : ''));
    const help = parent.configureHelp();
    if (!help.subcommandTerm) {
      parent.configureHelp({ ...help, subcommandTerm: (c) => listedTerms.get(c) ?? new Help().subcommandTerm(c) });
    }
  }
  return cmd;
}

const listedTerms = new WeakMap<Command, string>();

/**
 * Adds to `program` what `args` (the words after the program's name) call for: the module of the command they
 * name (inside a group, of the subcommand; `help CMD` as `CMD --help`), or, when they name none (`--help`, no
 * command, an unknown one), the table's commands at that level as lines of help, with no module loaded. Commander
 * then parses `args` as usual, so every command's own help and usage errors are those its module defines.
 */
export async function registerCommandsFor(program: Command, table: CommandEntry[], args: string[]): Promise<void> {
  let parent = program;
  let entries = table;
  let rest = args;
  for (;;) {
    let i = firstOperand(parent, rest);
    const helpFor = i >= 0 && rest[i] === 'help' && !entries.some((e) => named(e, 'help'));
    if (helpFor) i++;
    const entry = i >= 0 ? entries.find((e) => named(e, rest[i])) : undefined;
    if (!entry) {
      for (const e of entries) addListed(parent, e);
      return;
    }
    if ('load' in entry) {
      (await entry.load()).register(program);
      const cmd = parent.commands.find((c) => c.name() === entry.name);
      if (!cmd) throw new Error(`the module of "${entry.name}" registers no command of that name`);
      if (!cmd.description()) cmd.description(entry.summary);
      return;
    }
    parent = addListed(parent, entry);
    entries = entry.subcommands;
    rest = helpFor ? [] : rest.slice(i + 1);
  }
}
