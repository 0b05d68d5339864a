// One step of a launch plan (docs/launch-plan.md). `field` is the config JSON path the step comes from, so an
// error reported by the native helper as {step, errno} can name it.
export type StepArg = string | number | bigint;

export interface Step {
  op: string;
  args: StepArg[];
  /** JSON path in config.json this step implements, e.g. "mounts[2]" or "process.rlimits[0]". */
  field?: string;
  /** What the step does, for error messages: 'mount "proc" on /proc'. */
  what?: string;
}

export function step(op: string, args: StepArg[] = [], field?: string, what?: string): Step {
  return { op, args, field, what };
}
