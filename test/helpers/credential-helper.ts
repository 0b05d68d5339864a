// Installs the test credential helper (test/fixtures/credential-helper.ts) as docker-credential-NAME in a bin
// directory to put on a PATH: a shell script that runs it with its store and log files.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL('../fixtures/credential-helper.js', import.meta.url));

export interface TestCredentialHelper {
  /** docker-credential-NAME */
  name: string;
  /** The helper's secrets: {"<server URL>": {Username, Secret}}. */
  store: string;
  /** Every call, one JSON line {action, input}. */
  log: string;
  calls(): { action: string; input: string }[];
}

export function installCredentialHelper(binDir: string, name: string, env: Record<string, string> = {}): TestCredentialHelper {
  mkdirSync(binDir, { recursive: true });
  const store = join(binDir, `${name}.store.json`);
  const log = join(binDir, `${name}.log`);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const exports = Object.entries({ SKIFF_TEST_CREDENTIAL_STORE: store, SKIFF_TEST_CREDENTIAL_LOG: log, ...env }).map(([k, v]) => `export ${k}=${quote(v)}\n`).join('');
  writeFileSync(join(binDir, `docker-credential-${name}`), `#!/bin/sh\n${exports}exec ${quote(process.execPath)} ${quote(program)} "$@"\n`);
  chmodSync(join(binDir, `docker-credential-${name}`), 0o755);
  writeFileSync(log, '');
  return {
    name, store, log,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; input: string }),
  };
}
