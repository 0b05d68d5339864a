// NODE_EXTRA_CA_CERTS, deferred. Node 20 reads and parses that file, with its own bundled roots, before any script
// runs, whether or not the process ever speaks TLS: about 40 ms of every start on a host that sets it (this VM
// does: `node -e 0` takes 99 ms with it, 60 without).
// The CLIs' #! line (scripts/bundle.mjs) starts node without it and hands its value over in DEFERRED. Here it is
// put back, so that what we start and `run -e NODE_EXTRA_CA_CERTS` see the environment they were given; the
// registry client adds the certificates itself when it connects (image/registry/tls.ts).
const DEFERRED = 'SKIFF_DEFERRED_CA_CERTS';

/** The CA file node was started without, if any; the environment is as it was before the #! line. */
export function takeDeferredCaCerts(): string | undefined {
  const file = process.env[DEFERRED];
  if (file === undefined) return undefined;
  delete process.env[DEFERRED];
  // Set and empty: NODE_EXTRA_CA_CERTS was not set.
  if (!file) return undefined;
  process.env.NODE_EXTRA_CA_CERTS = file;
  return file;
}
