/**
 * Shared pieces of the text-header volume readers (NRRD, MetaImage): raw voxel decoding with
 * byte order, zlib/gzip inflation with messages a person can act on, and header line splitting.
 */
import { Gunzip, Inflate, Unzlib } from 'fflate';
import { DrrkitError } from '../errors.js';

/** Scalar sample types of raw voxel data. */
export type SampleType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

/** Bytes per sample of each type. */
export const SAMPLE_BYTES: Readonly<Record<SampleType, number>> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

/**
 * Decodes `count` samples of `type` starting at `offset` into float32, honouring the byte order,
 * then applies value·slope + intercept. Throws a DrrkitError naming `source` when the bytes run out.
 */
export function decodeSamples(
  bytes: Uint8Array,
  offset: number,
  count: number,
  type: SampleType,
  littleEndian: boolean,
  source: string,
  slope = 1,
  intercept = 0,
): Float32Array {
  const size = SAMPLE_BYTES[type];
  const needed = count * size;
  const available = Math.max(0, bytes.length - offset);
  if (available < needed) {
    throw new DrrkitError(`${source}: truncated: ${count} ${type} voxels need ${needed} bytes of data but only ${available} are there`, source);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, needed);
  const out = new Float32Array(count);
  const read: (at: number) => number = (() => {
    switch (type) {
      case 'int8': return (at: number) => view.getInt8(at);
      case 'uint8': return (at: number) => view.getUint8(at);
      case 'int16': return (at: number) => view.getInt16(at, littleEndian);
      case 'uint16': return (at: number) => view.getUint16(at, littleEndian);
      case 'int32': return (at: number) => view.getInt32(at, littleEndian);
      case 'uint32': return (at: number) => view.getUint32(at, littleEndian);
      case 'int64': return (at: number) => Number(view.getBigInt64(at, littleEndian));
      case 'uint64': return (at: number) => Number(view.getBigUint64(at, littleEndian));
      case 'float32': return (at: number) => view.getFloat32(at, littleEndian);
      case 'float64': return (at: number) => view.getFloat64(at, littleEndian);
    }
  })();
  const scaled = slope !== 1 || intercept !== 0;
  for (let index = 0; index < count; index++) {
    const value = read(index * size);
    out[index] = scaled ? value * slope + intercept : value;
  }
  return out;
}

/** Bounds of {@link inflate}: the most output bytes, and what happens past them. */
export interface InflateLimit {
  /** The most bytes the output may hold (normally what the header's dimensions need). */
  maxBytes: number;
  /** 'stop': return the first `maxBytes` bytes; 'error' (default): throw a DrrkitError saying the stream holds more than the header describes. */
  beyond?: 'stop' | 'error';
  /** For the 'error' message: what the expected bytes are ("64×64×40 int16 voxels"). */
  describe?: string;
}

/** Thrown inside the inflater's callback to stop it once the output limit is reached. */
const STOP_INFLATING = Symbol('stop inflating');

/**
 * Decompresses gzip (multi-member included), zlib, or raw deflate incrementally, 16 KiB of input at
 * a time, and never holds more than `limit.maxBytes` of output (plus one chunk): a small file
 * whose stream inflates to gigabytes stops at the limit instead of exhausting memory. A truncated
 * or corrupt stream throws a DrrkitError naming `source`.
 */
export function inflate(bytes: Uint8Array, source: string, format: 'gzip' | 'zlib' | 'deflate', limit: InflateLimit): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let stopped = false;
  const onData = (chunk: Uint8Array): void => {
    if (total + chunk.length > limit.maxBytes) {
      if (limit.beyond === 'stop') {
        chunks.push(chunk.subarray(0, limit.maxBytes - total));
        total = limit.maxBytes;
        stopped = true;
        throw STOP_INFLATING;
      }
      throw new DrrkitError(
        `${source}: inconsistent dimensions: the ${format}-compressed data holds more than the ${limit.maxBytes} bytes ${limit.describe ? `that ${limit.describe} need` : 'the header describes'}`,
        source,
      );
    }
    chunks.push(chunk);
    total += chunk.length;
  };
  try {
    const stream = format === 'gzip' ? new Gunzip(onData) : format === 'zlib' ? new Unzlib(onData) : new Inflate(onData);
    const step = 16384;
    if (bytes.length === 0) stream.push(bytes, true);
    for (let at = 0; at < bytes.length && !stopped; at += step) stream.push(bytes.subarray(at, Math.min(bytes.length, at + step)), at + step >= bytes.length);
  } catch (error) {
    if (error === STOP_INFLATING) return join(chunks, total);
    if (error instanceof DrrkitError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/unexpected EOF/i.test(message)) throw new DrrkitError(`${source}: truncated: the compressed ${format} data ends early`, source);
    throw new DrrkitError(`${source}: corrupt ${format}-compressed data (${message})`, source);
  }
  return join(chunks, total);
}

/** Concatenates chunks. */
function join(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.length; }
  return out;
}

/** Parses whitespace-separated numbers; throws a DrrkitError naming the field when one is not finite or the count is wrong. */
export function parseNumbers(text: string, field: string, source: string, count?: number): number[] {
  const parts = text.trim().split(/[\s,]+/).filter((part) => part !== '');
  const values = parts.map(Number);
  if (values.some((value) => !Number.isFinite(value))) {
    throw new DrrkitError(`${source}: the ${field} field "${text.trim()}" holds something that is not a number`, source);
  }
  if (count !== undefined && values.length !== count) {
    throw new DrrkitError(`${source}: the ${field} field has ${values.length} numbers, expected ${count}`, source);
  }
  return values;
}

/** Index of the first byte after the first empty line ("\n\n" or "\r\n\r\n"), or -1. */
export function endOfTextHeader(bytes: Uint8Array, limit = bytes.length): number {
  for (let index = 0; index + 1 < Math.min(limit, bytes.length); index++) {
    if (bytes[index] === 0x0a) {
      if (bytes[index + 1] === 0x0a) return index + 2;
      if (bytes[index + 1] === 0x0d && bytes[index + 2] === 0x0a) return index + 3;
    }
  }
  return -1;
}

/** Decodes bytes as Latin-1 text (headers are ASCII; this never throws). */
export function latin1(bytes: Uint8Array): string {
  let text = '';
  const chunk = 8192;
  for (let start = 0; start < bytes.length; start += chunk) {
    text += String.fromCharCode(...bytes.subarray(start, Math.min(bytes.length, start + chunk)));
  }
  return text;
}
