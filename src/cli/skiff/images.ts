// skiff images [-q] [--digests] [--format json|TEMPLATE]: the images in the local store, as `docker images` lists
// them (newest first; REPOSITORY, TAG, IMAGE ID, CREATED, SIZE). An image whose blobs are missing is listed with
// what is unknown as N/A, and named in one warning line on stderr; the listing goes on.
import type { Command } from 'commander';
import { summarizeAll, shortId, type ImageSummary } from '../../image/image-summary.js';
import { parseReference, repositoryOf } from '../../image/reference.js';
import { contextOf } from './context.js';
import { goTimeString, humanDuration, humanSize } from './docker-units.js';
import { parseTemplate, renderRows } from './format-template.js';
import { printErr, printOut } from '../common/print.js';
import { byCodeUnits } from '../../common/compare.js';

const FIELDS = ['Repository', 'Tag', 'Digest', 'ID', 'CreatedSince', 'CreatedAt', 'Size'] as const;
type Field = (typeof FIELDS)[number];
const HEADERS: Record<Field, string> = {
  Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE',
};
const TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const TABLE_WITH_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
/** docker's word for what it cannot tell. */
const UNKNOWN = 'N/A';

function createdOf(s: ImageSummary): Date | undefined {
  const d = s.config?.created ? new Date(s.config.created) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

function fieldsOf(s: ImageSummary, now: number): Record<Field, string> {
  const ref = parseReference(s.record.name);
  const created = createdOf(s);
  return {
    Repository: repositoryOf(ref),
    Tag: ref.tag ?? '<none>',
    Digest: s.record.target.digest,
    ID: s.id ? shortId(s.id) : UNKNOWN,
    CreatedSince: created ? `${humanDuration(now - created.getTime())} ago` : UNKNOWN,
    CreatedAt: created ? goTimeString(created) : UNKNOWN,
    Size: s.size !== undefined ? humanSize(s.size) : UNKNOWN,
  };
}

/** `docker images --format json`: every field docker's has (the ones skiff cannot count as N/A), keys sorted. */
function jsonLine(f: Record<Field, string>): string {
  const o = {
    Containers: UNKNOWN, CreatedAt: f.CreatedAt, CreatedSince: f.CreatedSince, Digest: f.Digest, ID: f.ID,
    Repository: f.Repository, SharedSize: UNKNOWN, Size: f.Size, Tag: f.Tag, UniqueSize: UNKNOWN, VirtualSize: f.Size,
  };
  // Go's encoding/json writes <, > and & as \u003c, \u003e, \u0026; the same bytes as docker's.
  return JSON.stringify(o).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n';
}

export function register(program: Command): void {
  program.command('images')
    .option('-q, --quiet', 'print only the image IDs')
    .option('--digests', 'show the manifest digests')
    .option('--format <format>', `json, or a template of ${FIELDS.map((f) => `{{.${f}}}`).join(' ')} ("table ..." for a header and columns)`)
    .action(async (o: { quiet?: boolean; digests?: boolean; format?: string }, cmd: Command) => {
      const format = o.format === undefined || o.format === 'table' ? (o.digests ? TABLE_WITH_DIGESTS : TABLE) : o.format;
      const template = format === 'json' ? undefined : parseTemplate(format, FIELDS);
      const images = (await summarizeAll(contextOf(cmd).root)).sort((a, b) =>
        (createdOf(b)?.getTime() ?? -Infinity) - (createdOf(a)?.getTime() ?? -Infinity) || byCodeUnits(a.record.name, b.record.name));
      for (const s of images) if (s.problem) printErr(`skiff: warning: image "${s.record.name}": ${s.problem}\n`);
      if (o.quiet) {
        const ids = new Set(images.flatMap((s) => (s.id ? [shortId(s.id)] : [])));
        return void printOut([...ids].map((id) => `${id}\n`).join(''));
      }
      const now = Date.now();
      const rows = images.map((s) => fieldsOf(s, now));
      printOut(template ? renderRows(template, rows, HEADERS) : rows.map(jsonLine).join(''));
    });
}
