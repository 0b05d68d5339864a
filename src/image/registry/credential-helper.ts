// docker-credential-helpers' protocol (docker's credential helpers: secretservice, pass, osxkeychain, desktop,
// ecr-login, ...): a program `docker-credential-NAME` on PATH, run with one action as its argument, the request on
// stdin and the answer on stdout:
//   get    stdin: the server URL                           stdout: {"ServerURL","Username","Secret"}
//   store  stdin: {"ServerURL","Username","Secret"}
//   erase  stdin: the server URL
// A failure exits non-zero with its message on stdout; "credentials not found in native keychain" is the message
// that means nothing is stored. Username "<token>" marks the Secret as an identity token (an OAuth2 refresh token).
// Keyring helpers (secretservice, pass) need a desktop keyring or gpg agent unlocked in the calling session; one
// that waits on an unlock prompt is given up on after HELPER_TIMEOUT_MS.
import { spawnSync } from 'node:child_process';
import { SkiffError } from '../../common/errors.js';
import type { Credentials } from './credential-types.js';

export interface CredentialHelper {
  /** The NAME in docker-credential-NAME. */
  name: string;
  /** Where it is configured, for messages: `credsStore in /root/.docker/config.json`. */
  where: string;
}

/** The helper's program is not on PATH. */
export class HelperNotInstalled extends SkiffError {
  constructor(readonly helper: CredentialHelper) {
    super(`credential helper docker-credential-${helper.name} (${helper.where}) is not installed`, 'ENOENT');
  }
}

const HELPER_TIMEOUT_MS = 60_000;
const NOT_FOUND = 'credentials not found in native keychain';
const IDENTITY_TOKEN_USER = '<token>';

/** Runs one action; returns stdout, or undefined when the helper says it has no credentials. */
function run(helper: CredentialHelper, action: 'get' | 'store' | 'erase', input: string, serverUrl: string): string | undefined {
  const program = `docker-credential-${helper.name}`;
  const r = spawnSync(program, [action], { input, encoding: 'utf8', timeout: HELPER_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'pipe'] });
  const what = `${program} ${action} ${serverUrl} (${helper.where})`;
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new HelperNotInstalled(helper);
    if (code === 'ETIMEDOUT') throw new SkiffError(`${what}: no answer within ${HELPER_TIMEOUT_MS / 1000}s (a locked keyring waiting to be unlocked?)`, 'ETIMEDOUT');
    throw new SkiffError(`${what}: ${r.error.message}`, code ?? 'EIO');
  }
  const out = r.stdout.trim();
  if (r.status === 0) return out;
  if (out === NOT_FOUND) return undefined;
  const said = (out || r.stderr.trim()).split('\n')[0];
  throw new SkiffError(`${what}: ${said || `exit status ${r.status ?? r.signal}`}`, 'EIO');
}

/** The helper's credentials for `serverUrl`, or undefined if it has none. */
export function helperGet(helper: CredentialHelper, serverUrl: string): Credentials | undefined {
  const out = run(helper, 'get', serverUrl, serverUrl);
  if (out === undefined) return undefined;
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(out) as typeof answer;
  } catch {
    throw new SkiffError(`docker-credential-${helper.name} get ${serverUrl} (${helper.where}): the answer is not JSON`, 'EPROTO');
  }
  if (typeof answer.Username !== 'string' || typeof answer.Secret !== 'string') {
    throw new SkiffError(`docker-credential-${helper.name} get ${serverUrl} (${helper.where}): the answer has no Username and Secret strings`, 'EPROTO');
  }
  if (!answer.Secret) return undefined;
  if (answer.Username === IDENTITY_TOKEN_USER) return { username: '', password: '', identityToken: answer.Secret };
  return { username: answer.Username, password: answer.Secret };
}

export function helperStore(helper: CredentialHelper, serverUrl: string, creds: Credentials): void {
  const username = creds.identityToken ? IDENTITY_TOKEN_USER : creds.username;
  const secret = creds.identityToken ?? creds.password;
  run(helper, 'store', JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }), serverUrl);
}

/** Erases the helper's credentials for `serverUrl`; false if it had none. */
export function helperErase(helper: CredentialHelper, serverUrl: string): boolean {
  return run(helper, 'erase', serverUrl, serverUrl) !== undefined;
}
