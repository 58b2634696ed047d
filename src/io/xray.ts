/**
 * Real X-ray images: PNG, TIFF (8/16-bit, float), JPEG and DICOM X-ray objects (DX, CR, XA, RF,
 * multi-frame included), the C-arm geometry a DICOM carries, and the preprocessing real images
 * need before they can be compared with a DRR.
 *
 * **Geometry from DICOM** (`xrayGeometryFromDicom`), in drrkit's world geometry
 * (src/geometry/world-camera.ts; world = RAS mm, origin at the CT centre):
 * - detector: Rows × Columns; pixel size from ImagerPixelSpacing (0018,1164) — [between rows,
 *   between columns] → dely, delx — else PixelSpacing (0028,0030); sdd from
 *   DistanceSourceToDetector (0018,1110); principal point at the detector centre.
 * - pose: the C-arm angles of DICOM PS3.3 C.8.7.5: PositionerPrimaryAngle θ (0018,1510; +90° =
 *   LAO, the detector on the patient's left) and PositionerSecondaryAngle φ (0018,1511; +90° =
 *   cranial), both 0 when the detector is in front of the patient's chest. The detector direction
 *   from the isocentre is then d = Rz(θ)·Rx(φ)·(0, 1, 0) in RAS, the source sits at −sod·d with
 *   sod = DistanceSourceToPatient (0018,1111), the isocentre is taken to be the CT centre. With
 *   the 'PA' orientation this is exactly the pose R = Rz(θ)·Rx(φ) — ZYX Euler angles (θ, 0, φ) —
 *   and t = (0, −sod, 0). Multi-frame runs add PositionerPrimary/SecondaryAngleIncrement
 *   (0018,1520/1521) per frame.
 * - image axes: PatientOrientation (0020,0020) says where rows and columns point; without it the
 *   radiological display convention is assumed (the patient's right on the image's left at 0°,
 *   head at the top). Columns running the other way set `reverseXAxis`; rows running feet → head
 *   make the loader flip the image upside down.
 * Every value that was not in the file is listed in `assumed`, every one that was in `found`.
 */
import { DrrkitError } from '../errors.js';
import { describeRange, inRange, PHYSICAL_RANGES, requirePlausibleVoxelValues, type Range } from '../validation.js';
import type { RigidTransform } from '../geometry/rigid-transform.js';
import { multiplyMatrix3, type Matrix3 } from '../geometry/matrix3.js';
import { orientationMatrix, poseFromCameraToWorld, type Orientation, type WorldDetectorOptions } from '../geometry/world-camera.js';
import { decodeDicomFrames, dicomNumber, dicomNumbers, dicomString, DICOM_TAGS, hasDicomPreamble, parseDicomFile, pixelLayout, type DicomFile } from './dicom.js';
import { transferSyntaxName } from './dicom-codecs.js';
import { decodeImage, validateImage, type Image2D } from './image.js';
import { checkDeclaredImageSize } from './image-dimensions.js';
import { checkImagePixels, readerLimits } from './limits.js';

/** Preprocessing of a real X-ray, applied in this order: frame, crop, collimator mask, log, invert, resize, normalise. */
export interface XrayPreprocessing {
  /** Frame of a multi-frame DICOM (default 0). */
  frame?: number;
  /** Keep rows [top, top + height) and columns [left, left + width). */
  crop?: { top: number; left: number; height: number; width: number };
  /**
   * Mask the collimator: 'auto' finds near-constant bands along the borders (at most 40% of a side
   * each); margins in pixels mask fixed bands. Masked pixels get the smallest unmasked value and
   * are 0 in `mask`.
   */
  collimator?: 'auto' | { top?: number; bottom?: number; left?: number; right?: number };
  /** Log transform: v ↦ −ln(max(v, ε)/I0) with I0 = `logIncidentIntensity` (default: the largest value); turns raw intensities into line integrals. */
  log?: boolean;
  /** I0 of the log transform (default: the image maximum). */
  logIncidentIntensity?: number;
  /** Invert: v ↦ max + min − v. */
  invert?: boolean;
  /** Resample (area-weighted) to this size. */
  resize?: { height: number; width: number };
  /** Rescale to [0, 1] at the end. */
  normalize?: boolean;
}

