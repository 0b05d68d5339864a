#!/usr/bin/env node
// `skiffd`: the Kubernetes CRI server (runtime.v1) on a unix socket, in the foreground, logging JSON lines on
// stdout. SIGTERM or SIGINT stops it cleanly (containers keep running); a second one ends it at once.
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig, LOG_LEVELS, type ConfigOverrides } from '../../cri/config.js';
import { startSkiffd } from '../../cri/daemon.js';
import { createLogger } from '../../cri/log.js';
import { trustExtraCaCerts } from '../../image/registry/tls.js';
import { takeDeferredCaCerts } from '../common/deferred-ca.js';
import { runCli } from '../common/run-cli.js';

/** Each configuration key's flag, so an error about a value given on the command line names the flag. */
const FLAGS: Record<string, string> = {
  socket: '--socket', root: '--root', state: '--state', cniConfDir: '--cni-conf-dir', cniBinDirs: '--cni-bin-dir',
  streamingAddress: '--streaming-address', registries: '--registries', cgroupParent: '--cgroup-parent',
  logLevel: '--log-level',
};

interface Flags {
  config?: string;
  socket?: string;
  root?: string;
  state?: string;
  cniConfDir?: string;
  cniBinDir?: string[];
  streamingAddress?: string;
  registries?: string;
  cgroupParent?: string;
  logLevel?: ConfigOverrides['logLevel'];
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

const extraCa = takeDeferredCaCerts();
if (extraCa) trustExtraCaCerts(extraCa);

const program = new Command('skiffd')
  .description('serve the Kubernetes CRI (runtime.v1) for the kubelet and crictl: pods, containers and images on the skiff engine')
  .option('--config <file>', `JSON configuration file (default ${DEFAULT_CONFIG_FILE}, if it exists); flags override its keys`)
  .option('--socket <path>', 'gRPC unix socket (default /run/skiff/skiffd.sock)')
  .option('--root <dir>', 'persistent data, shared with the skiff CLI (default /var/lib/skiff)')
  .option('--state <dir>', 'runtime state, shared with the skiff CLI (default /run/skiff)')
  .option('--cni-conf-dir <dir>', 'the pod network\'s CNI configuration directory (default /etc/cni/net.d)')
  .option('--cni-bin-dir <dir>', 'a CNI plugin directory, repeatable (default /usr/lib/cni, /opt/cni/bin)', collect)
  .option('--streaming-address <ip:port>', 'where the exec/attach/port-forward server listens (default 127.0.0.1:0, a free port)')
  .option('--registries <file>', 'registries.json: mirrors, insecure registries, CAs (default ROOT/registries.json)')
  .option('--cgroup-parent <path>', 'the cgroup all pods go under; a request\'s cgroup_parent is nested below it (default /skiff)')
  .addOption(new Option('--log-level <level>', 'log level (default info)').choices(LOG_LEVELS))
  .action(async (o: Flags) => {
    const config = loadConfig(o.config ?? DEFAULT_CONFIG_FILE, o.config !== undefined, {
      socket: o.socket, root: o.root, state: o.state, cniConfDir: o.cniConfDir, cniBinDirs: o.cniBinDir,
      streamingAddress: o.streamingAddress, registries: o.registries,
      cgroupParent: o.cgroupParent, logLevel: o.logLevel,
    }, (key) => FLAGS[key] ?? key);
    const log = createLogger(config.logLevel);
    const skiffd = await startSkiffd({ config, log });
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        log.info({ signal }, 'signal received');
        // From now on every signal ends it at once (a once-listener would leave a third one to the default action).
        process.on(signal, () => process.exit(130));
        void skiffd.stop().then(resolve);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
    process.exit(0);
  });

// No top-level await: scripts/bundle.mjs makes the bundle's chunks CommonJS-style scripts, for V8's code cache.
void runCli(program);
