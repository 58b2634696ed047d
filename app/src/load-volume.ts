/**
 * Loading a CT in the browser from the files a person picked or dropped: the one place where file
 * formats are dispatched (by name and magic bytes) to the parse functions of src/io. Nothing here
 * touches a file system; it runs in the engine worker.
 */
import { DrrkitError } from '../../src/errors.js';
import { DICOM_TAGS, assembleSeries, dicomString, hasDicomPreamble, parseDicomFile, type DicomFile } from '../../src/io/dicom.js';
import { parseMetaImage } from '../../src/io/metaimage.js';
import { parseNifti } from '../../src/io/nifti.js';
import { parseNrrd } from '../../src/io/nrrd.js';
import type { Volume } from '../../src/volume/volume.js';

/** A file as the browser gives it: a name (with its folder for a directory pick) and its bytes. */
export interface InputFile {
  name: string;
  /** Relative path for folder picks (webkitRelativePath), else the name. */
  path?: string;
  bytes(): Promise<Uint8Array>;
}

/** What {@link loadVolumeFromFiles} found. */
export interface LoadedVolume {
  volume: Volume;
  /** The format read, for the page ("NIfTI", "DICOM series (212 slices)", …). */
  format: string;
  notes: string[];
}

export type VolumeFormat = 'nifti' | 'nrrd' | 'nhdr' | 'metaimage' | 'mhd' | 'dicom' | 'unknown';

/** Formats a person can pick, for the file input's `accept` and for messages. */
export const VOLUME_FILE_TYPES = ['.nii', '.nii.gz', '.nrrd', '.nhdr', '.mha', '.mhd', '.dcm'] as const;

const lower = (name: string) => name.toLowerCase();

function startsWithText(bytes: Uint8Array, text: string, at = 0): boolean {
  if (bytes.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The format of one file, from its magic bytes first and its name second. */
export function detectVolumeFormat(name: string, bytes: Uint8Array): VolumeFormat {
  const n = lower(name);
  if (hasDicomPreamble(bytes)) return 'dicom';
  if (startsWithText(bytes, 'NRRD')) return n.endsWith('.nhdr') ? 'nhdr' : 'nrrd';
  if (bytes.length >= 348 && (startsWithText(bytes, 'n+1', 344) || startsWithText(bytes, 'ni1', 344))) return 'nifti';
  if (bytes.length >= 8 && (startsWithText(bytes, 'n+2', 4) || startsWithText(bytes, 'ni2', 4))) return 'nifti';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b && (n.endsWith('.nii.gz') || n.endsWith('.nii') || n.endsWith('.gz'))) return 'nifti';
  if (n.endsWith('.mha')) return 'metaimage';
  if (n.endsWith('.mhd')) return 'mhd';
  if (n.endsWith('.nii') || n.endsWith('.nii.gz')) return 'nifti';
  if (n.endsWith('.nrrd')) return 'nrrd';
  if (n.endsWith('.nhdr')) return 'nhdr';
  if (n.endsWith('.dcm') || n.endsWith('.ima')) return 'dicom';
  if (/^\s*(ObjectType|NDims)\s*=/.test(String.fromCharCode(...bytes.subarray(0, 64)))) return n.endsWith('.mhd') ? 'mhd' : 'metaimage';
  return 'unknown';
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

/**
 * Reads a CT from the files given: one NIfTI / NRRD / MetaImage file (with its detached data file
 * for .nhdr / .mhd), or the files of a DICOM series (a folder pick; the series with the most images
 * is read). Throws a DrrkitError with a sentence a person can act on otherwise.
 */
export async function loadVolumeFromFiles(files: readonly InputFile[]): Promise<LoadedVolume> {
  if (files.length === 0) throw new DrrkitError('no file was chosen', 'file');
  const entries = await Promise.all(files.map(async (file) => ({ file, bytes: await file.bytes() })));
  const byName = new Map(entries.map((entry) => [lower(baseName(entry.file.path ?? entry.file.name)), entry]));
  const readDetached = (name: string): Uint8Array => {
    const found = byName.get(lower(baseName(name)));
    if (!found) throw new DrrkitError(`the header names a data file "${name}"; choose it together with the header (select both files)`, name);
    return found.bytes;
  };
  const typed = entries.map((entry) => ({ ...entry, format: detectVolumeFormat(entry.file.name, entry.bytes) }));

  // A header with a detached data file, or a single-file volume.
  const primary = typed.find((entry) => ['nifti', 'nrrd', 'nhdr', 'metaimage', 'mhd'].includes(entry.format));
  if (primary) {
    const { name } = primary.file;
    switch (primary.format) {
      case 'nifti': return { volume: parseNifti(primary.bytes, name), format: 'NIfTI', notes: [] };
      case 'nrrd': case 'nhdr': return { volume: parseNrrd(primary.bytes, name, readDetached), format: 'NRRD', notes: [] };
      default: return { volume: parseMetaImage(primary.bytes, name, readDetached), format: 'MetaImage', notes: [] };
    }
  }

  // DICOM: every file that parses and holds pixels; the largest series wins.
  const slices = new Map<string, DicomFile[]>();
  let skipped = 0;
  let firstError: unknown;
  for (const entry of typed) {
    if (entry.format === 'unknown' && entries.length === 1) break;
    let parsed: DicomFile;
    try {
      parsed = parseDicomFile(entry.bytes, entry.file.path ?? entry.file.name);
    } catch (error) {
      if (entries.length === 1 || (entry.format === 'dicom' && hasDicomPreamble(entry.bytes))) throw error;
      firstError ??= error;
      skipped++;
      continue;
    }
    if (!parsed.dataSet.elements[DICOM_TAGS.pixelData]) { skipped++; continue; }
    const uid = dicomString(parsed, DICOM_TAGS.seriesInstanceUid) ?? '(no SeriesInstanceUID)';
    const list = slices.get(uid) ?? [];
    list.push(parsed);
    slices.set(uid, list);
  }
  if (slices.size === 0) {
    const names = entries.slice(0, 3).map((entry) => entry.file.name).join(', ') + (entries.length > 3 ? ', …' : '');
    if (entries.length === 1 && typed[0].format === 'unknown') {
      throw new DrrkitError(`${names}: not a CT volume drrkit can read; choose a NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd) file or a DICOM folder`, names);
    }
    const detail = firstError instanceof Error ? ` (${firstError.message})` : '';
    throw new DrrkitError(`${names}: no DICOM image or CT volume found among ${entries.length} file(s)${detail}`, names);
  }
  const series = [...slices.values()].sort((a, b) => b.length - a.length);
  const chosen = series[0];
  const folder = (files[0].path ?? files[0].name).split(/[\\/]/)[0] || 'DICOM series';
  const { volume, notes } = assembleSeries(chosen, folder);
  if (series.length > 1) notes.push(`${series.length} series found; read the largest (${chosen.length} images)`);
  if (skipped > 0) notes.push(`${skipped} file(s) skipped (not DICOM images)`);
  return { volume, format: `DICOM series (${chosen.length} slice${chosen.length === 1 ? '' : 's'})`, notes };
}
