// skiff system df: docker's table (images, containers, local volumes with TOTAL, ACTIVE, SIZE, RECLAIMABLE), its
// JSON and templates, and -v's sections; layers two images share counted once and shown as shared size.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { buildLayeredImage } from '../helpers/layered-image.js';
import { containerCli } from '../helpers/container-cli.js';

const cli = containerCli('skiff-df');
const { run } = cli;
after(() => cli.cleanup());

/** The summary table's rows as cells (split at docker's column gaps). */
const rows = () => {
  const r = run('system', 'df');
  assert.equal(r.code, 0, r.err);
  return r.out.trimEnd().split('\n').map((l) => l.split(/ {2,}/));
};

/** go-units sizes back to bytes, roughly (for comparisons). */
const bytes = (s: string) => {
  const m = /^([\d.]+)(B|kB|MB|GB)/.exec(s)!;
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B']!;
};

describe('skiff system df', () => {
  const c = cli.unique('df');
  const idle = cli.unique('df-idle');
  const vol = cli.unique('dfvol');
  const extra = `localhost/${cli.unique('df-extra')}:1`;

  after(() => {
    run('rm', '-f', '-v', c, idle);
    run('volume', 'rm', '-f', vol);
    cli.nothingLeft();
  });

  test('a store with only the default image', () => {
    const [header, images, ...rest] = rows();
    assert.deepEqual(header, ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']);
    assert.deepEqual(images.slice(0, 3), ['Images', '1', '0']);
    assert.equal(images[4], `${images[3]} (100%)`, 'no container uses it');
    assert.deepEqual(rest, [['Containers', '0', '0', '0B', '0B'], ['Local Volumes', '0', '0', '0B', '0B']]);
  });

  test('images, containers and volumes counted, active and reclaimable', async () => {
    const r = run('run', '-d', '--name', c, '--network', 'none', '-v', `${vol}:/data`, 'localhost/busybox', 'sh', '-c',
      'printf 12345 > /data/f; dd if=/dev/zero of=/big bs=1000 count=300 2>/dev/null; touch /written; exec sleep 300');
    assert.equal(r.code, 0, r.err);
    assert.equal(run('create', '--name', idle, '--network', 'none', '-v', '/anon', 'localhost/busybox').code, 0);
    // A second image on the same base layers, with 300 kB of its own that no container uses.
    await buildLayeredImage(cli.root, extra, { 'extra/blob': randomBytes(300_000) });
    for (let i = 0; i < 100 && !run('exec', c, 'ls', '/written').out; i++) await new Promise((res) => setTimeout(res, 100));

    const [, images, containers, volumes] = rows();
    assert.deepEqual(images.slice(0, 3), ['Images', '2', '1']);
    const [reclaim, pct] = images[4].split(' ');
    assert.ok(bytes(reclaim) >= 300_000 && bytes(reclaim) < bytes(images[3]), images.join('|'));
    assert.match(pct, /^\(\d{1,2}%\)$/, 'a whole percentage of the size');
    assert.deepEqual(containers.slice(0, 3), ['Containers', '2', '1']);
    assert.ok(bytes(containers[3]) >= 300_000, containers.join('|'));
    assert.equal(containers[4], '0B (0%)', 'the created container wrote nothing');
    assert.deepEqual(volumes, ['Local Volumes', '2', '2', '5B', '0B (0%)']);
  });

  test('-v: a section per kind, shared layers as shared size', () => {
    const r = run('system', 'df', '-v');
    assert.equal(r.code, 0, r.err);
    const sections = r.out.split('\n\n');
    assert.deepEqual([sections[0], sections[2], sections[4]], ['Images space usage:', 'Containers space usage:', 'Local Volumes space usage:']);
    const table = (s: string) => s.trimEnd().split('\n').map((l) => l.split(/ {2,}/));
    const [imageHeader, ...images] = table(sections[1]);
    assert.deepEqual(imageHeader, ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']);
    const base = images.find((i) => i[0] === 'localhost/busybox')!;
    const mine = images.find((i) => extra.startsWith(`${i[0]}:`))!;
    assert.equal(base[5], mine[5], 'the base layers are shared by both');
    assert.ok(bytes(mine[6]) >= 300_000, mine.join('|'));
    assert.deepEqual([base[7], mine[7]], ['2', '0']);
    const [containerHeader, ...containers] = table(sections[3]);
    assert.deepEqual(containerHeader, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES']);
    assert.deepEqual(containers.map((x) => [x[3], x.at(-1)]).sort(), [['1', c], ['1', idle]].sort());
    const [volumeHeader, ...volumes] = table(sections[5]);
    assert.deepEqual(volumeHeader, ['VOLUME NAME', 'LINKS', 'SIZE']);
    assert.deepEqual(volumes.find((v) => v[0] === vol), [vol, '1', '5B']);
  });

  test('formats, and after the containers are gone everything is reclaimable', () => {
    const json = run('system', 'df', '--format', 'json').out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(json[0]), ['Active', 'Reclaimable', 'Size', 'TotalCount', 'Type']);
    assert.deepEqual(json.map((j) => j.Type), ['Images', 'Containers', 'Local Volumes']);
    assert.equal(run('system', 'df', '--format', '{{.Type}}={{.TotalCount}}').out, 'Images=2\nContainers=2\nLocal Volumes=2\n');
    assert.equal(run('rm', '-f', c, idle).code, 0);
    const [, images, containers, volumes] = rows();
    assert.equal(images[4], `${images[3]} (100%)`);
    assert.deepEqual(containers, ['Containers', '0', '0', '0B', '0B']);
    assert.deepEqual(volumes.slice(0, 3), ['Local Volumes', '2', '0']);
    assert.equal(run('rmi', extra).code, 0);
    run('volume', 'prune', '-af');
  });

  test('errors are one line', () => {
    for (const [args, line] of [
      [['system', 'df', '--format', '{{.Nope}}'], 'skiff: --format: "{{.Nope}}" is not one of {{.Type}}, {{.TotalCount}}, {{.Active}}, {{.Size}}, {{.Reclaimable}}'],
      [['system', 'df', '-v', '--format', 'json'], "skiff: --format: not with -v (the verbose sections have docker's columns only)"],
      [['system', 'df', '--bogus'], "skiff: unknown option '--bogus' (see 'skiff system df --help')"],
    ] as const) {
      const r = run(...args);
      assert.deepEqual([r.code, r.out, r.err], [1, '', `${line}\n`], args.join(' '));
    }
  });
});
