// The image store as the CRI sees it, shared by the image calls: one CRI Image per image ID (the config's digest),
// carrying every name of that ID, and lookups by any of the spellings the kubelet and crictl use: a name, a name
// with a digest, a full image ID or a prefix of one. Only images whose blobs are all there count: one with a
// missing blob is "not present", so the kubelet pulls it again (which fetches what is missing).
import { dockerInspect } from '../image/docker-inspect.js';
import { resolveImage, summarizeAll, type ImageSummary } from '../image/image-summary.js';
import { parseReference, repositoryOf } from '../image/reference.js';
import type { Image } from './proto/generated/runtime/v1/Image.js';

/** A summary whose manifest, config and blobs were all read. */
export type CompleteImage = ImageSummary & { id: string; size: number };

export interface FoundImage {
  image: CompleteImage;
  /** Every name of the same image ID. */
  names: ImageSummary[];
}

const complete = (s: ImageSummary): s is CompleteImage => s.id !== undefined && s.size !== undefined;

/**
 * The image config's User as containerd reports it: the part before ':' is a uid when it is a number, a user
 * name otherwise; no User is neither.
 */
function userOf(image: CompleteImage): Pick<Image, 'uid' | 'username'> {
  const user = image.config?.config?.User;
  const name = typeof user === 'string' ? user.split(':')[0] : '';
  if (!name) return { uid: null, username: '' };
  return /^\d+$/.test(name) ? { uid: { value: name }, username: '' } : { uid: null, username: name };
}

/** repo_tags and repo_digests are the names `skiff image inspect` shows as RepoTags and RepoDigests. */
export function toCriImage({ image, names }: FoundImage): Image {
  const { RepoTags, RepoDigests } = dockerInspect(image, names);
  return { id: image.id, repo_tags: RepoTags, repo_digests: RepoDigests, size: String(image.size), ...userOf(image), spec: null, pinned: false };
}

/** Every complete image, once per ID, ordered by its first name. */
export async function listImages(root: string): Promise<FoundImage[]> {
  const byId = new Map<string, FoundImage>();
  for (const s of await summarizeAll(root)) {
    if (!complete(s)) continue;
    const found = byId.get(s.id);
    if (found) found.names.push(s);
    else byId.set(s.id, { image: s, names: [s] });
  }
  return [...byId.values()];
}

/**
 * The image `input` names, or undefined when there is none. A name with a digest (repo@sha256:...) also finds the
 * image a tag of that repository was pulled as, since a pull by tag records the tag only. An input that is no
 * reference at all is an error (EINVAL), as is an ambiguous ID prefix.
 */
export async function findImage(root: string, input: string): Promise<FoundImage | undefined> {
  let found: FoundImage | undefined;
  try {
    const r = await resolveImage(root, input, { builtIn: false });
    if (complete(r.image)) found = { image: r.image, names: r.names };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (found || !input.includes('@')) return found;
  const ref = parseReference(input);
  const all = await summarizeAll(root);
  const match = all.find((s) => complete(s) && s.record.target.digest === ref.digest && repositoryOf(parseReference(s.record.name)) === repositoryOf(ref));
  return match && complete(match) ? { image: match, names: all.filter((s) => s.id === match.id) } : undefined;
}
