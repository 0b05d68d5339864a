// OCI image-spec and Docker schema2 media types, and what kind of object each one names.
export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

/** What a registry may answer for a manifest request, most preferred first (the Accept header of a pull). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest,
];

export function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

export function isManifest(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

/**
 * Layers a registry does not serve: OCI's non-distributable types (deprecated in image-spec 1.1, "SHOULD NOT be
 * uploaded") and Docker's foreign layers (Windows base layers fetched from their `urls`).
 */
export function isNonDistributable(mediaType: string): boolean {
  return mediaType.includes('.nondistributable.') || mediaType.includes('.foreign.');
}

export type Compression = 'none' | 'gzip' | 'zstd';

/**
 * Every layer media type skiff unpacks, with its compression: the one table that both the manifest check of a pull
 * or load and the unpacker read, so what one accepts the other can unpack.
 */
const LAYER_COMPRESSION: ReadonlyMap<string, Compression> = new Map([
  [MEDIA_TYPES.ociLayer, 'none'], [MEDIA_TYPES.ociLayerGzip, 'gzip'], [MEDIA_TYPES.ociLayerZstd, 'zstd'],
  [MEDIA_TYPES.dockerLayer, 'none'], [MEDIA_TYPES.dockerLayerGzip, 'gzip'], [MEDIA_TYPES.dockerLayerZstd, 'zstd'],
]);

/** tar, tar+gzip and tar+zstd layers, OCI and Docker. */
export function isSupportedLayer(mediaType: string): boolean {
  return LAYER_COMPRESSION.has(mediaType);
}

/** The compression of a supported layer media type, undefined for any other. */
export function layerCompression(mediaType: string): Compression | undefined {
  return LAYER_COMPRESSION.get(mediaType);
}

/** The OCI layer media type for a compression (what a docker-archive's untyped layers are stored as). */
export const OCI_LAYER_TYPE: Readonly<Record<Compression, string>> = {
  none: MEDIA_TYPES.ociLayer, gzip: MEDIA_TYPES.ociLayerGzip, zstd: MEDIA_TYPES.ociLayerZstd,
};
