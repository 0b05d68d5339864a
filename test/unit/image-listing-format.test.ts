// How `skiff images` prints: docker's units (go-units) and --format templates, checked without a store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goTimeString, humanDuration, humanSize } from '../../src/cli/skiff/docker-units.js';
import { parseTemplate, renderRows } from '../../src/cli/skiff/format-template.js';

test('sizes and durations as go-units prints them', () => {
  assert.deepEqual([0, 999, 1000, 1057355, 7800, 12345678, 123456789, 4.3e9].map(humanSize), ['0B', '999B', '1kB', '1.06MB', '7.8kB', '12.3MB', '123MB', '4.3GB']);
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  assert.deepEqual([0.5 * s, s, 30 * s, 90 * s, 59 * m, 70 * m, 5 * h, 47 * h, 3 * d, 20 * d, 90 * d, 3 * 365 * d].map(humanDuration), [
    'Less than a second', '1 second', '30 seconds', 'About a minute', '59 minutes', 'About an hour', '5 hours', '47 hours',
    '3 days', '2 weeks', '3 months', '3 years',
  ]);
  assert.equal(goTimeString(new Date('2024-05-01T10:00:00.123456789Z')), '2024-05-01 10:00:00 +0000 UTC');
});

test('templates: placeholders, \\t, tables aligned as docker\'s tabwriter', () => {
  const fields = ['Repository', 'Tag', 'ID'];
  const rows = [{ Repository: 'localhost/busybox', Tag: 'latest', ID: '2919d42a7c01' }, { Repository: 'a', Tag: '1', ID: 'abc' }];
  const headers = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID' };
  assert.equal(renderRows(parseTemplate('{{.Repository}}:{{ .Tag }}\\t{{.ID}}', fields), rows, headers), 'localhost/busybox:latest\t2919d42a7c01\na:1\tabc\n');
  assert.equal(renderRows(parseTemplate('table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}', fields), rows, headers), [
    'REPOSITORY          TAG       IMAGE ID',
    'localhost/busybox   latest    2919d42a7c01',
    'a                   1         abc', ''].join('\n'));
  assert.equal(renderRows(parseTemplate('plain text', fields), rows.slice(0, 1), headers), 'plain text\n');
});

test('anything else in braces is an error naming it', () => {
  const fields = ['Repository', 'Tag'];
  assert.throws(() => parseTemplate('{{.Repo}}', fields), /^SkiffError: --format: "\{\{\.Repo\}\}" is not one of \{\{\.Repository\}\}, \{\{\.Tag\}\}$/);
  assert.throws(() => parseTemplate('{{json .}}', fields), /"\{\{json \.\}\}" is not one of/);
  assert.throws(() => parseTemplate('{{.Tag}} {{.Repository', fields), /--format: "\{\{\.Repository" has no closing \}\}/);
});
