// HTTPS to one endpoint, and what a failed connection says about TLS.
//
// Node 20's global fetch takes no TLS options, so an endpoint with settings of its own (insecure: certificates not
// verified; ca: a CA trusted for that host) goes through the undici package's own fetch with an Agent that carries
// them. undici is loaded only then: it is large, and most hosts need nothing but the default trust store.
//
// A failed connection is sorted as docker sorts it: a certificate the client does not trust is the user's to fix
// (trust the CA, or call the host insecure), a TLS handshake that fails means the server speaks TLS, so neither may
// fall back to plain HTTP; only a server that does not speak TLS at all (it answers a ClientHello with HTTP, or
// drops the connection before a handshake) or cannot be reached lets the next origin be tried.
//
// A CLI started by its #! line runs without NODE_EXTRA_CA_CERTS (src/cli/common/deferred-ca.ts says why): its CAs
// are trusted here instead, for every HTTPS endpoint, as Node would have trusted them.
import { readFileSync } from 'node:fs';
import { SkiffError } from '../../common/errors.js';
import type { EndpointTls } from './hosts.js';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

let deferredCaFile: string | undefined;
let deferredCa: string | undefined;

/** Trusts the CAs of `file` (PEM, NODE_EXTRA_CA_CERTS's value) beside Node's own roots; read at the first connection. */
export function trustExtraCaCerts(file: string): void {
  deferredCaFile = file;
  deferredCa = undefined;
}

function extraCa(): string | undefined {
  if (deferredCaFile === undefined || deferredCa !== undefined) return deferredCa;
  try {
    deferredCa = readFileSync(deferredCaFile, 'utf8');
  } catch (err) {
    throw new SkiffError(`NODE_EXTRA_CA_CERTS: cannot read ${deferredCaFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'EINVAL');
  }
  return deferredCa;
}

/** fetch for an endpoint: the global one, or undici's with the endpoint's TLS settings and the deferred CAs. */
export async function fetcherFor(tls: EndpointTls | undefined): Promise<FetchFn> {
  const extra = tls?.insecure ? undefined : extraCa();
  if (!tls && !extra) return fetch;
  return (await import('./undici-fetch.js')).undiciFetch(tls ?? {}, extra);
}

export interface TlsFailure {
  /** certificate: the server's certificate is not trusted; handshake: the server speaks TLS but the handshake failed. */
  kind: 'certificate' | 'handshake';
  /** OpenSSL's words and code: "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)". */
  detail: string;
}

/** OpenSSL's answers when the peer sent something that is not TLS (an HTTP server reading a ClientHello). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/** X509_verify_cert's error names as Node reports them (no ERR_ prefix), and the host name check. */
const CERTIFICATE = /CERT|CRL|^UNABLE_TO_|^INVALID_CA$|^INVALID_PURPOSE$|^PATH_LENGTH_EXCEEDED$|^HOSTNAME_MISMATCH$/;

/** What a failed fetch says about TLS, if it failed there; undefined for network failures and non-TLS peers. */
export function tlsFailure(err: unknown): TlsFailure | undefined {
  const cause = (err as { cause?: { code?: unknown; message?: string } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const detail = `${(cause?.message ?? '').split('\n')[0].replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:/, '')} (${code})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || (!code.startsWith('ERR_') && CERTIFICATE.test(code))) return { kind: 'certificate', detail };
  if (/^ERR_(SSL|TLS)_/.test(code) && !NOT_TLS.has(code)) return { kind: 'handshake', detail };
  return undefined;
}
