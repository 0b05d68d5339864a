// A library error about something the request named, with the request field it came from in front of its message
// (`image.image: invalid image reference "A:B": ...`); its code, and so its gRPC status, is kept.
import { SkiffError } from '../common/errors.js';

export function requestError(field: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof SkiffError) throw new SkiffError(`${field}: ${err.message}`, err.code);
    throw err;
  };
}

/** `parse()`'s result, or its error named by `field`. */
export function fromRequest<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    return requestError(field)(err);
  }
}
