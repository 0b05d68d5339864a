// The native monitor end to end (docs/monitor.md): a monitored busybox container, its CRI log, attach over the
// socket with pipes and with a terminal, the exit file, the exit command, and the monitor as a process of its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { attach, readExitFile, reopenLog, type MonitorExit } from '../../src/runtime/monitor-client.js';
import type { MonitorOptions } from '../../src/runtime/monitor-setup.js';
import { Scratch, type TestBundle } from '../helpers/bundle.js';
import { until } from './native-fixture.js';

let scratch: Scratch;
const monitors: number[] = [];
before(() => { scratch = new Scratch(); });
after(async () => {
  await scratch.cleanup();
  // Every monitor ends once its container has: none may be left behind.
  await until(() => monitors.every((pid) => !existsSync(`/proc/${pid}`)));
});

const CRI_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] /;

interface Monitored {
  b: TestBundle;
  id: string;
  log: string;
  exitFile: string;
  sock: string;
  pid: number;
}

let count = 0;
/** Creates a monitored container (log, exit file and socket in its bundle); `start` starts it too. */
async function monitored(args: string[], opts: Partial<MonitorOptions> = {}, edit?: (s: Spec) => void, start = true): Promise<Monitored> {
  const b = scratch.bundle(args, edit);
  const id = `mon-${process.pid}-${count++}`;
  const log = join(b.dir, 'ctr.log'), exitFile = join(b.dir, 'exit.json'), sock = join(b.dir, 'attach.sock');
  await scratch.runtime.createMonitored(id, { bundle: b.dir }, { logPath: log, exitFile, attachSocket: sock, ...opts });
  const pid = (await scratch.runtime.store.read(id)).monitor!.pid;
  monitors.push(pid);
  if (start) await scratch.runtime.start(id);
  return { b, id, log, exitFile, sock, pid };
}

async function exitOf(m: Monitored): Promise<MonitorExit> {
  await until(() => existsSync(m.exitFile));
  return (await readExitFile(m.exitFile))!;
}

function logLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

/** The content of the log's records, stream by stream: partial records joined to the line they continue. */
function logText(path: string, stream = 'stdout'): string {
  return logLines(path).map((l) => l.split(' ')).filter((f) => f[1] === stream)
    .map((f) => f.slice(3).join(' ') + (f[2] === 'F' ? '\n' : '')).join('');
}

/** A client's collected output and stdin. */
function client() {
  const out = new PassThrough(), err = new PassThrough(), stdin = new PassThrough();
  const got = { out: '', err: '' };
  out.setEncoding('utf8').on('data', (d: string) => { got.out += d; });
  err.setEncoding('utf8').on('data', (d: string) => { got.err += d; });
  return { streams: { stdout: out, stderr: err, stdin }, stdin, got };
}

/** /proc/PID/stat as [pid, state, ppid, pgrp, session, ...]. */
function procStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return [String(pid), ...text.slice(text.lastIndexOf(')') + 2).split(' ')];
  } catch {
    return undefined;
  }
}

/** Processes whose parent is `ppid` (comm from /proc/PID/stat, which a process that just exited no longer has). */
function childrenOf(ppid: number): { pid: number; state: string; comm: string }[] {
  const out = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const [state, parent] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (Number(parent) === ppid) out.push({ pid: Number(name), state, comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) });
  }
  return out;
}

function privateKb(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(rollup)![1]);
  return kb('Private_Clean') + kb('Private_Dirty');
}

