/**
 * File-system helpers shared by the readers and writers: reading a whole file with errors a
 * person can act on, and writing a file atomically (temporary file + rename), so that a failed or
 * interrupted write never leaves a half-written output behind.
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DrrkitError } from '../errors.js';

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

/**
 * Reads a whole file. Throws a DrrkitError naming the path when it is missing, a directory or
 * unreadable. `what` describes the file for the message ("NIfTI file", "image").
 */
export async function readFileBytes(path: string, what = 'file'): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    const reason = errorCode(error) === 'ENOENT' ? `${what} not found` : `cannot read the ${what}: ${describeFileError(error)}`;
    throw new DrrkitError(`${path}: ${reason}`, path);
  }
}

/**
 * Writes `bytes` to `path` atomically: the bytes go to a temporary file in the same directory,
 * which is flushed to disk and then renamed over `path`. Missing parent directories are created.
 * On failure the temporary file is removed, any existing file at `path` is left untouched, and a
 * DrrkitError naming the path is thrown.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const directory = dirname(path);
  const temporaryPath = join(
    directory,
    `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`,
  );
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new DrrkitError(`${path}: cannot create the folder ${directory}: ${describeFileError(error)}`, path);
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
    throw new DrrkitError(`${path}: cannot write the file: ${describeFileError(error)}`, path);
  }
}

/**
 * Reads the data file a header names (NRRD `data file`, MetaImage `ElementDataFile`), relative to
 * the header's folder; a DrrkitError names the header and the missing file.
 */
export function readDetachedFile(headerPath: string, name: string): Uint8Array {
  const full = resolve(dirname(headerPath), name);
  try {
    const buffer = readFileSync(full);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch {
    throw new DrrkitError(`${headerPath}: its data file ${full} cannot be read (missing?)`, headerPath);
  }
}
