#!/usr/bin/env node
// Makes an OCI bundle from Debian's busybox-static: DIR/rootfs and DIR/config.json (runc's default spec, no
// terminal, running CMD). Usage: scripts/make-bundle.mjs DIR [CMD ARG...]
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../dist/src/image/busybox-rootfs.js';
import { defaultSpec } from '../dist/src/oci/default-spec.js';

const [dir, ...args] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: scripts/make-bundle.mjs DIR [CMD ARG...]\n');
  process.exit(2);
}
if (existsSync(join(dir, 'rootfs'))) {
  process.stderr.write(`make-bundle: ${join(dir, 'rootfs')} already exists\n`);
  process.exit(1);
}
makeBusyboxRootfs(join(dir, 'rootfs'));
const spec = defaultSpec();
spec.process.terminal = false;
spec.process.args = args.length ? args : ['sh'];
spec.hostname = 'skiff-demo';
writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, '\t'));