/** C-arm geometry derived from a DICOM X-ray. */
export interface XrayGeometry {
  /** World-detector options (sdd, size, pixel spacing, principal point, mirroring, orientation 'PA'). */
  detector: WorldDetectorOptions & { delx: number; dely: number; width: number };
  /** Camera → world (RAS, origin at the isocentre) of the frame. */
  cameraToWorld: RigidTransform;
  /** The world-geometry pose (R, t) with orientation 'PA' (see world-camera.ts). */
  pose: RigidTransform;
  /** The same pose as ZYX Euler angles in radians (θ, 0, φ) and translation in mm. */
  poseParameters: { rotation: Float64Array; translation: Float64Array };
  /** Positioner angles used, degrees. */
  primaryAngle: number;
  /** See `primaryAngle`. */
  secondaryAngle: number;
  /** Source-to-isocentre distance used, mm. */
  sourceToIsocenter: number;
  /** The image must be flipped upside down to match the geometry (rows ran feet → head). */
  flipRows: boolean;
  /** "name = value (tag)" for every value read from the file. */
  found: string[];
  /** What had to be assumed, in words. */
  assumed: string[];
}

/** A loaded X-ray: the image after preprocessing, its validity mask, and (for DICOM) its geometry. */
export interface LoadedXray {
  /** The image, row-major float32. */
  image: Image2D;
  /** 1 where the pixel is usable, 0 where the collimator was masked (all 1 without masking). */
  mask: Uint8Array;
  /** The file. */
  source: string;
  /** 'png', 'tiff', 'jpeg' or 'dicom'. */
  format: 'png' | 'tiff' | 'jpeg' | 'dicom';
  /** Frames in the file (1 except multi-frame DICOM). */
  frameCount: number;
  /** Geometry from DICOM, adjusted to the preprocessing (crop, resize, flips); undefined for other formats. */
  geometry?: XrayGeometry;
  /** What the loader did, in words (MONOCHROME1 inversion, flips, collimator bands, …). */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Geometry

/** Rz(a)·Rx(b), row-major. */
function rzRx(a: number, b: number): Matrix3 {
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b);
  return Float64Array.of(ca, -sa * cb, sa * sb, sa, ca * cb, -ca * sb, 0, sb, cb);
}

/** A patient-direction string ("L", "PF", …, DICOM letters in LPS) → RAS unit vector, or null. */
function patientDirection(text: string | undefined): number[] | null {
  if (!text) return null;
  const vector = [0, 0, 0];
  for (const letter of text.toUpperCase()) {
    switch (letter) {
      case 'L': vector[0] -= 1; break; // LPS +x = left = RAS −x
      case 'R': vector[0] += 1; break;
      case 'P': vector[1] -= 1; break;
      case 'A': vector[1] += 1; break;
      case 'H': vector[2] += 1; break;
      case 'F': vector[2] -= 1; break;
      default: return null;
    }
  }
  const length = Math.hypot(vector[0], vector[1], vector[2]);
  return length > 0 ? vector.map((value) => value / length) : null;
}

/** C-arm angles in degrees: one turn either way. */
const ANGLE_DEGREES: Range = { min: -360, max: 360, unit: '°' };

/** `value` when it lies in `range`; otherwise undefined, noting in `assumed` that an implausible tag was ignored. */
function plausible(value: number | undefined, range: Range, tag: string, assumed: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (inRange(value, range)) return value;
  assumed.push(`${tag} = ${value} is ignored: it must be ${describeRange(range)}`);
  return undefined;
}

/**
 * The C-arm geometry of a DICOM X-ray frame; see the module comment. Never throws for missing
 * geometry tags: it assumes and says so in `assumed`.
 */
