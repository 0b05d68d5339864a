// What archive readers hand back: manifests verified and stored (with every blob they need), and the names the
// archive gives them. Names are written last and only when every image of the archive is stored.
import type { Descriptor } from '../content-store.js';

export interface ImageToName {
  /** The manifest, in the content store. */
  target: Descriptor;
  /** Full references from the archive (may be empty). */
  names: string[];
  /** Where in the archive, for errors: "index.json manifests[0]". */
  what: string;
  /** The platform its config says it is for, as os/arch[/variant]. */
  platform?: string;
  /** The manifest's, config's and layers' digests: held against a concurrent prune until the names are written. */
  blobs: string[];
}