describe('monitor: the log', () => {
  test('CRI lines: stdout and stderr, whole lines F, a piece without newline P; the exit code', async () => {
    const m = await monitored(['sh', '-c', 'echo to-stdout; echo to-stderr >&2; printf partial; exit 5']);
    const exit = await exitOf(m);
    assert.equal(exit.exitCode, 5);
    assert.equal(exit.signal, undefined);
    assert.equal(exit.oomKilled, false);
    assert.match(exit.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const lines = logLines(m.log);
    for (const l of lines) assert.match(l, CRI_LINE);
    assert.deepEqual(lines.map((l) => l.split(' ').slice(1).join(' ')).sort(),
      ['stderr F to-stderr', 'stdout F to-stdout', 'stdout P partial']);
  });

  test('rotation at the size limit keeps N rotated files, every line once and in order', async () => {
    const m = await monitored(['sh', '-c', 'i=0; while [ $i -lt 60 ]; do echo "line $i"; i=$((i+1)); done'],
      { logMaxSize: 400, logMaxFiles: 2 });
    assert.equal((await exitOf(m)).exitCode, 0);
    assert.ok(existsSync(`${m.log}.1`) && existsSync(`${m.log}.2`) && !existsSync(`${m.log}.3`));
    for (const f of [m.log, `${m.log}.1`, `${m.log}.2`]) assert.ok(readFileSync(f).length <= 400, `${f} is within the limit`);
    const kept = [`${m.log}.2`, `${m.log}.1`, m.log].flatMap((f) => logText(f).trim().split('\n'));
    const first = Number(kept[0].split(' ')[1]);
    assert.ok(first > 0, 'the oldest lines were rotated away');
    assert.deepEqual(kept, Array.from({ length: 60 - first }, (_, i) => `line ${first + i}`));
  });

  test('reopen: after the log was renamed, new lines go to a new file at the path', async () => {
    const m = await monitored(['sh', '-c', 'echo one; read x; echo two'], { stdin: true });
    await until(() => existsSync(m.log) && readFileSync(m.log, 'utf8').includes('one'));
    renameSync(m.log, `${m.log}.old`);
    await reopenLog(m.sock);
    const c = client();
    const a = await attach(m.sock, { ...c.streams, closeStdinAtEnd: true });
    c.stdin.end('go\n');
    assert.equal((await a.done)?.exitCode, 0);
    assert.equal(logText(`${m.log}.old`), 'one\n');
    assert.equal(logText(m.log), 'two\n');
  });
});

describe('monitor: attach', () => {
  test('two clients with pipes: both see the output from when they attached, stdin from either, close ends cat', async () => {
    const m = await monitored(['sh', '-c', 'echo early; cat; echo bye >&2'], { stdin: true }, undefined, false);
    const a = client(), b = client();
    const ca = await attach(m.sock, { ...a.streams, closeStdinAtEnd: true });
    await scratch.runtime.start(m.id);
    await until(() => a.got.out.includes('early'));
    const cb = await attach(m.sock, b.streams);
    a.stdin.write('from-a\n');
    await until(() => b.got.out.includes('from-a\n'));
    b.stdin.write('from-b\n');
    await until(() => a.got.out.includes('from-b\n'));
    // A third client comes and goes; the container does not notice.
    const c = client();
    (await attach(m.sock, c.streams)).detach();
    a.stdin.end();
    const [ea, eb] = await Promise.all([ca.done, cb.done]);
    assert.equal(ea?.exitCode, 0);
    assert.deepEqual(ea, eb);
    assert.equal(a.got.out, 'early\nfrom-a\nfrom-b\n');
    assert.equal(b.got.out, 'from-a\nfrom-b\n', 'no output from before it attached');
    assert.equal(a.got.err, 'bye\n');
    assert.equal(b.got.err, 'bye\n');
    assert.equal(logText(m.log), 'early\nfrom-a\nfrom-b\n');
    assert.equal(logText(m.log, 'stderr'), 'bye\n');
    await assert.rejects(attach(m.sock, client().streams), /not running/);
  });

  test('a client that speaks the protocol wrongly is dropped; the container and the other clients go on', async () => {
    const m = await monitored(['cat'], { stdin: true });
    const c = client();
    const good = await attach(m.sock, c.streams);
    const bad = createConnection(m.sock);
    const closed = new Promise((r) => bad.on('close', r));
    bad.on('error', () => {});
    bad.resume(); // read, so that the monitor's close is seen
    bad.write(Buffer.from([99, 0, 0, 0, 0, 0, 0, 0]));
    await closed;
    c.stdin.write('still here\n');
    await until(() => c.got.out === 'still here\n');
    good.detach();
    await scratch.runtime.kill(m.id, 'KILL');
    await exitOf(m);
  });

  test('without stdin the container reads /dev/null and stdin frames are dropped', async () => {
    const m = await monitored(['sh', '-c', 'cat; echo eof'], {}, undefined, false);
    const c = client();
    const a = await attach(m.sock, { ...c.streams, closeStdinAtEnd: true });
    c.stdin.end('ignored\n');
    await scratch.runtime.start(m.id);
    assert.equal((await a.done)?.exitCode, 0);
    assert.equal(c.got.out, 'eof\n');
  });

  test('a terminal: the monitor holds the pty, resize reaches `stty size`, the log has stdout only', async () => {
    const m = await monitored(['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo tty; stty size; read x; stty size; echo "got:$x" >&2'],
      { stdin: true }, (s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 24, width: 80 }; }, false);
    const c = client();
    const a = await attach(m.sock, c.streams);
    await scratch.runtime.start(m.id);
    await until(() => c.got.out.includes('24 80'));
    a.resize(30, 100);
    c.stdin.write('hello\r');
    assert.equal((await a.done)?.exitCode, 0);
    // The terminal's line discipline: \r\n line ends, the input echoed, stderr on the same terminal.
    assert.equal(c.got.out, 'tty\r\n24 80\r\nhello\r\n30 100\r\ngot:hello\r\n');
    assert.equal(c.got.err, '');
    assert.equal(logText(m.log, 'stderr'), '');
    assert.equal(logText(m.log).replace(/\r/g, ''), 'tty\n24 80\nhello\n30 100\ngot:hello\n');
  });
});

