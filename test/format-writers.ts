/**
 * Small writers for test fixtures (not part of the library): NRRD, MetaImage and a minimal
 * DICOM Part-10 writer (explicit VR little endian, optionally deflated or RLE-encapsulated, and
 * JPEG-lossless through a tiny encoder below).
 */
import { deflateSync, gzipSync, zlibSync } from 'fflate';
import type { Volume } from '../src/volume/volume.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Joins byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

/** The voxel → LPS affine of a drrkit volume (drrkit stores RAS). */
export function lpsAffine(volume: Volume): number[] {
  const a = Array.from(volume.affine);
  for (let column = 0; column < 4; column++) { a[column] = -a[column]; a[4 + column] = -a[4 + column]; }
  return a;
}

/** float32 voxels as little-endian bytes. */
function float32Bytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((value, index) => view.setFloat32(4 * index, value, true));
  return out;
}

/** An NRRD file (float, LPS space directions) with raw or gzip data; `header` overrides fields. */
export function encodeNrrd(volume: Volume, options: { encoding?: 'raw' | 'gzip' | 'ascii'; header?: Record<string, string | null>; space?: 'LPS' | 'RAS' } = {}): Uint8Array {
  const encoding = options.encoding ?? 'raw';
  const a = options.space === 'RAS' ? Array.from(volume.affine) : lpsAffine(volume);
  const vector = (column: number): string => `(${a[column]},${a[4 + column]},${a[8 + column]})`;
  const fields: Record<string, string | null> = {
    type: 'float',
    dimension: '3',
    space: options.space === 'RAS' ? 'right-anterior-superior' : 'left-posterior-superior',
    sizes: volume.shape.join(' '),
    'space directions': `${vector(0)} ${vector(1)} ${vector(2)}`,
    kinds: 'domain domain domain',
    endian: 'little',
    encoding,
    'space origin': `(${a[3]},${a[7]},${a[11]})`,
    ...options.header,
  };
  const lines = ['NRRD0004', '# written by the drrkit tests'];
  for (const [key, value] of Object.entries(fields)) if (value !== null) lines.push(`${key}: ${value}`);
  const header = text(`${lines.join('\n')}\n\n`);
  let data: Uint8Array;
  if (encoding === 'ascii') data = text(Array.from(volume.data).join(' ') + '\n');
  else data = encoding === 'gzip' ? gzipSync(float32Bytes(volume.data)) : float32Bytes(volume.data);
  return concatBytes([header, data]);
}

/** A MetaImage (.mha, LOCAL data) as ITK writes it; `header` overrides fields. */
export function encodeMetaImage(volume: Volume, options: { compressed?: boolean; header?: Record<string, string | null> } = {}): Uint8Array {
  const a = lpsAffine(volume);
  const spacing = volume.spacing;
  const transform: number[] = [];
  for (let axis = 0; axis < 3; axis++) for (let row = 0; row < 3; row++) transform.push(a[4 * row + axis] / spacing[axis]);
  const raw = float32Bytes(volume.data);
  const data = options.compressed ? zlibSync(raw) : raw;
  const fields: Record<string, string | null> = {
    ObjectType: 'Image',
    NDims: '3',
    BinaryData: 'True',
    BinaryDataByteOrderMSB: 'False',
    CompressedData: options.compressed ? 'True' : 'False',
    ...(options.compressed ? { CompressedDataSize: String(data.length) } : {}),
    TransformMatrix: transform.join(' '),
    Offset: `${a[3]} ${a[7]} ${a[11]}`,
    CenterOfRotation: '0 0 0',
    AnatomicalOrientation: 'RAI',
    ElementSpacing: spacing.join(' '),
    DimSize: volume.shape.join(' '),
    ElementType: 'MET_FLOAT',
    ...options.header,
  };
  const lines: string[] = [];
  for (const [key, value] of Object.entries(fields)) if (value !== null) lines.push(`${key} = ${value}`);
  lines.push('ElementDataFile = LOCAL');
  return concatBytes([text(`${lines.join('\n')}\n`), data]);
}

