// --format TEMPLATE as the docker CLI reads it for a listing: Go template placeholders {{.Field}} among plain
// text, `\t` and `\n` typed as two characters meaning tab and newline, and a leading "table " asking for a header
// row and columns aligned at the tabs (docker's text/tabwriter settings: cells at least 10 wide, 3 spaces of
// padding). Only the listing's own placeholders are accepted: anything else in braces is an error naming it.
import { SkiffError } from '../../common/errors.js';

type Part = string | { field: string };

export interface FormatTemplate {
  table: boolean;
  parts: Part[];
}

const TABLE = 'table';
const MIN_WIDTH = 10;
const PADDING = 3;

/** Parses `text`; `fields` are the placeholders the listing has, `flag` names the option in errors. */
export function parseTemplate(text: string, fields: readonly string[], flag = '--format'): FormatTemplate {
  const table = text === TABLE || text.startsWith(`${TABLE} `);
  const body = (table ? text.slice(TABLE.length) : text).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const parts: Part[] = [];
  let rest = body;
  for (let open = rest.indexOf('{{'); open >= 0; open = rest.indexOf('{{')) {
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new SkiffError(`${flag}: "${rest.slice(open)}" has no closing }}`, 'EINVAL');
    const action = rest.slice(open, close + 2);
    const m = /^\{\{\s*\.([A-Za-z]+)\s*\}\}$/.exec(action);
    if (!m || !fields.includes(m[1])) {
      throw new SkiffError(`${flag}: "${action}" is not one of ${fields.map((f) => `{{.${f}}}`).join(', ')}`, 'EINVAL');
    }
    if (open > 0) parts.push(rest.slice(0, open));
    parts.push({ field: m[1] });
    rest = rest.slice(close + 2);
  }
  if (rest) parts.push(rest);
  return { table, parts };
}

function render(t: FormatTemplate, values: Record<string, string>): string {
  return t.parts.map((p) => (typeof p === 'string' ? p : values[p.field])).join('');
}

/** One line per row; a table gets `headers` on top and its tab-separated cells aligned. */
export function renderRows(t: FormatTemplate, rows: Record<string, string>[], headers: Record<string, string>): string {
  const lines = [...(t.table ? [render(t, headers)] : []), ...rows.map((r) => render(t, r))];
  if (!t.table) return lines.map((l) => `${l}\n`).join('');
  return alignTabs(lines);
}

/**
 * Lines of tab-separated cells as text/tabwriter aligns them with docker's settings: each cell at least `minWidth`
 * wide and 3 spaces wider than its column's longest text (docker top asks for 20, the listings for 10).
 */
export function alignTabs(lines: string[], minWidth = MIN_WIDTH): string {
  const cells = lines.map((l) => l.split('\t'));
  // As text/tabwriter: a tab ends a cell of a column; the text after a line's last tab is not aligned.
  const widths: number[] = [];
  for (const row of cells) {
    row.slice(0, -1).forEach((c, i) => { widths[i] = Math.max(widths[i] ?? minWidth, c.length + PADDING); });
  }
  return cells.map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i]) : c)).join('') + '\n').join('');
}