describe('monitor: the exit', () => {
  test('a signal: exit code 128+N and the signal', async () => {
    const m = await monitored(['sleep', '1000']);
    await scratch.runtime.kill(m.id, 'KILL');
    const exit = await exitOf(m);
    assert.deepEqual([exit.exitCode, exit.signal, exit.oomKilled], [137, 9, false]);
  });

  test('an OOM kill in the container\'s cgroup is recorded, even when the init exits normally', async () => {
    const m = await monitored(['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd=$?'], {},
      (s) => { s.linux!.resources = { memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } }; });
    const exit = await exitOf(m);
    assert.deepEqual([exit.exitCode, exit.oomKilled], [0, true]);
    assert.equal(logText(m.log), 'dd=137\n');
  });

  test('the exit command runs after the exit file exists, detached, with /dev/null stdio; then the monitor is gone', async () => {
    const dir = mkdtempSync(join(scratch.dir, 'exit-command-'));
    const out = join(dir, 'out');
    const script = 'cat "$0" > "$1.tmp"; echo "sid=$(cut -d" " -f6 /proc/$$/stat) pid=$$ in=$(readlink /proc/$$/fd/0) out=$(readlink /proc/$$/fd/1) env=$(env | sort | tr "\\n" " ")" >> "$1.tmp"; mv "$1.tmp" "$1"';
    const exitFile = join(dir, 'exit.json');
    const m = await monitored(['sh', '-c', 'exit 7'], {
      exitFile, exitCommand: ['/bin/sh', '-c', script, exitFile, out], exitCommandEnv: ['PATH=/usr/bin:/bin', 'MARK=1'],
    });
    await until(() => existsSync(out));
    const [json, info] = readFileSync(out, 'utf8').split('\n');
    assert.equal(JSON.parse(json).exitCode, 7);
    const f = Object.fromEntries(info.split(' ').filter((w) => w.includes('=')).map((w) => w.split('=') as [string, string]));
    assert.equal(f.sid, f.pid, 'a session of its own');
    assert.equal(f.in, '/dev/null');
    assert.equal(f.out, '/dev/null');
    assert.match(info, /env=MARK=1 PATH=\/usr\/bin:\/bin PWD=\//);
    await until(() => !existsSync(`/proc/${m.pid}`));
    assert.equal(await scratch.runtime.monitorRunning(m.id), false);
  });

  test('the exit command is left out while the exit owner lives (its pid and start time), and runs once it is gone', async () => {
    const dir = mkdtempSync(join(scratch.dir, 'exit-owner-'));
    const ownerFile = join(dir, 'owner');
    const ran = join(dir, 'ran');
    const opts = { exitCommand: ['/bin/sh', '-c', 'echo ran > "$0"', ran], exitOwnerFile: ownerFile };
    writeFileSync(ownerFile, `${process.pid} ${procStat(process.pid)![20]}`);
    const owned = await monitored(['true'], { exitFile: join(dir, 'exit-1.json'), ...opts });
    await until(() => !existsSync(`/proc/${owned.pid}`));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(ran), false, 'left to the owner');
    // The same pid with another start time is a process that reused it: no owner.
    writeFileSync(ownerFile, `${process.pid} 1`);
    await monitored(['true'], { exitFile: join(dir, 'exit-2.json'), ...opts });
    await until(() => existsSync(ran));
  });
});

