// skiff login [-u USER] [--password-stdin] [--authfile FILE] REGISTRY: checks the credentials against the
// registry (GET /v2/ with its auth flow), then stores them in ~/.docker/config.json (or --authfile), through the
// credential helper configured there for the registry if there is one (credentials.ts). On a terminal the user
// name is asked with echo and the password without (password-prompt.ts).
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { parseReference } from '../../image/reference.js';
import { RegistryClient } from '../../image/registry/client.js';
import { defaultAuthFile, storeCredentials } from '../../image/registry/credentials.js';
import { loadRegistriesConfig } from '../../image/registry/hosts.js';
import { contextOf } from './context.js';
import { Interrupted, readPassword } from './password-prompt.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The user name, asked on the terminal with readline's line editing; Ctrl-C and Ctrl-D end the command. */
async function promptUsername(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // readline pauses the input on Ctrl-C or Ctrl-D and leaves the question unanswered: say so instead.
  const ended = new Promise<never>((_, reject) => {
    rl.once('SIGINT', () => reject(new Interrupted('login')));
    rl.once('close', () => reject(new SkiffError('login: no user name given (end of input)', 'EINVAL')));
  });
  ended.catch(() => {});
  try {
    return await Promise.race([rl.question('Username: '), ended]);
  } finally {
    rl.close();
  }
}

/** The registry argument as a host[:port]; docker's "https://host/" forms are accepted. */
export function registryDomain(arg: string, flag: string): string {
  const host = arg.replace(/^https?:\/\//, '').replace(/\/(v[12]\/?)?$/, '');
  if (host.includes('/')) throw new SkiffError(`${flag}: "${arg}" is not a registry host[:port]`, 'EINVAL');
  try {
    return parseReference(`${host}/x`).domain;
  } catch {
    throw new SkiffError(`${flag}: "${arg}" is not a registry host[:port]`, 'EINVAL');
  }
}

export function register(program: Command): void {
  program.command('login').argument('<registry>')
    .option('-u, --username <user>', 'user name (asked on a terminal if not given)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .action(async (registry: string, o: { username?: string; passwordStdin?: boolean; authfile: string }, cmd: Command) => {
      const domain = registryDomain(registry, 'login');
      const tty = Boolean(process.stdin.isTTY);
      if (!o.username && (o.passwordStdin || !tty)) throw new SkiffError('login: --username is required when standard input is not a terminal', 'EINVAL');
      if (!o.passwordStdin && !tty) throw new SkiffError('login: give the password with --password-stdin (it is never taken as an argument)', 'EINVAL');
      let username: string;
      let password: string;
      try {
        username = o.username ?? await promptUsername();
        password = o.passwordStdin ? await readStdin() : await readPassword('Password: ', 'login');
      } catch (err) {
        if (err instanceof Interrupted) process.exitCode = 130;
        throw err;
      }
      if (!username || !password) throw new SkiffError('login: the user name and password must not be empty', 'EINVAL');
      const creds = { username, password };
      const client = new RegistryClient(parseReference(`${domain}/login-check`), { purpose: 'pull', credentials: creds, config: loadRegistriesConfig(contextOf(cmd).root) });
      await client.ping();
      await storeCredentials(domain, creds, o.authfile);
      process.stdout.write('Login Succeeded\n');
    });
}
