// A stand-in CNI plugin for unit tests: a node script that appends what it was given (its CNI_* environment and
// stdin) to the JSON-lines file named by its config's "log", then does what the config says:
//   result   the result to print on ADD (default: prevResult, or a result with one interface named after it)
//   fail     {command, code, msg, details}: print this error and exit 1 for that command
//   sleepMs  wait this long first (for the timeout)
//   garbage  print something that is not JSON
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = `#!${process.execPath}
const fs = require('node:fs');
const stdin = fs.readFileSync(0, 'utf8');
const conf = stdin ? JSON.parse(stdin) : {};
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CNI_')));
if (conf.log) fs.appendFileSync(conf.log, JSON.stringify({ type: conf.type, env, stdin: conf }) + '\\n');
const command = process.env.CNI_COMMAND;
const finish = () => {
  if (command === 'VERSION') return console.log(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] }));
  if (conf.fail && conf.fail.command === command) {
    console.log(JSON.stringify({ cniVersion: conf.cniVersion, code: conf.fail.code, msg: conf.fail.msg, details: conf.fail.details }));
    process.exit(1);
  }
  if (conf.garbage) return console.log('panic: runtime error');
  if (command === 'ADD') {
    console.log(JSON.stringify(conf.result ?? conf.prevResult ?? { cniVersion: conf.cniVersion, interfaces: [{ name: conf.type }] }));
  }
};
setTimeout(finish, conf.sleepMs ?? 0);
`;

export interface FakePlugins {
  dir: string;
  log: string;
  /** Every call so far, in order. */
  calls(): { type: string; env: Record<string, string>; stdin: Record<string, unknown> }[];
  cleanup(): void;
}

/** Installs the fake under each of `types` in a new temp dir. */
export function fakePlugins(types: string[]): FakePlugins {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-fake-cni-'));
  for (const t of types) {
    writeFileSync(join(dir, t), SCRIPT);
    chmodSync(join(dir, t), 0o755);
  }
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  return {
    dir, log,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
