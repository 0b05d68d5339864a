// config.json validation in unit tests: the default spec, edited, as a list of "path: message" problems.
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/common/errors.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { HostFacts } from '../../src/runtime/host-facts.js';
import { validateSpec } from '../../src/runtime/validate.js';
import { fakeHost } from './fake-host.js';

export function specProblems(edit: (s: Record<string, any>) => void, host: HostFacts = fakeHost()): string[] {
  const s = JSON.parse(JSON.stringify(defaultSpec()));
  edit(s);
  try {
    validateSpec(s, host);
    return [];
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}
