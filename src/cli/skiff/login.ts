// skiff login [-u USER] [--password-stdin] [--authfile FILE] REGISTRY: checks the credentials against the
// registry (GET /v2/ with its auth flow), then stores them in ~/.docker/config.json (or --authfile).
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { parseReference } from '../../image/reference.js';
import { RegistryClient } from '../../image/registry/client.js';
import { defaultAuthFile, storeCredentials } from '../../image/registry/credentials.js';
import { loadRegistriesConfig } from '../../image/registry/hosts.js';
import { contextOf } from './context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks on the terminal; the password with echo off (stty, as docker does on Unix). */
async function prompt(question: string, secret: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  if (secret) spawnSync('stty', ['-echo'], { stdio: ['inherit', 'ignore', 'ignore'] });
  try {
    return await rl.question(question);
  } finally {
    if (secret) {
      spawnSync('stty', ['echo'], { stdio: ['inherit', 'ignore', 'ignore'] });
      process.stderr.write('\n');
    }
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
  program.command('login').description('log in to a registry (the credentials are checked first)').argument('<registry>')
    .option('-u, --username <user>', 'user name (asked on a terminal if not given)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .action(async (registry: string, o: { username?: string; passwordStdin?: boolean; authfile: string }, cmd: Command) => {
      const domain = registryDomain(registry, 'login');
      const tty = Boolean(process.stdin.isTTY);
      if (!o.username && (o.passwordStdin || !tty)) throw new SkiffError('login: --username is required when standard input is not a terminal', 'EINVAL');
      if (!o.passwordStdin && !tty) throw new SkiffError('login: give the password with --password-stdin (it is never taken as an argument)', 'EINVAL');
      const username = o.username ?? await prompt('Username: ', false);
      const password = o.passwordStdin ? await readStdin() : await prompt('Password: ', true);
      if (!username || !password) throw new SkiffError('login: the user name and password must not be empty', 'EINVAL');
      const creds = { username, password };
      const client = new RegistryClient(parseReference(`${domain}/login-check`), { purpose: 'pull', credentials: creds, config: loadRegistriesConfig(contextOf(cmd).root) });
      await client.ping();
      await storeCredentials(domain, creds, o.authfile);
      process.stdout.write('Login Succeeded\n');
    });
}
