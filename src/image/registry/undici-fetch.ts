// undici's own fetch with an Agent carrying one endpoint's TLS settings (see tls.ts). A module of its own so that
// tls.ts loads it with a relative import(): the CLIs' chunk bundling (scripts/bundle.mjs) keeps the named exports
// of our modules, where an import() of the CommonJS package itself would only have its default export.
import { rootCertificates } from 'node:tls';
import { Agent, fetch } from 'undici';
import type { EndpointTls } from './hosts.js';

/** fetch with `tls` and, unless it is insecure, `extraCa` (PEM) trusted beside Node's roots. */
export function undiciFetch(tls: EndpointTls, extraCa?: string): (url: string, init: RequestInit) => Promise<Response> {
  // A `ca` replaces the default roots rather than adding to them; the defaults stay, as /etc/docker/certs.d adds to
  // the system pool, so a blob redirect to public storage still verifies.
  const ca = [...rootCertificates, ...(extraCa ? [extraCa] : []), ...(tls.ca ? [tls.ca] : [])];
  const dispatcher = new Agent({ connect: tls.insecure ? { rejectUnauthorized: false } : { ca } });
  return (url, init) => fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