export function xrayGeometryFromDicom(file: DicomFile, frame = 0): XrayGeometry {
  const found: string[] = [];
  const assumed: string[] = [];
  const layout = pixelLayout(file);
  const modality = dicomString(file, DICOM_TAGS.modality) ?? '';
  const carm = modality === 'XA' || modality === 'RF';
  found.push(`Modality = ${modality || '(none)'}`, `Rows × Columns = ${layout.rows} × ${layout.columns}`);

  let spacing = dicomNumbers(file, DICOM_TAGS.imagerPixelSpacing);
  if (spacing.length === 2 && spacing.every((value) => inRange(value, PHYSICAL_RANGES.pixelSizeMm))) {
    found.push(`ImagerPixelSpacing = ${spacing.join(' \\ ')} mm (0018,1164)`);
  } else {
    spacing = dicomNumbers(file, DICOM_TAGS.pixelSpacing);
    if (spacing.length === 2 && spacing.every((value) => inRange(value, PHYSICAL_RANGES.pixelSizeMm))) {
      found.push(`PixelSpacing = ${spacing.join(' \\ ')} mm (0028,0030)`);
      assumed.push('PixelSpacing (0028,0030) is taken as the spacing at the detector (ImagerPixelSpacing is absent)');
    } else {
      spacing = [1, 1];
      assumed.push('pixel spacing 1 mm × 1 mm (neither ImagerPixelSpacing nor PixelSpacing is present)');
    }
  }
  let sdd = plausible(dicomNumber(file, DICOM_TAGS.distanceSourceToDetector), PHYSICAL_RANGES.distanceMm, 'DistanceSourceToDetector (0018,1110)', assumed);
  if (sdd !== undefined) {
    found.push(`DistanceSourceToDetector = ${sdd} mm (0018,1110)`);
  } else {
    sdd = carm ? 1000 : 1800;
    assumed.push(`source-to-detector distance ${sdd} mm (DistanceSourceToDetector is absent; a typical ${carm ? 'C-arm' : 'radiography'} value)`);
  }
  let sod = plausible(dicomNumber(file, DICOM_TAGS.distanceSourceToPatient), { ...PHYSICAL_RANGES.distanceMm, max: sdd }, 'DistanceSourceToPatient (0018,1111)', assumed);
  if (sod !== undefined) {
    found.push(`DistanceSourceToPatient = ${sod} mm (0018,1111)`);
  } else {
    const magnification = plausible(dicomNumber(file, DICOM_TAGS.estimatedMagnification), { min: 1, max: 100 }, 'EstimatedRadiographicMagnificationFactor (0018,1114)', assumed);
    if (magnification !== undefined) {
      sod = sdd / magnification;
      found.push(`EstimatedRadiographicMagnificationFactor = ${magnification} (0018,1114)`);
      assumed.push(`source-to-isocentre distance ${sod.toFixed(1)} mm = sdd / magnification (DistanceSourceToPatient is absent)`);
    } else {
      sod = 0.75 * sdd;
      assumed.push(`source-to-isocentre distance ${sod.toFixed(1)} mm = 0.75 × sdd (DistanceSourceToPatient is absent)`);
    }
  }
  let primary = plausible(dicomNumber(file, DICOM_TAGS.positionerPrimaryAngle), ANGLE_DEGREES, 'PositionerPrimaryAngle (0018,1510)', assumed);
  let secondary = plausible(dicomNumber(file, DICOM_TAGS.positionerSecondaryAngle), ANGLE_DEGREES, 'PositionerSecondaryAngle (0018,1511)', assumed);
  if (primary !== undefined) found.push(`PositionerPrimaryAngle = ${primary}° (0018,1510)`);
  if (secondary !== undefined) found.push(`PositionerSecondaryAngle = ${secondary}° (0018,1511)`);
  if (primary === undefined) {
    const view = (dicomString(file, DICOM_TAGS.viewPosition) ?? '').toUpperCase();
    const byView: Record<string, number> = { PA: 0, AP: 180, LL: 90, LLAT: 90, RL: -90, RLAT: -90 };
    if (view in byView) {
      primary = byView[view];
      found.push(`ViewPosition = ${view} (0018,5101)`);
      assumed.push(`primary angle ${primary}° from ViewPosition ${view} (PositionerPrimaryAngle is absent)`);
    } else {
      primary = 0;
      assumed.push('primary angle 0° (detector in front of the chest; no PositionerPrimaryAngle or ViewPosition)');
    }
  }
  if (secondary === undefined) {
    secondary = 0;
    assumed.push('secondary angle 0° (PositionerSecondaryAngle is absent)');
  }
  if (layout.frames > 1) {
    const primaryIncrements = dicomNumbers(file, DICOM_TAGS.positionerPrimaryAngleIncrement);
    const secondaryIncrements = dicomNumbers(file, DICOM_TAGS.positionerSecondaryAngleIncrement);
    if (primaryIncrements.length === layout.frames && inRange(primaryIncrements[frame], ANGLE_DEGREES)) {
      primary += primaryIncrements[frame];
      found.push(`PositionerPrimaryAngleIncrement[${frame}] = ${primaryIncrements[frame]}° (0018,1520)`);
    }
    if (secondaryIncrements.length === layout.frames && inRange(secondaryIncrements[frame], ANGLE_DEGREES)) {
      secondary += secondaryIncrements[frame];
      found.push(`PositionerSecondaryAngleIncrement[${frame}] = ${secondaryIncrements[frame]}° (0018,1521)`);
    }
  }
  assumed.push('the isocentre (centre of rotation) is the CT centre');
  assumed.push('the principal point is the detector centre');

  const theta = (primary * Math.PI) / 180, phi = (secondary * Math.PI) / 180;
  const carmRotation = rzRx(theta, phi);
  const cameraRotation = multiplyMatrix3(carmRotation, orientationMatrix('PA'));
  const detectorDirection = [carmRotation[1], carmRotation[4], carmRotation[7]]; // Rz·Rx·(0, 1, 0)
  const cameraToWorld: RigidTransform = {
    rotation: cameraRotation,
    translation: Float64Array.of(-sod * detectorDirection[0], -sod * detectorDirection[1], -sod * detectorDirection[2]),
  };

  // Image axes.
  const cameraX = [cameraRotation[0], cameraRotation[3], cameraRotation[6]];
  const cameraY = [cameraRotation[1], cameraRotation[4], cameraRotation[7]];
  const orientationText = dicomString(file, DICOM_TAGS.patientOrientation, 0);
  const columnsToward = patientDirection(orientationText);
  const rowsToward = patientDirection(dicomString(file, DICOM_TAGS.patientOrientation, 1));
  let reverseXAxis = true;
  let flipRows = false;
  if (columnsToward) {
    found.push(`PatientOrientation = ${orientationText}\\${dicomString(file, DICOM_TAGS.patientOrientation, 1) ?? ''} (0020,0020)`);
    const dot = columnsToward[0] * cameraX[0] + columnsToward[1] * cameraX[1] + columnsToward[2] * cameraX[2];
    reverseXAxis = dot < 0;
    if (rowsToward) flipRows = rowsToward[0] * cameraY[0] + rowsToward[1] * cameraY[1] + rowsToward[2] * cameraY[2] < 0;
  } else {
    assumed.push("image axes in the radiological display convention (the patient's right on the image's left at 0°, head at the top): PatientOrientation is absent");
  }

  const pose = poseFromCameraToWorld({ orientation: 'PA' }, cameraToWorld);
  return {
    detector: {
      sdd,
      height: layout.rows,
      width: layout.columns,
      delx: spacing[1],
      dely: spacing[0],
      x0: 0,
      y0: 0,
      reverseXAxis,
      orientation: 'PA' as Orientation,
    },
    cameraToWorld,
    pose,
    poseParameters: { rotation: Float64Array.of(theta, 0, phi), translation: Float64Array.of(0, -sod, 0) },
    primaryAngle: primary,
    secondaryAngle: secondary,
    sourceToIsocenter: sod,
    flipRows,
    found,
    assumed,
  };
}

