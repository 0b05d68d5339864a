// Runtime handlers: another OCI runtime's binary (runc here) runs the container under skiff's own monitor, as
// containerd's BinaryName does. Through the skiff CLI (--runtime PATH, as podman's) and through skiffd's
// runtimeHandlers and the CRI's runtime_handler: the container is runc's (its `runc list`), its init is the
// monitor's child, exec (with and without a terminal), pause (by cp), stats, logs, exit codes; a program that cannot be run
// gives docker's 127/126; a binary that fails its create (crun refuses this host's hybrid cgroups) leaves nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { ContainerConfig } from '../../src/cri/proto/generated/runtime/v1/ContainerConfig.js';
import type { PodSandboxConfig } from '../../src/cri/proto/generated/runtime/v1/PodSandboxConfig.js';
import { buildDefaultImage, DEFAULT_IMAGE } from '../../src/image/default-image.js';
import { containerCli } from '../helpers/container-cli.js';
import { criClient, removePodsAndClose, type CriClient } from '../helpers/cri-client.js';
import { startSkiffd, stopAndClean, type TestSkiffd } from '../helpers/skiffd.js';

const RUNC = '/usr/sbin/runc';
const CRUN = '/usr/bin/crun';
const cli = containerCli('skiff-handlers');
const handlerRoot = (name: string) => join(cli.state, 'runtimes', encodeURIComponent(name));

