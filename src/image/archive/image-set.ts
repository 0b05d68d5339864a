// What archive readers hand back and archive writers take: manifests already verified and stored, with the names
// the archive gives them. Names are written last and only when every image of the archive is stored.
import type { Descriptor } from '../content-store.js';

export interface ImageToName {
  /** The manifest, in the content store. */
  target: Descriptor;
  /** Full references from the archive (may be empty). */
  names: string[];
  /** Where in the archive, for errors: "index.json manifests[0]". */
  what: string;
}

export interface ManifestWithConfig {
  target: Descriptor;
  manifest: { config: Descriptor; layers: Descriptor[] };
}
