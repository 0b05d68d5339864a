// Ways out of a container that must stay shut: the runc CVEs and symlink tricks, checked against the real kernel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { Scratch } from '../helpers/bundle.js';

let scratch: Scratch;
before(() => { scratch = new Scratch(); });
after(async () => { await scratch.cleanup(); });

/**
 * A tiny unix-socket receiver (python3): binds `sock`, accepts one connection, takes one fd with SCM_RIGHTS and
 * runs `body` with `fd` and `msg` in scope; its stdout is returned when it exits.
 */
async function fdReceiver(sock: string, body: string): Promise<() => Promise<string>> {
  const receiver = spawn('python3', ['-c', `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); print('ready', flush=True)
c, _ = s.accept()
msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_LEN(4))
fd = array.array('i', anc[0][2][:4])[0] if anc else -1
${body}
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  receiver.stdout!.setEncoding('utf8').on('data', (d: string) => { text += d; });
  const closed = new Promise((r) => receiver.on('close', r));
  while (!text.includes('ready')) await new Promise((r) => setTimeout(r, 10));
  return async () => { await closed; return text; };
}

async function runCapture(id: string, args: string[], edit?: (s: Spec) => void) {
  const b = scratch.bundle(args, edit);
  const outPath = join(b.dir, 'out.txt');
  const fd = openSync(outPath, 'w');
  try {
    const exit = await scratch.runtime.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd] });
    return { ...exit, out: readFileSync(outPath, 'utf8'), bundle: b };
  } finally {
    closeSync(fd);
  }
}

describe('runtime security', () => {
  test('CVE-2019-5736: the init runs from a sealed memfd that cannot be opened for writing', async () => {
    const b = scratch.bundle(['sleep', '1000']);
    const st = await scratch.runtime.create('s-exe', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    try {
      // Before start the container process is still our helper, waiting on the exec fifo.
      assert.match(readlinkSync(`/proc/${st.pid}/exe`), /^\/memfd:skiff-init/);
      assert.throws(() => openSync(`/proc/${st.pid}/exe`, 'r+'), /EPERM|ETXTBSY|EACCES/);
    } finally {
      await scratch.runtime.delete('s-exe', { force: true });
    }
  });

  test('CVE-2024-21626: no runtime fd reaches the container, and none can be its cwd', async () => {
    const r = await runCapture('s-fds', ['sh', '-c', 'ls /proc/$$/fd; true']);
    assert.equal(r.exitCode, 0, r.out);
    assert.deepEqual(r.out.trim().split(/\s+/), ['0', '1', '2']);
    for (const n of [3, 4, 5, 6, 7, 8]) {
      const b = scratch.bundle(['pwd'], (s) => { s.process!.cwd = `/proc/self/fd/${n}`; });
      await assert.rejects(scratch.runtime.create(`s-cwd${n}`, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
        /chdir to \/proc\/self\/fd/, `cwd /proc/self/fd/${n} must fail`);
      assert.ok(!existsSync(join(scratch.runtimeRoot, `s-cwd${n}`)));
    }
  });

  test('a symlink in the image cannot redirect a mount to the host', async () => {
    const hostTarget = join(scratch.dir, 'host-target');
    mkdirSync(hostTarget);
    // /escape -> the host directory (absolute), /rel -> a ../../.. chain up to it.
    const b = scratch.bundle(['sh', '-c', 'cat /proc/mounts'], (s) => {
      s.mounts!.push({ destination: '/escape/sub', type: 'tmpfs', source: 'tmpfs' });
      s.mounts!.push({ destination: '/rel/sub', type: 'tmpfs', source: 'tmpfs' });
    });
    symlinkSync(hostTarget, join(b.rootfs, 'escape'));
    symlinkSync(`../../../../../../..${hostTarget}`, join(b.rootfs, 'rel'));
    const fd = openSync(join(b.dir, 'o'), 'w');
    const exit = await scratch.runtime.run('s-link2', { bundle: b.dir, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    assert.equal(exit.exitCode, 0, readFileSync(join(b.dir, 'o'), 'utf8'));
    assert.ok(!existsSync(join(hostTarget, 'sub')), 'nothing was created on the host');
    assert.ok(existsSync(join(b.rootfs, hostTarget, 'sub')), 'the mount point was made inside the rootfs instead');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(hostTarget), 'nothing is mounted on the host');
  });

  test('seccomp: a rule returns the configured errno', async () => {
    const r = await runCapture('s-seccomp', ['sh', '-c', 'mkdir /dev/shm/x; echo rc=$?'], (s) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
      };
    });
    assert.match(r.out, /Function not implemented/);
    assert.match(r.out, /rc=1/);
  });

  test('seccomp: SCMP_ACT_KILL ends the process with SIGSYS', async () => {
    const r = await runCapture('s-kill', ['sh', '-c', 'exec mkdir /dev/shm/y'], (s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] };
    });
    assert.equal(r.exitCode, 128 + 31);
  });

  test('seccomp: SCMP_ACT_NOTIFY sends the listener fd with the ContainerProcessState', async () => {
    const sock = join(scratch.dir, 'seccomp.sock');
    const received = await fdReceiver(sock, "print('fds', 1 if fd >= 0 else 0); print(msg.decode())");
    const r = await runCapture('s-notify', ['true'], (s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'meta-x', syscalls: [{ names: ['mknodat'], action: 'SCMP_ACT_NOTIFY' }] };
    });
    const text = await received();
    assert.equal(r.exitCode, 0, r.out);
    assert.match(text, /fds 1/);
    const state = JSON.parse(text.split('\n').find((l) => l.startsWith('{'))!);
    assert.deepEqual(state.fds, ['seccompFd']);
    assert.equal(state.metadata, 'meta-x');
    assert.equal(state.state.id, 's-notify');
    assert.ok(state.pid > 0);
  });

  test('terminal: the pty master arrives over the console socket (runc protocol)', async () => {
    const sock = join(scratch.dir, 'console.sock');
    // Read the pty until the container's side closes, then print the pty name (the payload) and what came through.
    const received = await fdReceiver(sock, `
out = b''
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
print(msg.decode()); print(out.decode(errors='replace'))`);
    const b = scratch.bundle(['sh', '-c', 'tty; echo hello-tty'], (s) => { s.process!.terminal = true; });
    await scratch.runtime.create('s-tty', { bundle: b.dir, consoleSocket: sock, stdio: ['ignore', 'ignore', 'ignore'] });
    await scratch.runtime.start('s-tty');
    const text = await received();
    assert.match(text, /\/dev\/pts\/\d+/);
    assert.match(text, /hello-tty/);
    await scratch.runtime.delete('s-tty', { force: true });
  });
});