/** The IDs `runc list` shows under a handler's --root. */
function runcList(root: string): string[] {
  if (!existsSync(root)) return [];
  return (JSON.parse(execFileSync(RUNC, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8' }) || '[]') as { id: string }[] | null ?? []).map((c) => c.id);
}

const ppidOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
const commOf = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const inspect = (id: string) => (JSON.parse(cli.run('inspect', id).out) as { State: { Pid: number; ExitCode: number; Status: string }; HostConfig: { Runtime: string } }[])[0];

after(() => cli.cleanup());

describe('skiff --runtime PATH', () => {
  test('runc runs the container under our monitor: exec, pause, stats, top, logs, stop, and rm leaves nothing', () => {
    const name = cli.unique('runc');
    const r = cli.run('run', '-d', '--name', name, '--runtime', RUNC, '--network', 'none', 'localhost/busybox', 'sh', '-c', 'echo hello; trap "exit 3" TERM; while :; do sleep 0.1; done');
    assert.equal(r.code, 0, r.err);
    const id = r.out.trim();
    assert.deepEqual(runcList(join(handlerRoot(RUNC), 'state')), [id], 'runc knows the container');
    const info = inspect(id);
    assert.equal(info.HostConfig.Runtime, RUNC);
    assert.equal(info.State.Status, 'running');
    // Reparented to the monitor when runc create exited: the monitor holds its stdio, log and exit.
    assert.equal(commOf(ppidOf(info.State.Pid)), 'skiff-init');

    const exec = cli.run('exec', name, 'sh', '-c', 'echo in=$(hostname) pid1=$(cat /proc/1/cmdline | tr "\\0" " "); exit 4');
    assert.equal(exec.code, 4, exec.err);
    assert.match(exec.out, /^in=[0-9a-f]{12} pid1=sh -c echo hello/);
    const stdin = spawnSync(process.execPath, cli.args('exec', '-i', name, 'cat'), { input: 'through stdin\n', encoding: 'utf8' });
    assert.equal(stdin.stdout, 'through stdin\n', stdin.stderr);
    // A terminal: the pty master comes over runc's console socket to the native helper, which holds it.
    const tty = spawnSync('script', ['-qec', [process.execPath, ...cli.args('exec', '-t', name, 'tty')].join(' '), '/dev/null'], { encoding: 'utf8' });
    assert.match(tty.stdout, /\/dev\/pts\/\d+/, tty.stderr);
    assert.equal(cli.run('exec', name, 'nonexistent').code, 127, 'not found: 127, as docker reads runc');
    assert.equal(cli.run('exec', name, '/etc').code, 126, 'cannot be invoked: 126');

    // cp pauses the container (runc pause) while it reads the root, and resumes it.
    const cp = cli.runBytes(['cp', `${name}:/etc/hostname`, '-']);
    assert.equal(cp.code, 0, cp.err);
    assert.equal(inspect(id).State.Status, 'running');
    assert.match(cli.run('top', name).out, /sh -c echo hello/);
    assert.match(cli.run('stats', '--no-stream', name).out, new RegExp(name));
    assert.match(cli.run('logs', name).out, /^hello$/m);
    const stop = cli.run('stop', '-t', '5', name);
    assert.equal(stop.code, 0, stop.err);
    assert.equal(inspect(id).State.ExitCode, 3, 'the exit the monitor recorded');
    assert.equal(cli.run('rm', name).code, 0);
    assert.deepEqual(runcList(join(handlerRoot(RUNC), 'state')), []);
    assert.deepEqual(readdirSync(join(handlerRoot(RUNC), 'meta')), [], 'no file of ours beside runc\'s state');
    cli.nothingLeft();
  });

  test('run --rm in the foreground: output, a terminal, the exit status, 127 for a missing program', () => {
    const r = cli.run('run', '--rm', '--runtime', RUNC, 'localhost/busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7');
    assert.equal(r.code, 7);
    assert.equal(r.out, 'out\n');
    assert.equal(r.err, 'err\n');
    const t = spawnSync('script', ['-qec', [process.execPath, ...cli.args('run', '--rm', '-t', '--runtime', RUNC, 'localhost/busybox', 'tty')].join(' '), '/dev/null'], { encoding: 'utf8' });
    assert.match(t.stdout, /^\/dev\/pts\/\d+/, t.stderr);
    const missing = cli.run('run', '--rm', '--runtime', RUNC, 'localhost/busybox', 'nonexistent');
    assert.equal(missing.code, 127, missing.err);
    assert.match(missing.err, /executable file not found in \$PATH/);
    cli.nothingLeft();
  });

  test('a name that is not configured, or a file that is no binary, is refused before anything is made', () => {
    const byName = cli.run('run', '--rm', '--runtime', 'runc', 'localhost/busybox', 'true');
    assert.equal(byName.code, 125);
    assert.match(byName.err, /--runtime: runtime "runc" is not configured \(none is\): name another runtime's binary by its absolute path/);
    const notBinary = cli.run('create', '--runtime', '/etc/os-release', 'localhost/busybox', 'true');
    assert.equal(notBinary.code, 1);
    assert.match(notBinary.err, /--runtime: \/etc\/os-release is not an executable file/);
    assert.deepEqual(cli.run('ps', '-aq').out, '');
  });

  test('a binary whose create fails (crun on this hybrid cgroup host) reports its own words and leaves nothing', () => {
    const name = cli.unique('crun');
    const r = cli.run('run', '-d', '--name', name, '--runtime', CRUN, 'localhost/busybox', 'sleep', '100');
    if (r.code === 0) {
      // A host where crun works (cgroup v2 only): then it must have run like runc.
      assert.equal(cli.run('rm', '-f', name).code, 0);
    } else {
      assert.equal(r.code, 125);
      assert.match(r.err, new RegExp(`${CRUN}: .*cgroup`), r.err);
      assert.deepEqual(readdirSync(join(handlerRoot(CRUN), 'state')), [], 'crun kept no state');
      assert.deepEqual(readdirSync(join(handlerRoot(CRUN), 'meta')), []);
      assert.equal(cli.run('rm', name).code, 0);
    }
    cli.nothingLeft();
  });
});

describe('skiffd runtimeHandlers and the CRI runtime_handler', () => {
  const BRIDGE = 'skhdl0';
  let skiffd: TestSkiffd;
  let cri: CriClient;
  let dir: string;

  const podConfig = (name: string): PodSandboxConfig => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'test', attempt: 0 },
    hostname: name,
    log_directory: join(dir, 'logs', name),
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  });
  const containerConfig = (name: string, args: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
    metadata: { name, attempt: 0 }, image: { image: DEFAULT_IMAGE }, command: ['sh', '-c'], args, log_path: `${name}.log`, ...extra,
  });

  before(async () => {
    dir = join(cli.dir, 'skiffd');
    mkdirSync(join(dir, 'cni'), { recursive: true });
    writeFileSync(join(dir, 'cni', '10-skhdl.conflist'), JSON.stringify({
      cniVersion: '1.0.0', name: 'skhdl',
      plugins: [{ type: 'bridge', bridge: BRIDGE, isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.213.70.0/24' }]], dataDir: join(dir, 'ipam') } }],
    }));
    writeFileSync(join(dir, 'skiffd.json'), JSON.stringify({ runtimeHandlers: { runc: { binary: RUNC } } }));
    mkdirSync(join(dir, 'root'), { recursive: true });
    await buildDefaultImage(join(dir, 'root'));
    skiffd = await startSkiffd(['--cni-conf-dir', join(dir, 'cni'), '--config', join(dir, 'skiffd.json')], dir);
    cri = criClient(skiffd.socket);
  });

  after(async () => {
    await removePodsAndClose(cri);
    if (skiffd) await stopAndClean(skiffd);
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null || true`]);
  });

  test('a pod under the "runc" handler: its containers are runc\'s, share the pod\'s network, exec, logs, exit codes; nothing left', async () => {
    const sandbox = podConfig('handled');
    const pod = (await cri.runtime.RunPodSandbox({ config: sandbox, runtime_handler: 'runc' })).pod_sandbox_id!;
    const podStatus = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: pod });
    assert.equal(podStatus.status?.runtime_handler, 'runc');
    assert.equal((await cri.runtime.ListPodSandbox({})).items?.find((p) => p.id === pod)?.runtime_handler, 'runc');

    const id = (await cri.runtime.CreateContainer({ pod_sandbox_id: pod, sandbox_config: sandbox, config: containerConfig('app', ['echo started; exec httpd -f -p 8080 -h /etc']) })).container_id!;
    await cri.runtime.StartContainer({ container_id: id });
    const runcState = join(skiffd.state, 'runtimes', 'runc', 'state');
    assert.deepEqual(runcList(runcState), [id]);
    const sync = await cri.runtime.ExecSync({ container_id: id, cmd: ['sh', '-c', 'hostname; wget -qO- http://127.0.0.1:8080/hostname; exit 5'], timeout: '10' });
    assert.equal(sync.exit_code, 5);
    assert.equal(sync.stdout!.toString(), 'handled\nhandled\n', 'the pod\'s uts and network namespaces');
    const ip = (await cri.runtime.PodSandboxStatus({ pod_sandbox_id: pod })).status!.network!.ip!;
    assert.equal(await (await fetch(`http://${ip}:8080/hostname`)).text(), 'handled\n', 'the pod\'s IP from the host');

    const done = (await cri.runtime.CreateContainer({ pod_sandbox_id: pod, sandbox_config: sandbox, config: containerConfig('done', ['echo bye; exit 9'], { tty: true }) })).container_id!;
    await cri.runtime.StartContainer({ container_id: done });
    for (let i = 0; i < 100 && (await cri.runtime.ContainerStatus({ container_id: done })).status!.state !== 'CONTAINER_EXITED'; i++) await new Promise((r) => setTimeout(r, 50));
    const exited = (await cri.runtime.ContainerStatus({ container_id: done })).status!;
    assert.equal(exited.exit_code, 9);
    assert.match(readFileSync(join(dir, 'logs', 'handled', 'done.log'), 'utf8'), /stdout F bye\r?$/m, 'a terminal\'s output in the CRI log');

    // The skiff CLI has no handler configured, yet sees and could stop what skiffd ran: the binary is recorded.
    const ps = spawnSync(process.execPath, [cli.args()[0], '--root', skiffd.root, '--state', skiffd.state, 'ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Status}}'], { encoding: 'utf8' });
    assert.match(ps.stdout, new RegExp(`^${id} Up`, 'm'), ps.stderr);

    await cri.runtime.StopPodSandbox({ pod_sandbox_id: pod });
    assert.equal((await cri.runtime.ContainerStatus({ container_id: id })).status!.state, 'CONTAINER_EXITED');
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: pod });
    assert.deepEqual(runcList(runcState), []);
    assert.deepEqual(readdirSync(join(skiffd.state, 'runtimes', 'runc', 'meta')), []);
    // runc made the pod's and containers' cgroups in name=systemd too, which skiff manages nowhere else.
    const cgroups = execFileSync('sh', ['-c', 'find /sys/fs/cgroup/*/skiff -type d 2>/dev/null || true'], { encoding: 'utf8' });
    assert.deepEqual(cgroups.split('\n').filter((d) => [id, done, 'test_handled_uid-handled'].some((c) => d.includes(c))), [], 'no cgroup of the pod or its containers, in any hierarchy');
  });

  test('a handler that is not configured is InvalidArgument naming runtime_handler, and makes no pod', async () => {
    const err = await cri.runtime.RunPodSandbox({ config: podConfig('kata'), runtime_handler: 'kata' }).then(() => assert.fail('accepted'), (e: ServiceError) => e);
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /runtime_handler: no runtime for "kata" is configured \(configured: runc; "" is skiff's own\)/);
    assert.deepEqual((await cri.runtime.ListPodSandbox({})).items, []);
  });
});
