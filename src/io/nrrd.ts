/**
 * NRRD volumes (`.nrrd` with attached data, `.nhdr` with a detached data file), as written by
 * 3D Slicer, ITK and teem. A small hand-written reader: the format is a text header plus raw,
 * gzip or ASCII data, and no maintained npm package covers it better.
 *
 * Supported: dimension 3 (or 4 with a last axis of size 1), every scalar type, encodings raw,
 * gzip and ascii, either endianness, `space directions` / `space origin` in any of the three
 * anatomical spaces (RAS, LAS, LPS; `scanner-xyz` and `3D-right-handed` are read as LPS, as ITK
 * does), or `spacings` alone (an axis-aligned LPS grid at the origin). `byte skip` (−1 included)
 * and `line skip` are honoured. Refused with a clear message: bzip2 and hex encodings, `block`
 * data, vector/list axes, multi-file data (`data file: LIST` or a pattern).
 * The affine is converted to drrkit's RAS convention (see src/geometry/world-frame.ts).
 */
import { DrrkitError, quoteValue } from '../errors.js';
import { lpsToRasAffine } from '../geometry/world-frame.js';
import { createVolume, type Volume } from '../volume/volume.js';
import { checkVoxelCount } from './limits.js';
import { decodeSamples, endOfTextHeader, inflate, latin1, parseNumbers, SAMPLE_BYTES, type SampleType } from './raw-voxels.js';

/** NRRD type names → sample types. */
const NRRD_TYPES: Readonly<Record<string, SampleType>> = {
  'signed char': 'int8', int8: 'int8', int8_t: 'int8',
  uchar: 'uint8', 'unsigned char': 'uint8', uint8: 'uint8', uint8_t: 'uint8',
  short: 'int16', 'short int': 'int16', 'signed short': 'int16', 'signed short int': 'int16', int16: 'int16', int16_t: 'int16',
  ushort: 'uint16', 'unsigned short': 'uint16', 'unsigned short int': 'uint16', uint16: 'uint16', uint16_t: 'uint16',
  int: 'int32', 'signed int': 'int32', int32: 'int32', int32_t: 'int32',
  uint: 'uint32', 'unsigned int': 'uint32', uint32: 'uint32', uint32_t: 'uint32',
  longlong: 'int64', 'long long': 'int64', 'long long int': 'int64', 'signed long long': 'int64', 'signed long long int': 'int64', int64: 'int64', int64_t: 'int64',
  ulonglong: 'uint64', 'unsigned long long': 'uint64', 'unsigned long long int': 'uint64', uint64: 'uint64', uint64_t: 'uint64',
  float: 'float32', double: 'float64',
};

/** The parsed header of an NRRD file. */
export interface NrrdHeader {
  /** Field name (lower case) → value, as written. */
  readonly fields: ReadonlyMap<string, string>;
  /** Byte offset where attached data starts (after the blank line), or the header length for .nhdr. */
  readonly dataOffset: number;
}

/** Splits the text header into fields; throws a DrrkitError naming `source` if it is not NRRD. */
export function parseNrrdHeader(bytes: Uint8Array, source: string): NrrdHeader {
  const magic = latin1(bytes.subarray(0, 8));
  if (!/^NRRD000\d$/.test(magic)) {
    throw new DrrkitError(`${source}: not an NRRD file (it should start with "NRRD000…", found "${quoteValue(magic)}")`, source);
  }
  let end = endOfTextHeader(bytes, Math.min(bytes.length, 1 << 20));
  const headerOnly = end < 0;
  if (headerOnly) end = bytes.length;
  const text = latin1(bytes.subarray(0, end));
  const fields = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/).slice(1)) {
    const line = rawLine.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (/^[^:]*:=/.test(line)) continue; // key/value pairs carry no geometry
    const colon = line.indexOf(': ');
    if (colon < 0) throw new DrrkitError(`${source}: malformed NRRD header line "${quoteValue(line, 60)}"`, source);
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 2).trim());
  }
  return { fields, dataOffset: end };
}

/** A field that must be present. */
function required(fields: ReadonlyMap<string, string>, name: string, source: string): string {
  const value = fields.get(name);
  if (value === undefined) throw new DrrkitError(`${source}: the NRRD header lacks the required "${name}" field`, source);
  return value;
}

