// skiff-runtime's command line as engines use it: runc's flags, output formats and exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeBundle } from '../helpers/bundle.js';
import { removeEmptyCgroups } from '../helpers/foreign-cgroups.js';

const cli = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
const root = join(dir, 'state');

/**
 * Runs skiff-runtime with stdout and stderr in files, not pipes: a container made by `create` keeps the caller's
 * stdio (as with runc), so a pipe would stay open as long as the container lives.
 */
function rt(...args: string[]) {
  const out = join(dir, 'stdout'), err = join(dir, 'stderr');
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  const r = spawnSync(process.execPath, [cli, '--root', root, ...args], { stdio: ['ignore', fds[0], fds[1]] });
  fds.forEach(closeSync);
  return { code: r.status, out: readFileSync(out, 'utf8'), err: readFileSync(err, 'utf8') };
}

after(() => {
  for (const id of rt('list', '-q').out.split('\n').filter(Boolean)) rt('delete', '-f', id);
  rmSync(dir, { recursive: true, force: true });
  // The runc error-text test's runc made /skiff in the name=systemd hierarchy too, and leaves it.
  removeEmptyCgroups(['skiff']);
});

describe('skiff-runtime CLI', () => {
  test('spec writes runc\'s default config.json and refuses to overwrite it', () => {
    const b = mkdtempSync(join(dir, 'spec-'));
    assert.equal(rt('spec', '--bundle', b).code, 0);
    const ours = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
    const runcDir = mkdtempSync(join(dir, 'runc-spec-'));
    spawnSync('runc', ['spec', '--bundle', runcDir]);
    const theirs = JSON.parse(readFileSync(join(runcDir, 'config.json'), 'utf8'));
    delete ours.ociVersion; delete theirs.ociVersion;
    assert.deepEqual(ours, theirs);
    const again = rt('spec', '--bundle', b);
    assert.notEqual(again.code, 0);
    assert.match(again.err, /exists/);
  });

  test('create, start, state, list, kill by name, delete', () => {
    const b = makeBundle(dir, ['sleep', '1000']);
    const pidFile = join(dir, 'pid');
    assert.equal(rt('create', '--bundle', b.dir, '--pid-file', pidFile, 'c1').code, 0);
    const state = JSON.parse(rt('state', 'c1').out);
    assert.deepEqual(Object.keys(state).sort(), ['bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status']);
    assert.equal(state.status, 'created');
    assert.equal(String(state.pid), readFileSync(pidFile, 'utf8'));
    assert.equal(rt('start', 'c1').code, 0);
    assert.equal(JSON.parse(rt('state', 'c1').out).status, 'running');
    const list = JSON.parse(rt('list', '--format', 'json').out);
    assert.equal(list[0].id, 'c1');
    assert.match(rt('list').out, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n/);
    assert.equal(JSON.parse(rt('ps', '--format', 'json', 'c1').out).length, 1);
    assert.equal(rt('kill', 'c1', 'KILL').code, 0);
    for (let i = 0; i < 100 && JSON.parse(rt('state', 'c1').out).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    assert.equal(JSON.parse(rt('state', 'c1').out).status, 'stopped');
    assert.equal(rt('delete', 'c1').code, 0);
    assert.ok(!existsSync(join(root, 'c1')));
  });

  test('kill --all KILL and delete -f end every process of the container, running or paused', () => {
    const b = makeBundle(dir, ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
    const pidsOf = (id: string): number[] => {
      for (let i = 0; i < 100; i++) {
        const pids = JSON.parse(rt('ps', '--format', 'json', id).out) as number[];
        if (pids.length === 3) return pids;
        spawnSync('sleep', ['0.02']);
      }
      assert.fail(`${id}: its three processes did not all start`);
    };
    const allGone = (pids: number[]) => {
      for (let i = 0; i < 100 && pids.some((p) => existsSync(`/proc/${p}`)); i++) spawnSync('sleep', ['0.02']);
      assert.deepEqual(pids.filter((p) => existsSync(`/proc/${p}`)), []);
    };
    for (const [id, paused] of [['kill-running', false], ['kill-paused', true]] as const) {
      assert.equal(rt('run', '--detach', '--bundle', b.dir, id).code, 0);
      const pids = pidsOf(id);
      if (paused) assert.equal(rt('pause', id).code, 0);
      assert.equal(rt('kill', '--all', id, 'KILL').code, 0);
      // A frozen cgroup's processes act on the signal once thawed, which kill --all does after signalling.
      allGone(pids);
      assert.equal(rt('delete', id).code, 0);
    }
    assert.equal(rt('run', '--detach', '--bundle', b.dir, 'delete-running').code, 0);
    const pids = pidsOf('delete-running');
    assert.equal(rt('delete', '-f', 'delete-running').code, 0);
    allGone(pids);
  });

  test('exec, update, events --stats, ps, pause and resume through the command line', () => {
    const b = makeBundle(dir, ['sleep', '1000']);
    assert.equal(rt('run', '--detach', '--bundle', b.dir, 'c2').code, 0);
    const exec = rt('exec', '-e', 'FOO=bar', '--cwd', '/etc', 'c2', 'sh', '-c', 'echo $FOO $(pwd); exit 4');
    assert.equal(exec.code, 4);
    assert.equal(exec.out, 'bar /etc\n');
    assert.equal(rt('update', '--memory', '64m', '--pids-limit', '30', 'c2').code, 0);
    assert.equal(readFileSync('/sys/fs/cgroup/memory/skiff/c2/memory.limit_in_bytes', 'utf8').trim(), String(64 * 1024 * 1024));
    assert.equal(readFileSync('/sys/fs/cgroup/pids/skiff/c2/pids.max', 'utf8').trim(), '30');
    assert.match(rt('update', '--memory', 'lots', 'c2').err, /--memory: "lots" is not a size/);
    // The exec's process is reaped, but a kernel may uncharge pids.current only once the task has fully gone
    // (6.18 unlinks a dead task from its cgroups after its last switch out): give it a moment.
    let ev = JSON.parse(rt('events', '--stats', 'c2').out);
    for (let i = 0; i < 50 && ev.data.pids.current !== 1; i++) {
      spawnSync('sleep', ['0.02']);
      ev = JSON.parse(rt('events', '--stats', 'c2').out);
    }
    assert.equal(ev.type, 'stats');
    assert.equal(ev.data.pids.current, 1);
    assert.equal(ev.data.memory.usage.limit, 64 * 1024 * 1024);
    assert.match(rt('ps', 'c2').out, /sleep 1000/);
    assert.equal(rt('pause', 'c2').code, 0);
    assert.equal(JSON.parse(rt('state', 'c2').out).status, 'paused');
    assert.equal(rt('resume', 'c2').code, 0);
    assert.equal(JSON.parse(rt('state', 'c2').out).status, 'running');
    assert.equal(rt('delete', '--force', 'c2').code, 0);
  });

  test('run in the foreground exits with the container\'s status', () => {
    const b = makeBundle(dir, ['sh', '-c', 'echo out; exit 3']);
    const r = rt('run', '--bundle', b.dir, 'r1');
    assert.equal(r.code, 3);
    assert.equal(r.out, 'out\n');
    assert.equal(rt('state', 'r1').code, 1, 'run removes the container unless --keep');
  });

  test('errors: one line naming the cause, non-zero exit, written to --log as JSON', () => {
    const log = join(dir, 'log.json');
    const r = rt('--log', log, '--log-format', 'json', 'state', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, /container "nope" does not exist/);
    const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    assert.equal(entry.level, 'error');
    assert.match(entry.msg, /does not exist/);
    assert.match(rt('kill', 'x', 'SIGNOPE').err, /unknown signal "SIGNOPE"/);
    assert.match(rt('--systemd-cgroup', 'list').err, /systemd cgroup driver is not supported/);
    assert.match(rt('create', '--bundle', join(dir, 'missing'), 'm1').err, /config\.json: no such file/);
    assert.ok(!existsSync(join(root, 'm1')));
  });

  // docs/runc-errors.md: containerd's shim and CRI-O decide from these texts that a kill, a delete, a stop is done.
  for (const runtime of ['runc', 'skiff-runtime']) {
    test(`the runc error texts engines match, as ${runtime} prints them on stderr and in the --log JSON`, () => {
      const id = `texts-${runtime}-${process.pid}`;
      const state = join(dir, `texts-${runtime}`);
      const log = join(dir, `texts-${runtime}.json`);
      const cmd = runtime === 'runc' ? ['runc'] : [process.execPath, cli];
      const run = (...args: string[]) => {
        const out = join(dir, 'texts-out'), err = join(dir, 'texts-err');
        const fds = [openSync(out, 'w'), openSync(err, 'w')];
        // A timeout: a start or exec that waited on a frozen container would otherwise hang the test.
        const r = spawnSync(cmd[0], [...cmd.slice(1), '--root', state, '--log', log, '--log-format', 'json', ...args],
          { stdio: ['ignore', fds[0], fds[1]], timeout: 20_000 });
        fds.forEach(closeSync);
        return { code: r.status, out: readFileSync(out, 'utf8'), err: readFileSync(err, 'utf8') };
      };
      const fails = (text: string, ...args: string[]) => {
        const r = run(...args);
        assert.equal(r.code, args[0] === 'exec' ? 255 : 1, `${args.join(' ')}: ${r.err}`);
        assert.ok(r.err.includes(text), `${args.join(' ')}: stderr ${JSON.stringify(r.err)} lacks "${text}"`);
        // containerd reads the last error of the --log file: {"level","msg","time"} with an RFC 3339 time.
        const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
        assert.equal(last.level, 'error');
        assert.ok(last.msg.includes(text), `${args.join(' ')}: --log ${JSON.stringify(last.msg)} lacks "${text}"`);
        assert.ok(!Number.isNaN(Date.parse(last.time)));
      };
      const status = () => JSON.parse(run('state', id).out).status;
      const b = makeBundle(dir, ['sleep', '1000'], (spec) => { spec.linux!.cgroupsPath = `/skiff/${id}`; });
      try {
        assert.equal(run('create', '--bundle', b.dir, id).code, 0);
        // A created container can be paused; it is then paused, and start refuses it instead of waiting.
        assert.equal(run('pause', id).code, 0);
        assert.equal(status(), 'paused');
        fails('cannot start a container', 'start', id);
        assert.equal(run('resume', id).code, 0);
        assert.equal(status(), 'created');
        assert.equal(run('start', id).code, 0);
        fails('container not paused', 'resume', id);
        assert.equal(run('kill', id, 'KILL').code, 0);
        for (let i = 0; i < 100 && status() !== 'stopped'; i++) spawnSync('sleep', ['0.05']);
        assert.equal(status(), 'stopped');
        fails('container not running', 'kill', id, 'KILL');
        // containerd kills with --all before it deletes a task: nothing left to signal is success.
        assert.equal(run('kill', '--all', id, 'KILL').code, 0);
        fails('container not running', 'pause', id);
        fails('container not running', 'update', '--pids-limit', '10', id);
        fails('cannot exec in a stopped container', 'exec', id, 'true');
        assert.equal(run('delete', id).code, 0);
        fails('does not exist', 'kill', id, 'KILL');
        fails('does not exist', 'delete', id);
        assert.equal(run('delete', '--force', id).code, 0);
      } finally {
        run('delete', '--force', id);
      }
    });
  }

  test('a command not in $PATH: the words runc prints, which podman maps to exit status 127', () => {
    const b = makeBundle(dir, ['no-such-command']);
    const r = rt('create', '--bundle', b.dir, 'nocmd');
    assert.equal(r.code, 1);
    assert.match(r.err, /executable file not found in \$PATH/);
    assert.ok(!existsSync(join(root, 'nocmd')));
  });

  test('features describes this host', () => {
    const f = JSON.parse(rt('features').out);
    assert.ok(f.ociVersionMin && f.ociVersionMax);
    assert.ok(f.linux.namespaces.includes('pid'));
    assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
    assert.equal(f.linux.apparmor.enabled, false);
    assert.equal(f.linux.selinux.enabled, false);
    assert.equal(f.linux.seccomp.enabled, true);
  });
});