// ---------------------------------------------------------------------------------------------
// DICOM

/** One DICOM element for {@link encodeDicom}: tag as 0xGGGGEEEE. */
export interface DicomElement {
  tag: number;
  vr: string;
  /** Strings for text VRs (multi-values joined with "\\"), numbers for US/UL/SS/FL/FD, bytes for OB/OW. */
  value: string | number[] | Uint8Array;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'OD', 'OL', 'UC', 'UR']);

/** The value bytes of an element (padded to even length). */
function valueBytes(element: DicomElement): Uint8Array {
  const { vr, value } = element;
  if (value instanceof Uint8Array) return value.length % 2 ? concatBytes([value, new Uint8Array(1)]) : value;
  if (typeof value === 'string') {
    const bytes = text(value);
    if (bytes.length % 2 === 0) return bytes;
    return concatBytes([bytes, Uint8Array.of(vr === 'UI' ? 0 : 0x20)]);
  }
  const size = vr === 'US' || vr === 'SS' ? 2 : vr === 'FD' ? 8 : 4;
  const out = new Uint8Array(value.length * size);
  const view = new DataView(out.buffer);
  value.forEach((number, index) => {
    if (vr === 'US') view.setUint16(2 * index, number, true);
    else if (vr === 'SS') view.setInt16(2 * index, number, true);
    else if (vr === 'UL') view.setUint32(4 * index, number, true);
    else if (vr === 'FL') view.setFloat32(4 * index, number, true);
    else view.setFloat64(8 * index, number, true);
  });
  return out;
}

/** Encodes one explicit-VR little-endian element (length given explicitly for undefined-length pixel data). */
function encodeElement(element: DicomElement, undefinedLength = false): Uint8Array {
  const value = valueBytes(element);
  const long = LONG_VRS.has(element.vr);
  const head = new Uint8Array(long ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, element.tag >>> 16, true);
  view.setUint16(2, element.tag & 0xffff, true);
  head[4] = element.vr.charCodeAt(0);
  head[5] = element.vr.charCodeAt(1);
  if (long) view.setUint32(8, undefinedLength ? 0xffffffff : value.length, true);
  else view.setUint16(6, value.length, true);
  return undefinedLength ? head : concatBytes([head, value]);
}

/** An item or delimiter header (FFFE,xxxx) with a 32-bit length. */
function itemHeader(element: number, length: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, element, true);
  view.setUint32(4, length, true);
  return out;
}

/** Options of {@link encodeDicom}. */
export interface DicomEncodeOptions {
  /** Transfer syntax UID (default explicit VR little endian). */
  transferSyntax?: string;
  /** Encapsulated pixel data: one fragment per frame (replaces any (7FE0,0010) element). */
  fragments?: readonly Uint8Array[];
}

/**
 * A DICOM Part-10 file: preamble, "DICM", file meta information, then the data set in explicit
 * VR little endian (deflated for 1.2.840.10008.1.2.1.99).
 */
