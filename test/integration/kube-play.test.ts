// skiff kube play / down: a v1 Pod with an init container, an emptyDir shared by the containers, env, a hostPort,
// limits, securityContext, hostAliases and dnsConfig runs without a daemon; a Deployment's template with one
// replica too; a file with a field skiff does not do is refused naming the field's path, and nothing is made.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { skiffStore } from '../helpers/skiff-cli.js';

const store = skiffStore('skiff-kube-');
const run = store.run;
after(() => {
  for (const id of run('pod', 'ps', '-q', '--no-trunc').out.split('\n').filter(Boolean)) run('pod', 'rm', '-f', id);
  store.cleanup();
});

const ok = (r: { code: number | null; out: string; err: string }, what: string) => {
  assert.equal(r.code, 0, `${what}: ${r.err}`);
  return r.out.trim();
};
const file = (name: string, text: string) => {
  const path = join(store.dir, name);
  writeFileSync(path, text);
  return path;
};

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

test('kube play runs a Pod: init container first, emptyDir, env, hostPort, limits, securityContext; kube down removes it', async () => {
  const port = await freePort();
  const yaml = file('web.yaml', `
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: { app: web }
spec:
  restartPolicy: Never
  hostAliases:
    - ip: 10.1.2.3
      hostnames: [db.local]
  dnsConfig:
    nameservers: [10.0.0.53]
    searches: [shop.svc]
    options: [{ name: ndots, value: "2" }]
  volumes:
    - name: shared
      emptyDir: {}
  initContainers:
    - name: prepare
      image: localhost/busybox
      command: [sh, -c, "echo init > /data/order; chmod 666 /data/order; echo page-from-init > /data/index.html"]
      volumeMounts: [{ name: shared, mountPath: /data }]
  containers:
    - name: server
      image: localhost/busybox
      command: [httpd]
      args: [-f, -p, "8080", -h, /data]
      ports: [{ containerPort: 8080, hostPort: ${port}, hostIP: 127.0.0.1 }]
      volumeMounts: [{ name: shared, mountPath: /data, readOnly: true }]
      resources: { limits: { memory: 64Mi, cpu: 500m } }
    - name: side
      image: localhost/busybox
      command: [sh, -c]
      args: ["echo app >> /data/order; exec sleep 600"]
      env: [{ name: GREETING, value: hello }]
      workingDir: /data
      volumeMounts: [{ name: shared, mountPath: /data }]
      resources: { limits: { memory: 32Mi } }
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
`);
  ok(run('kube', 'play', yaml), 'kube play');
  const pod = JSON.parse(ok(run('pod', 'inspect', 'web'), 'pod inspect'))[0];
  assert.equal(pod.status, 'running');
  assert.equal(pod.containers.length, 3);
  assert.equal(pod.labels.app, 'web');
  // Two containers: 64 + 32 MiB, the kubelet's pod limit.
  assert.equal(execFileSync('cat', [join('/sys/fs/cgroup/memory', pod.cgroupParent, 'memory.limit_in_bytes')], { encoding: 'utf8' }).trim(), String(96 * 1024 * 1024));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ok(run('exec', 'web-side', 'cat', '/data/order'), 'order'), 'init\napp', 'the init container ran first');
  assert.equal(JSON.parse(ok(run('inspect', 'web-prepare'), 'inspect'))[0].State.ExitCode, 0);
  assert.equal(execFileSync('wget', ['-qO-', `http://127.0.0.1:${port}/index.html`], { encoding: 'utf8' }).trim(), 'page-from-init');
  assert.equal(ok(run('exec', 'web-side', 'wget', '-qO-', 'http://127.0.0.1:8080/index.html'), 'localhost'), 'page-from-init');
  assert.equal(ok(run('exec', 'web-side', 'sh', '-c', 'echo $GREETING $(id -u):$(id -g) $(pwd)'), 'env'), 'hello 1000:1000 /data');
  assert.notEqual(run('exec', 'web-side', 'touch', '/rootfile').code, 0, 'read-only root filesystem');
  assert.match(ok(run('exec', 'web-side', 'grep', 'NoNewPrivs', '/proc/self/status'), 'nnp'), /1/);
  assert.match(ok(run('exec', 'web-side', 'grep', 'CapEff', '/proc/self/status'), 'caps'), /0000000000000000/);
  assert.match(ok(run('exec', 'web-side', 'cat', '/etc/hosts'), 'hosts'), /10\.1\.2\.3\s+db\.local/);
  const resolv = ok(run('exec', 'web-side', 'cat', '/etc/resolv.conf'), 'resolv');
  assert.match(resolv, /nameserver 10\.0\.0\.53/);
  assert.match(resolv, /search shop\.svc/);
  assert.match(resolv, /options ndots:2/);
  const id = pod.id as string;
  ok(run('kube', 'down', yaml), 'kube down');
  assert.equal(run('pod', 'inspect', 'web').code, 1);
  assert.equal(run('inspect', 'web-side').code, 1);
  assert.ok(!existsSync(join(store.root, 'pods', id)), 'the emptyDir went with the pod');
  assert.deepEqual(execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(id)), []);
});

