/**
 * NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`): reading into a {@link Volume} and writing one.
 *
 * Reading: gzip is detected by its magic bytes (1f 8b), not by the file name. The header fields
 * are parsed by nifti-reader-js; the voxel conversion, the affine (sform, else qform, else
 * diag(spacing), per the NIfTI standard) and all validation are done here, so every problem
 * surfaces as a one-line DrrkitError that starts with the file name. `parseNifti` and
 * `encodeNifti` touch no file system and work in a browser: the Node.js file helpers are imported
 * only when `readNifti` or `writeNifti` runs.
 *
 * Writing: a little-endian NIfTI-1 single file (348-byte header, 4 zero extension bytes, data at
 * byte 352), with sform = the volume's affine (sform_code 1) and, when the affine is a rotation
 * times the spacing, the matching qform (qform_code 1).
 */
import { gzipSync } from 'fflate';
import { NIFTI1, NIFTI2 } from 'nifti-reader-js';
import { DrrkitError } from '../errors.js';
import { createVolume, diagonalAffine, validateVolume, type Volume } from '../volume/volume.js';
import { checkVoxelCount } from './limits.js';
import { inflate } from './raw-voxels.js';

/** Voxel types that {@link encodeNifti} can write. */
export type NiftiWriteDatatype = 'float32' | 'int16' | 'uint8';