/**
 * Adjusts a detector for preprocessing: a crop moves the principal point (x0, y0 keep it at the
 * same physical spot) and shrinks the detector; a resize scales the pixel size.
 */
export function adjustDetectorForPreprocessing<T extends { height: number; width: number; delx: number; dely: number; x0?: number; y0?: number }>(
  detector: T,
  crop?: XrayPreprocessing['crop'],
  resize?: XrayPreprocessing['resize'],
): T {
  let { height, width, delx, dely } = detector;
  let u0 = width / 2 - (detector.x0 ?? 0) / delx;
  let v0 = height / 2 - (detector.y0 ?? 0) / dely;
  if (crop) {
    u0 -= crop.left;
    v0 -= crop.top;
    height = crop.height;
    width = crop.width;
  }
  if (resize) {
    const scaleX = resize.width / width, scaleY = resize.height / height;
    u0 *= scaleX;
    v0 *= scaleY;
    delx /= scaleX;
    dely /= scaleY;
    height = resize.height;
    width = resize.width;
  }
  return { ...detector, height, width, delx, dely, x0: delx * (width / 2 - u0), y0: dely * (height / 2 - v0) };
}

// ---------------------------------------------------------------------------------------------
// Preprocessing

/** Crops an image (throws a DrrkitError when the rectangle leaves the image). */
export function cropImage(image: Image2D, crop: NonNullable<XrayPreprocessing['crop']>, source = 'image'): Image2D {
  const { top, left, height, width } = crop;
  if (![top, left, height, width].every(Number.isInteger) || top < 0 || left < 0 || height < 1 || width < 1 || top + height > image.height || left + width > image.width) {
    throw new DrrkitError(`${source}: crop ${top},${left},${height},${width} (top, left, height, width) does not fit the ${image.height}×${image.width} image`, source);
  }
  const data = new Float32Array(height * width);
  for (let row = 0; row < height; row++) data.set(image.data.subarray((top + row) * image.width + left, (top + row) * image.width + left + width), row * width);
  return { data, height, width };
}

