/**
 * NumPy's `.npy` format (version 1.0), enough for datasets of float32 images: a magic string, a
 * little-endian header length, a Python-literal header `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (k, H, W), }` padded with spaces to a multiple of 64 bytes and ended by a newline, then
 * the array in C order. `numpy.load` reads what {@link encodeNpy} writes, and
 * {@link decodeNpy} reads what `numpy.save` writes for float32 and float64 C-order arrays.
 */
import { DrrkitError } from '../errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The header of an `.npy` file. */
export interface NpyHeader {
  /** NumPy dtype string, e.g. '<f4'. */
  descr: string;
  /** Array shape. */
  shape: number[];
  /** Bytes before the data. */
  dataOffset: number;
}

/** The bytes of the header (magic, version 1.0, length, padded dictionary) of a float32 C-order array of `shape`. */
export function npyHeaderBytes(shape: readonly number[]): Uint8Array {
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 0) throw new DrrkitError(`npy: shape entries must be whole numbers ≥ 0, got ${shape.join('×')}`, 'npy');
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dictionary = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dictionary.length + 1;
  dictionary += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (dictionary.length > 65535) throw new DrrkitError('npy: header too long', 'npy');
  const header = new Uint8Array(MAGIC.length + 4 + dictionary.length);
  header.set(MAGIC, 0);
  header[6] = 1;
  header[7] = 0;
  header[8] = dictionary.length & 0xff;
  header[9] = dictionary.length >>> 8;
  for (let index = 0; index < dictionary.length; index++) header[10 + index] = dictionary.charCodeAt(index);
  return header;
}

/** An `.npy` file holding `data` (float32, C order) with `shape`. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((product, size) => product * size, 1);
  if (count !== data.length) throw new DrrkitError(`npy: shape ${shape.join('×')} holds ${count} values, the array ${data.length}`, 'npy');
  const header = npyHeaderBytes(shape);
  const out = new Uint8Array(header.length + 4 * data.length);
  out.set(header, 0);
  const view = new DataView(out.buffer, header.length);
  for (let index = 0; index < data.length; index++) view.setFloat32(4 * index, data[index], true);
  return out;
}

/** Reads the header of an `.npy` file (`name` for messages); a DrrkitError when it is not one drrkit reads. */
export function decodeNpyHeader(bytes: Uint8Array, name = 'npy'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((value, index) => bytes[index] !== value)) throw new DrrkitError(`${name}: not an .npy file`, name);
  const major = bytes[6];
  const lengthBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) throw new DrrkitError(`${name}: unsupported .npy version ${major}.${bytes[7]}`, name);
  let length = 0;
  for (let index = lengthBytes - 1; index >= 0; index--) length = length * 256 + bytes[8 + index];
  const dataOffset = 8 + lengthBytes + length;
  if (dataOffset > bytes.length) throw new DrrkitError(`${name}: truncated .npy header`, name);
  const text = new TextDecoder('latin1').decode(bytes.subarray(8 + lengthBytes, dataOffset));
  const descr = /'descr':\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new DrrkitError(`${name}: unreadable .npy header ${JSON.stringify(text.trim())}`, name);
  if (fortran === 'True') throw new DrrkitError(`${name}: Fortran-order .npy arrays are not supported`, name);
  const shape = shapeText.split(',').map((part) => part.trim()).filter((part) => part.length > 0).map(Number);
  if (shape.some((size) => !Number.isInteger(size) || size < 0)) throw new DrrkitError(`${name}: bad .npy shape (${shapeText})`, name);
  return { descr, shape, dataOffset };
}

/** Reads a float32 or float64 little-endian `.npy` file into a Float32Array / Float64Array with its shape. */
export function decodeNpy(bytes: Uint8Array, name = 'npy'): { data: Float32Array | Float64Array; shape: number[] } {
  const header = decodeNpyHeader(bytes, name);
  const count = header.shape.reduce((product, size) => product * size, 1);
  const size = header.descr === '<f4' ? 4 : header.descr === '<f8' ? 8 : 0;
  if (size === 0) throw new DrrkitError(`${name}: dtype ${header.descr} not supported (float32 '<f4' or float64 '<f8')`, name);
  if (bytes.length !== header.dataOffset + size * count) {
    throw new DrrkitError(`${name}: expected ${size * count} data bytes for shape (${header.shape.join(', ')}), found ${bytes.length - header.dataOffset}`, name);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, size * count);
  const data = size === 4 ? new Float32Array(count) : new Float64Array(count);
  for (let index = 0; index < count; index++) data[index] = size === 4 ? view.getFloat32(4 * index, true) : view.getFloat64(8 * index, true);
  return { data, shape: header.shape };
}
