// skiff pull [--platform os/arch[/variant]] [-q] IMAGE, skiff push [-q] IMAGE, skiff login, skiff logout
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import { parsePlatform, pull } from '../../image/pull.js';
import { push } from '../../image/push.js';
import { parseReference } from '../../image/reference.js';
import { RegistryClient } from '../../image/registry/client.js';
import { defaultAuthFile, storeCredentials } from '../../image/registry/credentials.js';
import { contextOf } from './context.js';

const progress = (quiet?: boolean) => (quiet ? undefined : (l: string) => { process.stderr.write(l + '\n'); });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function register(program: Command): void {
  program.command('pull').description('pull an image from a registry').argument('<image>')
    .option('--platform <os/arch[/variant]>', 'platform to choose from a multi-platform image (default: this host)')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .option('-q, --quiet', 'print only the image name')
    .action(async (image: string, o: { platform?: string; quiet?: boolean; authfile: string }, cmd: Command) => {
      const name = await pull(contextOf(cmd).root, image, {
        platform: o.platform ? parsePlatform(o.platform) : undefined, log: progress(o.quiet), authFile: o.authfile,
      });
      process.stdout.write(name + '\n');
    });

  program.command('push').description('push an image to a registry').argument('<image>')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .option('-q, --quiet', 'print only the pushed reference')
    .action(async (image: string, o: { quiet?: boolean; authfile: string }, cmd: Command) => {
      process.stdout.write(await push(contextOf(cmd).root, image, { log: progress(o.quiet), authFile: o.authfile }) + '\n');
    });

  program.command('login').description('log in to a registry (the credentials are checked first)').argument('<registry>')
    .option('-u, --username <user>', 'user name')
    .option('--password-stdin', 'read the password from standard input')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .action(async (registry: string, o: { username?: string; passwordStdin?: boolean; authfile: string }) => {
      if (!o.username) throw new SkiffError('login: --username is required', 'EINVAL');
      if (!o.passwordStdin) throw new SkiffError('login: give the password with --password-stdin (it is never taken as an argument)', 'EINVAL');
      const creds = { username: o.username, password: await readStdin() };
      const ref = parseReference(`${registry}/login-check`);
      await new RegistryClient(ref, creds).ping();
      await storeCredentials(ref.domain, creds, o.authfile);
      process.stdout.write('Login Succeeded\n');
    });

  program.command('logout').description('remove the credentials of a registry').argument('<registry>')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .action(async (registry: string, o: { authfile: string }) => {
      await storeCredentials(parseReference(`${registry}/logout`).domain, undefined, o.authfile);
    });
}
