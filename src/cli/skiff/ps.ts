// skiff ps [-a] [-q] [-s] [--no-trunc] [--filter K=V]... [--format json|TEMPLATE]: docker ps. Columns, status
// words ("Up 3 minutes", "Exited (0) 2 seconds ago", "Created", "Up 5 seconds (Paused)", "Restarting (1) ...") and
// filters as docker's.
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { ContainerView } from '../../engine/container-view.js';
import { directorySize } from '../../engine/volumes.js';
import { shortId } from '../../image/image-summary.js';
import { contextOf } from './context.js';
import { goTimeString, humanDuration, humanSize } from './docker-units.js';
import { engineOf } from './engine-of.js';
import { parseTemplate, renderRows } from './format-template.js';
import { join } from 'node:path';
import { printOut } from '../common/print.js';

const FIELDS = ['ID', 'Image', 'Command', 'CreatedAt', 'RunningFor', 'Ports', 'State', 'Status', 'Size', 'Names', 'Labels', 'Mounts', 'Networks'] as const;
type Field = (typeof FIELDS)[number];
const HEADERS: Record<Field, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
};
const TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const TABLE_WITH_SIZE = `${TABLE}\t{{.Size}}`;
const FILTERS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'network', 'volume'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

const ago = (iso: string | undefined, now: number) => (iso ? `${humanDuration(now - Date.parse(iso))} ago` : '');

/** docker's STATUS column. */
export function statusText(v: ContainerView, now: number): string {
  const s = v.record.state;
  switch (v.status) {
    case 'running': return `Up ${humanDuration(now - Date.parse(s.startedAt ?? v.record.created))}`;
    case 'paused': return `Up ${humanDuration(now - Date.parse(s.startedAt ?? v.record.created))} (Paused)`;
    case 'restarting': return `Restarting (${s.exitCode ?? 0}) ${ago(s.finishedAt, now)}`;
    case 'exited': return `Exited (${s.exitCode ?? 0}) ${ago(s.finishedAt, now)}`;
    case 'removing': return 'Removal In Progress';
    default: return 'Created';
  }
}

/** docker's COMMAND column, before truncation. */
export function commandOf(v: ContainerView): string {
  const p = v.record.command;
  if (p) return p.join(' ');
  const c = v.record.config;
  return [...(c.entrypoint ?? []), ...(c.command ?? [])].join(' ');
}

