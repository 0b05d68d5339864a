// Random bytes for IDs, names and tokens, read from /dev/urandom: the kernel's CSPRNG, which never blocks once it is
// seeded at boot (random(4)), and what OpenSSL seeds node:crypto's generator from. Loading node:crypto, with the
// stream modules it pulls in, cost a CLI command 6-8 ms of its start: more than all else `skiff pod create` did.
import { closeSync, openSync, readSync } from 'node:fs';

export function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < n;) got += readSync(fd, buf, got, n - got, null);
  } finally {
    closeSync(fd);
  }
  return buf;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

const RANGE = 2 ** 32;

/** A uniform integer in [0, max), 0 < max <= 2^32: 32-bit draws, those past the last whole multiple of max redrawn. */
export function randomBelow(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > RANGE) throw new RangeError(`randomBelow: ${max} is not an integer from 1 to 2^32`);
  const limit = RANGE - (RANGE % max);
  for (;;) {
    const draw = randomBytes(4).readUInt32LE(0);
    if (draw < limit) return draw % max;
  }
}
