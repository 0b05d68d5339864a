// The launch plan on the wire (docs/launch-plan.md "Encoding"): netstrings all the way down, no JSON in C.
// Built as one string and converted once: hundreds of small Buffer concatenations cost milliseconds on a cold start.
import type { Step } from './step.js';

/** `<byte length>:<data>,` */
export function netstring(data: string): string {
  return `${Buffer.byteLength(data)}:${data},`;
}

export function encodePlan(steps: Step[]): Buffer {
  const payload = steps.map((s) => netstring([s.op, ...s.args].map((a) => netstring(String(a))).join(''))).join('');
  return Buffer.from(netstring(payload));
}
