/**
 * The Redis behind `--queue redis://host:port/db`: URL parsing, a connection check that fails
 * fast with a clear message, and the one BullMQ queue drrkit uses.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { DrrkitError } from '../errors.js';

/** The BullMQ queue every drrkit producer and worker uses. */
export const QUEUE_NAME = 'drrkit';

/** Connection options of a `redis://[user:password@]host[:port][/db]` (or `rediss://`, TLS) URL. */
export function parseQueueUrl(text: string, flagName = '--queue'): RedisOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DrrkitError(`${flagName}: "${text}" is not a URL; expected redis://host:port/db`, flagName);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new DrrkitError(`${flagName}: "${text}": expected a redis:// or rediss:// URL`, flagName);
  if (url.hostname === '') throw new DrrkitError(`${flagName}: "${text}": no host`, flagName);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new DrrkitError(`${flagName}: "${text}": the database number must be a whole number ≥ 0, got "${dbText}"`, flagName);
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    maxRetriesPerRequest: null, // BullMQ's requirement for workers
  };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') options.tls = {};
  return options;
}

/** Connects once (within `timeoutMs`) and pings; a DrrkitError naming the URL when Redis cannot be reached. */
export async function checkQueueConnection(text: string, flagName = '--queue', timeoutMs = 5000): Promise<void> {
  const options = parseQueueUrl(text, flagName);
  const client = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DrrkitError(`${flagName} ${text}: cannot reach Redis (${reason})`, flagName);
  } finally {
    client.disconnect();
  }
}
