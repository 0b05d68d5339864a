// The launch plan on the wire (docs/launch-plan.md "Encoding"): netstrings all the way down, no JSON in C.
import type { Step } from '../plan/step.js';

export function netstring(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length}:`), data, Buffer.from(',')]);
}

export function encodePlan(steps: Step[]): Buffer {
  const encoded = steps.map((s) =>
    netstring(Buffer.concat([s.op, ...s.args].map((a) => netstring(Buffer.from(String(a), 'utf8'))))));
  return netstring(Buffer.concat(encoded));
}
