/**
 * File-system helpers shared by the readers and writers: reading a whole file with errors a
 * person can act on, and writing a file atomically (temporary file + rename), so that a failed or
 * interrupted write never leaves a half-written output behind.
 */
import { mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DrrkitError, quoteValue } from '../errors.js';
import { readerLimits } from './limits.js';

/** The `code` of a Node.js system error (ENOENT, EACCES, ...), or undefined. */
function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A short reason for a failed file operation, in words rather than an errno name. */
function describeFileError(error: unknown): string {
  switch (errorCode(error)) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a parent of this path is not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EEXIST':
      return 'a file is in the way';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** What kind of non-regular file `stats` describes, in words. */
function describeKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory, not a file';
  if (stats.isFIFO()) return 'a named pipe (FIFO), not a regular file';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device, not a regular file';
  if (stats.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

/** Options of the bounded readers. */
export interface ReadOptions {
  /** Largest size accepted, in bytes (default: the DRRKIT_MAX_FILE_MB limit, 2 GiB). */
  maxBytes?: number;
}

/** The size limit in words, for messages. */
function limitInWords(maxBytes: number): string {
  return maxBytes >= 1024 * 1024 ? `${Math.round(maxBytes / (1024 * 1024))} MiB` : `${maxBytes} bytes`;
}

/**
 * Reads a whole regular file, bounded: the file is opened non-blocking (a FIFO never blocks),
 * checked with fstat (devices, FIFOs, sockets and directories are refused) and against the size
 * limit before a byte is read, then read up to its stat size (a file that grows meanwhile, like
 * /dev/zero disguised behind /proc, cannot make it read more). Throws a DrrkitError naming the
 * path when it is missing, not a regular file, too large or unreadable. `what` describes the file
 * for the message ("NIfTI file", "image").
 */
export async function readFileBytes(path: string, what = 'file', options: ReadOptions = {}): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? readerLimits().maxFileBytes;
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const reason = errorCode(error) === 'ENOENT' ? `${what} not found` : `cannot read the ${what}: ${describeFileError(error)}`;
    throw new DrrkitError(`${path}: ${reason}`, path);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new DrrkitError(`${path}: cannot read the ${what}: it is ${describeKind(stats)}`, path);
    if (stats.size > maxBytes) throw new DrrkitError(`${path}: the ${what} is larger than the ${limitInWords(maxBytes)} limit (set DRRKIT_MAX_FILE_MB to raise it)`, path);
    const bytes = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof DrrkitError) throw error;
    throw new DrrkitError(`${path}: cannot read the ${what}: ${describeFileError(error)}`, path);
  } finally {
    await handle.close();
  }
}

/** Synchronous {@link readFileBytes} (same checks), for readers whose parsers are synchronous. */
export function readFileBytesSync(path: string, what = 'file', options: ReadOptions = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? readerLimits().maxFileBytes;
  let descriptor: number;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const reason = errorCode(error) === 'ENOENT' ? `${what} not found` : `cannot read the ${what}: ${describeFileError(error)}`;
    throw new DrrkitError(`${path}: ${reason}`, path);
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw new DrrkitError(`${path}: cannot read the ${what}: it is ${describeKind(stats)}`, path);
    if (stats.size > maxBytes) throw new DrrkitError(`${path}: the ${what} is larger than the ${limitInWords(maxBytes)} limit (set DRRKIT_MAX_FILE_MB to raise it)`, path);
    const bytes = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const count = readSync(descriptor, bytes, filled, bytes.length - filled, filled);
      if (count === 0) break;
      filled += count;
    }
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof DrrkitError) throw error;
    throw new DrrkitError(`${path}: cannot read the ${what}: ${describeFileError(error)}`, path);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Writes `bytes` to `path` atomically: the bytes go to a temporary file in the same directory,
 * which is flushed to disk and then renamed over `path`. Missing parent directories are created.
 * On failure the temporary file is removed, any existing file at `path` is left untouched, and a
 * DrrkitError naming the path is thrown.
 */
export async function writeFileAtomic(shownPath: string, bytes: Uint8Array): Promise<void> {
  const path = stagedPath(shownPath);
  const directory = dirname(path);
  const temporaryPath = join(
    directory,
    `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`,
  );
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new DrrkitError(`${shownPath}: cannot create the folder ${directory}: ${describeFileError(error)}`, shownPath);
  }
  let temporaryCreated = false;
  try {
    const handle = await open(temporaryPath, 'wx');
    temporaryCreated = true;
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, path);
  } catch (error) {
    if (temporaryCreated) await unlink(temporaryPath).catch(() => undefined);
    throw new DrrkitError(`${shownPath}: cannot write the file: ${describeFileError(error)}`, shownPath);
  }
}