function portsText(v: ContainerView): string {
  return (v.record.network?.ports ?? []).map((p) => `${p.hostIP}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

function fieldsOf(v: ContainerView, now: number, o: { noTrunc?: boolean; size?: boolean }, root: string): Record<Field, string> {
  const rec = v.record;
  let command = commandOf(v);
  if (!o.noTrunc && command.length > 20) command = `${command.slice(0, 19)}…`;
  const size = o.size ? `${humanSize(directorySize(join(root, 'containers', rec.id, 'upper')))} (virtual ${humanSize(0)})` : '';
  return {
    ID: o.noTrunc ? rec.id : shortId(rec.id),
    Image: rec.image.input,
    Command: `"${command}"`,
    CreatedAt: goTimeString(new Date(rec.created)),
    RunningFor: ago(rec.created, now),
    Ports: portsText(v),
    State: v.status,
    Status: statusText(v, now),
    Size: size,
    Names: rec.name,
    Labels: Object.entries(rec.config.labels).map(([k, val]) => `${k}=${val}`).join(','),
    Mounts: rec.config.mounts.filter((m) => m.type === 'volume').map((m) => (m.type === 'volume' ? m.source ?? '' : '')).join(','),
    Networks: rec.config.networkMode === 'bridge' ? 'skiff0' : rec.config.networkMode,
  };
}

type Filter = (v: ContainerView, all: ContainerView[]) => boolean;

function parseFilters(specs: string[]): Filter[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    const value = eq < 0 ? '' : spec.slice(eq + 1);
    if (!FILTERS.includes(key)) throw new SkiffError(`--filter ${spec}: invalid filter "${key}" (${FILTERS.join(', ')})`, 'EINVAL');
    switch (key) {
      case 'id': return (v) => v.record.id.startsWith(value);
      case 'name': return (v) => new RegExp(value).test(v.record.name);
      case 'label': {
        const [k, val] = value.split('=');
        return (v) => k in v.record.config.labels && (val === undefined || v.record.config.labels[k] === val);
      }
      case 'status':
        if (!STATUSES.includes(value)) throw new SkiffError(`--filter ${spec}: invalid status "${value}" (${STATUSES.join(', ')})`, 'EINVAL');
        return (v) => v.status === value;
      case 'ancestor': return (v) => v.record.image.input === value || v.record.image.name === value || v.record.image.id.replace('sha256:', '').startsWith(value.replace('sha256:', ''));
      case 'exited':
        if (!/^\d+$/.test(value)) throw new SkiffError(`--filter ${spec}: exited takes an exit code`, 'EINVAL');
        return (v) => v.status === 'exited' && v.record.state.exitCode === Number(value);
      case 'network': return (v) => (v.record.config.networkMode === 'bridge' ? 'skiff0' : v.record.config.networkMode) === value;
      case 'volume': return (v) => v.record.config.mounts.some((m) => (m.type === 'volume' ? m.source === value : m.type === 'bind' ? m.source === value : false) || m.target === value);
      default: {
        // before / since: containers created before or after the one named.
        return (v, all) => {
          const ref = all.find((x) => x.record.name === value || x.record.id.startsWith(value));
          if (!ref) throw new SkiffError(`--filter ${spec}: no such container: ${value}`, 'ENOENT');
          return key === 'before' ? v.record.created < ref.record.created : v.record.created > ref.record.created;
        };
      }
    }
  });
}

function jsonLine(f: Record<Field, string>): string {
  return JSON.stringify({
    Command: f.Command, CreatedAt: f.CreatedAt, ID: f.ID, Image: f.Image, Labels: f.Labels, LocalVolumes: String(f.Mounts ? f.Mounts.split(',').length : 0),
    Mounts: f.Mounts, Names: f.Names, Networks: f.Networks, Ports: f.Ports, RunningFor: f.RunningFor, Size: f.Size, State: f.State, Status: f.Status,
  }).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n';
}

export function register(program: Command): void {
  program.command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option('-s, --size', 'display total file sizes')
    .option('--no-trunc', "don't truncate output")
    .option('-n, --last <n>', 'show n last created containers (includes all states)')
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .option('-f, --filter <key=value>', `filter output (${FILTERS.join(', ')}; repeatable)`, (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--format <format>', `json, or a template of ${FIELDS.map((f) => `{{.${f}}}`).join(' ')}`)
    .action(async (o: { all?: boolean; quiet?: boolean; size?: boolean; trunc: boolean; last?: string; latest?: boolean; filter: string[]; format?: string }, cmd: Command) => {
      const format = o.format === undefined || o.format === 'table' ? (o.size ? TABLE_WITH_SIZE : TABLE) : o.format;
      const template = format === 'json' ? undefined : parseTemplate(format, FIELDS);
      const filters = parseFilters(o.filter);
      if (o.last !== undefined && !/^\d+$/.test(o.last)) throw new SkiffError(`-n ${o.last}: expected a number`, 'EINVAL');
      const all = await engineOf(cmd).list();
      let shown = all.filter((v) => (o.all || o.last !== undefined || o.latest || v.status === 'running' || v.status === 'paused' || v.status === 'restarting' || o.filter.some((f) => f.startsWith('status=') || f.startsWith('exited='))));
      shown = shown.filter((v) => filters.every((f) => f(v, all)));
      if (o.latest) shown = shown.slice(0, 1);
      if (o.last !== undefined) shown = shown.slice(0, Number(o.last));
      if (o.quiet) return void printOut(shown.map((v) => `${o.trunc === false ? v.record.id : shortId(v.record.id)}\n`).join(''));
      const now = Date.now();
      const root = contextOf(cmd).root;
      const rows = shown.map((v) => fieldsOf(v, now, { noTrunc: o.trunc === false, size: o.size || format.includes('{{.Size}}') }, root));
      printOut(template ? renderRows(template, rows, HEADERS) : rows.map(jsonLine).join(''));
    });
}
