// More of the runtime spec, observed from inside the container: sysctl, time namespace offsets, preserved fds,
// oomScoreAdj, rlimits, I/O priority, scheduler, personality, umask, additional groups.
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { Scratch } from '../helpers/bundle.js';

let scratch: Scratch;
before(() => { scratch = new Scratch(); });
after(async () => { await scratch.cleanup(); });

async function runCapture(id: string, script: string, edit?: (s: Spec) => void, extra: { preserveFds?: number } = {}, prepare?: (bundleDir: string) => void) {
  const b = scratch.bundle(['sh', '-c', script], edit);
  prepare?.(b.dir);
  const outPath = join(b.dir, 'out.txt');
  const fd = openSync(outPath, 'w');
  try {
    const exit = await scratch.runtime.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd], ...extra });
    return { ...exit, lines: readFileSync(outPath, 'utf8').trim().split('\n').map((l) => l.trim()) };
  } finally {
    closeSync(fd);
  }
}

describe('runtime spec features', () => {
  test('sysctl, oomScoreAdj, rlimits, umask, additional groups', async () => {
    const r = await runCapture('f-proc', 'cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; ulimit -s; umask; id -G', (s) => {
      s.linux!.sysctl = { 'kernel.msgmax': '4096', 'net.ipv4.ip_forward': '1' };
      s.process!.oomScoreAdj = 500;
      s.process!.rlimits!.push({ type: 'RLIMIT_STACK', soft: 4096 * 1024, hard: 4096 * 1024 });
      s.process!.user = { uid: 0, gid: 0, umask: 0o027, additionalGids: [10, 20] };
    });
    assert.equal(r.exitCode, 0, r.lines.join('\n'));
    assert.deepEqual(r.lines, ['4096', '1', '500', '4096', '0027', '0 10 20']);
  });

  test('a time namespace with a monotonic offset', async () => {
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = await runCapture('f-time', 'cut -d" " -f1 /proc/uptime', (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { boottime: { secs: 86400 * 365 } };
    });
    assert.equal(r.exitCode, 0, r.lines.join('\n'));
    assert.ok(Number(r.lines[0]) > hostUptime + 86400 * 364, `uptime inside ${r.lines[0]} carries the offset`);
  });

  test('preserved fds reach the container with the same numbers (--preserve-fds)', () => {
    const file = join(scratch.dir, 'preserved.txt');
    writeFileSync(file, 'passed through fd 3\n');
    // No pipeline in the listing: the shell's own pipe fds would show up, depending on timing. `true` keeps the
    // shell from exec-ing ls, so $$ is the shell.
    const b = scratch.bundle(['sh', '-c', 'cat <&3; ls /proc/$$/fd; true']);
    const fd = openSync(file, 'r');
    try {
      const cli = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
      const r = spawnSync(process.execPath, [cli, '--root', scratch.runtimeRoot, 'run', '--preserve-fds', '1', '--bundle', b.dir, 'f-fds'],
        { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), ['passed through fd 3', '0', '1', '2', '3']);
    } finally {
      closeSync(fd);
    }
  });

  test('I/O priority, scheduler and personality', async () => {
    const r = await runCapture('f-sched', 'grep -E "^(policy|prio) " /proc/$$/sched | tr -s " "; uname -m; ionice -p $$', (s) => {
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
      s.linux!.personality = { domain: 'LINUX32' };
    });
    assert.equal(r.exitCode, 0, r.lines.join('\n'));
    assert.ok(r.lines.includes('policy : 3'), `SCHED_BATCH: ${r.lines.join('\n')}`);
    assert.ok(r.lines.includes('prio : 125'), `nice 5: ${r.lines.join('\n')}`);
    assert.ok(r.lines.includes('i686') || r.lines.includes('i386'), r.lines.join('\n'));
    assert.ok(r.lines.some((l) => /idle/.test(l)), r.lines.join('\n'));
  });

  test('bind sources relative to the bundle; a read-only bind of a nodev,nosuid,noexec mount in a user namespace', async () => {
    const tmpfs = join(scratch.dir, 'locked');
    mkdirSync(tmpfs);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'nodev,nosuid,noexec,size=1m', 'skiff-test', tmpfs]).status, 0);
    try {
      writeFileSync(join(tmpfs, 'f'), 'locked flags kept\n');
      const r = await runCapture('f-binds', 'cat /rel/hello /locked/f; grep " /locked " /proc/mounts | cut -d" " -f4', (s) => {
        s.mounts!.push({ destination: '/rel', type: 'bind', source: 'shared-dir', options: ['rbind', 'ro'] });
        s.mounts!.push({ destination: '/locked', type: 'bind', source: tmpfs, options: ['bind', 'ro'] });
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      }, {}, (dir) => {
        mkdirSync(join(dir, 'shared-dir'));
        writeFileSync(join(dir, 'shared-dir', 'hello'), 'relative to the bundle\n');
      });
      assert.equal(r.exitCode, 0, r.lines.join('\n'));
      assert.deepEqual(r.lines.slice(0, 2), ['relative to the bundle', 'locked flags kept']);
      assert.match(r.lines[2], /^ro,nosuid,nodev,noexec/);
    } finally {
      spawnSync('umount', [tmpfs]);
    }
  });

  test('rootfsPropagation rshared: the container root is a shared mount (the mount holding the rootfs made private first)', async () => {
    const r = await runCapture('f-shared', 'awk \'$5 == "/"\' /proc/self/mountinfo | grep -c shared:', (s) => {
      s.linux!.rootfsPropagation = 'rshared';
    });
    assert.equal(r.exitCode, 0, r.lines.join('\n'));
    assert.equal(r.lines[0], '1', 'the root is a shared mount');
  });

  test('exec joins the container\'s session keyring, unless it was created with --no-new-keyring', async () => {
    for (const noNewKeyring of [false, true]) {
      const id = `f-keyring-${noNewKeyring}`;
      // /proc/keys is masked by default; unmasked here so the exec'd process can list the keyrings it possesses.
      const b = scratch.bundle(['sleep', '30'], (s) => { s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys'); });
      await scratch.runtime.create(id, { bundle: b.dir, noNewKeyring, stdio: ['ignore', 'ignore', 'ignore'] });
      await scratch.runtime.start(id);
      const outPath = join(b.dir, 'exec.txt');
      const fd = openSync(outPath, 'w');
      try {
        const e = await scratch.runtime.exec(id, { args: ['cat', '/proc/keys'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }, { stdio: ['ignore', fd, fd] });
        assert.equal((await e.exit!).exitCode, 0);
      } finally {
        closeSync(fd);
      }
      const keys = readFileSync(outPath, 'utf8');
      if (noNewKeyring) assert.doesNotMatch(keys, new RegExp(`_ses\\.${id}`));
      else {
        assert.match(keys, new RegExp(`keyring\\s+_ses\\.${id}:`), keys);
        const onHost = readFileSync('/proc/keys', 'utf8').split('\n').filter((l) => l.includes(`_ses.${id}:`));
        assert.equal(onHost.length, 1, 'exec found the keyring create made (it is searchable), rather than making another');
      }
      await scratch.runtime.delete(id, { force: true });
    }
  });
});

