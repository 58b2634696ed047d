/**
 * DICOM reading: Part-10 files parsed with cornerstone's `dicom-parser`, pixel data decoded by
 * ./dicom-codecs.ts, and CT (or MR, PET…) image series assembled into a volume in its true
 * patient orientation.
 *
 * A series becomes a volume like this: the files of a folder (searched recursively) are grouped
 * by SeriesInstanceUID; the series is the one asked for, or else the one with the most images
 * (the choice is reported); its slices are ordered by ImagePositionPatient projected on the
 * slice normal (the cross product of the two ImageOrientationPatient directions) — never by file
 * name or InstanceNumber; RescaleSlope/RescaleIntercept are applied per slice. Voxel (i, j, k)
 * is column i, row j of slice k. The voxel → LPS affine has columns X·Δcolumn, Y·Δrow and the
 * step between consecutive slice positions, and is stored converted to RAS (world-frame.ts).
 * Uneven slice spacing (missing slices), duplicate positions (two acquisitions in one series),
 * differing image sizes or orientations and missing geometry tags are refused with a one-line
 * message naming a file. Gantry tilt gives a sheared affine: the seed geometry renders it, the
 * world geometry refuses it.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { DrrkitError } from '../errors.js';
import { lpsToRasAffine } from '../geometry/world-frame.js';
import { createVolume, type Volume } from '../volume/volume.js';
import { decodeJpegBaselineFrame, decodeJpegLosslessFrame, decodeRleFrame, requireDecodableSyntax, transferSyntaxName } from './dicom-codecs.js';
import { readerLimits } from './limits.js';
import { inflate } from './raw-voxels.js';

/** dicom-parser is CommonJS: its functions come through the default export. */
const { parseDicom, readEncapsulatedImageFrame, readEncapsulatedPixelDataFromFragments, createJPEGBasicOffsetTable } = dicomParser;

/** DICOM tags used by drrkit, in dicom-parser's "xGGGGEEEE" form. */
export const DICOM_TAGS = {
  transferSyntaxUid: 'x00020010',
  sopClassUid: 'x00080016',
  sopInstanceUid: 'x00080018',
  modality: 'x00080060',
  seriesDescription: 'x0008103e',
  manufacturer: 'x00080070',
  sliceThickness: 'x00180050',
  distanceSourceToDetector: 'x00181110',
  distanceSourceToPatient: 'x00181111',
  estimatedMagnification: 'x00181114',
  imagerPixelSpacing: 'x00181164',
  positionerPrimaryAngle: 'x00181510',
  positionerSecondaryAngle: 'x00181511',
  positionerPrimaryAngleIncrement: 'x00181520',
  positionerSecondaryAngleIncrement: 'x00181521',
  patientPosition: 'x00185100',
  viewPosition: 'x00185101',
  seriesInstanceUid: 'x0020000e',
  seriesNumber: 'x00200011',
  instanceNumber: 'x00200013',
  patientOrientation: 'x00200020',
  imagePositionPatient: 'x00200032',
  imageOrientationPatient: 'x00200037',
  samplesPerPixel: 'x00280002',
  photometricInterpretation: 'x00280004',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  pixelSpacing: 'x00280030',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  perFrameFunctionalGroups: 'x52009230',
  pixelData: 'x7fe00010',
} as const;

const TAG_NAMES: Record<string, string> = {
  x00200032: 'ImagePositionPatient (0020,0032)',
  x00200037: 'ImageOrientationPatient (0020,0037)',
  x00280030: 'PixelSpacing (0028,0030)',
  x00280010: 'Rows (0028,0010)',
  x00280011: 'Columns (0028,0011)',
  x00280100: 'BitsAllocated (0028,0100)',
  x7fe00010: 'PixelData (7FE0,0010)',
};

/**
 * The parsed data set: dicom-parser's DataSet, declared here with only what drrkit's public API
 * needs, so that drrkit's type declarations never pull in dicom-parser's (which name Node's
 * `Buffer` and break a consumer's strict build without @types/node). Read tags with
 * {@link dicomString}, {@link dicomNumber}, {@link dicomNumbers} and {@link dicomUint16}, which
 * never throw on a damaged element.
 */
