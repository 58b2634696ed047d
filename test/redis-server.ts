/** A loopback redis-server for the queue tests, on a free 127.0.0.1 port; absent → the tests skip. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { checkQueueConnection } from '../src/queue/connection.js';

/** Why the queue tests skip, or undefined when redis-server is on the PATH. */
export const REDIS_ABSENT: string | undefined = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0
  ? undefined
  : 'needs redis-server (Debian package redis-server; .ci/run installs it) — absent here';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A running redis-server: its URL and a stop function. */
export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts redis-server without persistence on a free loopback port and waits until it answers. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}/0`;
  for (let attempt = 0; ; attempt++) {
    try {
      await checkQueueConnection(url, '--queue', 1000);
      break;
    } catch (error) {
      if (attempt > 50 || child.exitCode !== null) { child.kill('SIGKILL'); throw error; }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
