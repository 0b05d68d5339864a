// skiff volume create | ls | inspect | rm | prune: docker's volume commands on the local driver (directories under
// <root>/volumes). ls and inspect show docker's fields and JSON; rm refuses a volume a container uses, naming it;
// prune asks first (unless -f) and removes the anonymous volumes no container uses (-a: every unused one).
import type { Command } from 'commander';
import { SkiffError } from '../../common/errors.js';
import type { VolumeView } from '../../engine/volume-usage.js';
import { confirm } from './confirm.js';
import { humanSize, humanSizeWithPrecision } from './docker-units.js';
import { eachContainer } from './each-container.js';
import { engineOf } from './engine-of.js';
import { parseTemplate, renderRows } from './format-template.js';
import { printInspected } from './inspect.js';
import { printOut } from '../common/print.js';

const FIELDS = ['Name', 'Driver', 'Scope', 'Mountpoint', 'Labels', 'Links', 'Size', 'CreatedAt'] as const;
type Field = (typeof FIELDS)[number];
const HEADERS: Record<Field, string> = {
  Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', CreatedAt: 'CREATED AT',
};
const TABLE = 'table {{.Driver}}\t{{.Name}}';
const LS_FILTERS = ['dangling', 'driver', 'label', 'name'];

const collect = (v: string, prev: string[]) => [...prev, v];

/** docker's KEY=VALUE list (a KEY alone is an empty value). */
function labelsOf(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const eq = s.indexOf('=');
    if (eq === 0 || s === '') throw new SkiffError(`--label ${s}: expected KEY=VALUE`, 'EINVAL');
    out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
  }
  return out;
}

/** label=KEY or label=KEY=VALUE, as docker matches it (and label!= its negation). */
function labelMatch(value: string): (v: VolumeView) => boolean {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  return (v) => key in v.labels && (eq < 0 || v.labels[key] === value.slice(eq + 1));
}

type Filter = (v: VolumeView) => boolean;

function splitFilter(spec: string): { key: string; value: string; negated: boolean } {
  const m = /^([a-z]+)(!?)=(.*)$/.exec(spec);
  if (!m) throw new SkiffError(`--filter ${spec}: expected KEY=VALUE`, 'EINVAL');
  return { key: m[1], negated: m[2] === '!', value: m[3] };
}

function lsFilters(specs: string[]): Filter[] {
  return specs.map((spec) => {
    const { key, value, negated } = splitFilter(spec);
    if (!LS_FILTERS.includes(key) || (negated && key !== 'label')) throw new SkiffError(`--filter ${spec}: invalid filter "${key}${negated ? '!' : ''}" (${LS_FILTERS.join(', ')})`, 'EINVAL');
    switch (key) {
      case 'dangling': {
        if (!['true', 'false', '1', '0'].includes(value)) throw new SkiffError(`--filter ${spec}: dangling takes true or false`, 'EINVAL');
        const dangling = value === 'true' || value === '1';
        return (v) => (v.usedBy.length === 0) === dangling;
      }
      case 'driver': return (v) => v.driver === value;
      case 'name': return (v) => new RegExp(value).test(v.name);
      default: {
        const match = labelMatch(value);
        return negated ? (v) => !match(v) : match;
      }
    }
  });
}

/** docker volume prune's filters: label and label!=, and all=true (the same as -a). */
function pruneFilters(specs: string[]): { all: boolean; matches: Filter } {
  let all = false;
  const filters: Filter[] = [];
  for (const spec of specs) {
    const { key, value, negated } = splitFilter(spec);
    if (key === 'all' && !negated) {
      if (!['true', 'false', '1', '0'].includes(value)) throw new SkiffError(`--filter ${spec}: all takes true or false`, 'EINVAL');
      all = value === 'true' || value === '1';
    } else if (key === 'label') {
      const match = labelMatch(value);
      filters.push(negated ? (v) => !match(v) : match);
    } else {
      throw new SkiffError(`--filter ${spec}: invalid filter "${key}${negated ? '!' : ''}" (label, label!, all)`, 'EINVAL');
    }
  }
  return { all, matches: (v) => filters.every((f) => f(v)) };
}

/** docker's CreatedAt: RFC 3339 in whole seconds. */
const createdAt = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');
const labelsText = (labels: Record<string, string>) => Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');

function fieldsOf(v: VolumeView, sizeOf: (name: string) => number, wantSize: boolean): Record<Field, string> {
  return {
    Name: v.name, Driver: v.driver, Scope: 'local', Mountpoint: v.mountpoint, Labels: labelsText(v.labels), Links: String(v.usedBy.length),
    Size: wantSize ? humanSize(sizeOf(v.name)) : 'N/A', CreatedAt: createdAt(v.created),
  };
}

