// PullImage: pulls into the store `skiff pull` uses and unpacks the layers, so the image is ready for a container.
// The registry login is the one the kubelet sends (from the pod's image pull secrets), read in containerd's order:
// username and password, else identity_token (an OAuth2 refresh token), else auth (base64 "user:password"), else
// registry_token (a bearer token sent as it is). A server_address that is not the image's registry means these
// credentials are for another one, and they are not sent (as containerd). Without an AuthConfig, the node's own
// logins are used as `skiff pull` uses them (root's ~/.docker/config.json, a credential helper). sandbox_config is
// not needed: every pod shares one store, whatever its runtime handler. Mirrors, insecure registries and CAs come
// from registries.json (the `registries` key of skiffd's configuration).
import { pull } from '../image/pull.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { Credentials } from '../image/registry/credential-types.js';
import { normalizeKey } from '../image/registry/credentials.js';
import type { CriContext } from './context.js';
import { invalidArgument } from './grpc-error.js';
import { findImage } from './image-lookup.js';
import type { AuthConfig__Output } from './proto/generated/runtime/v1/AuthConfig.js';
import type { PullImageRequest__Output } from './proto/generated/runtime/v1/PullImageRequest.js';
import type { PullImageResponse } from './proto/generated/runtime/v1/PullImageResponse.js';
import { fromRequest } from './request-error.js';

/** The credentials in `auth` for `registry`, undefined when it holds none for it. */
export function credentialsFrom(auth: AuthConfig__Output | null, registry: string): Credentials | undefined {
  if (!auth) return undefined;
  if (auth.server_address && normalizeKey(auth.server_address) !== normalizeKey(registry)) return undefined;
  if (auth.username) return { username: auth.username, password: auth.password };
  if (auth.identity_token) return { username: '', password: '', identityToken: auth.identity_token };
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw invalidArgument('auth.auth: not base64 of "username:password"');
    // docker's config.json writers sometimes pad the password with NULs; containerd trims them too.
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, '') };
  }
  if (auth.registry_token) return { username: '', password: '', registryToken: auth.registry_token };
  return undefined;
}

export async function imagePull(ctx: CriContext, req: PullImageRequest__Output): Promise<PullImageResponse> {
  const wanted = req.image?.image;
  if (!wanted) throw invalidArgument('image.image: no image named');
  const ref = fromRequest('image.image', () => parseReference(wanted));
  const credentials = credentialsFrom(req.auth, ref.domain);
  const name = formatReference(ref);
  const log = ctx.log.child({ image: name });
  log.info({ credentials: credentials ? 'given' : req.auth ? 'not for this registry' : 'node' }, 'pulling image');
  const started = Date.now();
  await pull(ctx.config.root, wanted, {
    unpack: true, credentials, registriesFile: ctx.config.registries, log: (line) => log.info(line),
  });
  const found = await findImage(ctx.config.root, name);
  if (!found) throw new Error(`${name}: pulled, but its blobs are gone (a concurrent image removal?)`);
  log.info({ id: found.image.id, ms: Date.now() - started }, 'pulled image');
  return { image_ref: found.image.id };
}