/** Options for {@link encodeNifti} and {@link writeNifti}. */
export interface NiftiWriteOptions {
  /** On-disk voxel type (default float32). Integer types round values and reject out-of-range ones. */
  datatype?: NiftiWriteDatatype;
  /** Gzip the file (default: false for encodeNifti; for writeNifti, true when the path ends in .gz). */
  gzip?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Datatypes

type NumberArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
type BigIntArray = BigInt64Array | BigUint64Array;

/** A voxel type drrkit can read: its name, size and a typed-array view over aligned bytes. */
interface ReadableDatatype {
  readonly name: string;
  readonly bytesPerVoxel: number;
  readonly view: (buffer: ArrayBuffer) => NumberArray | BigIntArray;
}

/** NIfTI datatype codes that drrkit reads, converted to float32. */
const READABLE_DATATYPES: ReadonlyMap<number, ReadableDatatype> = new Map<number, ReadableDatatype>([
  [2, { name: 'uint8', bytesPerVoxel: 1, view: (buffer) => new Uint8Array(buffer) }],
  [256, { name: 'int8', bytesPerVoxel: 1, view: (buffer) => new Int8Array(buffer) }],
  [4, { name: 'int16', bytesPerVoxel: 2, view: (buffer) => new Int16Array(buffer) }],
  [512, { name: 'uint16', bytesPerVoxel: 2, view: (buffer) => new Uint16Array(buffer) }],
  [8, { name: 'int32', bytesPerVoxel: 4, view: (buffer) => new Int32Array(buffer) }],
  [768, { name: 'uint32', bytesPerVoxel: 4, view: (buffer) => new Uint32Array(buffer) }],
  [16, { name: 'float32', bytesPerVoxel: 4, view: (buffer) => new Float32Array(buffer) }],
  [64, { name: 'float64', bytesPerVoxel: 8, view: (buffer) => new Float64Array(buffer) }],
  [1024, { name: 'int64', bytesPerVoxel: 8, view: (buffer) => new BigInt64Array(buffer) }],
  [1280, { name: 'uint64', bytesPerVoxel: 8, view: (buffer) => new BigUint64Array(buffer) }],
]);

/** NIfTI datatype codes that exist in the standard but are not scalar real voxels. */
const UNSUPPORTED_DATATYPES: ReadonlyMap<number, string> = new Map([
  [1, 'binary (1 bit per voxel)'],
  [32, 'complex64'],
  [128, 'RGB24'],
  [1536, 'float128'],
  [1792, 'complex128'],
  [2048, 'complex256'],
  [2304, 'RGBA32'],
]);

/** Datatype code, bits per voxel and value range of each writable type. */
const WRITABLE_DATATYPES: Readonly<Record<NiftiWriteDatatype, { code: number; bitsPerVoxel: number; min: number; max: number }>> = {
  float32: { code: 16, bitsPerVoxel: 32, min: -Infinity, max: Infinity },
  int16: { code: 4, bitsPerVoxel: 16, min: -32768, max: 32767 },
  uint8: { code: 2, bitsPerVoxel: 8, min: 0, max: 255 },
};

const PLATFORM_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Header

const NIFTI1_HEADER_SIZE = 348;
const NIFTI2_HEADER_SIZE = 540;
const NIFTI1_MAGIC_OFFSET = 344;
const NIFTI2_MAGIC_OFFSET = 4;

/** The header fields drrkit uses, independent of the NIfTI version. */
interface NiftiHeader {
  readonly version: 1 | 2;
  readonly littleEndian: boolean;
  /** dim[0..7]: dim[0] is the number of dimensions. */
  readonly dims: readonly number[];
  readonly datatypeCode: number;
  /** pixdim[0..7]: pixdim[0] is qfac. */
  readonly pixdim: readonly number[];
  readonly voxOffset: number;
  readonly sclSlope: number;
  readonly sclInter: number;
  readonly xyztUnits: number;
  readonly qformCode: number;
  readonly sformCode: number;
  readonly quaternion: readonly [number, number, number];
  readonly qoffset: readonly [number, number, number];
  /** srow_x, srow_y, srow_z: the top three rows of the sform, 12 numbers. */
  readonly srow: readonly number[];
}

/** Throws a DrrkitError whose message starts with the file name. */
function fail(source: string, problem: string): never {
  throw new DrrkitError(`${source}: ${problem}`, source);
}

/** Reads `length` bytes at `offset` as text, showing non-printable bytes as \xNN. */
function describeBytes(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let index = offset; index < Math.min(offset + length, bytes.length); index++) {
    const byte = bytes[index];
    text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/** True when `bytes` at `offset` equal `expected`. */
function bytesEqual(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  return expected.every((value, index) => bytes[offset + index] === value);
}

/** A copy of bytes [start, end) in a fresh, aligned ArrayBuffer. */
function copyToArrayBuffer(bytes: Uint8Array, start: number, end: number): ArrayBuffer {
  const copy = new Uint8Array(end - start);
  copy.set(bytes.subarray(start, end));
  return copy.buffer;
}

/** Checks the header size and magic number; returns the NIfTI version and byte order. */
function identifyHeader(bytes: Uint8Array, source: string): { version: 1 | 2; littleEndian: boolean } {
  if (bytes.length < 4) fail(source, `not a NIfTI file: only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLittle = view.getInt32(0, true);
  const sizeBig = view.getInt32(0, false);
  let version: 1 | 2;
  let littleEndian: boolean;
  if (sizeLittle === NIFTI1_HEADER_SIZE || sizeBig === NIFTI1_HEADER_SIZE) {
    version = 1;
    littleEndian = sizeLittle === NIFTI1_HEADER_SIZE;
  } else if (sizeLittle === NIFTI2_HEADER_SIZE || sizeBig === NIFTI2_HEADER_SIZE) {
    version = 2;
    littleEndian = sizeLittle === NIFTI2_HEADER_SIZE;
  } else {
    fail(source, `not a NIfTI file: the header-size field is ${sizeLittle} (NIfTI-1 says 348, NIfTI-2 says 540)`);
  }
  const headerSize = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  if (bytes.length < headerSize) {
    fail(source, `truncated: ${bytes.length} bytes, shorter than the ${headerSize}-byte NIfTI-${version} header`);
  }
  if (version === 1) {
    if (bytesEqual(bytes, NIFTI1_MAGIC_OFFSET, NIFTI1.MAGIC_NUMBER2)) {
      fail(source, 'is the header of a .hdr/.img pair (magic "ni1"); drrkit reads single-file .nii or .nii.gz only');
    }
    if (!bytesEqual(bytes, NIFTI1_MAGIC_OFFSET, [...NIFTI1.MAGIC_NUMBER, 0])) {
      fail(source, `not a NIfTI-1 file: wrong magic number "${describeBytes(bytes, NIFTI1_MAGIC_OFFSET, 4)}" at byte 344 (expected "n+1\\x00")`);
    }
  } else {
    if (bytesEqual(bytes, NIFTI2_MAGIC_OFFSET, NIFTI2.MAGIC_NUMBER2.slice(0, 3))) {
      fail(source, 'is the header of a .hdr/.img pair (magic "ni2"); drrkit reads single-file .nii or .nii.gz only');
    }
    if (!bytesEqual(bytes, NIFTI2_MAGIC_OFFSET, NIFTI2.MAGIC_NUMBER)) {
      fail(source, `not a NIfTI-2 file: wrong magic number "${describeBytes(bytes, NIFTI2_MAGIC_OFFSET, 8)}" at byte 4 (expected "n+2\\x00\\r\\n\\x1a\\n")`);
    }
  }
  return { version, littleEndian };
}

/** Parses the header at the start of (decompressed) `bytes`. */
function parseHeader(bytes: Uint8Array, source: string): NiftiHeader {
  const { version, littleEndian } = identifyHeader(bytes, source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Only the fixed-size header goes to nifti-reader-js, so that it never parses extensions.
  const headerSize = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  const header = version === 1 ? new NIFTI1() : new NIFTI2();
  try {
    header.readHeader(copyToArrayBuffer(bytes, 0, headerSize));
  } catch (error) {
    fail(source, `unreadable NIfTI-${version} header (${error instanceof Error ? error.message : String(error)})`);
  }
  if (header.littleEndian !== littleEndian) fail(source, 'unreadable NIfTI header: inconsistent byte order');

  let dims: number[];
  let voxOffset: number;
  const srow: number[] = [];
  if (version === 1) {
    dims = header.dims.slice(0, 8);
    voxOffset = Math.trunc(header.vox_offset);
    for (let index = 0; index < 12; index++) srow.push(view.getFloat32(280 + 4 * index, littleEndian));
  } else {
    // 64-bit integers are read here: nifti-reader-js 0.8 mixes up their halves in big-endian files.
    const readInt64 = (offset: number): number => Number(view.getBigInt64(offset, littleEndian));
    dims = Array.from({ length: 8 }, (_, index) => readInt64(16 + 8 * index));
    voxOffset = readInt64(168);
    for (let index = 0; index < 12; index++) srow.push(view.getFloat64(400 + 8 * index, littleEndian));
  }
  return {
    version,
    littleEndian,
    dims,
    datatypeCode: header.datatypeCode,
    pixdim: header.pixDims.slice(0, 8),
    voxOffset,
    sclSlope: header.scl_slope,
    sclInter: header.scl_inter,
    xyztUnits: header.xyzt_units,
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    quaternion: [header.quatern_b, header.quatern_c, header.quatern_d],
    qoffset: [header.qoffset_x, header.qoffset_y, header.qoffset_z],
    srow,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** True when `bytes` start with the gzip magic number 1f 8b. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses a (possibly multi-member) gzip stream up to `maxBytes` of output (the rest is never inflated). */
function gunzip(bytes: Uint8Array, source: string, maxBytes: number): Uint8Array {
  return inflate(bytes, source, 'gzip', { maxBytes, beyond: 'stop' });
}

/** Grid size (nx, ny, nz); rejects zero dimensions and more than one volume. */
function readShape(header: NiftiHeader, source: string): [number, number, number] {
  const rank = header.dims[0];
  if (!Number.isInteger(rank) || rank < 1 || rank > 7) {
    fail(source, `invalid header: dim[0] (the number of dimensions) is ${rank}; it must be 1 to 7`);
  }
  for (let axis = 1; axis <= rank; axis++) {
    const size = header.dims[axis];
    if (!(size >= 1)) fail(source, `dimension dim[${axis}] is ${size}; every dimension must be at least 1`);
  }
  const size = (axis: number): number => (axis <= rank ? header.dims[axis] : 1);
  let volumes = 1;
  for (let axis = 4; axis <= 7; axis++) volumes *= size(axis);
  if (volumes > 1) {
    const extra = header.dims.slice(4, rank + 1).join('×');
    fail(source, `holds ${volumes} volumes (dim[4..${rank}] = ${extra}); drrkit reads a single 3-D volume (dim[4] = 1)`);
  }
  return [size(1), size(2), size(3)];
}

/** Factor from the file's spatial unit (xyzt_units) to millimetres. */
function spatialUnitToMillimetres(xyztUnits: number): number {
  switch (xyztUnits & 0x07) {
    case 1:
      return 1000; // metres
    case 3:
      return 0.001; // micrometres
    default:
      return 1; // millimetres, or unknown (taken as millimetres)
  }
}

/** Voxel spacing in mm: |pixdim[1..3]|; axes beyond dim[0] without a valid pixdim get 1. */
function readSpacing(header: NiftiHeader, source: string, unitScale: number): [number, number, number] {
  const spacing: number[] = [];
  for (let axis = 1; axis <= 3; axis++) {
    const value = Math.abs(header.pixdim[axis]);
    if (Number.isFinite(value) && value > 0) {
      spacing.push(value * unitScale);
    } else if (axis > header.dims[0]) {
      spacing.push(1);
    } else {
      fail(source, `voxel spacing pixdim[${axis}] is ${header.pixdim[axis]}; spacing must be a finite number greater than zero`);
    }
  }
  return [spacing[0], spacing[1], spacing[2]];
}

/**
 * The voxel → world matrix from a qform (NIfTI standard, method 2): rotation from the unit
 * quaternion (b, c, d), scaled by the spacing, the k column flipped when qfac = pixdim[0] < 0.
 */
function qformToAffine(
  quaternion: readonly [number, number, number],
  offset: readonly [number, number, number],
  spacing: readonly [number, number, number],
  qfac: number,
): Float64Array {
  let [b, c, d] = quaternion;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Numerically a 180° rotation: renormalise (b, c, d), as nifti1_io.c does.
    const norm = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= norm;
    c *= norm;
    d *= norm;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const [dx, dy] = spacing;
  const dz = qfac < 0 ? -spacing[2] : spacing[2];
  return Float64Array.from([
    (a * a + b * b - c * c - d * d) * dx, 2 * (b * c - a * d) * dy, 2 * (b * d + a * c) * dz, offset[0],
    2 * (b * c + a * d) * dx, (a * a + c * c - b * b - d * d) * dy, 2 * (c * d - a * b) * dz, offset[1],
    2 * (b * d - a * c) * dx, 2 * (c * d + a * b) * dy, (a * a + d * d - c * c - b * b) * dz, offset[2],
    0, 0, 0, 1,
  ]);
}

/** The affine: sform if sform_code > 0, else qform if qform_code > 0, else diag(spacing). */
function readAffine(header: NiftiHeader, spacing: [number, number, number], unitScale: number, source: string): Float64Array {
  let affine: Float64Array;
  let origin: string;
  if (header.sformCode > 0) {
    affine = Float64Array.from([...header.srow.map((value) => value * unitScale), 0, 0, 0, 1]);
    origin = 'sform (srow_x/y/z)';
  } else if (header.qformCode > 0) {
    const offset = header.qoffset.map((value) => value * unitScale) as [number, number, number];
    affine = qformToAffine(header.quaternion, offset, spacing, header.pixdim[0]);
    origin = 'qform (quatern_b/c/d, qoffset_x/y/z)';
  } else {
    return diagonalAffine(spacing);
  }
  if (!affine.every(Number.isFinite)) fail(source, `the ${origin} holds values that are not finite numbers`);
  return affine;
}

/** Reads `count` voxels of `datatype` at `offset`, byte-swapping if needed, scaled, as float32. */
function convertVoxels(
  bytes: Uint8Array,
  offset: number,
  count: number,
  datatype: ReadableDatatype,
  littleEndian: boolean,
  slope: number,
  intercept: number,
): Float32Array {
  const byteCount = count * datatype.bytesPerVoxel;
  const buffer = copyToArrayBuffer(bytes, offset, offset + byteCount);
  if (littleEndian !== PLATFORM_IS_LITTLE_ENDIAN && datatype.bytesPerVoxel > 1) {
    swapByteOrder(new Uint8Array(buffer), datatype.bytesPerVoxel);
  }
  const raw = datatype.view(buffer);
  const output = new Float32Array(count);
  const scaled = slope !== 1 || intercept !== 0;
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    for (let index = 0; index < count; index++) output[index] = Number(raw[index]) * slope + intercept;
  } else if (scaled) {
    for (let index = 0; index < count; index++) output[index] = raw[index] * slope + intercept;
  } else {
    output.set(raw);
  }
  return output;
}

/** Reverses the byte order of every `width`-byte element of `bytes`, in place. */
function swapByteOrder(bytes: Uint8Array, width: number): void {
  for (let start = 0; start < bytes.length; start += width) {
    for (let low = start, high = start + width - 1; low < high; low++, high--) {
      const byte = bytes[low];
      bytes[low] = bytes[high];
      bytes[high] = byte;
    }
  }
}

/**
 * Parses a NIfTI-1 or NIfTI-2 file (`.nii`, or gzipped `.nii.gz`, recognised by its magic bytes)
 * held in memory into a float32 Volume. `source` names the file in messages and in the volume.
 * scl_slope/scl_inter are applied (a slope of 0 or NaN means no scaling). Throws a DrrkitError
 * that starts with `source` for anything malformed, truncated or unsupported.
 */
export function parseNifti(bytes: Uint8Array | ArrayBuffer, source: string): Volume {
  let fileBytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let header: NiftiHeader;
  if (isGzip(fileBytes)) {
    // Inflate the header first, then only as many bytes as the header's dimensions need: a small
    // file whose stream holds gigabytes is never inflated past what the volume uses.
    const compressed = fileBytes;
    header = parseHeader(gunzip(compressed, source, NIFTI2_HEADER_SIZE + 4), source);
    const datatypeBytes = READABLE_DATATYPES.get(header.datatypeCode)?.bytesPerVoxel ?? 0;
    const shapeForLimit = readShape(header, source);
    checkVoxelCount(shapeForLimit, source, (message) => fail(source, message.slice(source.length + 2)));
    const expected = Math.max(header.voxOffset, 0) + shapeForLimit[0] * shapeForLimit[1] * shapeForLimit[2] * datatypeBytes;
    fileBytes = gunzip(compressed, source, Number.isFinite(expected) ? Math.max(expected, NIFTI2_HEADER_SIZE + 4) : NIFTI2_HEADER_SIZE + 4);
  } else {
    header = parseHeader(fileBytes, source);
  }

  const datatype = READABLE_DATATYPES.get(header.datatypeCode);
  if (!datatype) {
    const unsupported = UNSUPPORTED_DATATYPES.get(header.datatypeCode);
    if (unsupported) {
      fail(source, `datatype ${header.datatypeCode} (${unsupported}) is not supported; drrkit reads scalar integer or float voxels`);
    }
    fail(source, `unknown datatype code ${header.datatypeCode} in the NIfTI header`);
  }

  const shape = readShape(header, source);
  checkVoxelCount(shape, source, (message) => fail(source, message.slice(source.length + 2)));
  const unitScale = spatialUnitToMillimetres(header.xyztUnits);
  const spacing = readSpacing(header, source, unitScale);
  const affine = readAffine(header, spacing, unitScale, source);

  const headerSize = header.version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  if (!Number.isFinite(header.voxOffset) || header.voxOffset < headerSize) {
    fail(source, `invalid header: vox_offset is ${header.voxOffset}, inside the ${headerSize}-byte header`);
  }
  const voxelCount = shape[0] * shape[1] * shape[2];
  const byteCount = voxelCount * datatype.bytesPerVoxel;
  const available = Math.max(0, fileBytes.length - header.voxOffset);
  if (available < byteCount) {
    fail(
      source,
      `truncated: its ${shape.join('×')} ${datatype.name} voxels need ${byteCount} bytes from byte ${header.voxOffset}, but only ${available} follow`,
    );
  }

  const scalingOn = Number.isFinite(header.sclSlope) && header.sclSlope !== 0;
  const slope = scalingOn ? header.sclSlope : 1;
  const intercept = scalingOn && Number.isFinite(header.sclInter) ? header.sclInter : 0;
  const data = convertVoxels(fileBytes, header.voxOffset, voxelCount, datatype, header.littleEndian, slope, intercept);
  return createVolume({ data, shape, spacing, affine, source });
}

/** Reads a NIfTI-1/NIfTI-2 `.nii` or `.nii.gz` file; see {@link parseNifti}. */
export async function readNifti(path: string): Promise<Volume> {
  const { readFileBytes } = await import('./files.js');
  const bytes = await readFileBytes(path, 'NIfTI file');
  return parseNifti(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A unit quaternion (b, c, d), qfac and offset equivalent to the affine, or null if it has shear. */
function affineToQform(
  affine: Float64Array,
  spacing: readonly [number, number, number],
): { quaternion: [number, number, number]; qfac: number } | null {
  const columns: number[][] = [];
  for (let column = 0; column < 3; column++) {
    const vector = [affine[column], affine[4 + column], affine[8 + column]];
    const length = Math.hypot(vector[0], vector[1], vector[2]);
    if (!(Math.abs(length - spacing[column]) <= 1e-4 * spacing[column])) return null;
    columns.push(vector.map((value) => value / length));
  }
  for (let first = 0; first < 3; first++) {
    for (let second = first + 1; second < 3; second++) {
      const dot = columns[first][0] * columns[second][0] + columns[first][1] * columns[second][1] + columns[first][2] * columns[second][2];
      if (Math.abs(dot) > 1e-4) return null;
    }
  }
  // r[row][column]; a negative determinant becomes qfac = -1 with the k column flipped.
  const r = [0, 1, 2].map((row) => [columns[0][row], columns[1][row], columns[2][row]]);
  const determinant =
    r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
    r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
    r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  const qfac = determinant < 0 ? -1 : 1;
  if (qfac < 0) for (let row = 0; row < 3; row++) r[row][2] = -r[row][2];

  // Rotation matrix → quaternion, as nifti_mat44_to_quatern in nifti1_io.c.
  let a = r[0][0] + r[1][1] + r[2][2] + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r[2][1] - r[1][2])) / a;
    c = (0.25 * (r[0][2] - r[2][0])) / a;
    d = (0.25 * (r[1][0] - r[0][1])) / a;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
      a = (0.25 * (r[2][1] - r[1][2])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
      a = (0.25 * (r[0][2] - r[2][0])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
      a = (0.25 * (r[1][0] - r[0][1])) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quaternion: [b, c, d], qfac };
}

/** Voxel values converted to the on-disk type (integers rounded; out-of-range values rejected). */
function encodeVoxels(volume: Volume, datatype: NiftiWriteDatatype): Uint8Array {
  const { data, source } = volume;
  if (datatype === 'float32') {
    const copy = new Float32Array(data);
    if (!PLATFORM_IS_LITTLE_ENDIAN) swapByteOrder(new Uint8Array(copy.buffer), 4);
    return new Uint8Array(copy.buffer);
  }
  const { min, max } = WRITABLE_DATATYPES[datatype];
  const values = datatype === 'int16' ? new Int16Array(data.length) : new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) {
    const value = Math.round(data[index]);
    if (!(value >= min && value <= max)) {
      throw new DrrkitError(
        `${source}: voxel ${index} is ${data[index]}, which does not fit ${datatype} (${min} to ${max}); write float32 instead`,
        source,
      );
    }
    values[index] = value;
  }
  if (!PLATFORM_IS_LITTLE_ENDIAN && datatype === 'int16') swapByteOrder(new Uint8Array(values.buffer), 2);
  return new Uint8Array(values.buffer);
}

/**
 * Encodes a volume as a little-endian NIfTI-1 file (gzipped if `options.gzip`): data at byte 352,
 * sform = the volume's affine (sform_code 1), qform from the affine when it has no shear,
 * pixdim = the spacing, units mm, scl_slope 1. Integer datatypes round the values and throw a
 * DrrkitError if one does not fit.
 */
export function encodeNifti(volume: Volume, options: NiftiWriteOptions = {}): Uint8Array {
  validateVolume(volume);
  const datatype = options.datatype ?? 'float32';
  const type = WRITABLE_DATATYPES[datatype];
  if (!type) throw new DrrkitError(`NIfTI datatype "${String(datatype)}" is not one drrkit writes (float32, int16, uint8)`);
  const { shape, spacing, affine } = volume;
  if (shape.some((size) => size > 32767)) {
    throw new DrrkitError(`${volume.source}: dimensions ${shape.join('×')} exceed the NIfTI-1 limit of 32767 per axis`, volume.source);
  }
  const voxels = encodeVoxels(volume, datatype);
  const voxOffset = NIFTI1_HEADER_SIZE + 4;
  const file = new Uint8Array(voxOffset + voxels.length);
  const view = new DataView(file.buffer);
  const qform = affineToQform(affine, spacing);

  view.setInt32(0, NIFTI1_HEADER_SIZE, true); // sizeof_hdr
  const dims = [3, shape[0], shape[1], shape[2], 1, 1, 1, 1];
  dims.forEach((value, index) => view.setInt16(40 + 2 * index, value, true));
  view.setInt16(70, type.code, true); // datatype
  view.setInt16(72, type.bitsPerVoxel, true); // bitpix
  const pixdim = [qform?.qfac ?? 1, spacing[0], spacing[1], spacing[2], 1, 1, 1, 1];
  pixdim.forEach((value, index) => view.setFloat32(76 + 4 * index, value, true));
  view.setFloat32(108, voxOffset, true); // vox_offset
  view.setFloat32(112, 1, true); // scl_slope
  view.setFloat32(116, 0, true); // scl_inter
  view.setUint8(123, 2); // xyzt_units: millimetres
  const description = 'drrkit';
  for (let index = 0; index < description.length; index++) view.setUint8(148 + index, description.charCodeAt(index));
  if (qform) {
    view.setInt16(252, 1, true); // qform_code: scanner anatomical
    qform.quaternion.forEach((value, index) => view.setFloat32(256 + 4 * index, value, true));
    [affine[3], affine[7], affine[11]].forEach((value, index) => view.setFloat32(268 + 4 * index, value, true));
  }
  view.setInt16(254, 1, true); // sform_code: scanner anatomical
  for (let index = 0; index < 12; index++) view.setFloat32(280 + 4 * index, affine[index], true);
  file.set([...NIFTI1.MAGIC_NUMBER, 0], NIFTI1_MAGIC_OFFSET); // "n+1\0"
  file.set(voxels, voxOffset);
  return options.gzip ? gzipSync(file) : file;
}

/**
 * Writes a volume to a `.nii` or `.nii.gz` file (gzipped when the name ends in .gz unless
 * `options.gzip` says otherwise), atomically; see {@link encodeNifti}.
 */
export async function writeNifti(path: string, volume: Volume, options: NiftiWriteOptions = {}): Promise<void> {
  const lower = path.toLowerCase();
  if (!lower.endsWith('.nii') && !lower.endsWith('.nii.gz')) {
    throw new DrrkitError(`${path}: a NIfTI file name must end in .nii or .nii.gz`, path);
  }
  const bytes = encodeNifti(volume, { ...options, gzip: options.gzip ?? lower.endsWith('.gz') });
  const { writeFileAtomic } = await import('./files.js');
  await writeFileAtomic(path, bytes);
}
