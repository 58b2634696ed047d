import { DrrkitError } from '../errors.js';
import { requirePlausibleVoxelValues } from '../validation.js';
import { loadExampleCT } from '../volume/example-ct.js';
import { isPhantomName, loadPhantom, PHANTOM_NAMES } from '../volume/phantoms.js';
import type { Volume } from '../volume/volume.js';
import type { DicomSeriesResult } from './dicom.js';
import { readNifti } from './nifti.js';

/** The volume formats drrkit reads, by file-name ending (a folder is read as a DICOM series). */
export const VOLUME_EXTENSIONS = ['.nii', '.nii.gz', '.nrrd', '.nhdr', '.mha', '.mhd', '.dcm'];

/** The formats {@link loadVolume} recognises. */
export type VolumeFormat = 'example' | 'phantom' | 'nifti' | 'nrrd' | 'metaimage' | 'dicom';

/** Options of {@link loadVolume}. */
export interface VolumeLoadOptions {
  /** For DICOM folders: the SeriesInstanceUID to read (default: the series with the most images). */
  seriesInstanceUid?: string;
  /** NRRD/MetaImage: allow a detached data file outside the header's folder (default: DRRKIT_ALLOW_EXTERNAL_DATA / --allow-external-data). */
  allowExternalData?: boolean;
}

/** A loaded volume, its format and, for DICOM, how the series was chosen and assembled. */
export interface LoadedVolume {
  /** The volume (affine: voxel → RAS mm). */
  volume: Volume;
  /** The format it was read from. */
  format: VolumeFormat;
  /** DICOM only: the series report (which series, the others, notes). */
  dicom?: DicomSeriesResult;
}

/** Which format a path names: by extension, a folder (DICOM series) or the DICOM "DICM" marker. */
export async function detectVolumeFormat(specification: string): Promise<VolumeFormat> {
  if (specification === 'example') return 'example';
  if (isPhantomName(specification)) return 'phantom';
  const lower = specification.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return 'nifti';
  if (lower.endsWith('.nrrd') || lower.endsWith('.nhdr')) return 'nrrd';
  if (lower.endsWith('.mha') || lower.endsWith('.mhd')) return 'metaimage';
  if (lower.endsWith('.dcm') || lower.endsWith('.dicom') || lower.endsWith('.ima')) return 'dicom';
  const { stat, open } = await import('node:fs/promises');
  let isDirectory = false;
  try {
    isDirectory = (await stat(specification)).isDirectory();
  } catch {
    throw new DrrkitError(`${specification}: file or folder not found`, specification);
  }
  if (isDirectory) return 'dicom';
  try {
    const handle = await open(specification, 'r');
    try {
      const marker = new Uint8Array(4);
      const { bytesRead } = await handle.read(marker, 0, 4, 128);
      if (bytesRead === 4 && String.fromCharCode(...marker) === 'DICM') return 'dicom';
    } finally {
      await handle.close();
    }
  } catch {
    // fall through to the message below
  }
  throw new DrrkitError(
    `${specification}: unsupported volume format; drrkit reads ${VOLUME_EXTENSIONS.join(', ')} files, a DICOM folder, "example" or a phantom (${PHANTOM_NAMES.join(', ')})`,
    specification,
  );
}

/**
 * Loads a CT and says how: `'example'` gives the built-in procedural chest CT, `'head'` and
 * `'pelvis'` the procedural phantoms (src/volume/phantoms.ts); a folder is read as
 * a DICOM series; a file by its extension (NIfTI, NRRD, MetaImage, DICOM) or, without one, by the
 * DICOM marker. Throws a DrrkitError naming the file when it cannot be read, or when its voxel
 * values are not finite or implausibly large (an overflowing rescale).
 */
export async function loadVolumeWithReport(specification: string, options: VolumeLoadOptions = {}): Promise<LoadedVolume> {
  const loaded = await loadAnyVolume(specification, options);
  requirePlausibleVoxelValues(loaded.volume.data, specification);
  return loaded;
}

/** The reader for each format. */
async function loadAnyVolume(specification: string, options: VolumeLoadOptions): Promise<LoadedVolume> {
  const format = await detectVolumeFormat(specification);
  switch (format) {
    case 'example':
      return { volume: loadExampleCT(), format };
    case 'phantom':
      return { volume: loadPhantom(specification), format };
    case 'nifti':
      return { volume: await readNifti(specification), format };
    case 'nrrd': {
      const { readNrrd } = await import('./nrrd.js');
      return { volume: await readNrrd(specification, { allowExternalData: options.allowExternalData }), format };
    }
    case 'metaimage': {
      const { readMetaImage } = await import('./metaimage.js');
      return { volume: await readMetaImage(specification, { allowExternalData: options.allowExternalData }), format };
    }
    case 'dicom': {
      const { readDicomSeries } = await import('./dicom.js');
      const dicom = await readDicomSeries(specification, { seriesInstanceUid: options.seriesInstanceUid });
      return { volume: dicom.volume, format, dicom };
    }
  }
}

/** Loads a CT volume; see {@link loadVolumeWithReport}. */
export async function loadVolume(specification: string, options: VolumeLoadOptions = {}): Promise<Volume> {
  return (await loadVolumeWithReport(specification, options)).volume;
}