/** Parses "(a,b,c) (d,e,f) none …" into vectors (null for "none"). */
function parseVectors(text: string, field: string, source: string): (number[] | null)[] {
  const vectors: (number[] | null)[] = [];
  const pattern = /\(([^)]*)\)|none/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    vectors.push(match[0] === 'none' ? null : parseNumbers(match[1], field, source, 3));
  }
  return vectors;
}

/** The signs turning the NRRD space's coordinates into RAS, or null for an unknown space. */
function spaceToRas(space: string | undefined): { signs: [number, number, number]; name: string } | null {
  switch ((space ?? '').toLowerCase()) {
    case 'right-anterior-superior': case 'ras': case 'right-anterior-superior-time': case 'ras-time':
      return { signs: [1, 1, 1], name: 'RAS' };
    case 'left-anterior-superior': case 'las': case 'left-anterior-superior-time': case 'las-time':
      return { signs: [-1, 1, 1], name: 'LAS' };
    case 'left-posterior-superior': case 'lps': case 'left-posterior-superior-time': case 'lps-time':
    case 'scanner-xyz': case '3d-right-handed': case 'scanner-xyz-time': case '3d-right-handed-time':
      return { signs: [-1, -1, 1], name: 'LPS' };
    default:
      return null;
  }
}

/**
 * Parses an NRRD file held in memory. For a detached header (.nhdr) pass `readDetached`, which
 * returns the bytes of the named data file. Throws a DrrkitError naming `source` for anything
 * malformed, truncated or unsupported.
 */