/** Resamples an image to height × width by exact area overlap (averaging when shrinking). */
export function resizeImage(image: Image2D, height: number, width: number): Image2D {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new DrrkitError(`resize: ${height}×${width} is not a valid image size`, 'resize');
  }
  const weights = (inputSize: number, outputSize: number): { start: number; weights: number[] }[] => {
    const scale = inputSize / outputSize;
    return Array.from({ length: outputSize }, (_, index) => {
      const low = index * scale, high = (index + 1) * scale;
      const start = Math.floor(low);
      const list: number[] = [];
      for (let input = start; input < Math.min(inputSize, Math.ceil(high)); input++) list.push(Math.min(high, input + 1) - Math.max(low, input));
      const total = list.reduce((sum, value) => sum + value, 0);
      return { start, weights: list.map((value) => value / total) };
    });
  };
  const rowWeights = weights(image.height, height), columnWeights = weights(image.width, width);
  const intermediate = new Float32Array(image.height * width);
  for (let row = 0; row < image.height; row++) {
    for (let column = 0; column < width; column++) {
      const { start, weights: list } = columnWeights[column];
      let total = 0;
      for (let k = 0; k < list.length; k++) total += list[k] * image.data[row * image.width + start + k];
      intermediate[row * width + column] = total;
    }
  }
  const data = new Float32Array(height * width);
  for (let row = 0; row < height; row++) {
    const { start, weights: list } = rowWeights[row];
    for (let column = 0; column < width; column++) {
      let total = 0;
      for (let k = 0; k < list.length; k++) total += list[k] * intermediate[(start + k) * width + column];
      data[row * width + column] = total;
    }
  }
  return { data, height, width };
}

/** Finds near-constant bands along the four borders (collimator shadows); margins in pixels. */
export function detectCollimator(image: Image2D): { top: number; bottom: number; left: number; right: number } {
  let min = Infinity, max = -Infinity;
  for (const value of image.data) { if (value < min) min = value; if (value > max) max = value; }
  const tolerance = 0.02 * (max - min);
  const lineIsFlat = (values: (index: number) => number, count: number): boolean => {
    let sum = 0, sumSquares = 0;
    for (let index = 0; index < count; index++) { const value = values(index); sum += value; sumSquares += value * value; }
    const mean = sum / count;
    return Math.sqrt(Math.max(0, sumSquares / count - mean * mean)) <= tolerance;
  };
  const { height, width, data } = image;
  const limitRows = Math.floor(0.4 * height), limitColumns = Math.floor(0.4 * width);
  let top = 0, bottom = 0, left = 0, right = 0;
  while (top < limitRows && lineIsFlat((c) => data[top * width + c], width)) top++;
  while (bottom < limitRows && lineIsFlat((c) => data[(height - 1 - bottom) * width + c], width)) bottom++;
  while (left < limitColumns && lineIsFlat((r) => data[r * width + left], height)) left++;
  while (right < limitColumns && lineIsFlat((r) => data[r * width + width - 1 - right], height)) right++;
  return { top, bottom, left, right };
}

