// skiff login at a terminal, through a real pty (util-linux `script`), against Debian's docker-registry with Basic
// auth: the user name is echoed, the password is not (it never appears in the transcript, Backspace edits it), and
// the terminal is left as it was (`stty -a` after skiff shows echo and icanon) after a login, after Ctrl-C
// (exit 130, nothing stored) and after a signal at the prompt.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-login-tty-'));
const user = { name: 'skiffy', password: 'hunter2-secret' };
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Session {
  /** Everything the terminal showed until skiff ended. */
  transcript: string;
  /** skiff's exit status, as the shell saw it. */
  status: number;
  /** `stty -a` after skiff ended. */
  stty: string;
}

/**
 * Runs `skiff login ARGS` on a pty, with a shell around it that prints its exit status and the terminal's settings
 * after. `answer(screen)` is called as output arrives and says what to type, if anything, at that point.
 */
function onTerminal(args: string[], answer: (screen: string, shellPid: number) => string | undefined): Promise<Session> {
  const command = `echo "shell=$$"; ${quote(process.execPath)} ${quote(skiffBin)} --root ${quote(join(dir, 'root'))} login ${args.map(quote).join(' ')}; echo "status=$?"; stty -a`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let screen = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    const shell = /shell=(\d+)/.exec(screen);
    const typed = shell ? answer(screen, Number(shell[1])) : undefined;
    if (typed) child.stdin!.write(typed);
  });
  return new Promise((resolve) => child.on('close', () => {
    child.stdin!.end();
    // readline's cursor movements (CSI sequences) out, so the text reads as it looked.
    const [before, stty = ''] = screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/status=\d+\r?\n/);
    resolve({ transcript: before, status: Number(/status=(\d+)/.exec(screen)?.[1] ?? -1), stty });
  }));
}

/** Types each answer once, when its prompt shows on the screen after what was typed last. */
function typing(answers: [prompt: string, text: string][]): (screen: string) => string | undefined {
  let next = 0;
  let from = 0;
  return (screen) => {
    if (next >= answers.length || !screen.slice(from).includes(answers[next][0])) return undefined;
    from = screen.length;
    return answers[next++][1];
  };
}

const restored = (stty: string) => {
  assert.match(stty, /(^|\s)echo(\s|$)/, stty);
  assert.match(stty, /(^|\s)icanon(\s|$)/, stty);
};

let registry: TestRegistry;

before(async () => {
  registry = await startRegistry(user);
});

after(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('skiff login at a terminal', () => {
  test('the user name is echoed, the password is not; Backspace edits it; the terminal is restored', async () => {
    const authfile = join(dir, 'ok.json');
    const typo = `${user.password}x\x7f\r`;
    const s = await onTerminal(['--authfile', authfile, registry.address], typing([['Username: ', `${user.name}\r`], ['Password: ', typo]]));
    assert.equal(s.status, 0, s.transcript);
    assert.match(s.transcript, new RegExp(`Username: ${user.name}`));
    assert.match(s.transcript, /Login Succeeded/);
    assert.ok(!s.transcript.includes(user.password.slice(0, 6)), `the password is not on the screen: ${JSON.stringify(s.transcript)}`);
    restored(s.stty);
    const stored = JSON.parse(readFileSync(authfile, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(stored.auths[registry.address].auth, 'base64').toString(), `${user.name}:${user.password}`);
  });

  test('Ctrl-C at the password prompt: exit 130, nothing stored, the terminal restored', async () => {
    const authfile = join(dir, 'interrupted.json');
    const s = await onTerminal(['-u', user.name, '--authfile', authfile, registry.address], typing([['Password: ', 'half\x03']]));
    assert.equal(s.status, 130);
    assert.match(s.transcript, /skiff: login: interrupted/);
    assert.ok(!s.transcript.includes('half'));
    assert.ok(!existsSync(authfile));
    restored(s.stty);
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`${signal} at the password prompt: the terminal restored`, async () => {
      let sent = false;
      const s = await onTerminal(['-u', user.name, '--authfile', join(dir, 'signal.json'), registry.address], (screen, shell) => {
        if (sent || !screen.includes('Password: ')) return undefined;
        sent = true;
        const skiff = execFileSync('pgrep', ['-P', String(shell)], { encoding: 'utf8' }).trim();
        process.kill(Number(skiff), signal);
        return undefined;
      });
      assert.equal(s.status, 128 + (signal === 'SIGTERM' ? 15 : 1));
      restored(s.stty);
    });
  }

  test('without a terminal the password is only taken from --password-stdin', () => {
    const r = spawnSync(process.execPath, [skiffBin, 'login', '-u', user.name, registry.address], { input: `${user.password}\n`, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'skiff: login: give the password with --password-stdin (it is never taken as an argument)\n');
  });
});
