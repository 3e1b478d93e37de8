// The host pid of a Docker container's main process, from the Engine API (`State.Pid`), for VRAM
// attribution of servers that run in containers (their port is held by docker-proxy, not by them).

import { request } from 'node:http';

/** Where the Docker Engine API listens: DOCKER_HOST (unix:// only) or the default socket. */
export function dockerSocketPath(env: NodeJS.ProcessEnv): string | null {
  const h = env.DOCKER_HOST;
  if (h === undefined || h === '') return '/var/run/docker.sock';
  return h.startsWith('unix://') ? h.slice('unix://'.length) : null;
}

/** Resolves a container's main pid; rejects with a message saying why not. */
export function containerPid(container: string, socketPath: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/containers/${encodeURIComponent(container)}/json`, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 404) return reject(new Error(`container ${container} not found`));
        if (res.statusCode !== 200) return reject(new Error(`Docker API answered HTTP ${res.statusCode} for container ${container}`));
        try {
          const pid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { State?: { Pid?: unknown } }).State?.Pid;
          if (typeof pid === 'number' && pid > 0) resolve(pid);
          else reject(new Error(`container ${container} is not running`));
        } catch {
          reject(new Error('unexpected answer from the Docker API'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`Docker API did not answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'ENOENT' || e.code === 'EACCES' ? `cannot reach the Docker API at ${socketPath} (${e.code})` : e.message)),
    );
    req.end();
  });
}
