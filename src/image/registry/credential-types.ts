// What a registry login is, wherever it comes from (config files, a credential helper, skiff login).
export interface Credentials {
  username: string;
  password: string;
  /** docker's identity token: an OAuth2 refresh token, exchanged at the token realm (never sent as Basic). */
  identityToken?: string;
  /** A bearer token for the registry itself, sent as it is (the CRI's AuthConfig.registry_token); never refreshed. */
  registryToken?: string;
}
