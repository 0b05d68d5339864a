// skiff stats [-a] [--no-stream] [--no-trunc] [--format json|TEMPLATE] [CONTAINER...]: docker stats. Docker's
// columns (CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS) and units, from two samples a second apart.
// Streaming (the default) redraws every second, the screen cleared first on a terminal as docker does (elsewhere
// each table follows the last); without names it shows the running containers (-a: all) as they come and go.
// --no-stream prints once.
import type { Command } from 'commander';
import { statsBetween, type ContainerStats, type StatsSample } from '../../engine/container-stats.js';
import type { ContainerView } from '../../engine/container-view.js';
import type { Engine } from '../../engine/engine.js';
import { SkiffError } from '../../common/errors.js';
import { shortId } from '../../image/image-summary.js';
import { binarySize, humanSize } from './docker-units.js';
import { engineOf } from './engine-of.js';
import { parseTemplate, renderRows } from './format-template.js';

const FIELDS = ['Container', 'Name', 'ID', 'CPUPerc', 'MemUsage', 'MemPerc', 'NetIO', 'BlockIO', 'PIDs'] as const;
type Field = (typeof FIELDS)[number];
const HEADERS: Record<Field, string> = {
  Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
const TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
/** docker's collector samples once a second. */
const INTERVAL_MS = 1000;
/** ANSI: erase the screen, cursor home (what docker writes before each table on a terminal). */
const CLEAR = '\x1b[2J\x1b[H';

interface Target {
  /** The Container field: the name as given, or the short ID of a listed container. */
  label: string;
  view: ContainerView;
}

function fieldsOf(t: Target, s: ContainerStats, noTrunc: boolean): Record<Field, string> {
  const pct = (n: number) => `${n.toFixed(2)}%`;
  return {
    Container: t.label, Name: t.view.record.name, ID: noTrunc ? t.view.record.id : shortId(t.view.record.id),
    CPUPerc: pct(s.cpuPercent), MemUsage: `${binarySize(s.memoryUsage)} / ${binarySize(s.memoryLimit)}`, MemPerc: pct(s.memoryPercent),
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`, BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`, PIDs: String(s.pids),
  };
}

function jsonLine(f: Record<Field, string>): string {
  const o = { BlockIO: f.BlockIO, CPUPerc: f.CPUPerc, Container: f.Container, ID: f.ID, MemPerc: f.MemPerc, MemUsage: f.MemUsage, Name: f.Name, NetIO: f.NetIO, PIDs: f.PIDs };
  return JSON.stringify(o).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) + '\n';
}

/** The containers to show now: the ones named (those removed meanwhile left out), or the listing. */
async function targets(engine: Engine, named: { ref: string; id: string }[], all: boolean): Promise<Target[]> {
  if (!named.length) {
    return (await engine.list()).filter((v) => all || v.status === 'running' || v.status === 'paused').map((view) => ({ label: shortId(view.record.id), view }));
  }
  const out: Target[] = [];
  for (const n of named) {
    try {
      out.push({ label: n.ref, view: await engine.inspect(n.id) });
    } catch (err) {
      if ((err as SkiffError).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

export function register(program: Command): void {
  program.command('stats')
    .argument('[container...]')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', "don't truncate output")
    .option('--format <format>', `json, or a template of ${FIELDS.map((f) => `{{.${f}}}`).join(' ')}`)
    .action(async (refs: string[], o: { all?: boolean; stream: boolean; trunc: boolean; format?: string }, cmd: Command) => {
      const format = o.format === undefined || o.format === 'table' ? TABLE : o.format;
      const template = format === 'json' ? undefined : parseTemplate(format, FIELDS);
      const engine = engineOf(cmd);
      const named = await Promise.all(refs.map(async (ref) => ({ ref, id: await engine.resolve(ref) })));
      const sample = async () => {
        const shown = await targets(engine, named, Boolean(o.all));
        const samples = new Map<string, StatsSample>();
        for (const t of shown) samples.set(t.view.record.id, await engine.statsSample(t.view));
        return { shown, samples };
      };
      let before = (await sample()).samples;
      const clear = o.stream && process.stdout.isTTY;
      for (;;) {
        await new Promise((r) => setTimeout(r, INTERVAL_MS));
        const { shown, samples } = await sample();
        const rows = shown.map((t) => fieldsOf(t, statsBetween(before.get(t.view.record.id), samples.get(t.view.record.id)!), o.trunc === false));
        process.stdout.write((clear ? CLEAR : '') + (template ? renderRows(template, rows, HEADERS) : rows.map(jsonLine).join('')));
        if (!o.stream) return;
        before = samples;
      }
    });
}
