// CNI: ADD+DEL latency of loopback+bridge(host-local)+portmap for one namespace, the time the client adds on top
// of the plugin processes, the same cycle through the `skiff network` CLI (node start included), and 20
// namespaces attached in parallel vs one after another. Root; loopback and namespaces this script makes only.
// Usage: node dist/bench/cni.js [RUNS]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { NetnsStore } from '../src/network/netns.js';
import { Networks } from '../src/network/networks.js';

const RUNS = Number(process.argv[2] ?? 30);
const WARMUP = 3;
const dir = mkdtempSync(join(tmpdir(), 'skiff-cni-bench-'));
const root = join(dir, 'root');
const netns = new NetnsStore(join(dir, 'netns'));
let pluginMs = 0, pluginCalls = 0;
const perPlugin = new Map<string, number[]>();
// The client's timing hook: the plugin processes' wall time (spawn to exit), in total and per plugin and command.
const networks = new Networks({
  root, state: dir, extraConfDirs: [],
  onPluginCall: (type, command, ms) => {
    pluginMs += ms;
    pluginCalls++;
    const k = `${type} ${command}`;
    perPlugin.set(k, [...(perPlugin.get(k) ?? []), ms]);
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bin = fileURLToPath(new URL('../bin/skiff.cjs', import.meta.url));

if (execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).includes('10.214.')) throw new Error('10.214.0.0/16 is in use here');
await networks.create({ name: 'benchnet', driver: 'bridge', subnet: '10.214.0.0/16', device: 'skbench0' });
try {
  await netns.create('one');
  const one = { containerId: 'one', netns: netns.path('one'), ifName: 'eth0' };
  const measure = async (ports: boolean) => {
    const cycle: number[] = [], overhead: number[] = [], cpu: number[] = [];
    for (let i = 0; i < RUNS + WARMUP; i++) {
      pluginMs = 0;
      pluginCalls = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await networks.attach('benchnet', { ...one, runtimeConfig: ports ? { portMappings: [{ hostPort: 18500, containerPort: 80, protocol: 'tcp' }] } : undefined });
      await networks.detach('benchnet', one);
      const total = performance.now() - t0;
      // Our own CPU (spawning included), which other load on the machine does not inflate as it does wall time.
      const used = process.cpuUsage(cpu0);
      if (i >= WARMUP) {
        cycle.push(total);
        overhead.push((total - pluginMs) / pluginCalls);
        cpu.push((used.user + used.system) / 1000 / pluginCalls);
      }
    }
    return { cycle: median(cycle), overhead: median(overhead), cpu: median(cpu) };
  };
  const plain = await measure(false);
  const breakdown = [...perPlugin].map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ');
  const mapped = await measure(true);

  const cli: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    for (const cmd of ['attach', 'detach']) {
      const r = spawnSync(process.execPath, [bin, '--root', root, '--state', dir, 'network', cmd, '--network', 'benchnet', 'one'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`skiff network ${cmd}: ${r.stderr}`);
    }
    cli.push(performance.now() - t0);
  }

  const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
  for (const n of names) await netns.create(n);
  const att = (n: string) => ({ containerId: n, netns: netns.path(n), ifName: 'eth0' });
  let t0 = performance.now();
  for (const n of names) await networks.attach('benchnet', att(n));
  const seqAttach = performance.now() - t0;
  for (const n of names) await networks.detach('benchnet', att(n));
  t0 = performance.now();
  await Promise.all(names.map((n) => networks.attach('benchnet', att(n))));
  const parAttach = performance.now() - t0;
  await Promise.all(names.map((n) => networks.detach('benchnet', att(n))));

  console.log(`ADD+DEL of loopback+bridge(host-local)+portmap, one namespace, median of ${RUNS}: ${plain.cycle.toFixed(1)} ms;` +
    ` with one port mapping (iptables DNAT rules): ${mapped.cycle.toFixed(1)} ms (the issue quotes ~35 ms per pod for containerd's CNI path)`);
  console.log(`per plugin call, median ms: ${breakdown}`);
  console.log(`client time on top of the plugin processes: ${plain.overhead.toFixed(2)} ms per plugin call, ` +
    `${mapped.overhead.toFixed(2)} ms with the mapping (target <= 2 ms); the client's own CPU: ${plain.cpu.toFixed(2)} ms per call`);
  console.log(`the same cycle through the CLI (skiff network attach + detach, two node processes), median of 5: ${median(cli).toFixed(0)} ms`);
  console.log(`20 namespaces attached one after another: ${seqAttach.toFixed(0)} ms; in parallel: ${parAttach.toFixed(0)} ms` +
    ` (${(seqAttach / parAttach).toFixed(2)}x)`);
} finally {
  for (const n of await netns.list()) await netns.remove(n).catch(() => {});
  spawnSync('ip', ['link', 'del', 'skbench0']);
  rmSync(dir, { recursive: true, force: true });
}
