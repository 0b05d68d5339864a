// Container IDs and names as docker makes them: 64 random hex digits, and a name that is the user's or a generated
// adjective_surname (docker's namesgenerator has longer lists; the shape is what users script against).
import { readdirSync } from 'node:fs';
import { SkiffError } from '../common/errors.js';
import { randomBelow, randomHex } from '../common/random.js';

/** docker's validContainerNamePattern. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const FULL_ID = /^[a-f0-9]{64}$/;

/** The entries of `dir` named by a full ID (containers, pods, their state); none when `dir` is not there. */
export function fullIdEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((e) => FULL_ID.test(e));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export function newContainerId(): string {
  return randomHex(32);
}

/** A name given by the user; docker accepts (and strips) one leading slash. */
export function checkName(input: string, flag = '--name'): string {
  const name = input.startsWith('/') ? input.slice(1) : input;
  if (!NAME.test(name)) throw new SkiffError(`${flag}: invalid container name "${input}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, 'EINVAL');
  if (FULL_ID.test(name)) throw new SkiffError(`${flag}: "${input}" cannot be a name: it would read as a container ID`, 'EINVAL');
  if (Buffer.byteLength(name) > 255) throw new SkiffError(`${flag}: the name is longer than 255 bytes`, 'ENAMETOOLONG');
  return name;
}

const ADJECTIVES = [
  'admiring', 'brave', 'calm', 'clever', 'dazzling', 'eager', 'elegant', 'epic', 'focused', 'gallant', 'happy',
  'hopeful', 'jolly', 'keen', 'kind', 'laughing', 'loving', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky',
  'relaxed', 'serene', 'sharp', 'stoic', 'sweet', 'tender', 'upbeat', 'vibrant', 'wizardly', 'zealous',
];
const SURNAMES = [
  'albattani', 'babbage', 'bohr', 'curie', 'darwin', 'euclid', 'fermat', 'galois', 'hopper', 'hypatia', 'jackson',
  'kepler', 'lamport', 'lovelace', 'meitner', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing',
  'wozniak', 'yalow', 'zhukovsky',
];

/** adjective_surname; after a few clashes a digit is added, as docker's GetRandomName(retry) does. */
export function generatedName(retry: number): string {
  const name = `${ADJECTIVES[randomBelow(ADJECTIVES.length)]}_${SURNAMES[randomBelow(SURNAMES.length)]}`;
  return retry > 0 ? `${name}${randomBelow(10)}` : name;
}
