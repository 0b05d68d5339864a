// Every `skiff-runtime` command, loaded only when it runs (issue 15: engines start the runtime once per container
// operation, and `state` should not pay for `exec`'s console or `events`' cgroup statistics). To add a command, write
// its module (one file, exporting `register(program)`) and add a line here in the same style: its name, its line in
// `--help` (summary and usage exactly as the module's own description and arguments; the unit test
// command-table.test.ts checks that they match) and `load: () => import('./x.js')`. A module that registers two
// commands (pause.ts) is on both lines.
import type { CommandEntry } from '../common/command-table.js';

export const RUNTIME_COMMANDS: CommandEntry[] = [
  { name: 'spec', usage: '[options]', summary: 'create a new specification file (config.json) in the bundle', load: () => import('./spec.js') },
  { name: 'create', usage: '[options] <container-id>', summary: 'create a container', load: () => import('./create.js') },
  { name: 'start', usage: '<container-id>', summary: 'start a created container', load: () => import('./start.js') },
  { name: 'run', usage: '[options] <container-id>', summary: 'create and run a container', load: () => import('./run.js') },
  { name: 'state', usage: '<container-id>', summary: 'output the state of a container', load: () => import('./state.js') },
  { name: 'kill', usage: '[options] <container-id> [signal]', summary: 'send a signal (default SIGTERM) to the container', load: () => import('./kill.js') },
  { name: 'delete', usage: '[options] <container-id...>', summary: 'delete a container', load: () => import('./delete.js') },
  { name: 'list', aliases: ['ls'], usage: '[options]', summary: 'list containers', load: () => import('./list.js') },
  { name: 'exec', usage: '[options] <container-id> [command...]', summary: 'execute a new process inside the container', load: () => import('./exec.js') },
  { name: 'ps', usage: '[options] <container-id> [ps-options...]', summary: 'display the processes running inside a container', load: () => import('./ps.js') },
  { name: 'pause', usage: '<container-id>', summary: 'suspend all processes inside the container', load: () => import('./pause.js') },
  { name: 'resume', usage: '<container-id>', summary: 'resume all processes that have been previously paused', load: () => import('./pause.js') },
  { name: 'update', usage: '[options] <container-id>', summary: 'update container resource constraints', load: () => import('./update.js') },
  { name: 'events', usage: '[options] <container-id>', summary: 'display container events such as OOM notifications and resource statistics', load: () => import('./events.js') },
  { name: 'features', usage: '', summary: 'show the enabled features', load: () => import('./features.js') },
];
