// skiff logout [--authfile FILE] REGISTRY: removes the registry's credentials.
import type { Command } from 'commander';
import { defaultAuthFile, storeCredentials } from '../../image/registry/credentials.js';
import { registryDomain } from './login.js';

export function register(program: Command): void {
  program.command('logout').description('remove the credentials of a registry').argument('<registry>')
    .option('--authfile <file>', 'credentials file', defaultAuthFile())
    .action(async (registry: string, o: { authfile: string }) => {
      await storeCredentials(registryDomain(registry, 'logout'), undefined, o.authfile);
      process.stdout.write(`Removed login credentials for ${registry}\n`);
    });
}
