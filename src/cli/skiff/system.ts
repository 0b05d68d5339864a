// skiff system df [-v] [--format json|TEMPLATE]: docker system df. One row each for images, containers and local
// volumes (TOTAL, ACTIVE, SIZE, RECLAIMABLE with its share of SIZE); -v lists each image, container and volume in
// docker's verbose sections. skiff has no build cache, so there is no Build Cache row.
import type { Command } from 'commander';
import type { DiskUsage } from '../../engine/system-df.js';
import { SkiffError } from '../../common/errors.js';
import { shortId } from '../../image/image-summary.js';
import { parseReference, repositoryOf } from '../../image/reference.js';
import { humanDuration, humanSizeWithPrecision } from './docker-units.js';
import { engineOf } from './engine-of.js';
import { alignTabs, parseTemplate, renderRows } from './format-template.js';
import { commandOf, statusText } from './ps.js';
import { printOut } from '../common/print.js';

const FIELDS = ['Type', 'TotalCount', 'Active', 'Size', 'Reclaimable'] as const;
type Field = (typeof FIELDS)[number];
const HEADERS: Record<Field, string> = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';

/** go-units HumanSize, as every size of docker's df is printed. */
const size = (n: number) => humanSizeWithPrecision(n, 4);

/** "1.2MB (40%)": the reclaimable bytes and their whole percent of the total, as docker prints them. */
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${size(bytes)} (${Math.floor((bytes * 100) / total)}%)` : size(bytes);
}

function summaryRows(du: DiskUsage): Record<Field, string>[] {
  const running = (s: string) => s === 'running' || s === 'paused' || s === 'restarting';
  const cTotal = du.containers.reduce((n, c) => n + c.size, 0);
  const cIdle = du.containers.filter((c) => !running(c.view.status)).reduce((n, c) => n + c.size, 0);
  const vTotal = du.volumes.reduce((n, v) => n + v.size, 0);
  const vIdle = du.volumes.filter((v) => v.view.usedBy.length === 0).reduce((n, v) => n + v.size, 0);
  return [
    { Type: 'Images', TotalCount: String(du.imageCount), Active: String(du.activeImages), Size: size(du.imagesSize), Reclaimable: reclaimable(du.imagesReclaimable, du.imagesSize) },
    { Type: 'Containers', TotalCount: String(du.containers.length), Active: String(du.containers.filter((c) => running(c.view.status)).length), Size: size(cTotal), Reclaimable: reclaimable(cIdle, cTotal) },
    { Type: 'Local Volumes', TotalCount: String(du.volumes.length), Active: String(du.volumes.filter((v) => v.view.usedBy.length > 0).length), Size: size(vTotal), Reclaimable: reclaimable(vIdle, vTotal) },
  ];
}

function jsonLine(f: Record<Field, string>): string {
  return JSON.stringify({ Active: f.Active, Reclaimable: f.Reclaimable, Size: f.Size, TotalCount: f.TotalCount, Type: f.Type }) + '\n';
}

/** docker system df -v: a section per kind, each a table in docker's columns. */
function verbose(du: DiskUsage): string {
  const now = Date.now();
  const table = (rows: string[][]) => alignTabs(rows.map((r) => r.join('\t')));
  const images = du.images.map(({ summary: s, size: n, shared, containers }) => {
    const ref = parseReference(s.record.name);
    const created = s.config?.created ? `${humanDuration(now - Date.parse(s.config.created))} ago` : 'N/A';
    return [repositoryOf(ref), ref.tag ?? '<none>', s.id ? shortId(s.id) : 'N/A', created, size(n), size(shared), size(n - shared), String(containers)];
  });
  const containers = du.containers.map(({ view: v, size: n }) => {
    const command = commandOf(v);
    const volumes = v.record.config.mounts.filter((m) => m.type === 'volume').length;
    return [shortId(v.record.id), v.record.image.input, `"${command.length > 20 ? `${command.slice(0, 19)}…` : command}"`, String(volumes), size(n),
      `${humanDuration(now - Date.parse(v.record.created))} ago`, statusText(v, now), v.record.name];
  });
  const volumes = du.volumes.map(({ view: v, size: n }) => [v.name, String(v.usedBy.length), size(n)]);
  return [
    'Images space usage:\n\n',
    table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], ...images]),
    '\nContainers space usage:\n\n',
    table([['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'], ...containers]),
    '\nLocal Volumes space usage:\n\n',
    table([['VOLUME NAME', 'LINKS', 'SIZE'], ...volumes]),
  ].join('');
}

export function register(program: Command): void {
  const system = program.command('system');

  system.command('df').description('show disk usage of images, containers and volumes')
    .option('-v, --verbose', 'show detailed information on space usage')
    .option('--format <format>', `json, or a template of ${FIELDS.map((f) => `{{.${f}}}`).join(' ')}`)
    .action(async (o: { verbose?: boolean; format?: string }, cmd: Command) => {
      if (o.verbose && o.format !== undefined) throw new SkiffError('--format: not with -v (the verbose sections have docker\'s columns only)', 'EINVAL');
      const format = o.format === undefined || o.format === 'table' ? TABLE : o.format;
      const template = format === 'json' ? undefined : parseTemplate(format, FIELDS);
      const du = await engineOf(cmd).diskUsage();
      if (o.verbose) return void printOut(verbose(du));
      const rows = summaryRows(du);
      printOut(template ? renderRows(template, rows, HEADERS) : rows.map(jsonLine).join(''));
    });
}
