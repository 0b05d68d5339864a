// Every `skiff` command: one line each, loaded only when it runs (`skiff --help` lists them without loading any).
// A command's module exports `register(program)`; a group's subcommands with modules of their own go under
// `subcommands`, a group that one module registers whole is a plain line.
import type { CommandEntry } from '../common/command-table.js';

export const SKIFF_COMMANDS: CommandEntry[] = [
  { name: 'run', summary: 'create and run a new container from an image', load: () => import('./run.js') },
  { name: 'create', summary: 'create a new container', load: () => import('./create.js') },
  { name: 'start', summary: 'start one or more stopped containers', load: () => import('./start.js') },
  { name: 'stop', summary: 'stop one or more running containers', load: () => import('./stop.js') },
  { name: 'restart', summary: 'restart one or more containers', load: () => import('./restart.js') },
  { name: 'kill', summary: 'kill one or more running containers', load: () => import('./kill.js') },
  { name: 'rm', summary: 'remove one or more containers', load: () => import('./rm.js') },
  { name: 'ps', summary: 'list containers', load: () => import('./ps.js') },
  { name: 'logs', summary: 'fetch the logs of a container', load: () => import('./logs.js') },
  { name: 'attach', summary: 'attach local standard input, output, and error streams to a running container', load: () => import('./attach.js') },
  { name: 'exec', summary: 'run a command in a running container', load: () => import('./exec.js') },
  { name: 'inspect', summary: 'return low-level information on containers or images (JSON)', load: () => import('./inspect.js') },
  { name: 'wait', summary: 'block until one or more containers stop, then print their exit codes', load: () => import('./wait.js') },
  { name: 'rename', summary: 'rename a container', load: () => import('./rename.js') },
  { name: 'container', summary: 'manage containers (inspect, prune)', load: () => import('./container.js') },
  { name: 'pull', summary: 'pull an image from a registry and unpack it', load: () => import('./pull.js') },
  { name: 'push', summary: 'push an image to a registry', load: () => import('./push.js') },
  { name: 'login', summary: 'log in to a registry (the credentials are checked first)', load: () => import('./login.js') },
  { name: 'logout', summary: 'remove the credentials of a registry', load: () => import('./logout.js') },
  { name: 'images', summary: 'list images in the local store', load: () => import('./images.js') },
  { name: 'tag', summary: 'give an image another name', load: () => import('./tag.js') },
  { name: 'rmi', summary: 'remove images (and what only they used)', load: () => import('./rmi.js') },
  {
    name: 'image', summary: 'image details and maintenance', subcommands: [
      { name: 'inspect', summary: 'show images as docker image inspect does (JSON)', load: () => import('./image-inspect.js') },
      { name: 'prune', summary: 'remove blobs, unpacked layers, interrupted downloads and leftovers of killed processes that nothing uses', load: () => import('./image-prune.js') },
      { name: 'mount', summary: 'mount an image\'s root filesystem and print its path', load: () => import('./image-mount.js') },
      { name: 'unmount', aliases: ['umount'], summary: 'unmount an image mounted with `skiff image mount`', load: () => import('./image-unmount.js') },
    ],
  },
  { name: 'load', summary: 'load images from a docker-archive, an oci-archive or an OCI layout directory', load: () => import('./load.js') },
  { name: 'save', summary: 'save an image to an oci-archive or a docker-archive', load: () => import('./save.js') },
  { name: 'network', summary: 'manage CNI networks and network namespaces', load: () => import('./network.js') },
  { name: 'cp', summary: 'copy files/folders between a container and the local filesystem', load: () => import('./cp.js') },
  { name: 'top', summary: 'display the running processes of a container', load: () => import('./top.js') },
  { name: 'stats', summary: "display a live stream of containers' resource usage", load: () => import('./stats.js') },
  { name: 'port', summary: 'list the port mappings of a container, or one of them', load: () => import('./port.js') },
  { name: 'volume', summary: 'manage volumes (create, ls, inspect, rm, prune)', load: () => import('./volume.js') },
  { name: 'pod', summary: 'manage pods: containers that share a network, ipc, uts (and pid) namespace', load: () => import('./pod.js') },
  { name: 'kube', summary: 'run (play) or remove (down) a Kubernetes Pod or Deployment file without a daemon', load: () => import('./kube.js') },
  { name: 'system', summary: 'manage skiff (df: disk usage)', load: () => import('./system.js') },
];
