// Containers under seccomp profiles that are not ours: an allow-list from before 2020 (docker 19.03's), which lacks
// close_range, openat2, faccessat2, clone3 and pidfd_*. Without noNewPrivileges the filter is loaded before the
// runtime's last steps (capabilities, exec fifo, startContainer hooks), so each of those steps runs under it.
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LinuxSeccomp, Spec } from '../../src/oci/runtime-spec.js';
import { defaultSeccompProfile } from '../../src/seccomp/default-profile.js';
import { Scratch } from '../helpers/bundle.js';
import { docker1903Profile } from '../fixtures/seccomp-docker-19.03.js';

let scratch: Scratch;
before(() => { scratch = new Scratch(); });
after(async () => { await scratch.cleanup(); });

function withProfile(profile: LinuxSeccomp, noNewPrivileges: boolean, more?: (s: Spec) => void): (s: Spec) => void {
  return (s) => {
    s.linux!.seccomp = profile;
    s.process!.noNewPrivileges = noNewPrivileges;
    more?.(s);
  };
}

/** A startContainer hook (it runs inside the container, under the filter) that leaves a mark in /dev/shm. */
function startHook(s: Spec): void {
  s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/shm/hooked'], timeout: 10 }] };
}

async function runCapture(id: string, args: string[], edit: (s: Spec) => void) {
  const b = scratch.bundle(args, edit);
  const outPath = join(b.dir, 'out.txt');
  const fd = openSync(outPath, 'w');
  try {
    const exit = await scratch.runtime.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd] });
    return { ...exit, out: readFileSync(outPath, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** An exec'd process with its output and exit status. */
async function execCapture(id: string, dir: string, args: string[], noNewPrivileges: boolean) {
  const outPath = join(dir, `exec-${noNewPrivileges}.txt`);
  const fd = openSync(outPath, 'w');
  try {
    const e = await scratch.runtime.exec(id, { args, cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 }, noNewPrivileges },
      { stdio: ['ignore', fd, fd] });
    return { ...(await e.exit!), out: readFileSync(outPath, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** A profile for the container `s` describes. */
type Profile = { name: string; make(s: Spec): LinuxSeccomp };
const PROFILES: Profile[] = [
  { name: 'docker 19.03\'s profile', make: () => docker1903Profile() },
  { name: 'our default profile', make: (s) => defaultSeccompProfile(s.process!.capabilities!.bounding!) },
];

/** docker 19.03's profile without `names`. */
function without(...names: string[]): LinuxSeccomp {
  const p = docker1903Profile();
  p.syscalls![0].names = p.syscalls![0].names.filter((n) => !names.includes(n));
  return p;
}

describe('seccomp profiles older than the runtime', () => {
  for (const [i, profile] of PROFILES.entries()) {
    for (const nnp of [false, true]) {
      test(`${profile.name}, noNewPrivileges ${nnp}: run with a startContainer hook exits 0`, async () => {
        // `true` keeps the shell from exec-ing ls, so $$ is the shell and its fds are what the runtime left open.
        const r = await runCapture(`sp-run-${i}-${nnp}`, ['sh', '-c', 'cat /dev/shm/hooked; echo; ls /proc/$$/fd; true'],
          (s) => withProfile(profile.make(s), nnp, startHook)(s));
        assert.equal(r.exitCode, 0, r.out);
        const [state, ...fds] = r.out.trim().split(/\s+/);
        assert.equal(JSON.parse(state).id, `sp-run-${i}-${nnp}`);
        assert.deepEqual(fds, ['0', '1', '2'], 'no fd of the runtime reached the container');
      });

      test(`${profile.name}, noNewPrivileges ${nnp}: create, start with a startContainer hook, exec with and without noNewPrivileges`, async () => {
        const id = `sp-life-${i}-${nnp}`;
        const b = scratch.bundle(['sh', '-c', 'cat /dev/shm/hooked > /dev/null && touch /dev/shm/started && sleep 30'],
          (s) => withProfile(profile.make(s), nnp, startHook)(s));
        await scratch.runtime.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
        await scratch.runtime.start(id);
        const { pid } = await scratch.runtime.state(id);
        await until('the container process to start', async () => existsSync(`/proc/${pid}/root/dev/shm/started`));
        for (const execNnp of [false, true]) {
          const e = await execCapture(id, b.dir, ['sh', '-c', 'echo exec-ran'], execNnp);
          assert.equal(e.exitCode, 0, e.out);
          assert.equal(e.out, 'exec-ran\n');
        }
        assert.equal((await scratch.runtime.state(id)).status, 'running');
        await scratch.runtime.delete(id, { force: true });
      });
    }
  }

  test('a step the profile refuses names the system call and the profile', async () => {
    const b = scratch.bundle(['true'], withProfile(without('capset'), false));
    await assert.rejects(scratch.runtime.create('sp-nocapset', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
      /set capabilities \(process\.capabilities\): capset: operation not permitted; the seccomp profile \(linux\.seccomp\) is loaded before this step and may refuse capset/);
    assert.ok(!existsSync(join(scratch.runtimeRoot, 'sp-nocapset')));
  });

  test('a lookup of the program the profile refuses is not "not found"', async () => {
    const b = scratch.bundle(['true'], withProfile(without('access'), false));
    await assert.rejects(scratch.runtime.create('sp-noaccess', { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
      /find "true" \(process\.args\[0\]\): access \/bin\/true: operation not permitted; the seccomp profile \(linux\.seccomp\) is loaded before this step and may refuse access/);
  });

  test('a startContainer hook under a profile without pidfd_open is still killed at its timeout', async () => {
    const started = Date.now();
    await assert.rejects(runCapture('sp-hook-timeout', ['true'], withProfile(docker1903Profile(), false, (s) => {
      s.hooks = { startContainer: [{ path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }] };
    })), /hooks\.startContainer\[0\].*timed out after 1s/);
    assert.ok(Date.now() - started < 4000, 'the hook was killed, not waited for');
  });

  test('a startContainer hook that cannot be executed says why', async () => {
    await assert.rejects(runCapture('sp-hook-missing', ['true'], (s) => {
      s.hooks = { startContainer: [{ path: '/no/such/hook' }] };
    }), /hook \/no\/such\/hook \(hooks\.startContainer\[0\]\): hook \/no\/such\/hook: no such file or directory/);
  });
});
