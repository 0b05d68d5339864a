// What `skiff images`, `image inspect`, `tag` and `rmi` know of an image: its record, manifest, config, ID and size,
// and how an input names one (a name, or an image ID as docker and podman show it). An image whose blobs are
// missing is still summarised, with what could not be read left out and the reason given.
import { SkiffError } from '../common/errors.js';
import { ContentStore, type Descriptor } from './content-store.js';
import { DEFAULT_IMAGE } from './default-image-name.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { isManifest } from './media-types.js';
import type { ImageManifest } from './pull.js';
import { formatReference, parseReference } from './reference.js';

/** image-spec config.md, with the fields docker adds (docker_version, config.Healthcheck, ...). */
export interface ImageConfigDocument {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  'os.version'?: string;
  variant?: string;
  comment?: string;
  docker_version?: string;
  config?: Record<string, unknown>;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: unknown[];
}

export interface ImageSummary {
  record: ImageRecord;
  /** The image ID: the config's digest, as docker and podman show it; unknown if the manifest cannot be read. */
  id?: string;
  manifest?: ImageManifest;
  config?: ImageConfigDocument;
  /** Bytes of the image's blobs in the content store (manifest, config, layers); unknown if one is missing. */
  size?: number;
  /** Why something is unknown: the first blob missing or unreadable. */
  problem?: string;
}

/**
 * The record of an image by any spelling of its name; the error names the input and its normalised form. The
 * built-in default image is made on first mention (unless `builtIn` is false: rmi does not make what it removes).
 */
export async function findImage(root: string, input: string, { builtIn = true } = {}): Promise<ImageRecord> {
  const name = formatReference(parseReference(input));
  const images = new ImageStore(root);
  let rec = await images.get(name);
  if (!rec && builtIn && name === DEFAULT_IMAGE) {
    // Loaded only here: making the image needs tar, which listing and inspecting do not (issue 15).
    const { buildDefaultImage } = await import('./default-image.js');
    await buildDefaultImage(root);
    rec = await images.get(name);
  }
  if (!rec) throw new SkiffError(`image "${input}" (${name}) is not in the local store`, 'ENOENT');
  return rec;
}

export async function summarize(root: string, record: ImageRecord): Promise<ImageSummary> {
  const content = new ContentStore(root);
  const out: ImageSummary = { record };
  const target = record.target;
  if (!isManifest(target.mediaType)) return { ...out, problem: `it names a ${target.mediaType}, not a single-platform image manifest` };
  try {
    out.manifest = await content.readJson<ImageManifest>(target.digest);
    out.id = out.manifest.config.digest;
    out.config = await content.readJson<ImageConfigDocument>(out.id);
  } catch (err) {
    return { ...out, problem: (err as Error).message };
  }
  const blobs: [Descriptor, string][] = [[target, 'manifest'], [out.manifest.config, 'config'], ...out.manifest.layers.map((l, i): [Descriptor, string] => [l, `layers[${i}]`])];
  let size = 0;
  for (const [d, what] of blobs) {
    const n = await content.size(d.digest);
    if (n === undefined) return { ...out, problem: `${what} blob ${d.digest} is not in the content store` };
    size += n;
  }
  return { ...out, size };
}

/** Every named image, summarised. */
export async function summarizeAll(root: string): Promise<ImageSummary[]> {
  return Promise.all((await new ImageStore(root).list()).map((r) => summarize(root, r)));
}

export interface ResolvedImage {
  /** The image the input named (for an image ID: the first of its names). */
  image: ImageSummary;
  /** Every name of the same image (the same ID), the named one included. */
  names: ImageSummary[];
  /** The input was an image ID or a prefix of one, not a name. */
  byId: boolean;
}

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;
/** Like docker's, a prefix of an ID needs a few digits to mean anything. */
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{4,63})$/;

/**
 * An image by name or by ID (64 hex digits, with or without sha256:, or a unique prefix of at least 4). As docker
 * does, a name wins over an ID prefix that is also a valid name ("abcd" is docker.io/library/abcd:latest too).
 */
export async function resolveImage(root: string, input: string, { builtIn = true } = {}): Promise<ResolvedImage> {
  const full = FULL_ID.exec(input);
  let notFound: SkiffError | undefined;
  if (!full) {
    try {
      const rec = await findImage(root, input, { builtIn });
      const all = await summarizeAll(root);
      const image = all.find((s) => s.record.name === rec.name) ?? await summarize(root, rec);
      return { image, names: image.id ? all.filter((s) => s.id === image.id) : [image], byId: false };
    } catch (err) {
      const prefix = ID_PREFIX.exec(input);
      if ((err as SkiffError).code !== 'ENOENT' || !prefix) throw err;
      notFound = err as SkiffError;
    }
  }
  const hex = full?.[1] ?? ID_PREFIX.exec(input)![1];
  const all = await summarizeAll(root);
  const ids = [...new Set(all.map((s) => s.id).filter((id): id is string => id !== undefined && id.slice(7).startsWith(hex)))];
  if (ids.length > 1) throw new SkiffError(`image ID prefix "${input}" is ambiguous: ${ids.map(shortId).join(', ')} all start with it`, 'EINVAL');
  if (ids.length === 0) throw notFound ?? new SkiffError(`image "${input}" is not in the local store`, 'ENOENT');
  const names = all.filter((s) => s.id === ids[0]);
  return { image: names[0], names, byId: true };
}

/** The short form docker and podman print: the first 12 hex digits. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
