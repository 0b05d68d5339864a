// The container's program could not be run, as another runtime's binary reported it: docker's exit status 127 when
// it was not found, 126 when it was found and could not be invoked (engine/command-failure.ts).
import { SkiffError } from '../common/errors.js';

export class ProgramNotRun extends SkiffError {
  constructor(message: string, readonly notFound: boolean) {
    super(message, notFound ? 'ENOENT' : 'EACCES');
    this.name = 'ProgramNotRun';
  }
}
