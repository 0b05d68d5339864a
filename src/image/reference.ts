// Image references per the distribution grammar (distribution/reference): [domain/]path[:tag][@digest], with
// docker's normalisation: no domain is docker.io, and a one-component path there is library/NAME.
import { SkiffError } from '../common/errors.js';

export interface ImageReference {
  /** Registry host[:port]: docker.io, localhost:5000, [::1]:5000. */
  domain: string;
  /** Repository path inside the registry: library/busybox. */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::\\d+)?$`);
/** distribution/reference: the whole name (domain and path) is at most 255 characters. */
const NAME_MAX = 255;

/** Parses a reference; the error names the input and what is wrong with it. */
export function parseReference(input: string): ImageReference {
  const bad = (why: string) => new SkiffError(`invalid image reference "${input}": ${why}`, 'EINVAL');
  if (!input) throw bad('it is empty');
  let rest = input, digest: string | undefined, tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 lowercase hex digits');
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0];
  // distribution/reference: the first component is a domain if it has a '.' or a ':', is localhost, or has
  // uppercase letters (which a path cannot have).
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase() || first.startsWith('['))) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw bad(`"${domain}" is not a registry host[:port]`);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw bad('the repository name must be lowercase letters, digits and separators (. _ __ -) between slashes');
  }
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (domain.length + 1 + path.length > NAME_MAX) throw bad(`the name is longer than ${NAME_MAX} characters`);
  return { domain, path, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** The full, normalised form: docker.io/library/busybox:latest. */
export function formatReference(r: ImageReference): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The repository without tag or digest: docker.io/library/busybox. */
export function repositoryOf(r: ImageReference): string {
  return `${r.domain}/${r.path}`;
}

/** The normalised name of `input` (parse, then format). */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}
