// Image references per the distribution grammar (distribution/reference): [domain/]path[:tag][@digest], with
// docker's normalisation: no domain is docker.io, and a one-component path there is library/NAME.
import { SkiffError } from '../common/errors.js';

export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d+)?$/;

export function parseReference(input: string): ImageReference {
  const bad = (why: string) => new SkiffError(`invalid image reference "${input}": ${why}`, 'EINVAL');
  if (!input || input.length > 255 + 128 + 72) throw bad('empty or too long');
  let rest = input, digest: string | undefined, tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 hex digits');
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0];
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw bad(`"${domain}" is not a registry host`);
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) throw bad('the name must be lowercase letters, digits and separators');
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { domain, path: parts.join('/'), tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** The full, normalised form: docker.io/library/busybox:latest. */
export function formatReference(r: ImageReference): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
