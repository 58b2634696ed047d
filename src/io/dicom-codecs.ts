/**
 * DICOM transfer syntaxes and pixel-data codecs.
 *
 * Read: implicit and explicit VR little endian, explicit VR big endian (retired), deflated
 * explicit VR little endian, RLE lossless (decoded here, PS3.5 annex G), JPEG lossless
 * (processes 14 and 14 SV1, via `jpeg-lossless-decoder-js`) and JPEG baseline 8-bit (process 1,
 * via `jpeg-js`). Refused with a message that names the syntax and a way out: JPEG extended
 * 12-bit, JPEG-LS, JPEG 2000, HTJ2K, MPEG/HEVC video and anything unknown.
 */
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import jpeg from 'jpeg-js';
import { DrrkitError } from '../errors.js';

/** How pixel data of a transfer syntax are stored. */
export type PixelEncoding = 'native' | 'rle' | 'jpeg-lossless' | 'jpeg-baseline';

/** A transfer syntax drrkit knows. */
export interface TransferSyntax {
  /** The UID. */
  readonly uid: string;
  /** Its name, for messages and `drrkit inspect`. */
  readonly name: string;
  /** How the pixel data are encoded, or null when drrkit cannot decode them. */
  readonly encoding: PixelEncoding | null;
  /** Native data byte order (big endian only for 1.2.840.10008.1.2.2). */
  readonly littleEndian: boolean;
}

const SYNTAXES: readonly TransferSyntax[] = [
  { uid: '1.2.840.10008.1.2', name: 'implicit VR little endian', encoding: 'native', littleEndian: true },
  { uid: '1.2.840.10008.1.2.1', name: 'explicit VR little endian', encoding: 'native', littleEndian: true },
  { uid: '1.2.840.10008.1.2.1.99', name: 'deflated explicit VR little endian', encoding: 'native', littleEndian: true },
  { uid: '1.2.840.10008.1.2.2', name: 'explicit VR big endian', encoding: 'native', littleEndian: false },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE lossless', encoding: 'rle', littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG lossless (process 14)', encoding: 'jpeg-lossless', littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.70', name: 'JPEG lossless SV1 (process 14, first-order prediction)', encoding: 'jpeg-lossless', littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG baseline (process 1, 8-bit)', encoding: 'jpeg-baseline', littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG extended (process 2 & 4, 12-bit)', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS lossless', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS near-lossless', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 lossless', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.201', name: 'HTJ2K lossless', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.202', name: 'HTJ2K lossless RPCL', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.203', name: 'HTJ2K', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.100', name: 'MPEG-2 video', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.102', name: 'MPEG-4 AVC/H.264 video', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.103', name: 'MPEG-4 AVC/H.264 BD video', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.104', name: 'MPEG-4 AVC/H.264 3D video', encoding: null, littleEndian: true },
  { uid: '1.2.840.10008.1.2.4.107', name: 'HEVC/H.265 video', encoding: null, littleEndian: true },
];

/** Every transfer syntax drrkit decodes (UID and name), for documentation and `--help`. */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly TransferSyntax[] = SYNTAXES.filter((syntax) => syntax.encoding !== null);

/**
 * Looks up a transfer syntax; throws a DrrkitError naming `source` and the syntax when its pixel
 * data cannot be decoded, with the usual tools to convert it.
 */
export function requireDecodableSyntax(uid: string, source: string): TransferSyntax {
  const syntax = SYNTAXES.find((candidate) => candidate.uid === uid);
  if (syntax?.encoding) return syntax;
  const name = syntax ? `${syntax.name} (${uid})` : `unknown transfer syntax ${uid}`;
  throw new DrrkitError(
    `${source}: pixel data in ${name} cannot be decoded by drrkit; convert the files to an uncompressed syntax first ` +
      '(for example `gdcmconv --raw in.dcm out.dcm` or `dcmdjpeg`/`dcmdjpls` from DCMTK)',
    source,
  );
}

/** The name of a transfer syntax UID (or "unknown"). */
export function transferSyntaxName(uid: string): string {
  return SYNTAXES.find((candidate) => candidate.uid === uid)?.name ?? 'unknown';
}

