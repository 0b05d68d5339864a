// skiff top, stats and port on real containers: docker's columns and output shapes, ps options passed to the
// host's ps (with the -q fallback for forest listings), usage figures from the container's cgroup and network
// namespace, published ports from the record, and one error line (exit 1) for a missing container or a bad flag.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { containerCli } from '../helpers/container-cli.js';

const cli = containerCli('skiff-top');
const { run } = cli;
after(() => cli.cleanup());

describe('skiff top, stats and port', () => {
  const c = cli.unique('busy');
  const idle = cli.unique('idle');

  before(() => {
    // Two processes; 64 MiB of memory; two ports published on free host ports.
    const r = run('run', '-d', '--name', c, '-m', '64m', '-p', '127.0.0.1::80', '-p', '127.0.0.1::53/udp', 'localhost/busybox', 'sh', '-c', 'sleep 300 & exec sleep 301');
    assert.equal(r.code, 0, r.err);
    assert.equal(run('create', '--name', idle, '--network', 'none', 'localhost/busybox').code, 0);
  });
  after(() => {
    run('rm', '-f', c, idle);
    cli.nothingLeft();
  });

  test('top: ps -ef columns by default, docker\'s 20-wide cells, only the container\'s processes', () => {
    const r = run('top', c);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines[0], ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME'].map((t) => t.padEnd(20)).join('') + 'CMD');
    const cmds = lines.slice(1).map((l) => l.slice(7 * 20));
    assert.deepEqual(cmds.sort(), ['sleep 300', 'sleep 301']);
    const pid = JSON.parse(run('inspect', c).out)[0].State.Pid as number;
    assert.ok(lines.slice(1).some((l) => l.split(/\s+/)[1] === String(pid)), 'the init process is listed');
  });

  test('top: ps options as docker passes them, a forest listing through the fallback', () => {
    const custom = run('top', c, '-o', 'pid,comm');
    assert.equal(custom.code, 0, custom.err);
    assert.deepEqual(custom.out.trimEnd().split('\n').map((l) => l.split(/\s+/)[1]), ['COMMAND', 'sleep', 'sleep']);
    const forest = run('top', c, 'axf');
    assert.equal(forest.code, 0, forest.err);
    assert.equal(forest.out.trimEnd().split('\n').length, 3, forest.out);
  });

  test('top: errors', () => {
    for (const [args, line] of [
      [['top', 'no-such-container'], 'skiff: No such container: no-such-container'],
      [['top', idle], `skiff: container ${idle} is not running`],
      [['top', c, '-o', 'user=PID'], 'skiff: specifying "user=PID" is not allowed'],
      [['top'], "skiff: missing required argument 'container' (see 'skiff top --help')"],
    ] as const) {
      const r = run(...args);
      assert.deepEqual([r.code, r.out, r.err], [1, '', `${line}\n`], args.join(' '));
    }
  });

  test('stats --no-stream: docker\'s table, the memory limit, the pids', () => {
    const r = run('stats', '--no-stream', c);
    assert.equal(r.code, 0, r.err);
    const [header, row, ...rest] = r.out.trimEnd().split('\n');
    assert.deepEqual(rest, []);
    assert.deepEqual(header.split(/ {2,}/), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    const cells = row.split(/ {2,}/);
    assert.equal(cells[1], c);
    assert.match(cells[2], /^\d+\.\d\d%$/);
    assert.match(cells[3], /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
    assert.match(cells[4], /^\d+\.\d\d%$/);
    assert.match(cells[5], /^[\d.]+k?B \/ [\d.]+k?B$/);
    assert.equal(cells[7], '2');
  });

  test('stats: json and templates, -a with a container that is not running, names as given', () => {
    const json = run('stats', '--no-stream', '-a', '--format', 'json');
    assert.equal(json.code, 0, json.err);
    const rows = json.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.deepEqual(Object.keys(rows[0]), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
    const stopped = rows.find((x) => x.Name === idle)!;
    assert.deepEqual([stopped.CPUPerc, stopped.MemUsage, stopped.NetIO, stopped.PIDs], ['0.00%', '0B / 0B', '0B / 0B', '0']);
    assert.ok(!run('stats', '--no-stream', '--format', 'json').out.includes(idle), 'without -a only running containers');
    const t = run('stats', '--no-stream', '--no-trunc', '--format', '{{.Container}} {{.ID}} {{.PIDs}}', c);
    const id = JSON.parse(run('inspect', c).out)[0].Id;
    assert.equal(t.out, `${c} ${id} 2\n`);
  });

  test('stats streams a table a second until stopped', async () => {
    const child = spawn(process.execPath, cli.args('stats', c), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const deadline = Date.now() + 20_000;
    while ((out.match(/^CONTAINER ID/gm) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    assert.ok((out.match(/^CONTAINER ID/gm) ?? []).length >= 2, out);
    assert.ok(!out.includes('\x1b['), 'no terminal codes when stdout is not a terminal');
  });

  test('stats: errors', () => {
    for (const [args, line] of [
      [['stats', '--no-stream', 'no-such-container'], 'skiff: No such container: no-such-container'],
      [['stats', '--no-stream', '--format', '{{.Nope}}'], 'skiff: --format: "{{.Nope}}" is not one of {{.Container}}, {{.Name}}, {{.ID}}, {{.CPUPerc}}, {{.MemUsage}}, {{.MemPerc}}, {{.NetIO}}, {{.BlockIO}}, {{.PIDs}}'],
      [['stats', '--bogus'], "skiff: unknown option '--bogus' (see 'skiff stats --help')"],
    ] as const) {
      const r = run(...args);
      assert.deepEqual([r.code, r.out, r.err], [1, '', `${line}\n`], args.join(' '));
    }
  });

  test('port: every mapping, one port, and errors', () => {
    const r = run('port', c);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^53\/udp -> 127\.0\.0\.1:\d+$/);
    assert.match(lines[1], /^80\/tcp -> 127\.0\.0\.1:\d+$/);
    const tcp = lines[1].split(' -> ')[1];
    assert.deepEqual(run('port', c, '80'), { code: 0, out: `${tcp}\n`, err: '' });
    assert.deepEqual(run('port', c, '80/tcp').out, `${tcp}\n`);
    for (const [args, line] of [
      [['port', c, '81'], `skiff: No public port '81/tcp' published for ${c}`],
      [['port', c, 'http'], 'skiff: invalid port "http": expected PRIVATE_PORT[/PROTO] with a port from 1 to 65535'],
      [['port', c, '80/icmp'], 'skiff: invalid port "80/icmp": the protocol must be tcp, udp, sctp'],
      [['port', 'no-such-container'], 'skiff: No such container: no-such-container'],
    ] as const) {
      const e = run(...args);
      assert.deepEqual([e.code, e.out, e.err], [1, '', `${line}\n`], args.join(' '));
    }
    // Nothing is published by a container that is not running.
    assert.deepEqual(run('port', idle), { code: 0, out: '', err: '' });
  });
});