export function encodeDicom(elements: readonly DicomElement[], options: DicomEncodeOptions = {}): Uint8Array {
  const syntax = options.transferSyntax ?? '1.2.840.10008.1.2.1';
  const sopClass = (elements.find((element) => element.tag === 0x00080016)?.value as string | undefined) ?? '1.2.840.10008.5.1.4.1.1.2';
  const sopInstance = (elements.find((element) => element.tag === 0x00080018)?.value as string | undefined) ?? '1.2.3.4.5.6.7';
  const meta = concatBytes([
    encodeElement({ tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) }),
    encodeElement({ tag: 0x00020002, vr: 'UI', value: sopClass }),
    encodeElement({ tag: 0x00020003, vr: 'UI', value: sopInstance }),
    encodeElement({ tag: 0x00020010, vr: 'UI', value: syntax }),
    encodeElement({ tag: 0x00020012, vr: 'UI', value: '1.2.3.4.99' }),
  ]);
  const groupLength = encodeElement({ tag: 0x00020000, vr: 'UL', value: [meta.length] });
  const sorted = [...elements].filter((element) => !(options.fragments && element.tag === 0x7fe00010)).sort((a, b) => a.tag - b.tag);
  const parts = sorted.map((element) => encodeElement(element));
  if (options.fragments) {
    parts.push(encodeElement({ tag: 0x7fe00010, vr: 'OB', value: new Uint8Array(0) }, true));
    parts.push(itemHeader(0xe000, 0)); // empty basic offset table
    for (const fragment of options.fragments) {
      const padded = fragment.length % 2 ? concatBytes([fragment, new Uint8Array(1)]) : fragment;
      parts.push(itemHeader(0xe000, padded.length), padded);
    }
    parts.push(itemHeader(0xe0dd, 0));
  }
  let dataSet = concatBytes(parts);
  if (syntax === '1.2.840.10008.1.2.1.99') dataSet = deflateSync(dataSet);
  return concatBytes([new Uint8Array(128), text('DICM'), groupLength, meta, dataSet]);
}

/** int16 samples as little-endian bytes. */
export function int16Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let index = 0; index < values.length; index++) view.setInt16(2 * index, values[index], true);
  return out;
}

/** PackBits-codes one byte plane (replicate runs of ≥ 3, literals otherwise). */
function packBits(plane: Uint8Array): Uint8Array {
  const out: number[] = [];
  let index = 0;
  while (index < plane.length) {
    let run = 1;
    while (index + run < plane.length && run < 128 && plane[index + run] === plane[index]) run++;
    if (run >= 3) {
      out.push(257 - run, plane[index]);
      index += run;
      continue;
    }
    const start = index;
    while (index < plane.length && index - start < 128) {
      if (index + 2 < plane.length && plane[index] === plane[index + 1] && plane[index] === plane[index + 2]) break;
      index++;
    }
    out.push(index - start - 1, ...plane.subarray(start, index));
  }
  if (out.length % 2) out.push(128); // no-op pad to even length
  return Uint8Array.from(out);
}

/** An RLE-lossless frame (PS3.5 annex G) of 16-bit samples given as little-endian bytes. */
export function encodeRleFrame(samples: Uint8Array, bytesPerSample: number): Uint8Array {
  const count = samples.length / bytesPerSample;
  const segments: Uint8Array[] = [];
  for (let byte = bytesPerSample - 1; byte >= 0; byte--) {
    const plane = new Uint8Array(count);
    for (let index = 0; index < count; index++) plane[index] = samples[index * bytesPerSample + byte];
    segments.push(packBits(plane));
  }
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((segment, index) => { view.setUint32(4 + 4 * index, offset, true); offset += segment.length; });
  return concatBytes([header, ...segments]);
}

/**
 * A JPEG-lossless (process 14, first-order prediction: selection value 1) bitstream of unsigned
 * `precision`-bit samples, with one Huffman table giving every difference category a 5-bit code.
 */
