import { Command } from 'commander';
import { DrrkitError } from '../errors.js';
import { volumeFrame } from '../geometry/world-frame.js';
import { DICOM_TAGS, dicomString, hasDicomPreamble, parseDicomFile } from '../io/dicom.js';
import { loadVolumeWithReport, type LoadedVolume } from '../io/load-volume.js';
import { decodeXray, type LoadedXray } from '../io/xray.js';
import { isPhantomName } from '../volume/phantoms.js';
import { volumeRange } from '../volume/volume.js';
import { parseInteger, type RawOptions } from './options.js';

/** Modalities read as projection X-rays rather than volumes. */
const XRAY_MODALITIES = new Set(['DX', 'CR', 'XA', 'RF', 'MG', 'PX', 'IO']);

/** A number for people: at most 6 significant digits, no "-0". */
function show(value: number): string {
  const rounded = Number(value.toPrecision(6));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/**
 * A hint when a volume's values do not look like Hounsfield units (air ≈ −1000, water 0, bone
 * several hundred), which the default density conversion (`--density diffdrr`) assumes.
 */
export function hounsfieldHint(min: number, max: number): string | undefined {
  if (min >= -1100 && min <= -500 && max >= 100 && max <= 5000) return undefined;
  if (min >= -3100 && min < -1100 && max >= 100 && max <= 32767) return undefined; // padding values (−2000, −3024) outside the field of view
  return `the values do not look like Hounsfield units (air ≈ −1000, water 0, bone > 300), which the default --density diffdrr assumes; use --density minmax or raw (or rescale the CT to HU)`;
}

/** The lines that describe a loaded volume. */
export function describeVolume(loaded: LoadedVolume): string[] {
  const { volume } = loaded;
  const lines = [
    `volume: ${volume.source} (${loaded.format})`,
    `  shape: ${volume.shape.join(' × ')} voxels`,
    `  spacing: ${volume.spacing.map(show).join(' × ')} mm`,
  ];
  const range = volumeRange(volume);
  lines.push(`  values: ${show(range.min)} … ${show(range.max)}`);
  const hint = hounsfieldHint(range.min, range.max);
  if (hint) lines.push(`  note: ${hint}`);
  lines.push('  affine (voxel index → RAS mm; drrkit stores every format in RAS):');
  for (let row = 0; row < 4; row++) lines.push(`    [${Array.from(volume.affine.subarray(4 * row, 4 * row + 4), show).join(', ')}]`);
  try {
    const frame = volumeFrame(volume.affine, volume.shape, volume.source);
    lines.push(`  orientation: voxel axes point ${frame.orientationCode} (RAS letters)${frame.oblique ? ', oblique' : ''}`);
    lines.push(`  centre (world origin of --geometry world): (${Array.from(frame.center, show).join(', ')}) mm RAS`);
  } catch (error) {
    lines.push(`  orientation: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (loaded.dicom) {
    const { dicom } = loaded;
    lines.push(`  DICOM series: ${dicom.series.seriesInstanceUid} (${dicom.series.modality}${dicom.series.description ? `, "${dicom.series.description}"` : ''}, ${dicom.series.imageCount} images), ${dicom.chosenBy === 'largest' ? 'chosen as the largest of the folder' : dicom.chosenBy === 'uid' ? 'as asked for' : 'the only series'}`);
    lines.push(`  transfer syntax: ${dicom.transferSyntax}`);
    for (const other of dicom.otherSeries) lines.push(`  also in the folder: ${other.seriesInstanceUid} (${other.modality}${other.description ? `, "${other.description}"` : ''}, ${other.imageCount} images) — read it with --series ${other.seriesInstanceUid}`);
    if (dicom.skippedFiles > 0) lines.push(`  skipped ${dicom.skippedFiles} file(s) that are not DICOM images`);
    for (const note of dicom.notes) lines.push(`  note: ${note}`);
  }
  return lines;
}

/** The lines that describe a loaded X-ray (and, for DICOM, its derived geometry). */
export function describeXray(xray: LoadedXray): string[] {
  let min = Infinity, max = -Infinity;
  for (const value of xray.image.data) { if (value < min) min = value; if (value > max) max = value; }
  const lines = [
    `X-ray: ${xray.source} (${xray.format})`,
    `  size: ${xray.image.height} rows × ${xray.image.width} columns${xray.frameCount > 1 ? `, ${xray.frameCount} frames` : ''}`,
    `  values: ${show(min)} … ${show(max)}`,
  ];
  for (const note of xray.notes) lines.push(`  ${note}`);
  const geometry = xray.geometry;
  if (!geometry) {
    lines.push('  geometry: none in this format; give the detector with --sdd, --height, --delx … and the pose with --rotation/--translation');
    return lines;
  }
  const d = geometry.detector;
  lines.push(
    '  detector (world geometry):',
    `    sdd ${show(d.sdd)} mm, ${d.height} × ${d.width} pixels, delx ${show(d.delx)} mm (along columns), dely ${show(d.dely)} mm (along rows), x0 ${show(d.x0 ?? 0)} mm, y0 ${show(d.y0 ?? 0)} mm${d.reverseXAxis ? ', columns mirrored (--reverse-x-axis)' : ''}`,
    '  pose:',
    `    primary angle ${show(geometry.primaryAngle)}° (LAO +), secondary angle ${show(geometry.secondaryAngle)}° (cranial +), source ${show(geometry.sourceToIsocenter)} mm from the isocentre`,
    `    source at (${Array.from(geometry.cameraToWorld.translation, show).join(', ')}) mm RAS, isocentre at the CT centre`,
    `    as drrkit parameters: --geometry world --orientation PA --rotation ${Array.from(geometry.poseParameters.rotation, show).join(',')} (ZYX Euler, radians) --translation ${Array.from(geometry.poseParameters.translation, show).join(',')}`,
    `    or simply: drrkit render --ct <CT> --xray-dicom ${xray.source} --out drr.tif`,
    '  found in the file:',
    ...geometry.found.map((line) => `    ${line}`),
    '  assumed:',
    ...(geometry.assumed.length > 0 ? geometry.assumed.map((line) => `    ${line}`) : ['    nothing']),
  );
  return lines;
}

/** True when a path is a 2-D image (PNG/TIFF/JPEG by magic bytes) or a DICOM projection X-ray. */
async function isXray(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  try {
    if ((await stat(path)).isDirectory()) return false;
  } catch {
    throw new DrrkitError(`${path}: file or folder not found`, path);
  }
  const { readFileBytes } = await import('../io/files.js');
  const bytes = await readFileBytes(path);
  // DICOM first: its 128-byte preamble may start like a TIFF ("II*\0", allowed by DICOM).
  if (hasDicomPreamble(bytes)) {
    const file = parseDicomFile(bytes, path);
    const modality = dicomString(file, DICOM_TAGS.modality) ?? '';
    return XRAY_MODALITIES.has(modality) || !file.dataSet.elements[DICOM_TAGS.imagePositionPatient];
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return true; // PNG
  if ((bytes[0] === 0x49 && bytes[1] === 0x49) || (bytes[0] === 0x4d && bytes[1] === 0x4d)) return true; // TIFF
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return true; // JPEG
  return false;
}

/** `drrkit inspect <file>`: what drrkit reads from a volume, a DICOM folder or an X-ray. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description('print what drrkit reads from a file: a volume\'s shape, spacing, affine, orientation and values; an X-ray\'s size and, for DICOM, the derived detector and pose with what was assumed')
    .argument('<file>', '"example", "head", "pelvis", a volume (.nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, DICOM file or folder) or an X-ray (PNG, TIFF, JPEG, DICOM)')
    .option('--series <uid>', 'DICOM folder: the SeriesInstanceUID to read (default: the largest series)')
    .option('--frame <index>', 'multi-frame DICOM X-ray: the frame (default 0)')
    .action(async (file: string, options: RawOptions) => {
      let lines: string[];
      if (file !== 'example' && !isPhantomName(file) && (await isXray(file))) {
        const frame = typeof options.frame === 'string' ? parseInteger(options.frame, '--frame') : 0;
        lines = describeXray(await decodeXray(await (await import('../io/files.js')).readFileBytes(file, 'X-ray image'), file, { frame }));
      } else {
        lines = describeVolume(await loadVolumeWithReport(file, { seriesInstanceUid: typeof options.series === 'string' ? options.series : undefined }));
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