test('a Deployment\'s template with one replica; shareProcessNamespace; hostNetwork', () => {
  const yaml = file('deploy.yaml', `
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker }
spec:
  replicas: 1
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec:
      shareProcessNamespace: true
      containers:
        - name: main
          image: localhost/busybox
          command: [sleep, "600"]
        - name: peek
          image: localhost/busybox
          command: [sleep, "601"]
---
apiVersion: v1
kind: Pod
metadata: { name: onhost }
spec:
  hostNetwork: true
  containers:
    - name: main
      image: localhost/busybox
      command: [sleep, "600"]
`);
  ok(run('kube', 'play', yaml), 'kube play');
  const pod = JSON.parse(ok(run('pod', 'inspect', 'worker-pod'), 'inspect'))[0];
  assert.equal(pod.share.pid, true);
  assert.match(ok(run('exec', 'worker-pod-peek', 'ps', '-o', 'args'), 'ps'), /sleep 600/);
  const host = JSON.parse(ok(run('pod', 'inspect', 'onhost'), 'inspect'))[0];
  assert.equal(host.network, 'host');
  const netOf = (pid: number | string) => execFileSync('readlink', [`/proc/${pid}/ns/net`], { encoding: 'utf8' }).trim();
  const pid = JSON.parse(ok(run('inspect', 'onhost-main'), 'inspect'))[0].State.Pid;
  assert.equal(netOf(pid), netOf('self'), 'the host\'s network namespace');
  ok(run('kube', 'down', yaml), 'kube down');
  assert.equal(ok(run('pod', 'ps', '-q'), 'ps'), '');
});

test('a field skiff does not do is refused naming its YAML path; nothing is made', () => {
  const yaml = file('probe.yaml', `
apiVersion: v1
kind: Pod
metadata: { name: probed }
spec:
  containers:
    - name: a
      image: localhost/busybox
    - name: b
      image: localhost/busybox
      livenessProbe: { exec: { command: [true] } }
      env: [{ name: X, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]
  nodeSelector: { disk: ssd }
`);
  const r = run('kube', 'play', yaml);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /spec\.containers\[1\]\.livenessProbe/);
  assert.match(r.err, /spec\.containers\[1\]\.env\[0\]\.valueFrom/);
  assert.match(r.err, /spec\.nodeSelector/);
  assert.equal(r.err.trim().split('\n').length, 1, 'one error line');
  assert.equal(ok(run('pod', 'ps', '-q'), 'ps'), '');
  assert.equal(ok(run('ps', '-aq'), 'ps'), '');
  const deploy = file('replicas.yaml', `
apiVersion: apps/v1
kind: Deployment
metadata: { name: many }
spec:
  replicas: 3
  template: { spec: { containers: [{ name: a, image: localhost/busybox }] } }
`);
  const d = run('kube', 'play', deploy);
  assert.notEqual(d.code, 0);
  assert.match(d.err, /spec\.replicas: skiff runs one replica/);
  assert.deepEqual(existsSync(join(store.root, 'pods')) ? readdirSync(join(store.root, 'pods')) : [], []);
});
