// What a registry login is, wherever it comes from (config files, a credential helper, skiff login).
export interface Credentials {
  username: string;
  password: string;
  /** docker's identity token: an OAuth2 refresh token, exchanged at the token realm (never sent as Basic). */
  identityToken?: string;
}