function jsonLine(f: Record<Field, string>): string {
  const o = { Availability: 'N/A', Driver: f.Driver, Group: 'N/A', Labels: f.Labels, Links: f.Links, Mountpoint: f.Mountpoint, Name: f.Name, Scope: f.Scope, Size: f.Size, Status: 'N/A' };
  return JSON.stringify(o).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n';
}

/** docker volume inspect's JSON for one volume. */
function inspected(v: VolumeView): Record<string, unknown> {
  return {
    CreatedAt: createdAt(v.created), Driver: v.driver, Labels: Object.keys(v.labels).length ? v.labels : null,
    Mountpoint: v.mountpoint, Name: v.name, Options: null, Scope: 'local',
  };
}

export function register(program: Command): void {
  const volume = program.command('volume');

  volume.command('create').description('create a volume').argument('[name]', 'the volume\'s name (default: a random one)')
    .option('-d, --driver <name>', 'volume driver name (only local)', 'local')
    .option('--label <key=value>', 'set metadata for a volume (repeatable)', collect, [])
    .action(async (name: string | undefined, o: { driver: string; label: string[] }, cmd: Command) => {
      if (o.driver !== 'local') throw new SkiffError(`--driver ${o.driver}: skiff has the local driver only`, 'EINVAL');
      const v = await engineOf(cmd).volumeCreate(name, labelsOf(o.label));
      printOut(`${v.name}\n`);
    });

  volume.command('ls').alias('list').description('list volumes')
    .option('-q, --quiet', 'only display volume names')
    .option('-f, --filter <key=value>', `filter output (${LS_FILTERS.join(', ')}; repeatable)`, collect, [])
    .option('--format <format>', `json, or a template of ${FIELDS.map((f) => `{{.${f}}}`).join(' ')}`)
    .action(async (o: { quiet?: boolean; filter: string[]; format?: string }, cmd: Command) => {
      const format = o.format === undefined || o.format === 'table' ? TABLE : o.format;
      const template = format === 'json' ? undefined : parseTemplate(format, FIELDS);
      const filters = lsFilters(o.filter);
      const engine = engineOf(cmd);
      const shown = (await engine.volumes()).filter((v) => filters.every((f) => f(v)));
      if (o.quiet) return void printOut(shown.map((v) => `${v.name}\n`).join(''));
      const wantSize = !template || format.includes('{{.Size}}');
      const rows = shown.map((v) => fieldsOf(v, (n) => engine.ctx.volumes.size(n), wantSize));
      printOut(template ? renderRows(template, rows, HEADERS) : rows.map(jsonLine).join(''));
    });

  volume.command('inspect').description('display detailed information on one or more volumes (JSON)').argument('<volume...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const engine = engineOf(cmd);
      await printInspected(names, async (n) => inspected(await engine.volumeInspect(n)));
    });

  volume.command('rm').alias('remove').description('remove one or more volumes (not one a container uses)').argument('<volume...>')
    .option('-f, --force', 'no error for a volume that does not exist')
    .action(async (names: string[], o: { force?: boolean }, cmd: Command) => {
      const engine = engineOf(cmd);
      await eachContainer(names, async (n) => {
        await engine.volumeRemove(n, { force: o.force });
        return n;
      });
    });

  volume.command('prune').description('remove unused local volumes (anonymous ones unless -a)')
    .option('-a, --all', 'remove all unused volumes, not just anonymous ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <key=value>', 'provide filter values (label=KEY[=VALUE], label!=..., all=true)', collect, [])
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }, cmd: Command) => {
      const filters = pruneFilters(o.filter);
      if (o.all && o.filter.some((f) => f.startsWith('all='))) throw new SkiffError('conflicting options: cannot specify both --all and --filter all=1', 'EINVAL');
      const all = Boolean(o.all) || filters.all;
      const warning = `WARNING! This will remove ${all ? 'all' : 'anonymous'} local volumes not used by at least one container.\nAre you sure you want to continue?`;
      if (!o.force && !(await confirm(warning))) throw new SkiffError('volume prune has been cancelled', 'ECANCELED');
      const { removed, reclaimed } = await engineOf(cmd).volumePrune({ all, matches: filters.matches });
      printOut(removed.length ? `Deleted Volumes:\n${removed.map((n) => `${n}\n`).join('')}\n` : '');
      printOut(`Total reclaimed space: ${humanSizeWithPrecision(reclaimed, 4)}\n`);
    });
}