/** Options of {@link readDetachedFile}. */
export interface DetachedFileOptions extends ReadOptions {
  /** Allow a data file outside the header's folder (absolute paths, `..`, symbolic links out); default: the DRRKIT_ALLOW_EXTERNAL_DATA / --allow-external-data setting. */
  allowOutsideFolder?: boolean;
}

/** True when `inner` is `folder` or lies below it. */
function isInside(folder: string, inner: string): boolean {
  const path = relative(folder, inner);
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
}

/**
 * Reads the data file a header names (NRRD `data file`, MetaImage `ElementDataFile`), relative to
 * the header's folder, with the checks of {@link readFileBytesSync}. The data file must lie in
 * the header's folder or below it (after resolving symbolic links) unless `allowOutsideFolder` is
 * set: a crafted header cannot read /etc/passwd or /dev/zero. Messages name the header and the
 * data file as written in it, never the size of a file outside the folder.
 */
export function readDetachedFile(headerPath: string, name: string, options: DetachedFileOptions = {}): Uint8Array {
  const folder = dirname(resolve(headerPath));
  const full = resolve(folder, name);
  const shown = quoteValue(name);
  const allowOutside = options.allowOutsideFolder ?? readerLimits().allowExternalDataFiles;
  if (!allowOutside) {
    let realFolder = folder;
    let realFull = full;
    try { realFolder = realpathSync(folder); } catch { /* the header was read from it; keep the plain path */ }
    try { realFull = realpathSync(full); } catch { /* missing: reported by the read below */ }
    if (!isInside(folder, full) || !isInside(realFolder, realFull)) {
      throw new DrrkitError(
        `${headerPath}: its data file "${shown}" lies outside the header's folder; drrkit reads detached data only from there (pass --allow-external-data, or set DRRKIT_ALLOW_EXTERNAL_DATA=1, to allow it)`,
        headerPath,
      );
    }
  }
  try {
    return readFileBytesSync(full, 'data file', options);
  } catch (error) {
    const reason = error instanceof DrrkitError ? error.message.slice(error.message.indexOf(': ') + 2) : 'cannot be read';
    throw new DrrkitError(`${headerPath}: its data file "${shown}": ${reason}`, headerPath);
  }
}

/** The staged output folder writes are redirected into (see {@link writeOutputsAtomically}). */
const stagedOutputs = new AsyncLocalStorage<{ target: string; staging: string }>();

/** Where a write to `path` goes now: into the staging folder when `path` lies in a staged output folder. */
function stagedPath(path: string): string {
  const context = stagedOutputs.getStore();
  if (!context) return path;
  const full = resolve(path);
  if (!isInside(context.target, full)) return path;
  return join(context.staging, relative(context.target, full));
}

/** Moves every file of `from` (recursively) to the same place under `to`, each by an atomic rename. */
async function moveTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name), target = join(to, entry.name);
    if (entry.isDirectory()) await moveTree(source, target);
    else await rename(source, target);
  }
}

/**
 * Runs `body` with every {@link writeFileAtomic} into `directory` (or below it) redirected to a
 * temporary folder beside it; when `body` succeeds the files are moved into place, when it throws
 * the temporary folder is removed and `directory` is left as it was: a command's outputs appear
 * all together or not at all. (An existing `directory` keeps files the run did not write.)
 */
export async function writeOutputsAtomically<T>(directory: string, body: () => Promise<T>): Promise<T> {
  const target = resolve(directory);
  const parent = dirname(target);
  let createdParent: string | undefined;
  try {
    createdParent = await mkdir(parent, { recursive: true });
  } catch (error) {
    throw new DrrkitError(`${directory}: cannot create the folder ${parent}: ${describeFileError(error)}`, directory);
  }
  let staging: string;
  try {
    staging = await mkdtemp(join(parent, `.${basename(target)}.partial-`));
  } catch (error) {
    throw new DrrkitError(`${directory}: cannot create a temporary folder beside it: ${describeFileError(error)}`, directory);
  }
  let committed = false;
  try {
    const result = await stagedOutputs.run({ target, staging }, body);
    let exists = false;
    try { exists = (await stat(target)).isDirectory(); } catch { exists = false; }
    try {
      if (exists) await moveTree(staging, target);
      else await rename(staging, target);
    } catch (error) {
      throw new DrrkitError(`${directory}: cannot move the outputs into place: ${describeFileError(error)}`, directory);
    }
    committed = true;
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    // A failed run leaves no trace: folders created only to hold the staging folder go too.
    if (!committed && createdParent !== undefined) await rm(createdParent, { recursive: true, force: true }).catch(() => undefined);
  }
}
