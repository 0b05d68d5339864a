// Loading a docker-archive: what `docker save` and `skopeo copy ... docker-archive:` write (docker's image spec
// v1.2 "Combined Image JSON + Filesystem Changeset Format"): manifest.json ([{Config, RepoTags, Layers}]), the
// image config and one tar per layer, which may be compressed (docker load accepts that too). Each entry becomes an
// OCI manifest in the content store, its layers' media types told by their first bytes.
import { SkiffError, ValidationError, type Problem } from '../../common/errors.js';
import type { ContentStore, Descriptor } from '../content-store.js';
import { MEDIA_TYPES, OCI_LAYER_TYPE } from '../media-types.js';
import { checkManifest } from '../pull.js';
import { formatReference, parseReference } from '../reference.js';
import { checkLayer, diffIdsOf, isObject, platformOf } from './image-check.js';
import type { ImageToName } from './image-set.js';
import { readJson, type ArchiveMembers } from './members.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
  /** docker save's descriptors of the layers it did not include (Windows' foreign layers), by diff_id. */
  LayerSources?: Record<string, Descriptor>;
}

export async function readDockerArchive(content: ContentStore, members: ArchiveMembers): Promise<ImageToName[]> {
  const input = members.input;
  const entries = parseManifestJson(await readJson(members, 'manifest.json', 'the archive\'s index'), input);
  const out: ImageToName[] = [];
  for (const [i, e] of entries.entries()) {
    const where = `manifest.json[${i}]`;
    const configDoc = await readJson(members, e.Config, `${where}.Config`);
    const diffIds = diffIdsOf(configDoc, e.Layers.length, `${input}: ${e.Config} (${where}.Config)`);
    const config = (await members.blob(e.Config))!;
    const configDesc: Descriptor = { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size };
    // Refused as a pull refuses them, before looking for their bytes: the diff_ids stand in for the digests of
    // the layers the archive holds, which are not known yet and do not matter to this check.
    checkManifest({
      schemaVersion: 2, config: configDesc,
      layers: diffIds.map((d) => e.LayerSources?.[d] ?? { mediaType: MEDIA_TYPES.dockerLayer, digest: d, size: 0 }),
    }, `${input}: ${where}`);
    const layers: Descriptor[] = [];
    for (const [j, path] of e.Layers.entries()) {
      const stored = await members.blob(path);
      if (!stored) throw new SkiffError(`${input}: ${where}.Layers[${j}]: "${path}" is not in the archive (truncated?)`, 'EINVAL');
      const mediaType = OCI_LAYER_TYPE[stored.layer.compression];
      checkLayer(input, stored, { mediaType }, diffIds, j, `layer "${path}" (${where}.Layers[${j}])`);
      layers.push({ mediaType, digest: stored.digest, size: stored.size });
    }
    const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers };
    const target = await content.ingest(Buffer.from(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
    const platform = platformOf(configDoc as Record<string, unknown>);
    out.push({
      target, names: e.RepoTags.map((t) => formatReference(parseReference(t))), what: where,
      blobs: [target.digest, configDesc.digest, ...layers.map((l) => l.digest)], ...(platform ? { platform } : {}),
    });
  }
  return out;
}

/** manifest.json's entries, every malformed field named ("manifest.json: [0].Layers: not an array of strings"). */
function parseManifestJson(doc: unknown, input: string): DockerManifestEntry[] {
  const where = `${input}: manifest.json`;
  if (!Array.isArray(doc)) throw new SkiffError(`${where}: not a JSON array (docker save writes [{"Config", "RepoTags", "Layers"}])`, 'EINVAL');
  if (doc.length === 0) throw new SkiffError(`${where}: lists no image`, 'EINVAL');
  const problems: Problem[] = [];
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
  for (const [i, e] of doc.entries()) {
    if (!isObject(e)) {
      problems.push({ path: `[${i}]`, message: 'not an object' });
      continue;
    }
    if (typeof e.Config !== 'string' || e.Config === '') problems.push({ path: `[${i}].Config`, message: e.Config === undefined ? 'missing' : 'not a file name' });
    if (!strings(e.Layers)) problems.push({ path: `[${i}].Layers`, message: e.Layers === undefined ? 'missing' : 'not an array of file names' });
    if (e.RepoTags !== undefined && e.RepoTags !== null) {
      if (!Array.isArray(e.RepoTags)) problems.push({ path: `[${i}].RepoTags`, message: 'not an array' });
      else {
        for (const [k, t] of e.RepoTags.entries()) {
          try {
            if (typeof t !== 'string') throw new Error('not a string');
            parseReference(t);
          } catch (err) {
            problems.push({ path: `[${i}].RepoTags[${k}]`, message: (err as Error).message });
          }
        }
      }
    }
    if (e.LayerSources !== undefined && e.LayerSources !== null && !isObject(e.LayerSources)) problems.push({ path: `[${i}].LayerSources`, message: 'not an object' });
  }
  if (problems.length) throw new ValidationError(where, problems);
  return (doc as Record<string, unknown>[]).map((e) => ({
    Config: e.Config as string, Layers: e.Layers as string[], RepoTags: (e.RepoTags ?? []) as string[],
    ...(isObject(e.LayerSources) ? { LayerSources: e.LayerSources as Record<string, Descriptor> } : {}),
  }));
}
