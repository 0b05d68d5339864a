// OCI image layouts (image-spec image-layout.md): `oci-layout`, `index.json` and `blobs/<alg>/<hex>`, as a
// directory or as a tar of one (an "oci-archive", what skopeo and podman write). Loading verifies every blob
// it copies into the content store; an image's name comes from org.opencontainers.image.ref.name.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { SkiffError } from '../../common/errors.js';
import { ContentStore, type Descriptor } from '../content-store.js';
import { ImageStore } from '../image-store.js';
import { MEDIA_TYPES } from '../media-types.js';
import { formatReference, parseReference } from '../reference.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

interface Manifest { config: Descriptor; layers: Descriptor[] }

/** Loads every image of a layout directory or oci-archive; returns the names it stored. */
export async function loadOciLayout(root: string, input: string, name?: string): Promise<string[]> {
  if (!existsSync(input)) throw new SkiffError(`${input}: no such file or directory`, 'ENOENT');
  const isDir = statSync(input).isDirectory();
  const dir = isDir ? input : mkdtempSync(join(tmpdir(), 'skiff-load-'));
  try {
    if (!isDir) {
      try {
        tar.x({ file: input, cwd: dir, sync: true, strict: true, preservePaths: false });
      } catch (err) {
        throw new SkiffError(`${input}: not a readable tar archive: ${(err as Error).message}`, 'EINVAL');
      }
    }
    if (!existsSync(join(dir, 'oci-layout')) || !existsSync(join(dir, 'index.json'))) {
      throw new SkiffError(`${input}: not an OCI image layout (no oci-layout and index.json)`, 'EINVAL');
    }
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
    const manifests = (index.manifests ?? []).filter((m) => m.mediaType === MEDIA_TYPES.ociManifest || m.mediaType === MEDIA_TYPES.dockerManifest);
    if (manifests.length === 0) throw new SkiffError(`${input}: index.json lists no image manifest`, 'EINVAL');
    const content = new ContentStore(root);
    const blob = (d: Descriptor) => {
      const path = join(dir, 'blobs', ...d.digest.split(':'));
      if (!existsSync(path)) throw new SkiffError(`${input}: blob ${d.digest} is missing (truncated archive?)`, 'EINVAL');
      return readFileSync(path);
    };
    // Verify and store everything first; names are written last, so a bad archive leaves no image behind.
    const named: [string, Descriptor][] = [];
    for (const m of manifests) {
      const manifestBytes = blob(m);
      const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
      for (const d of [manifest.config, ...manifest.layers]) await content.ingest(blob(d), d.mediaType, { digest: d.digest, size: d.size });
      const stored = await content.ingest(manifestBytes, m.mediaType, { digest: m.digest, size: m.size });
      const ref = name ?? m.annotations?.[REF_NAME];
      if (!ref) throw new SkiffError(`${input}: manifest ${m.digest} has no ${REF_NAME}; give --name`, 'EINVAL');
      // Layouts often name an image by a bare tag (skopeo's oci-archive:FILE:TAG): that is no image name of ours.
      if (!name && !ref.includes('/')) throw new SkiffError(`${input}: manifest ${m.digest} is named "${ref}", not a full image reference; give --name`, 'EINVAL');
      named.push([formatReference(parseReference(ref)), stored]);
    }
    const images = new ImageStore(root);
    for (const [n, d] of named) await images.put(n, d);
    return named.map(([n]) => n);
  } finally {
    if (!isDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `name` as an oci-archive (a tar of an OCI layout) at `output`. */
export async function saveOciArchive(root: string, name: string, output: string): Promise<void> {
  const full = formatReference(parseReference(name));
  const rec = await new ImageStore(root).get(full);
  if (!rec) throw new SkiffError(`image "${name}" (${full}) is not in the local store`, 'ENOENT');
  const content = new ContentStore(root);
  const manifest = await content.readJson<Manifest>(rec.target.digest);
  const dir = mkdtempSync(join(tmpdir(), 'skiff-save-'));
  try {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    for (const d of [rec.target, manifest.config, ...manifest.layers]) cpSync(content.path(d.digest), join(dir, 'blobs', 'sha256', d.digest.slice(7)));
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({
      schemaVersion: 2, manifests: [{ ...rec.target, annotations: { [REF_NAME]: full } }],
    }));
    const tmp = `${output}.tmp-${process.pid}`;
    try {
      tar.c({ cwd: dir, file: tmp, sync: true, portable: true }, ['oci-layout', 'index.json', 'blobs']);
      // Whole or not at all: the archive appears under its name only once written.
      cpSync(tmp, output);
    } finally {
      rmSync(tmp, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
