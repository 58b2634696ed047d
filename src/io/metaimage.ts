/**
 * MetaImage volumes (`.mha` with attached data, `.mhd` with a separate raw file), ITK's format.
 * Hand-written: a text header of "Key = Value" lines followed by raw or zlib-compressed data.
 *
 * Geometry as ITK reads it: `ElementSpacing` (or `ElementSize`), `Offset` (or `Origin`,
 * `Position`) and `TransformMatrix` (or `Rotation`, `Orientation`) whose consecutive triples are
 * the directions of voxel axes 0, 1, 2, all in LPS; drrkit converts the affine to RAS (see
 * src/geometry/world-frame.ts). `AnatomicalOrientation` is a label only and is ignored, as in ITK.
 * Supported: NDims 3, every MET_ scalar type, `CompressedData` (zlib), either byte order,
 * `HeaderSize` (−1 included). Refused: several channels per voxel, file lists and patterns.
 */
import { DrrkitError, quoteValue } from '../errors.js';
import { lpsToRasAffine } from '../geometry/world-frame.js';
import { createVolume, type Volume } from '../volume/volume.js';
import { checkVoxelCount } from './limits.js';
import { decodeSamples, inflate, latin1, parseNumbers, SAMPLE_BYTES, type SampleType } from './raw-voxels.js';

/** MetaImage element types → sample types. */
const MET_TYPES: Readonly<Record<string, SampleType>> = {
  MET_CHAR: 'int8', MET_UCHAR: 'uint8', MET_SHORT: 'int16', MET_USHORT: 'uint16',
  MET_INT: 'int32', MET_UINT: 'uint32', MET_LONG: 'int32', MET_ULONG: 'uint32',
  MET_LONG_LONG: 'int64', MET_ULONG_LONG: 'uint64', MET_FLOAT: 'float32', MET_DOUBLE: 'float64',
};

/** The parsed header: keys as written (case kept), and where attached data starts. */
export interface MetaImageHeader {
  /** Key → value. */
  readonly fields: ReadonlyMap<string, string>;
  /** Byte offset just after the `ElementDataFile` line. */
  readonly dataOffset: number;
}

/** Splits the header; the `ElementDataFile` line ends it. Throws a DrrkitError naming `source` if it is not MetaImage. */
export function parseMetaImageHeader(bytes: Uint8Array, source: string): MetaImageHeader {
  const fields = new Map<string, string>();
  let position = 0;
  const limit = Math.min(bytes.length, 1 << 20);
  while (position < limit) {
    let end = bytes.indexOf(0x0a, position);
    if (end < 0) end = bytes.length;
    const line = latin1(bytes.subarray(position, end)).replace(/\r$/, '');
    position = end + 1;
    if (line.trim() === '') continue;
    const equals = line.indexOf('=');
    if (equals < 0) throw new DrrkitError(`${source}: not a MetaImage header: the line "${line.slice(0, 60).replace(/[^\x20-\x7e]/g, '?')}" is not "Key = Value"`, source);
    const key = line.slice(0, equals).trim();
    fields.set(key, line.slice(equals + 1).trim());
    if (key === 'ElementDataFile') return { fields, dataOffset: Math.min(position, bytes.length) };
  }
  if (fields.size === 0) throw new DrrkitError(`${source}: not a MetaImage file (empty header)`, source);
  throw new DrrkitError(`${source}: the MetaImage header lacks the ElementDataFile line (truncated header?)`, source);
}

