// skiffd as a daemon: --help, its configuration file and flags (a bad key or value is one error line naming it),
// its socket (refused while another server answers on it, replaced when stale, removed at a clean stop), SIGTERM and
// SIGINT, and its JSON log lines.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { crictl, findCrictl } from '../helpers/crictl.js';
import { readLog, skiffdBin, startSkiffd, stopAndClean } from '../helpers/skiffd.js';

const dir = mkdtempSync(join(tmpdir(), 'skiffd-daemon-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** skiffd run to its end (a configuration error ends it at once). */
function skiffd(...args: string[]) {
  const r = spawnSync(process.execPath, [skiffdBin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('skiffd', () => {
  test('--help lists the flags; runtime handlers are the config file\'s runtimeHandlers, not a flag', () => {
    const h = skiffd('--help');
    assert.equal(h.code, 0);
    assert.doesNotMatch(h.out, /runtime-handler/);
    for (const flag of ['--config', '--socket', '--root', '--state', '--cni-conf-dir', '--cni-bin-dir', '--streaming-address', '--registries', '--cgroup-parent', '--log-level']) {
      assert.match(h.out, new RegExp(`${flag} `), flag);
    }
  });

  test('a bad configuration is one error line naming every bad key, and nothing starts', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ logLevel: 'loud', streamingAddress: 'localhost:10010', runtimeHandlers: { runc: { binary: 'runc' } }, sokcet: '/x' }));
    const r = skiffd('--config', file, '--root', join(dir, 'r'));
    assert.equal(r.code, 1);
    assert.equal(r.err, `skiffd: ${file}: `
      + 'sokcet: unknown key (known: socket, root, state, cniConfDir, cniBinDirs, streamingAddress, registries, cgroupParent, runtimeHandlers, logLevel); '
      + 'streamingAddress: "localhost:10010" is not IP:PORT (e.g. 127.0.0.1:0, [::1]:10010); runtimeHandlers.runc.binary: "runc" is not an absolute path; '
      + 'logLevel: "loud" is not one of trace, debug, info, warn, error, fatal\n');
    assert.equal(r.out, '');
    assert.equal(existsSync(join(dir, 'r')), false, 'nothing was created');
    assert.match(skiffd('--config', join(dir, 'absent.json')).err, /^skiffd: .*absent\.json: \(file\): ENOENT/);
    writeFileSync(file, '{"root": ');
    assert.match(skiffd('--config', file).err, /^skiffd: .*bad\.json: \(file\): not valid JSON/);
  });

  test('a bad flag value is named by its flag', () => {
    assert.equal(skiffd('--root', 'relative', '--streaming-address', '1.2.3.4').err,
      'skiffd: skiffd: --root (root): "relative" is not an absolute path; --streaming-address (streamingAddress): "1.2.3.4" is not IP:PORT (e.g. 127.0.0.1:0, [::1]:10010)\n');
    assert.match(skiffd('--runtime-handler', 'runc=/usr/sbin/runc').err, /unknown option '--runtime-handler'/);
    assert.match(skiffd('--log-level', 'loud').err, /option '--log-level <level>' argument 'loud' is invalid/);
  });

  test('the file, then flags: a flag overrides its key', async () => {
    const file = join(dir, 'skiffd.json');
    writeFileSync(file, JSON.stringify({ logLevel: 'warn', cgroupParent: '/from-file' }));
    const s = await startSkiffd(['--config', file, '--log-level', 'info']);
    try {
      const info = JSON.parse(crictl(s.socket, ['info']).out) as { config: { logLevel: string; cgroupParent: string; socket: string } };
      assert.deepEqual([info.config.logLevel, info.config.cgroupParent, info.config.socket], ['info', '/from-file', s.socket]);
    } finally {
      await stopAndClean(s);
    }
  });

  test('SIGTERM: stops accepting, removes its socket, exits 0; the log is JSON lines', async () => {
    const s = await startSkiffd();
    assert.equal(statSync(s.socket).mode & 0o777, 0o660);
    assert.equal(crictl(s.socket, ['version']).code, 0);
    assert.equal(await s.stop(), 0);
    assert.equal(existsSync(s.socket), false);
    const msgs = readLog(s).map((l) => l.msg);
    assert.deepEqual(msgs, ['skiffd serving', 'signal received', 'skiffd stopping', 'skiffd stopped']);
    assert.equal(readLog(s)[1].signal, 'SIGTERM');
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('SIGINT too', async () => {
    const s = await startSkiffd();
    s.proc.kill('SIGINT');
    assert.equal(await s.stop(), 0);
    assert.equal(existsSync(s.socket), false);
    rmSync(s.dir, { recursive: true, force: true });
  });

  test('a live server on the socket: refused; a stale socket (a killed skiffd): replaced; a file that is not a socket: refused', async () => {
    const first = await startSkiffd();
    const second = spawnSync(process.execPath, [skiffdBin, '--root', first.root, '--state', first.state, '--socket', first.socket], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(second.status, 1);
    assert.equal(second.stderr, `skiffd: socket ${first.socket}: another server is listening on it (is skiffd already running?)\n`);
    assert.equal(crictl(first.socket, ['version']).code, 0, 'the first one still serves');
    first.proc.kill('SIGKILL');
    await first.stop();
    assert.ok(existsSync(first.socket), 'a killed skiffd leaves its socket');
    const third = await startSkiffd([], first.dir);
    assert.equal(crictl(third.socket, ['version']).code, 0);
    await stopAndClean(third);
    const notSocket = join(dir, 'plain-file');
    writeFileSync(notSocket, 'mine');
    assert.equal(skiffd('--socket', notSocket, '--root', join(dir, 'r2'), '--state', join(dir, 's2')).err, `skiffd: socket ${notSocket}: exists and is not a socket; not removing it\n`);
  });

  test('a second signal during the stop ends it at once', async () => {
    const s = await startSkiffd();
    // A pull to a registry that never answers keeps a call in flight through the grace period.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const pull = spawn(findCrictl(), ['-i', `unix://${s.socket}`, 'pull', `127.0.0.1:${port}/x:1`], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      s.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      s.proc.kill('SIGTERM');
      assert.equal(await s.stop(), 130);
    } finally {
      pull.kill();
      silent.close();
      s.proc.kill('SIGKILL');
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
