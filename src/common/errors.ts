// Errors that name their cause: the operation, the config field or flag, and the system error if any.
// Printed as one line by the CLIs: `create c1: mount "proc" on /proc (mounts[2]): operation not permitted`.

export class SkiffError extends Error {
  constructor(message: string, readonly code: string = 'ESKIFF') {
    super(message);
    this.name = 'SkiffError';
  }
}

/** One problem found while validating input: where (JSON path or flag) and why. */
export interface Problem {
  path: string;
  message: string;
}

/** Every problem found in one input, reported together. */
export class ValidationError extends SkiffError {
  constructor(readonly source: string, readonly problems: Problem[]) {
    super(`${source}: ` + problems.map((p) => `${p.path}: ${p.message}`).join('; '), 'EINVAL');
    this.name = 'ValidationError';
  }
}
