// Whether a path is a regular file with an execute bit: what execve(2) asks of a file for root (access(2) says root
// passes X_OK when any execute bit is set).
import { statSync } from 'node:fs';

export function isExecutableFile(path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  return Boolean(st?.isFile() && (st.mode & 0o111) !== 0);
}