/** Applies {@link XrayPreprocessing} (except frame selection) to an image; returns the new image, its mask and notes. */
export function preprocessXray(input: Image2D, options: XrayPreprocessing, source = 'image'): { image: Image2D; mask: Uint8Array; notes: string[] } {
  const notes: string[] = [];
  let image: Image2D = { data: Float32Array.from(input.data), height: input.height, width: input.width };
  if (options.crop) {
    image = cropImage(image, options.crop, source);
    notes.push(`cropped to rows ${options.crop.top}…${options.crop.top + options.crop.height - 1}, columns ${options.crop.left}…${options.crop.left + options.crop.width - 1}`);
  }
  let mask = new Uint8Array(image.height * image.width).fill(1);
  if (options.collimator) {
    const margins = options.collimator === 'auto' ? detectCollimator(image) : { top: 0, bottom: 0, left: 0, right: 0, ...options.collimator };
    for (const [side, value] of Object.entries(margins)) {
      if (!Number.isInteger(value) || value < 0) throw new DrrkitError(`${source}: collimator margin ${side} must be a whole number of pixels ≥ 0, got ${value}`, source);
    }
    if (margins.top + margins.bottom >= image.height || margins.left + margins.right >= image.width) {
      throw new DrrkitError(`${source}: the collimator margins ${JSON.stringify(margins)} leave no pixel of the ${image.height}×${image.width} image`, source);
    }
    for (let row = 0; row < image.height; row++) {
      for (let column = 0; column < image.width; column++) {
        if (row < margins.top || row >= image.height - margins.bottom || column < margins.left || column >= image.width - margins.right) mask[row * image.width + column] = 0;
      }
    }
    notes.push(`collimator masked (${options.collimator === 'auto' ? 'found' : 'given'}): top ${margins.top}, bottom ${margins.bottom}, left ${margins.left}, right ${margins.right} pixels`);
  }
  const range = (): { min: number; max: number } => {
    let min = Infinity, max = -Infinity;
    image.data.forEach((value, index) => { if (mask[index]) { if (value < min) min = value; if (value > max) max = value; } });
    return { min, max };
  };
  if (options.log) {
    const incident = options.logIncidentIntensity ?? range().max;
    if (!(incident > 0)) throw new DrrkitError(`${source}: the log transform needs a positive incident intensity, got ${incident}`, source);
    const floor = incident * 1e-6;
    for (let index = 0; index < image.data.length; index++) image.data[index] = -Math.log(Math.max(image.data[index], floor) / incident);
    notes.push(`log transform −ln(v / ${incident.toPrecision(6)})`);
  }
  if (options.invert) {
    const { min, max } = range();
    for (let index = 0; index < image.data.length; index++) image.data[index] = max + min - image.data[index];
    notes.push('inverted');
  }
  if (options.collimator) {
    const { min } = range();
    for (let index = 0; index < image.data.length; index++) if (!mask[index]) image.data[index] = min;
  }
  if (options.resize) {
    const before = image;
    image = resizeImage(before, options.resize.height, options.resize.width);
    const maskImage = resizeImage({ data: Float32Array.from(mask), height: before.height, width: before.width }, options.resize.height, options.resize.width);
    mask = Uint8Array.from(maskImage.data, (value) => (value > 0.999 ? 1 : 0));
    notes.push(`resized to ${options.resize.height}×${options.resize.width}`);
  }
  if (options.normalize) {
    const { min, max } = range();
    const span = max - min;
    for (let index = 0; index < image.data.length; index++) image.data[index] = span > 0 ? (image.data[index] - min) / span : 0;
    notes.push('normalised to [0, 1]');
  }
  return { image: validateImage(image, source), mask, notes };
}

// ---------------------------------------------------------------------------------------------
// Loading

/** True when bytes start like a JPEG (FF D8 FF). */
function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes a JPEG file to gray values 0..255 (colour → Rec. 601 luma). */
async function decodeJpegFile(bytes: Uint8Array, source: string): Promise<Image2D> {
  checkDeclaredImageSize(bytes, source);
  const jpeg = (await import('jpeg-js')).default;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: readerLimits().maxImagePixels / 1e6, maxMemoryUsageInMB: 2048 });
  } catch (error) {
    throw new DrrkitError(`${source}: corrupt or unsupported JPEG (${error instanceof Error ? error.message : String(error)})`, source);
  }
  const count = decoded.width * decoded.height;
  const channels = decoded.data.length / count;
  const data = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    data[index] = channels >= 3
      ? 0.299 * decoded.data[index * channels] + 0.587 * decoded.data[index * channels + 1] + 0.114 * decoded.data[index * channels + 2]
      : decoded.data[index * channels];
  }
  return { data, height: decoded.height, width: decoded.width };
}