/** The first field present among `names`. */
function field(fields: ReadonlyMap<string, string>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = fields.get(name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** True for MetaImage's "True"/"1". */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|1)$/i.test(value);
}

/**
 * Parses a MetaImage held in memory. For `.mhd`, `readDetached` returns the bytes of the named
 * data file. Throws a DrrkitError naming `source` for anything malformed, truncated or unsupported.
 */
export function parseMetaImage(bytes: Uint8Array, source: string, readDetached?: (name: string) => Uint8Array): Volume {
  const { fields, dataOffset } = parseMetaImageHeader(bytes, source);
  const objectType = fields.get('ObjectType');
  if (objectType !== undefined && objectType.toLowerCase() !== 'image') {
    throw new DrrkitError(`${source}: MetaImage ObjectType "${quoteValue(objectType)}" is not an image`, source);
  }
  const dimensionText = fields.get('NDims');
  if (dimensionText === undefined) throw new DrrkitError(`${source}: the MetaImage header lacks NDims`, source);
  const dimension = Number(dimensionText);
  const sizeText = fields.get('DimSize');
  if (sizeText === undefined) throw new DrrkitError(`${source}: the MetaImage header lacks DimSize`, source);
  const sizes = parseNumbers(sizeText, 'DimSize', source);
  if (sizes.length !== dimension) {
    throw new DrrkitError(`${source}: inconsistent header: DimSize lists ${sizes.length} numbers but NDims is ${dimension}`, source);
  }
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new DrrkitError(`${source}: every DimSize must be a whole number ≥ 1, got ${quoteValue(sizeText)}`, source);
  if (dimension !== 3) throw new DrrkitError(`${source}: a ${quoteValue(dimensionText)}-D MetaImage; drrkit reads 3-D volumes (NDims = 3)`, source);
  const channels = Number(fields.get('ElementNumberOfChannels') ?? 1);
  if (channels !== 1) throw new DrrkitError(`${source}: ${quoteValue(String(fields.get('ElementNumberOfChannels')))} channels per voxel; drrkit reads one scalar per voxel`, source);
  const typeName = fields.get('ElementType');
  if (typeName === undefined) throw new DrrkitError(`${source}: the MetaImage header lacks ElementType`, source);
  const type = MET_TYPES[typeName.toUpperCase()];
  if (!type) throw new DrrkitError(`${source}: unsupported MetaImage ElementType "${quoteValue(typeName)}"`, source);
  const shape: [number, number, number] = [sizes[0], sizes[1], sizes[2]];
  checkVoxelCount(shape, source, (message) => { throw new DrrkitError(message, source); });

  const spacingText = field(fields, 'ElementSpacing', 'ElementSize');
  const spacing = spacingText ? parseNumbers(spacingText, 'ElementSpacing', source, 3) : [1, 1, 1];
  if (spacing.some((value) => !(value > 0))) throw new DrrkitError(`${source}: voxel spacing ${spacing.join(' ')}; spacing must be greater than zero`, source);
  const offsetText = field(fields, 'Offset', 'Origin', 'Position');
  const offset = offsetText ? parseNumbers(offsetText, 'Offset', source, 3) : [0, 0, 0];
  const matrixText = field(fields, 'TransformMatrix', 'Rotation', 'Orientation');
  const matrix = matrixText ? parseNumbers(matrixText, 'TransformMatrix', source, 9) : [1, 0, 0, 0, 1, 0, 0, 0, 1];
  // Triple k is the LPS direction of voxel axis k: affine column k = matrix[3k..3k+2]·spacing[k].
  const lps = new Float64Array(16);
  for (let axis = 0; axis < 3; axis++) {
    for (let row = 0; row < 3; row++) lps[4 * row + axis] = matrix[3 * axis + row] * spacing[axis];
  }
  lps[3] = offset[0]; lps[7] = offset[1]; lps[11] = offset[2]; lps[15] = 1;
  const affine = lpsToRasAffine(lps);

  const littleEndian = !isTrue(field(fields, 'BinaryDataByteOrderMSB', 'ElementByteOrderMSB'));
  const compressed = isTrue(fields.get('CompressedData'));
  const dataFile = fields.get('ElementDataFile')!;
  let data: Uint8Array;
  let dataName = source;
  if (dataFile.toUpperCase() === 'LOCAL') {
    data = bytes.subarray(dataOffset);
  } else {
    if (/^LIST/i.test(dataFile) || /%/.test(dataFile) || dataFile.split(/\s+/).length > 1) {
      throw new DrrkitError(`${source}: multi-file MetaImage data ("ElementDataFile = ${quoteValue(dataFile)}") is not supported; save it as one .mha`, source);
    }
    if (!readDetached) throw new DrrkitError(`${source}: the data lives in a separate file "${quoteValue(dataFile)}" that cannot be read here`, source);
    data = readDetached(dataFile);
    dataName = `${source} (data file ${quoteValue(dataFile)})`;
  }
  const count = shape[0] * shape[1] * shape[2];
  const needed = count * SAMPLE_BYTES[type];
  const headerSize = Number(fields.get('HeaderSize') ?? 0);
  if (compressed) {
    data = inflate(data, dataName, 'zlib', { maxBytes: needed, describe: `${shape.join('×')} ${type} voxels` });
  } else if (headerSize === -1) {
    data = data.subarray(Math.max(0, data.length - needed));
  } else if (headerSize > 0) {
    data = data.subarray(headerSize);
  }
  if (data.length > needed && headerSize !== -1) {
    throw new DrrkitError(`${dataName}: inconsistent dimensions: the data holds ${data.length} bytes but ${shape.join('×')} ${type} voxels need ${needed}`, source);
  }
  const voxels = decodeSamples(data, 0, count, type, littleEndian, dataName);
  return createVolume({ data: voxels, shape, spacing: [spacing[0], spacing[1], spacing[2]], affine, source });
}

/** Reads a `.mha` or `.mhd` file (a separate data file is read from the header's folder; `allowExternalData` lets it lie elsewhere). */
export async function readMetaImage(path: string, options: { allowExternalData?: boolean } = {}): Promise<Volume> {
  const { readDetachedFile, readFileBytes } = await import('./files.js');
  const bytes = await readFileBytes(path, 'MetaImage file');
  return parseMetaImage(bytes, path, (name) => readDetachedFile(path, name, { allowOutsideFolder: options.allowExternalData }));
}