export function encodeJpegLossless(samples: ArrayLike<number>, height: number, width: number, precision = 16): Uint8Array {
  const bytes: number[] = [];
  const marker = (code: number, payload: number[]): void => {
    bytes.push(0xff, code, ((payload.length + 2) >> 8) & 0xff, (payload.length + 2) & 0xff, ...payload);
  };
  bytes.push(0xff, 0xd8);
  marker(0xc3, [precision, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  const counts = new Array(16).fill(0);
  counts[4] = 17; // 17 codes of length 5 for categories 0…16
  marker(0xc4, [0x00, ...counts, ...Array.from({ length: 17 }, (_, index) => index)]);
  marker(0xda, [1, 1, 0x00, 1, 0, 0]);
  let accumulator = 0, bitCount = 0;
  const emit = (value: number, length: number): void => {
    for (let bit = length - 1; bit >= 0; bit--) {
      accumulator = (accumulator << 1) | ((value >> bit) & 1);
      bitCount++;
      if (bitCount === 8) {
        bytes.push(accumulator);
        if (accumulator === 0xff) bytes.push(0);
        accumulator = 0;
        bitCount = 0;
      }
    }
  };
  const modulus = 65536;
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const index = row * width + column;
      const prediction = row === 0 && column === 0 ? 1 << (precision - 1) : column === 0 ? samples[index - width] : samples[index - 1];
      let difference = (samples[index] - prediction) % modulus;
      if (difference > 32768) difference -= modulus;
      if (difference < -32767) difference += modulus;
      const magnitude = Math.abs(difference);
      const category = magnitude === 0 ? 0 : magnitude === 32768 ? 16 : Math.floor(Math.log2(magnitude)) + 1;
      emit(category, 5);
      if (category > 0 && category < 16) emit(difference > 0 ? difference : difference - 1 + (1 << category), category);
    }
  }
  if (bitCount > 0) emit((1 << (8 - bitCount)) - 1, 8 - bitCount);
  bytes.push(0xff, 0xd9);
  return Uint8Array.from(bytes);
}

/** Options of {@link ctSlice}. */
export interface CtSliceOptions {
  rows: number;
  columns: number;
  position: number[];
  orientation: number[];
  pixelSpacing: number[];
  /** Stored int16 values, row by row. */
  stored: ArrayLike<number>;
  slope?: number;
  intercept?: number;
  seriesUid?: string;
  instance?: number;
  transferSyntax?: string;
  /** Elements to leave out (tags). */
  omit?: number[];
}

/** A CT slice as DICOM bytes (int16, signed), with the geometry and rescale tags. */
export function ctSlice(options: CtSliceOptions): Uint8Array {
  const syntax = options.transferSyntax ?? '1.2.840.10008.1.2.1';
  const pixels = int16Bytes(options.stored);
  const elements: DicomElement[] = [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' },
    { tag: 0x00080018, vr: 'UI', value: `1.2.3.${options.instance ?? 1}` },
    { tag: 0x00080060, vr: 'CS', value: 'CT' },
    { tag: 0x0008103e, vr: 'LO', value: 'test series' },
    { tag: 0x0020000e, vr: 'UI', value: options.seriesUid ?? '1.2.3.100' },
    { tag: 0x00200013, vr: 'IS', value: String(options.instance ?? 1) },
    { tag: 0x00200032, vr: 'DS', value: options.position.join('\\') },
    { tag: 0x00200037, vr: 'DS', value: options.orientation.join('\\') },
    { tag: 0x00280002, vr: 'US', value: [1] },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [options.rows] },
    { tag: 0x00280011, vr: 'US', value: [options.columns] },
    { tag: 0x00280030, vr: 'DS', value: options.pixelSpacing.join('\\') },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [16] },
    { tag: 0x00280102, vr: 'US', value: [15] },
    { tag: 0x00280103, vr: 'US', value: [1] },
    { tag: 0x00281052, vr: 'DS', value: String(options.intercept ?? -1024) },
    { tag: 0x00281053, vr: 'DS', value: String(options.slope ?? 1) },
    { tag: 0x7fe00010, vr: 'OW', value: pixels },
  ].filter((element) => !options.omit?.includes(element.tag));
  let fragments: Uint8Array[] | undefined;
  if (syntax === '1.2.840.10008.1.2.5') fragments = [encodeRleFrame(pixels, 2)];
  if (syntax === '1.2.840.10008.1.2.4.70') {
    const unsigned = Array.from(options.stored, (value) => (value + 65536) % 65536);
    fragments = [encodeJpegLossless(unsigned, options.rows, options.columns)];
  }
  return encodeDicom(elements, { transferSyntax: syntax, fragments });
}