/**
 * Decodes one RLE-lossless frame (DICOM PS3.5 annex G) into native little-endian sample bytes:
 * `bytesPerSample` segments per sample, most significant byte first, each PackBits-coded.
 */
export function decodeRleFrame(frame: Uint8Array, pixelCount: number, bytesPerSample: number, samplesPerPixel: number, source: string): Uint8Array {
  if (frame.length < 64) throw new DrrkitError(`${source}: truncated RLE frame (${frame.length} bytes, shorter than its 64-byte header)`, source);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segmentCount = view.getUint32(0, true);
  const expected = bytesPerSample * samplesPerPixel;
  if (segmentCount !== expected) {
    throw new DrrkitError(`${source}: the RLE frame has ${segmentCount} segments but ${samplesPerPixel} sample(s) of ${bytesPerSample} byte(s) need ${expected}`, source);
  }
  const out = new Uint8Array(pixelCount * expected);
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = view.getUint32(4 + 4 * segment, true);
    const end = segment + 1 < segmentCount ? view.getUint32(8 + 4 * segment, true) : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start) {
      throw new DrrkitError(`${source}: corrupt RLE frame: segment ${segment} lies outside the frame`, source);
    }
    const sample = Math.floor(segment / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample); // most significant first → little endian
    const stride = expected;
    const base = sample * bytesPerSample + byteInSample;
    let written = 0;
    let position = start;
    while (position < end && written < pixelCount) {
      const header = frame[position++];
      const n = header > 127 ? header - 256 : header;
      if (n >= 0) {
        const count = n + 1;
        if (position + count > end) throw new DrrkitError(`${source}: truncated RLE segment ${segment}`, source);
        for (let index = 0; index < count && written < pixelCount; index++) out[base + stride * written++] = frame[position + index];
        position += count;
      } else if (n !== -128) {
        if (position >= end) throw new DrrkitError(`${source}: truncated RLE segment ${segment}`, source);
        const value = frame[position++];
        for (let index = 0; index < 1 - n && written < pixelCount; index++) out[base + stride * written++] = value;
      }
    }
    if (written < pixelCount) {
      throw new DrrkitError(`${source}: truncated RLE segment ${segment}: ${written} of ${pixelCount} pixels decoded`, source);
    }
  }
  return out;
}

/** Decodes a JPEG lossless frame to unsigned samples (8 or 16 bits). */
export function decodeJpegLosslessFrame(frame: Uint8Array, bytesPerSample: number, pixelCount: number, source: string): Uint8Array | Uint16Array {
  let decoded: Uint8Array | Uint16Array;
  try {
    const copy = frame.slice();
    decoded = new JpegLosslessDecoder().decode(copy.buffer, 0, copy.length, bytesPerSample) as Uint8Array | Uint16Array;
  } catch (error) {
    throw new DrrkitError(`${source}: corrupt JPEG-lossless pixel data (${error instanceof Error ? error.message : String(error)})`, source);
  }
  if (!decoded || decoded.length < pixelCount) {
    throw new DrrkitError(`${source}: the JPEG-lossless frame decodes to ${decoded?.length ?? 0} samples, expected ${pixelCount}`, source);
  }
  return decoded;
}

/** Decodes a JPEG baseline frame to 8-bit gray samples (colour frames are reduced to their first channel). */
export function decodeJpegBaselineFrame(frame: Uint8Array, pixelCount: number, source: string): Uint8Array {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(frame, { useTArray: true, formatAsRGBA: false, colorTransform: false });
  } catch (error) {
    throw new DrrkitError(`${source}: corrupt JPEG pixel data (${error instanceof Error ? error.message : String(error)})`, source);
  }
  const channels = decoded.data.length / (decoded.width * decoded.height);
  if (decoded.width * decoded.height !== pixelCount) {
    throw new DrrkitError(`${source}: the JPEG frame is ${decoded.width}×${decoded.height}, which does not match Rows × Columns`, source);
  }
  if (channels === 1) return decoded.data;
  const gray = new Uint8Array(pixelCount);
  for (let index = 0; index < pixelCount; index++) gray[index] = decoded.data[index * channels];
  return gray;
}
