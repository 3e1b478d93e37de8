// Files the collector writes in its data dir (alert state, CSV logs) hold what it saw on this machine:
// 0600 whatever the umask or the mode of a directory that already existed, including files created by
// an older version with a wider mode (fchmod on every open).

import { open } from 'node:fs/promises';

/** Mode of every file the collector writes in its data dir. */
export const PRIVATE_FILE_MODE = 0o600;

/** Writes (creates or truncates) `file` with mode 0600. */
export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'w', PRIVATE_FILE_MODE);
  try {
    await fh.chmod(PRIVATE_FILE_MODE);
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

/** Appends to `file` (created if missing) and leaves it with mode 0600. */
export async function appendPrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'a', PRIVATE_FILE_MODE);
  try {
    await fh.chmod(PRIVATE_FILE_MODE);
    await fh.appendFile(data);
  } finally {
    await fh.close();
  }
}