export interface DicomDataSet {
  /** Elements by tag ("x00100020"). */
  readonly elements: { readonly [tag: string]: { readonly tag: string; readonly length: number; readonly dataOffset: number } | undefined };
  /** The bytes the data set was parsed from. */
  readonly byteArray: Uint8Array;
}

/** A parsed DICOM file: its data set and transfer syntax. */
export interface DicomFile {
  /** Path or name, for messages. */
  readonly source: string;
  /** The parsed data set (dicom-parser's DataSet underneath). */
  readonly dataSet: DicomDataSet;
  /** Transfer syntax UID (from the file meta information, or implicit VR little endian without it). */
  readonly transferSyntaxUid: string;
}

/** The text of an error thrown by dicom-parser (which throws strings and `{ exception }` objects). */
function parserMessage(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'exception' in error) return parserMessage((error as { exception: unknown }).exception);
  return String(error);
}

/** True when bytes 128–131 hold "DICM" (a Part-10 file). */
export function hasDicomPreamble(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * Parses a DICOM file held in memory: a Part-10 file (with the "DICM" preamble), or a bare data
 * set in implicit VR little endian. Deflated data sets are inflated with fflate. Throws a
 * DrrkitError naming `source` when it is not DICOM or is damaged.
 */
export function parseDicomFile(bytes: Uint8Array, source: string): DicomFile {
  const part10 = hasDicomPreamble(bytes);
  let dataSet: DataSet;
  try {
    dataSet = parseDicom(bytes, {
      ...(part10 ? {} : { TransferSyntaxUID: '1.2.840.10008.1.2' }),
      inflater: (array: Uint8Array, position: number) => {
        const inflated = inflate(array.subarray(position), source, 'deflate', { maxBytes: Math.min(readerLimits().maxFileBytes, 512 * 1024 * 1024), describe: 'a DICOM data set' });
        const full = new Uint8Array(position + inflated.length);
        full.set(array.subarray(0, position));
        full.set(inflated, position);
        return full;
      },
    } as never);
  } catch (error) {
    const message = parserMessage(error);
    if (!part10) throw new DrrkitError(`${source}: not a DICOM file (no "DICM" marker at byte 128, and not a bare DICOM data set: ${message})`, source);
    if (/buffer overrun|attempt to read past|end of buffer|index out of range|offset is outside/i.test(message)) {
      throw new DrrkitError(`${source}: truncated DICOM file (${message})`, source);
    }
    throw new DrrkitError(`${source}: damaged DICOM file (${message})`, source);
  }
  const transferSyntaxUid = (tolerant(() => dataSet.string(DICOM_TAGS.transferSyntaxUid)) ?? '1.2.840.10008.1.2').replace(/\0/g, '').trim() || '1.2.840.10008.1.2';
  return { source, dataSet: dataSet as unknown as DicomDataSet, transferSyntaxUid };
}

/** dicom-parser's DataSet behind a {@link DicomFile} (drrkit's public type leaves its declarations out). */
function parserDataSet(file: DicomFile): DataSet {
  return file.dataSet as unknown as DataSet;
}

/** Reads and parses one DICOM file; see {@link parseDicomFile}. */
export async function readDicomFile(path: string): Promise<DicomFile> {
  const { readFileBytes } = await import('./files.js');
  return parseDicomFile(await readFileBytes(path, 'DICOM file'), path);
}

/** `read()`, or undefined when the parser throws (a damaged element never escapes as an internal error). */
function tolerant<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The raw text of a string element (all values, NULs and padding removed), or undefined when it
 * is absent, empty or unreadable. Every tag read goes through here or {@link dicomUint16}: a
 * mangled element reads as absent instead of breaking the parser's accessors.
 */
function elementText(file: DicomFile, tag: string): string | undefined {
  const element = file.dataSet.elements[tag];
  if (!element || !(element.length > 0)) return undefined;
  const text = tolerant(() => parserDataSet(file).string(tag));
  return typeof text === 'string' ? text.replace(/\0/g, '') : undefined;
}

/** A string value (trimmed; value `index` of a multi-valued element), or undefined when absent, empty or unreadable. */
export function dicomString(file: DicomFile, tag: string, index?: number): string | undefined {
  const text = elementText(file, tag);
  if (text === undefined) return undefined;
  const value = index === undefined ? text.trim() : text.split('\\')[index]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A DS/IS value as a finite number, or undefined when absent, unreadable or not a number. */
export function dicomNumber(file: DicomFile, tag: string, index = 0): number | undefined {
  const text = dicomString(file, tag, index);
  if (text === undefined || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** All numbers of a multi-valued DS/IS element (empty when absent; NaN for a value that is not a number). */
export function dicomNumbers(file: DicomFile, tag: string): number[] {
  const text = elementText(file, tag);
  if (text === undefined || text.trim() === '') return [];
  return text.split('\\').slice(0, 65536).map((_, index) => dicomNumber(file, tag, index) ?? NaN);
}

/** A US value, or undefined when absent or unreadable. */
export function dicomUint16(file: DicomFile, tag: string): number | undefined {
  const element = file.dataSet.elements[tag];
  if (!element || element.length < 2) return undefined;
  return tolerant(() => parserDataSet(file).uint16(tag));
}

/** A required number list of `count` values; throws a DrrkitError naming the file and tag otherwise. */
function requireNumbers(file: DicomFile, tag: string, count: number): number[] {
  const values = dicomNumbers(file, tag);
  const name = TAG_NAMES[tag] ?? tag;
  if (values.length === 0) throw new DrrkitError(`${file.source}: missing tag ${name}`, file.source);
  if (values.length !== count || values.some((value) => !Number.isFinite(value))) {
    throw new DrrkitError(`${file.source}: tag ${name} should hold ${count} numbers, found "${dicomString(file, tag) ?? ''}"`, file.source);
  }
  return values;
}

/** A required US value; throws a DrrkitError naming the file and tag otherwise. */
function requireUint16(file: DicomFile, tag: string): number {
  const value = dicomUint16(file, tag);
  if (value === undefined) throw new DrrkitError(`${file.source}: missing tag ${TAG_NAMES[tag] ?? tag}`, file.source);
  return value;
}

/** The layout of the pixel data of an image. */
export interface PixelLayout {
  /** Rows. */
  readonly rows: number;
  /** Columns. */
  readonly columns: number;
  /** Frames in the file. */
  readonly frames: number;
  /** Bits per stored sample container (8, 16 or 32). */
  readonly bitsAllocated: number;
  /** Significant bits. */
  readonly bitsStored: number;
  /** Two's complement samples. */
  readonly signed: boolean;
  /** MONOCHROME1 (high values are dark) or MONOCHROME2, or another photometric interpretation. */
  readonly photometricInterpretation: string;
  /** Modality value = stored × slope + intercept. */
  readonly slope: number;
  /** See `slope`. */
  readonly intercept: number;
}

/** Reads and checks the image pixel module; throws a DrrkitError naming the file for anything drrkit cannot read. */
export function pixelLayout(file: DicomFile): PixelLayout {
  const rows = requireUint16(file, DICOM_TAGS.rows);
  const columns = requireUint16(file, DICOM_TAGS.columns);
  if (rows < 1 || columns < 1) throw new DrrkitError(`${file.source}: the image is ${rows}×${columns} pixels`, file.source);
  const samples = dicomUint16(file, DICOM_TAGS.samplesPerPixel) ?? 1;
  const photometricInterpretation = dicomString(file, DICOM_TAGS.photometricInterpretation) ?? 'MONOCHROME2';
  if (samples !== 1) {
    throw new DrrkitError(`${file.source}: colour image (${samples} samples per pixel, ${photometricInterpretation}); drrkit reads grayscale images`, file.source);
  }
  const bitsAllocated = requireUint16(file, DICOM_TAGS.bitsAllocated);
  if (![8, 16, 32].includes(bitsAllocated)) throw new DrrkitError(`${file.source}: BitsAllocated ${bitsAllocated} is not supported (8, 16 or 32)`, file.source);
  const bitsStored = dicomUint16(file, DICOM_TAGS.bitsStored) ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new DrrkitError(`${file.source}: BitsStored ${bitsStored} is inconsistent with BitsAllocated ${bitsAllocated}`, file.source);
  const frames = Math.max(1, Math.round(dicomNumber(file, DICOM_TAGS.numberOfFrames) ?? 1));
  const slopeValue = dicomNumber(file, DICOM_TAGS.rescaleSlope);
  const slope = slopeValue !== undefined && slopeValue !== 0 ? slopeValue : 1;
  const intercept = dicomNumber(file, DICOM_TAGS.rescaleIntercept) ?? 0;
  const signed = (dicomUint16(file, DICOM_TAGS.pixelRepresentation) ?? 0) === 1;
  return { rows, columns, frames, bitsAllocated, bitsStored, signed, photometricInterpretation, slope, intercept };
}

/** The encapsulated bytes of one frame. */
function encapsulatedFrame(file: DicomFile, element: Element, frame: number, frames: number, isJpeg: boolean): Uint8Array {
  const dataSet = parserDataSet(file);
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new DrrkitError(`${file.source}: the encapsulated pixel data holds no fragment`, file.source);
  if (frames === 1) return readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length) as Uint8Array;
  if (element.basicOffsetTable && element.basicOffsetTable.length > 0) return readEncapsulatedImageFrame(dataSet, element, frame) as Uint8Array;
  if (fragments.length === frames) return readEncapsulatedPixelDataFromFragments(dataSet, element, frame, 1) as Uint8Array;
  if (isJpeg) return readEncapsulatedImageFrame(dataSet, element, frame, createJPEGBasicOffsetTable(dataSet, element)) as Uint8Array;
  throw new DrrkitError(`${file.source}: cannot split the encapsulated pixel data into ${frames} frames (no offset table)`, file.source);
}

/**
 * Decodes frames of a file to modality values (stored value × RescaleSlope + RescaleIntercept),
 * one Float32Array of rows × columns per frame, row by row. `frameIndices` defaults to every
 * frame. Throws a DrrkitError naming the file for unsupported or damaged pixel data.
 */
export function decodeDicomFrames(file: DicomFile, layout: PixelLayout = pixelLayout(file), frameIndices?: readonly number[]): Float32Array[] {
  const source = file.source;
  const syntax = requireDecodableSyntax(file.transferSyntaxUid, source);
  const element = parserDataSet(file).elements[DICOM_TAGS.pixelData];
  if (!element) throw new DrrkitError(`${source}: missing tag ${TAG_NAMES[DICOM_TAGS.pixelData]}: the file holds no image`, source);
  const { rows, columns, frames, bitsAllocated } = layout;
  const pixelCount = rows * columns;
  const bytesPerSample = bitsAllocated / 8;
  const indices = frameIndices ?? Array.from({ length: frames }, (_, index) => index);
  const out: Float32Array[] = [];
  const bytes = file.dataSet.byteArray as Uint8Array;
  for (const frame of indices) {
    if (!Number.isInteger(frame) || frame < 0 || frame >= frames) throw new DrrkitError(`${source}: frame ${frame} does not exist (the file has ${frames})`, source);
    let samples: ArrayLike<number>;
    if (syntax.encoding === 'native') {
      if (element.encapsulatedPixelData) throw new DrrkitError(`${source}: encapsulated pixel data in an uncompressed transfer syntax`, source);
      const frameBytes = pixelCount * bytesPerSample;
      const start = element.dataOffset + frame * frameBytes;
      const end = start + frameBytes;
      if (end > bytes.length || (element.length > 0 && (frame + 1) * frameBytes > element.length)) {
        const available = Math.max(0, Math.min(bytes.length - element.dataOffset, element.length));
        throw new DrrkitError(
          `${source}: truncated pixel data: ${frames} frame(s) of ${rows}×${columns}×${bitsAllocated} bits need ${frames * frameBytes} bytes, only ${available} present`,
          source,
        );
      }
      samples = readNative(bytes, start, pixelCount, bitsAllocated, syntax.littleEndian);
    } else {
      if (!element.encapsulatedPixelData) throw new DrrkitError(`${source}: ${syntax.name} needs encapsulated pixel data, but it is stored natively`, source);
      let encoded: Uint8Array;
      try {
        encoded = encapsulatedFrame(file, element, frame, frames, syntax.encoding !== 'rle');
      } catch (error) {
        if (error instanceof DrrkitError) throw error;
        throw new DrrkitError(`${source}: damaged encapsulated pixel data (${parserMessage(error)})`, source);
      }
      if (syntax.encoding === 'rle') {
        samples = readNative(decodeRleFrame(encoded, pixelCount, bytesPerSample, 1, source), 0, pixelCount, bitsAllocated, true);
      } else if (syntax.encoding === 'jpeg-lossless') {
        if (bitsAllocated > 16) throw new DrrkitError(`${source}: JPEG lossless with ${bitsAllocated}-bit samples is not supported`, source);
        samples = decodeJpegLosslessFrame(encoded, bytesPerSample, pixelCount, source);
      } else {
        samples = decodeJpegBaselineFrame(encoded, pixelCount, source);
      }
    }
    out.push(toModalityValues(samples, pixelCount, layout));
  }
  return out;
}

/** Unsigned sample containers read from native bytes. */
function readNative(bytes: Uint8Array, start: number, count: number, bitsAllocated: number, littleEndian: boolean): ArrayLike<number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, (count * bitsAllocated) / 8);
  if (bitsAllocated === 8) return bytes.subarray(start, start + count);
  if (bitsAllocated === 16) {
    const out = new Uint16Array(count);
    for (let index = 0; index < count; index++) out[index] = view.getUint16(2 * index, littleEndian);
    return out;
  }
  const out = new Uint32Array(count);
  for (let index = 0; index < count; index++) out[index] = view.getUint32(4 * index, littleEndian);
  return out;
}

/** Masks to BitsStored, sign-extends signed samples and applies the rescale. */
function toModalityValues(samples: ArrayLike<number>, count: number, layout: PixelLayout): Float32Array {
  const { bitsStored, signed, slope, intercept } = layout;
  const out = new Float32Array(count);
  const range = 2 ** bitsStored;
  const half = range / 2;
  for (let index = 0; index < count; index++) {
    let value = samples[index] % range; // the low BitsStored bits (samples are unsigned containers)
    if (signed && value >= half) value -= range;
    out[index] = value * slope + intercept;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Series → volume

/** What drrkit knows of one series found in a folder. */
export interface DicomSeriesSummary {
  /** SeriesInstanceUID. */
  readonly seriesInstanceUid: string;
  /** SeriesDescription, when given. */
  readonly description: string;
  /** Modality (CT, MR, …). */
  readonly modality: string;
  /** Image files in the series. */
  readonly imageCount: number;
}

/** The result of reading a DICOM series: the volume and how it was chosen and assembled. */
export interface DicomSeriesResult {
  /** The volume (affine voxel → RAS). */
  readonly volume: Volume;
  /** The series read. */
  readonly series: DicomSeriesSummary;
  /** Why this series: asked for by UID, the only one, or the largest. */
  readonly chosenBy: 'uid' | 'only' | 'largest';
  /** The other series in the folder. */
  readonly otherSeries: readonly DicomSeriesSummary[];
  /** Files skipped because they are not DICOM images (DICOMDIR, reports, other files). */
  readonly skippedFiles: number;
  /** Transfer syntax of the first slice. */
  readonly transferSyntax: string;
  /** Things worth knowing (gantry tilt, varying rescale, …). */
  readonly notes: readonly string[];
}

/** Options of {@link readDicomSeries}. */
export interface DicomSeriesOptions {
  /** Read this SeriesInstanceUID (default: the series with the most images). */
  seriesInstanceUid?: string;
}

/** Header facts of one image file, kept between the two passes. */
interface SliceHeader {
  path: string;
  seriesInstanceUid: string;
  description: string;
  modality: string;
}

/** All files under a folder (recursively, at most 8 levels), sorted by path. */
async function listFiles(folder: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const out: string[] = [];
  const walk = async (directory: string, depth: number): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(directory, entry.name);
      if (entry.isDirectory() && depth < 8) await walk(full, depth + 1);
      else if (entry.isFile() && !entry.name.startsWith('.')) out.push(full);
    }
  };
  await walk(folder, 0);
  return out.sort();
}

/** Short form of a UID for messages. */
function describeSeries(series: DicomSeriesSummary): string {
  return `${series.seriesInstanceUid} (${series.modality || '?'}${series.description ? `, "${series.description}"` : ''}, ${series.imageCount} image${series.imageCount === 1 ? '' : 's'})`;
}

/**
 * Reads a DICOM image series from a folder (or the series of one file) into a volume; see the
 * module comment for the rules. Throws a DrrkitError naming the folder or a file otherwise.
 */
export async function readDicomSeries(path: string, options: DicomSeriesOptions = {}): Promise<DicomSeriesResult> {
  const { stat } = await import('node:fs/promises');
  const { readFileBytes } = await import('./files.js');
  let isFolder = false;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch {
    throw new DrrkitError(`${path}: DICOM file or folder not found`, path);
  }
  const files = isFolder ? await listFiles(path) : [path];
  if (files.length === 0) throw new DrrkitError(`${path}: the folder is empty`, path);

  // Pass 1: headers.
  const headers: SliceHeader[] = [];
  let skippedFiles = 0;
  let firstProblem: string | undefined;
  for (const file of files) {
    const bytes = await readFileBytes(file, 'DICOM file');
    let parsed: DicomFile;
    try {
      parsed = parseDicomFile(bytes, file);
    } catch (error) {
      if (!isFolder) throw error;
      if (hasDicomPreamble(bytes) && error instanceof DrrkitError) throw error; // a damaged DICOM file is an error, not noise
      skippedFiles++;
      continue;
    }
    if (!parsed.dataSet.elements[DICOM_TAGS.pixelData]) {
      skippedFiles++;
      firstProblem ??= `${file}: holds no image (PixelData missing)`;
      continue;
    }
    headers.push({
      path: file,
      seriesInstanceUid: dicomString(parsed, DICOM_TAGS.seriesInstanceUid) ?? '(no SeriesInstanceUID)',
      description: dicomString(parsed, DICOM_TAGS.seriesDescription) ?? '',
      modality: dicomString(parsed, DICOM_TAGS.modality) ?? '',
    });
  }
  if (headers.length === 0) {
    const volumes = files.filter((file) => /\.(nii|nii\.gz|nrrd|nhdr|mha|mhd)$/i.test(file));
    if (isFolder && volumes.length > 0) {
      throw new DrrkitError(
        `${path}: a folder is read as a DICOM series, but it holds no DICOM image; it holds ${volumes.length} NIfTI/NRRD/MetaImage file(s), e.g. ${volumes[0]}: pass one file, not the folder`,
        path,
      );
    }
    throw new DrrkitError(`${path}: no DICOM image found${firstProblem ? ` (${firstProblem})` : ` among ${files.length} file(s)`}`, path);
  }
  const groups = new Map<string, SliceHeader[]>();
  for (const header of headers) {
    const list = groups.get(header.seriesInstanceUid) ?? [];
    list.push(header);
    groups.set(header.seriesInstanceUid, list);
  }
  const summaries: DicomSeriesSummary[] = [...groups.entries()]
    .map(([uid, list]) => ({ seriesInstanceUid: uid, description: list[0].description, modality: list[0].modality, imageCount: list.length }))
    .sort((a, b) => b.imageCount - a.imageCount || a.seriesInstanceUid.localeCompare(b.seriesInstanceUid));
  let chosen: DicomSeriesSummary;
  let chosenBy: DicomSeriesResult['chosenBy'];
  if (options.seriesInstanceUid !== undefined) {
    const match = summaries.find((summary) => summary.seriesInstanceUid === options.seriesInstanceUid);
    if (!match) {
      throw new DrrkitError(
        `${path}: no series with SeriesInstanceUID ${options.seriesInstanceUid}; found ${summaries.map(describeSeries).join('; ')}`,
        path,
      );
    }
    chosen = match;
    chosenBy = 'uid';
  } else {
    chosen = summaries[0];
    chosenBy = summaries.length === 1 ? 'only' : 'largest';
  }

  // Pass 2: the chosen series.
  const slices: DicomFile[] = [];
  for (const header of groups.get(chosen.seriesInstanceUid)!) {
    slices.push(parseDicomFile(await readFileBytes(header.path, 'DICOM file'), header.path));
  }
  const { volume, notes } = assembleSeries(slices, path);
  return {
    volume,
    series: chosen,
    chosenBy,
    otherSeries: summaries.filter((summary) => summary !== chosen),
    skippedFiles,
    transferSyntax: `${transferSyntaxName(slices[0].transferSyntaxUid)} (${slices[0].transferSyntaxUid})`,
    notes,
  };
}

/** Reads a DICOM series as a volume; see {@link readDicomSeries}. */
export async function readDicomVolume(path: string, options: DicomSeriesOptions = {}): Promise<Volume> {
  return (await readDicomSeries(path, options)).volume;
}

/**
 * Orders and stacks the slices of one series into a volume named `source`. Exported for tests and
 * for callers that parse files themselves.
 */
export function assembleSeries(slices: readonly DicomFile[], source: string): { volume: Volume; notes: string[] } {
  const notes: string[] = [];
  const first = slices[0];
  const layout = pixelLayout(first);
  if (layout.frames > 1) {
    if (slices.length > 1) throw new DrrkitError(`${first.source}: a multi-frame image inside a series of ${slices.length} files; drrkit reads one frame per file`, first.source);
    throw new DrrkitError(
      `${first.source}: an enhanced (multi-frame) image of ${layout.frames} frames; drrkit reads CT series stored one slice per file ` +
        '(convert with `dcm2niix` or `emf2sf` to classic single-frame files or NIfTI)',
      first.source,
    );
  }
  const orientation = requireNumbers(first, DICOM_TAGS.imageOrientationPatient, 6);
  const rowDirection = orientation.slice(0, 3); // direction of increasing column index
  const columnDirection = orientation.slice(3, 6); // direction of increasing row index
  const normal = [
    rowDirection[1] * columnDirection[2] - rowDirection[2] * columnDirection[1],
    rowDirection[2] * columnDirection[0] - rowDirection[0] * columnDirection[2],
    rowDirection[0] * columnDirection[1] - rowDirection[1] * columnDirection[0],
  ];
  const normalLength = Math.hypot(normal[0], normal[1], normal[2]);
  if (!(normalLength > 0.5)) throw new DrrkitError(`${first.source}: ImageOrientationPatient (0020,0037) holds parallel or zero directions`, first.source);
  const pixelSpacing = requireNumbers(first, DICOM_TAGS.pixelSpacing, 2); // [between rows, between columns]
  if (pixelSpacing.some((value) => !(value > 0))) throw new DrrkitError(`${first.source}: PixelSpacing (0028,0030) is ${pixelSpacing.join('\\')}; it must be greater than zero`, first.source);

  const placed = slices.map((slice) => {
    const sliceLayout = slice === first ? layout : pixelLayout(slice);
    if (sliceLayout.rows !== layout.rows || sliceLayout.columns !== layout.columns) {
      throw new DrrkitError(
        `${slice.source}: inconsistent dimensions: this slice is ${sliceLayout.rows}×${sliceLayout.columns} pixels but ${first.source} is ${layout.rows}×${layout.columns}`,
        slice.source,
      );
    }
    if (sliceLayout.frames > 1) throw new DrrkitError(`${slice.source}: a multi-frame image inside a series; drrkit reads one frame per file`, slice.source);
    const sliceOrientation = requireNumbers(slice, DICOM_TAGS.imageOrientationPatient, 6);
    if (sliceOrientation.some((value, index) => Math.abs(value - orientation[index]) > 1e-4)) {
      throw new DrrkitError(`${slice.source}: ImageOrientationPatient differs from ${first.source}'s; the series mixes orientations (a localizer?)`, slice.source);
    }
    const sliceSpacing = requireNumbers(slice, DICOM_TAGS.pixelSpacing, 2);
    if (sliceSpacing.some((value, index) => Math.abs(value - pixelSpacing[index]) > 1e-4)) {
      throw new DrrkitError(`${slice.source}: PixelSpacing ${sliceSpacing.join('\\')} differs from ${first.source}'s ${pixelSpacing.join('\\')}`, slice.source);
    }
    const position = requireNumbers(slice, DICOM_TAGS.imagePositionPatient, 3);
    const distance = (position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2]) / normalLength;
    return { slice, layout: sliceLayout, position, distance };
  });
  placed.sort((a, b) => a.distance - b.distance);
  for (let index = 1; index < placed.length; index++) {
    if (Math.abs(placed[index].distance - placed[index - 1].distance) < 1e-3) {
      throw new DrrkitError(
        `${placed[index].slice.source}: lies at the same position as ${placed[index - 1].slice.source} (${placed[index].distance.toFixed(3)} mm along the slice normal); ` +
          'the series holds two acquisitions or duplicate files',
        placed[index].slice.source,
      );
    }
  }
  let sliceStep: number[];
  if (placed.length > 1) {
    const gaps = placed.slice(1).map((entry, index) => entry.distance - placed[index].distance);
    const mean = (placed[placed.length - 1].distance - placed[0].distance) / (placed.length - 1);
    const worst = gaps.reduce((largest, gap) => Math.max(largest, Math.abs(gap - mean)), 0);
    if (worst > Math.max(0.01, 0.01 * mean)) {
      const smallest = Math.min(...gaps), largest = Math.max(...gaps);
      throw new DrrkitError(
        `${source}: uneven slice spacing: gaps between consecutive slices range from ${smallest.toFixed(3)} to ${largest.toFixed(3)} mm (missing slices?)`,
        source,
      );
    }
    const last = placed[placed.length - 1].position, start = placed[0].position;
    sliceStep = [0, 1, 2].map((axis) => (last[axis] - start[axis]) / (placed.length - 1));
    const stepLength = Math.hypot(sliceStep[0], sliceStep[1], sliceStep[2]);
    const cosine = Math.abs(sliceStep[0] * normal[0] + sliceStep[1] * normal[1] + sliceStep[2] * normal[2]) / (stepLength * normalLength);
    if (cosine < 0.99999) {
      notes.push(`the slices are sheared by ${((Math.acos(Math.min(1, cosine)) * 180) / Math.PI).toFixed(2)}° (gantry tilt); the world geometry needs an orthogonal grid`);
    }
  } else {
    const thickness = dicomNumber(first, DICOM_TAGS.sliceThickness) ?? 1;
    sliceStep = normal.map((value) => (value / normalLength) * (thickness > 0 ? thickness : 1));
    notes.push('a single slice: its thickness is taken as the slice spacing');
  }
  const [rows, columns] = [layout.rows, layout.columns];
  const data = new Float32Array(rows * columns * placed.length);
  const rescales = new Set<string>();
  placed.forEach((entry, index) => {
    const [pixels] = decodeDicomFrames(entry.slice, entry.layout);
    data.set(pixels, index * rows * columns);
    rescales.add(`${entry.layout.slope}/${entry.layout.intercept}`);
  });
  if (rescales.size > 1) notes.push(`RescaleSlope/RescaleIntercept vary between slices (${rescales.size} different pairs); each slice was rescaled with its own`);
  const origin = placed[0].position;
  const lps = Float64Array.from([
    rowDirection[0] * pixelSpacing[1], columnDirection[0] * pixelSpacing[0], sliceStep[0], origin[0],
    rowDirection[1] * pixelSpacing[1], columnDirection[1] * pixelSpacing[0], sliceStep[1], origin[1],
    rowDirection[2] * pixelSpacing[1], columnDirection[2] * pixelSpacing[0], sliceStep[2], origin[2],
    0, 0, 0, 1,
  ]);
  const volume = createVolume({
    data,
    shape: [columns, rows, placed.length],
    spacing: [pixelSpacing[1], pixelSpacing[0], Math.hypot(sliceStep[0], sliceStep[1], sliceStep[2])],
    affine: lpsToRasAffine(lps),
    source,
  });
  return { volume, notes };
}