export function parseNrrd(bytes: Uint8Array, source: string, readDetached?: (name: string) => Uint8Array): Volume {
  const { fields, dataOffset } = parseNrrdHeader(bytes, source);
  const typeName = required(fields, 'type', source).toLowerCase();
  if (typeName === 'block') throw new DrrkitError(`${source}: NRRD type "block" is not supported; drrkit reads scalar voxels`, source);
  const type = NRRD_TYPES[typeName];
  if (!type) throw new DrrkitError(`${source}: unknown NRRD type "${quoteValue(typeName)}"`, source);
  const dimension = Number(required(fields, 'dimension', source));
  const sizes = parseNumbers(required(fields, 'sizes', source), 'sizes', source);
  if (!Number.isInteger(dimension) || dimension < 1) throw new DrrkitError(`${source}: invalid NRRD dimension "${quoteValue(String(fields.get('dimension')))}"`, source);
  if (sizes.length !== dimension) {
    throw new DrrkitError(`${source}: inconsistent header: "sizes" lists ${sizes.length} numbers but "dimension" is ${dimension}`, source);
  }
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new DrrkitError(`${source}: every NRRD size must be a whole number ≥ 1, got ${quoteValue(sizes.join(' '))}`, source);
  }
  const kinds = (fields.get('kinds') ?? '').split(/\s+/).filter(Boolean).map((kind) => kind.toLowerCase());
  const nonSpatial = kinds.findIndex((kind) => !['domain', 'space', 'time', '???', 'none'].includes(kind));
  if (nonSpatial >= 0 && sizes[nonSpatial] > 1) {
    throw new DrrkitError(`${source}: axis ${nonSpatial} is a "${quoteValue(kinds[nonSpatial])}" axis of ${sizes[nonSpatial]} components; drrkit reads one scalar per voxel`, source);
  }
  if (dimension < 3 || (dimension > 3 && sizes.slice(3).some((size) => size > 1))) {
    throw new DrrkitError(`${source}: a ${dimension}-D NRRD of size ${sizes.join('×')}; drrkit reads 3-D volumes`, source);
  }
  const shape: [number, number, number] = [sizes[0], sizes[1], sizes[2]];
  checkVoxelCount(shape, source, (message) => { throw new DrrkitError(message, source); });

  // Geometry: space directions + origin, or spacings.
  const spaceField = fields.get('space');
  let dimensionCount = fields.get('space dimension') ? Number(fields.get('space dimension')) : 3;
  const space = spaceToRas(spaceField);
  if (spaceField !== undefined && !space) {
    throw new DrrkitError(`${source}: NRRD space "${quoteValue(spaceField)}" is not an anatomical space drrkit knows (RAS, LAS, LPS, scanner-xyz)`, source);
  }
  if (spaceField !== undefined) dimensionCount = 3;
  let linear: number[]; // row-major 3×3 in the file's space; columns are axis steps
  let origin = [0, 0, 0];
  const directionsText = fields.get('space directions');
  if (directionsText !== undefined) {
    if (dimensionCount !== 3) throw new DrrkitError(`${source}: NRRD space dimension ${dimensionCount}; drrkit needs 3`, source);
    const vectors = parseVectors(directionsText, 'space directions', source);
    if (vectors.length !== dimension) {
      throw new DrrkitError(`${source}: inconsistent header: "space directions" has ${vectors.length} entries for ${dimension} axes`, source);
    }
    const spatial = vectors.slice(0, 3);
    if (spatial.some((vector) => vector === null)) throw new DrrkitError(`${source}: one of the first three axes has space direction "none"`, source);
    linear = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    spatial.forEach((vector, axis) => {
      for (let row = 0; row < 3; row++) linear[3 * row + axis] = vector![row];
    });
    if (fields.has('space origin')) {
      const origins = parseVectors(required(fields, 'space origin', source), 'space origin', source);
      if (origins.length !== 1 || origins[0] === null) throw new DrrkitError(`${source}: malformed "space origin" field`, source);
      origin = origins[0];
    }
  } else {
    const spacingText = fields.get('spacings');
    const spacings = spacingText ? spacingText.split(/\s+/).map((value) => (value.toLowerCase() === 'nan' ? 1 : Number(value))) : [1, 1, 1];
    if (spacings.length < 3 || spacings.slice(0, 3).some((value) => !Number.isFinite(value) || value === 0)) {
      throw new DrrkitError(`${source}: the "spacings" field "${quoteValue(String(spacingText))}" needs three non-zero numbers`, source);
    }
    linear = [spacings[0], 0, 0, 0, spacings[1], 0, 0, 0, spacings[2]];
  }
  const signs = space?.signs ?? [-1, -1, 1];
  const affine = Float64Array.from([
    signs[0] * linear[0], signs[0] * linear[1], signs[0] * linear[2], signs[0] * origin[0],
    signs[1] * linear[3], signs[1] * linear[4], signs[1] * linear[5], signs[1] * origin[1],
    signs[2] * linear[6], signs[2] * linear[7], signs[2] * linear[8], signs[2] * origin[2],
    0, 0, 0, 1,
  ]);
  const spacing: [number, number, number] = [0, 1, 2].map((axis) => Math.hypot(linear[axis], linear[3 + axis], linear[6 + axis])) as [number, number, number];
  if (spacing.some((value) => !(value > 0))) throw new DrrkitError(`${source}: an NRRD axis has zero length (space directions or spacings of 0)`, source);

  // Data.
  const encoding = required(fields, 'encoding', source).toLowerCase();
  const endian = (fields.get('endian') ?? 'little').toLowerCase();
  if (endian !== 'little' && endian !== 'big') throw new DrrkitError(`${source}: unknown NRRD endian "${quoteValue(endian)}"`, source);
  if (SAMPLE_BYTES[type] > 1 && !fields.has('endian') && encoding !== 'ascii' && encoding !== 'text' && encoding !== 'txt') {
    throw new DrrkitError(`${source}: the NRRD header lacks the "endian" field needed for ${typeName} data`, source);
  }
  const dataFile = fields.get('data file') ?? fields.get('datafile');
  let data: Uint8Array;
  let dataName = source;
  if (dataFile !== undefined) {
    if (/^LIST/.test(dataFile) || /%/.test(dataFile) || dataFile.split(/\s+/).length > 1) {
      throw new DrrkitError(`${source}: multi-file NRRD data ("data file: ${quoteValue(dataFile)}") is not supported; save it as one .nrrd`, source);
    }
    if (!readDetached) throw new DrrkitError(`${source}: the data lives in a separate file "${quoteValue(dataFile)}" that cannot be read here`, source);
    data = readDetached(dataFile);
    dataName = `${source} (data file ${quoteValue(dataFile)})`;
  } else {
    if (dataOffset >= bytes.length && endOfTextHeader(bytes) < 0) {
      throw new DrrkitError(`${source}: truncated: the NRRD header never ends (no blank line before the data)`, source);
    }
    data = bytes.subarray(dataOffset);
  }
  const lineSkip = Number(fields.get('line skip') ?? fields.get('lineskip') ?? 0);
  if (!Number.isInteger(lineSkip) || lineSkip < 0) throw new DrrkitError(`${source}: "line skip" must be a whole number ≥ 0, got "${quoteValue(String(fields.get('line skip') ?? fields.get('lineskip')))}"`, source);
  for (let line = 0; line < lineSkip; line++) {
    const newline = data.indexOf(0x0a);
    if (newline < 0) throw new DrrkitError(`${dataName}: truncated: fewer lines than "line skip" ${quoteValue(String(lineSkip))}`, source);
    data = data.subarray(newline + 1);
  }
  const count = shape[0] * shape[1] * shape[2];
  const byteSkip = Number(fields.get('byte skip') ?? fields.get('byteskip') ?? 0);
  if (!Number.isInteger(byteSkip) || byteSkip < -1) throw new DrrkitError(`${source}: "byte skip" must be a whole number ≥ −1, got "${quoteValue(String(fields.get('byte skip') ?? fields.get('byteskip')))}"`, source);
  let decoded: Uint8Array;
  switch (encoding) {
    case 'raw':
      decoded = byteSkip === -1 ? data.subarray(Math.max(0, data.length - count * SAMPLE_BYTES[type])) : data.subarray(byteSkip);
      break;
    case 'gzip': case 'gz':
      decoded = inflate(data, dataName, 'gzip', { maxBytes: Math.max(0, byteSkip) + count * SAMPLE_BYTES[type], describe: `${shape.join('×')} ${type} voxels` });
      if (byteSkip > 0) decoded = decoded.subarray(byteSkip);
      break;
    case 'ascii': case 'text': case 'txt': {
      const values = latin1(data).trim().split(/[\s,]+/).filter(Boolean).map(Number);
      if (values.length < count) throw new DrrkitError(`${dataName}: truncated: ${values.length} ASCII values for ${shape.join('×')} = ${count} voxels`, source);
      if (values.some((value, index) => index < count && Number.isNaN(value))) throw new DrrkitError(`${dataName}: the ASCII data holds something that is not a number`, source);
      return createVolume({ data: Float32Array.from(values.slice(0, count)), shape, spacing, affine, source });
    }
    case 'bzip2': case 'bz2': case 'hex':
      throw new DrrkitError(`${source}: NRRD encoding "${quoteValue(encoding)}" is not supported; drrkit reads raw, gzip and ascii (re-save with gzip in Slicer)`, source);
    default:
      throw new DrrkitError(`${source}: unknown NRRD encoding "${quoteValue(encoding)}"`, source);
  }
  const voxels = decodeSamples(decoded, 0, count, type, endian === 'little', dataName);
  if (decoded.length > count * SAMPLE_BYTES[type] && byteSkip !== -1) {
    throw new DrrkitError(`${dataName}: inconsistent dimensions: the data holds ${decoded.length} bytes but ${shape.join('×')} ${type} voxels need ${count * SAMPLE_BYTES[type]}`, source);
  }
  return createVolume({ data: voxels, shape, spacing, affine, source });
}

/** Reads a `.nrrd` or `.nhdr` file (a detached data file is read from the header's folder; `allowExternalData` lets it lie elsewhere). */
export async function readNrrd(path: string, options: { allowExternalData?: boolean } = {}): Promise<Volume> {
  const { readDetachedFile, readFileBytes } = await import('./files.js');
  const bytes = await readFileBytes(path, 'NRRD file');
  return parseNrrd(bytes, path, (name) => readDetachedFile(path, name, { allowOutsideFolder: options.allowExternalData }));
}

/** The voxel → LPS affine of a volume (drrkit stores RAS): handy for writing NRRD/MetaImage/DICOM geometry. */
export function rasToLpsAffine(affine: ArrayLike<number>): Float64Array {
  return lpsToRasAffine(affine);
}
