// undici's own fetch with an Agent carrying one endpoint's TLS settings (see tls.ts). A module of its own so that
// tls.ts loads it with a relative import(): the CLIs' chunk bundling (scripts/bundle.mjs) keeps the named exports
// of our modules, where an import() of the CommonJS package itself would only have its default export.
import { rootCertificates } from 'node:tls';
import { Agent, fetch } from 'undici';
import type { EndpointTls } from './hosts.js';

export function undiciFetch(tls: EndpointTls): (url: string, init: RequestInit) => Promise<Response> {
  // A `ca` replaces the default roots rather than adding to them; the defaults stay, as /etc/docker/certs.d adds to
  // the system pool, so a blob redirect to public storage still verifies.
  const dispatcher = new Agent({ connect: tls.insecure ? { rejectUnauthorized: false } : { ca: [...rootCertificates, tls.ca!] } });
  return (url, init) => fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