describe('monitor: a process of its own', () => {
  test('it survives SIGKILL of the node process that created it, and goes on: attach, log, exit file', async () => {
    const b = scratch.bundle(['sh', '-c', 'echo before; read x; echo "after:$x"; exit 4']);
    const id = `mon-${process.pid}-killed-creator`;
    const creator = fileURLToPath(new URL('../fixtures/monitor-creator.js', import.meta.url));
    const child = spawn(process.execPath, [creator, scratch.runtimeRoot, b.dir, id, b.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { said += d; });
    await until(() => said.includes('started'));
    const pid = (await scratch.runtime.store.read(id)).monitor!.pid;
    monitors.push(pid);
    assert.equal(Number(procStat(pid)![2]), child.pid, 'the creator is the monitor\'s parent');
    const gone = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await gone;
    assert.ok(await scratch.runtime.monitorRunning(id));
    assert.notEqual(Number(procStat(pid)![2]), child.pid, 'reparented');
    const c = client();
    const a = await attach(join(b.dir, 'attach.sock'), c.streams);
    c.stdin.write('y\n');
    assert.equal((await a.done)?.exitCode, 4);
    assert.equal(c.got.out, 'after:y\n');
    assert.equal(logText(join(b.dir, 'log')), 'before\nafter:y\n');
    assert.equal((await readExitFile(join(b.dir, 'exit')))?.exitCode, 4);
  });

  test('its own session, cwd /, and only its own fds (none of the caller\'s, not even preserved ones)', async () => {
    const b = scratch.bundle(['sleep', '1000']);
    const id = `mon-${process.pid}-fds`;
    const log = join(b.dir, 'log');
    await scratch.runtime.createMonitored(id, { bundle: b.dir, preserveFds: 2 },
      { logPath: log, exitFile: join(b.dir, 'exit'), attachSocket: join(b.dir, 'sock'), stdin: true });
    const pid = (await scratch.runtime.store.read(id)).monitor!.pid;
    monitors.push(pid);
    const st = procStat(pid)!;
    assert.equal(st[4], String(pid), 'session leader');
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), '/');
    const targets = readdirSync(`/proc/${pid}/fd`).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    const kinds = targets.map((t) => t.replace(/\[\d+\]$/, '')).sort();
    assert.deepEqual(kinds, [
      '/dev/null', '/dev/null', '/dev/null', log, '/sys/fs/cgroup/memory/skiff/' + id + '/memory.oom_control',
      'anon_inode:[signalfd]', 'pipe:', 'pipe:', 'pipe:', 'socket:',
    ].sort(), targets.join(', '));
    await scratch.runtime.delete(id, { force: true });
  });

  test('orphans of a container without a pid namespace are reparented to the monitor and reaped', async () => {
    const m = await monitored(['sh', '-c', '(sleep 1 &); echo spawned; sleep 1000'], {},
      (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid'); });
    await until(() => existsSync(m.log) && readFileSync(m.log, 'utf8').includes('spawned'));
    const container = (await scratch.runtime.state(m.id)).pid!;
    await until(() => childrenOf(m.pid).some((c) => c.comm === 'sleep' && c.pid !== container));
    await until(() => childrenOf(m.pid).length === 1);
    assert.deepEqual(childrenOf(m.pid).map((c) => [c.pid, c.state]), [[container, 'S']], 'no zombie left');
    await scratch.runtime.kill(m.id, 'KILL');
    assert.equal((await exitOf(m)).signal, 9);
  });

  test('a create that fails half way leaves no monitor, socket, log or exit file, and runs no exit command', async () => {
    const b = scratch.bundle(['no-such-command']);
    const id = `mon-${process.pid}-fails`;
    const sock = join(b.dir, 'sock'), log = join(b.dir, 'log'), exitFile = join(b.dir, 'exit'), marker = join(b.dir, 'ran');
    await assert.rejects(scratch.runtime.createMonitored(id, { bundle: b.dir }, {
      logPath: log, exitFile, attachSocket: sock, exitCommand: ['/bin/touch', marker],
    }), /no-such-command/);
    await new Promise((r) => setTimeout(r, 200)); // time for an exit command that should not run
    for (const p of [sock, log, exitFile, marker]) assert.ok(!existsSync(p), `${p} is gone`);
    const left = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
      try { return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(sock); } catch { return false; }
    });
    assert.deepEqual(left, [], 'no monitor left');
    await assert.rejects(scratch.runtime.createMonitored(id, { bundle: b.dir }, { logPath: log, exitFile, attachSocket: join(b.dir, 'no/sock') }),
      /start the monitor: attach socket .*\/no\/sock: its directory: no such file or directory/);
    assert.ok(!existsSync(log) && !existsSync(join(scratch.runtimeRoot, id)));
    await assert.rejects(scratch.runtime.createMonitored(id, { bundle: b.dir }, { logPath: 'rel.log', exitFile, logMaxFiles: -1 }),
      /monitor options: monitor.logPath: "rel.log" is not an absolute path; monitor.logMaxFiles: -1 is not a whole number >= 0/);
  });

  test('its private memory (Private_Clean + Private_Dirty) is well under a megabyte', async () => {
    const m = await monitored(['sleep', '1000'], { stdin: true });
    const c = client();
    const a = await attach(m.sock, c.streams);
    const kb = privateKb(m.pid);
    assert.ok(kb < 1024, `${kb} kB`);
    a.detach();
    await scratch.runtime.kill(m.id, 'KILL');
    await exitOf(m);
  });
});
