// Reads small kernel files into one reused buffer. fs.readFileSync cannot know the size of a /proc file
// (stat says 0), so it allocates a fresh 64 KiB buffer per read; at ~200 reads per top-process refresh
// that churn showed up as ~8 MB of extra RSS. One growing buffer, reused, avoids it and is cheaper.

import * as fs from 'node:fs';

const INITIAL_BYTES = 64 * 1024;
let buf = Buffer.allocUnsafe(INITIAL_BYTES);

/** The whole file as latin1 text (kernel files are ASCII); throws like fs.readFileSync on errors. */
export function readProcFile(path: string): string {
  const fd = fs.openSync(path, 'r');
  try {
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    return buf.toString('latin1', 0, len);
  } finally {
    fs.closeSync(fd);
  }
}