/**
 * Decodes an X-ray held in memory: PNG, TIFF, JPEG or DICOM (by magic bytes), applies the
 * preprocessing, and for DICOM derives the geometry (adjusted to the crop, resize and flips).
 * MONOCHROME1 DICOM images are inverted so that, as in MONOCHROME2 and in a DRR, attenuating
 * structures are bright. Throws a DrrkitError naming `source` for anything it cannot read.
 */
export async function decodeXray(bytes: Uint8Array, source: string, options: XrayPreprocessing = {}): Promise<LoadedXray> {
  const notes: string[] = [];
  let image: Image2D;
  let format: LoadedXray['format'];
  let frameCount = 1;
  let geometry: XrayGeometry | undefined;
  if (hasDicomPreamble(bytes)) {
    format = 'dicom';
    const file = parseDicomFile(bytes, source);
    const layout = pixelLayout(file);
    checkImagePixels(layout.rows, layout.columns, source, (message) => { throw new DrrkitError(message, source); });
    frameCount = layout.frames;
    const frame = options.frame ?? 0;
    if (!Number.isInteger(frame) || frame < 0 || frame >= frameCount) {
      throw new DrrkitError(`${source}: frame ${frame} does not exist; the file has ${frameCount} frame(s) (0…${frameCount - 1})`, source);
    }
    const [pixels] = decodeDicomFrames(file, layout, [frame]);
    image = { data: pixels, height: layout.rows, width: layout.columns };
    notes.push(`DICOM ${dicomString(file, DICOM_TAGS.modality) ?? '?'} image, ${transferSyntaxName(file.transferSyntaxUid)}, frame ${frame} of ${frameCount}`);
    if (layout.photometricInterpretation === 'MONOCHROME1') {
      let min = Infinity, max = -Infinity;
      for (const value of pixels) { if (value < min) min = value; if (value > max) max = value; }
      for (let index = 0; index < pixels.length; index++) pixels[index] = max + min - pixels[index];
      notes.push('MONOCHROME1: inverted so that attenuating structures are bright');
    }
    geometry = xrayGeometryFromDicom(file, frame);
    if (geometry.flipRows) {
      const flipped = new Float32Array(pixels.length);
      for (let row = 0; row < image.height; row++) flipped.set(pixels.subarray(row * image.width, (row + 1) * image.width), (image.height - 1 - row) * image.width);
      image = { ...image, data: flipped };
      notes.push('flipped upside down: PatientOrientation says the rows run feet → head');
    }
  } else if (isJpeg(bytes)) {
    format = 'jpeg';
    image = await decodeJpegFile(bytes, source);
  } else {
    image = decodeImage(bytes, source);
    format = bytes[0] === 0x89 ? 'png' : 'tiff';
  }
  if (format !== 'dicom' && options.frame !== undefined && options.frame !== 0) {
    throw new DrrkitError(`${source}: frame ${options.frame} does not exist; a ${format.toUpperCase()} X-ray has one frame (0)`, source);
  }
  requirePlausibleVoxelValues(image.data, source);
  const processed = preprocessXray(image, options, source);
  if (geometry) geometry.detector = adjustDetectorForPreprocessing(geometry.detector, options.crop, options.resize);
  return { image: processed.image, mask: processed.mask, source, format, frameCount, geometry, notes: [...notes, ...processed.notes] };
}

/** Reads an X-ray file; see {@link decodeXray}. */
export async function loadXray(path: string, options: XrayPreprocessing = {}): Promise<LoadedXray> {
  const { readFileBytes } = await import('./files.js');
  return decodeXray(await readFileBytes(path, 'X-ray image'), path, options);
}

/** Reads only the geometry of a DICOM X-ray (detector + initial pose); see {@link xrayGeometryFromDicom}. */
export async function readXrayGeometry(path: string, frame = 0): Promise<XrayGeometry> {
  const { readFileBytes } = await import('./files.js');
  const bytes = await readFileBytes(path, 'DICOM file');
  if (!hasDicomPreamble(bytes)) throw new DrrkitError(`${path}: not a DICOM file (no "DICM" marker), so it carries no C-arm geometry`, path);
  return xrayGeometryFromDicom(parseDicomFile(bytes, path), frame);
}
