// skiff volume create, ls, inspect, rm and prune: docker's output shapes and JSON, a volume a container uses
// refused by rm (naming the container) and kept by prune, prune's prompt, anonymous volumes only without -a,
// data kept across containers, and one error line (exit 1) for each bad name or flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { containerCli } from '../helpers/container-cli.js';

const cli = containerCli('skiff-volume');
const { run } = cli;
after(() => cli.cleanup());

/** skiff with `input` on stdin. */
const withInput = (input: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, cli.args(...args), { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('skiff volume', () => {
  const named = cli.unique('vol');
  const spare = cli.unique('spare');
  const c = cli.unique('user');

  after(() => {
    run('rm', '-f', '-v', c);
    run('volume', 'rm', '-f', named, spare);
    cli.nothingLeft();
  });

  test('create, ls and inspect in docker\'s shapes', () => {
    assert.deepEqual(run('volume', 'create', '--label', 'team=a', '--label', 'bare', named), { code: 0, out: `${named}\n`, err: '' });
    assert.deepEqual(run('volume', 'create', named).out, `${named}\n`, 'creating it again gives the same volume');
    const random = run('volume', 'create').out.trim();
    assert.match(random, /^[0-9a-f]{64}$/);
    const ls = run('volume', 'ls');
    assert.equal(ls.out.split('\n')[0], 'DRIVER    VOLUME NAME');
    assert.ok(ls.out.includes(`local     ${named}\n`), ls.out);
    const [info] = JSON.parse(run('volume', 'inspect', named).out);
    assert.deepEqual(Object.keys(info), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.deepEqual([info.Driver, info.Labels, info.Mountpoint, info.Options, info.Scope], ['local', { team: 'a', bare: '' }, join(cli.root, 'volumes', named, '_data'), null, 'local']);
    assert.match(info.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(JSON.parse(run('volume', 'inspect', random).out)[0].Labels, null);
    const both = run('volume', 'inspect', named, 'no-such-volume');
    assert.deepEqual([both.code, JSON.parse(both.out).length, both.err], [1, 1, 'skiff: No such volume: no-such-volume\n']);
    assert.equal(run('volume', 'rm', random).code, 0);
  });

  test('a volume keeps data across containers, and rm refuses it while a container uses it', () => {
    const w = run('run', '--rm', '--network', 'none', '-v', `${named}:/data`, 'localhost/busybox', 'sh', '-c', 'echo kept > /data/f');
    assert.equal(w.code, 0, w.err);
    assert.equal(run('create', '--name', c, '--network', 'none', '-v', `${named}:/data`, '-v', '/anon', 'localhost/busybox', 'cat', '/data/f').code, 0);
    assert.equal(run('start', '-a', c).out, 'kept\n');
    const id = JSON.parse(run('inspect', c).out)[0].Id;
    const refused = run('volume', 'rm', named);
    assert.deepEqual([refused.code, refused.out, refused.err], [1, '', `skiff: remove ${named}: volume is in use - [${id}]\n`]);
    const forced = run('volume', 'rm', '-f', named);
    assert.equal(forced.code, 1, '-f does not remove a volume in use (docker\'s -f is for missing ones)');
    assert.ok(existsSync(join(cli.root, 'volumes', named, '_data/f')));
  });

  test('ls filters and formats', () => {
    const anon = JSON.parse(run('inspect', c).out)[0].Mounts.find((m: { Destination: string }) => m.Destination === '/anon')?.Name as string;
    assert.match(anon, /^[0-9a-f]{64}$/);
    assert.equal(run('volume', 'create', spare).code, 0);
    const q = (...f: string[]) => run('volume', 'ls', '-q', ...f.flatMap((x) => ['--filter', x])).out.trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(q('dangling=true'), [spare]);
    assert.deepEqual(q('dangling=false'), [anon, named].sort());
    assert.deepEqual(q('label=team=a'), [named]);
    assert.deepEqual(q('label=com.docker.volume.anonymous'), [anon]);
    assert.deepEqual(q(`name=^${spare}$`), [spare]);
    const t = run('volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Links}} {{.Labels}}', '-f', `name=${named}`);
    assert.equal(t.out, `${named} local 1 bare=,team=a\n`);
    const j = JSON.parse(run('volume', 'ls', '--format', 'json', '-f', `name=${named}`).out);
    assert.deepEqual(Object.keys(j), ['Availability', 'Driver', 'Group', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size', 'Status']);
    assert.equal(j.Size, '5B');
  });

  test('prune: asks first, removes unused anonymous volumes, every unused one with -a', () => {
    const anonymous = run('volume', 'ls', '-q').out.split('\n').filter((n) => /^[0-9a-f]{64}$/.test(n));
    const cancelled = withInput('n\n', 'volume', 'prune');
    assert.deepEqual([cancelled.code, cancelled.out, cancelled.err], [1,
      'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] \n',
      'skiff: volume prune has been cancelled\n']);
    // In use by the container: nothing pruned, named volumes kept without -a.
    const nothing = run('volume', 'prune', '-f');
    assert.deepEqual(nothing, { code: 0, out: 'Total reclaimed space: 0B\n', err: '' });
    assert.equal(run('rm', c).code, 0, 'removed without -v: its anonymous volume stays');
    writeFileSync(join(cli.root, 'volumes', anonymous[0], '_data', 'x'), '12345678');
    const pruned = withInput('y\n', 'volume', 'prune');
    assert.equal(pruned.code, 0, pruned.err);
    assert.ok(pruned.out.endsWith(`Deleted Volumes:\n${anonymous[0]}\n\nTotal reclaimed space: 8B\n`), pruned.out);
    assert.deepEqual(run('volume', 'ls', '-q').out.trim().split('\n').sort(), [named, spare].sort());
    const all = run('volume', 'prune', '-f', '-a', '--filter', `label!=team`);
    assert.equal(all.code, 0, all.err);
    assert.equal(all.out, `Deleted Volumes:\n${spare}\n\nTotal reclaimed space: 0B\n`);
    assert.deepEqual(run('volume', 'prune', '-af').out.split('\n').slice(0, 2), ['Deleted Volumes:', named]);
    assert.equal(run('volume', 'ls', '-q').out, '');
  });

  test('errors are one line', () => {
    for (const [args, line] of [
      [['volume', 'create', 'bad/name'], 'skiff: invalid volume name "bad/name": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'],
      [['volume', 'create', '--driver', 'nfs', 'x1'], 'skiff: --driver nfs: skiff has the local driver only'],
      [['volume', 'create', '--label', '=v', 'x1'], 'skiff: --label =v: expected KEY=VALUE'],
      [['volume', 'rm', 'no-such-volume'], 'skiff: get no-such-volume: no such volume'],
      [['volume', 'inspect', 'no-such-volume'], 'skiff: No such volume: no-such-volume'],
      [['volume', 'ls', '--filter', 'color=red'], 'skiff: --filter color=red: invalid filter "color" (dangling, driver, label, name)'],
      [['volume', 'ls', '--format', '{{.Bogus}}'], 'skiff: --format: "{{.Bogus}}" is not one of {{.Name}}, {{.Driver}}, {{.Scope}}, {{.Mountpoint}}, {{.Labels}}, {{.Links}}, {{.Size}}, {{.CreatedAt}}'],
      [['volume', 'prune', '-a', '--filter', 'all=1', '-f'], 'skiff: conflicting options: cannot specify both --all and --filter all=1'],
      [['volume', 'prune', '--filter', 'dangling=true', '-f'], 'skiff: --filter dangling=true: invalid filter "dangling" (label, label!, all)'],
      [['volume', 'rm'], "skiff: missing required argument 'volume' (see 'skiff volume rm --help')"],
    ] as const) {
      const r = run(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.err, `${line}\n`, args.join(' '));
      if (args[1] !== 'inspect') assert.equal(r.out, '', args.join(' '));
    }
  });
});
