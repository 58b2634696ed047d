import { DrrkitError } from '../errors.js';
import { loadExampleCT } from '../volume/example-ct.js';
import type { Volume } from '../volume/volume.js';
import { readNifti } from './nifti.js';

/** The volume file formats drrkit reads, by file-name ending. */
export const VOLUME_EXTENSIONS = ['.nii', '.nii.gz'];

/**
 * Loads a CT: `'example'` gives the built-in procedural chest CT; otherwise the file's format
 * is chosen by its name. Throws a DrrkitError naming the file when it cannot be read.
 */
export async function loadVolume(specification: string): Promise<Volume> {
  if (specification === 'example') return loadExampleCT();
  const lower = specification.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return readNifti(specification);
  throw new DrrkitError(
    `${specification}: unsupported volume format; drrkit reads ${VOLUME_EXTENSIONS.join(', ')} files or "example"`,
    specification,
  );
}
