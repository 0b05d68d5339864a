// skiff logout [--authfile FILE] REGISTRY: removes the registry's credentials from the file and from the credential
// helper configured for it. Not being logged in is not an error, as with docker.
import type { Command } from 'commander';
import { defaultAuthFile, removeCredentials } from '../../image/registry/credentials.js';
import { registryDomain } from './login.js';
import { printOut } from '../common/print.js';

export function register(program: Command): void {
  program.command('logout').argument('<registry>')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .action(async (registry: string, o: { authfile: string }) => {
      const removed = await removeCredentials(registryDomain(registry, 'logout'), o.authfile);
      printOut(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    });
}
