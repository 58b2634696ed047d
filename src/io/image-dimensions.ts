/**
 * An image's size read from its header alone — PNG IHDR, the TIFF image file directories, JPEG
 * start-of-frame markers — so that a decoder is never asked to allocate a picture whose header
 * claims more pixels than drrkit accepts (a 1 MB PNG can claim 30000 × 30000 pixels).
 */
import { DrrkitError } from '../errors.js';
import { checkImagePixels } from './limits.js';

/** The size an image header declares; `pages` only for TIFF (the number of directories read). */
export interface DeclaredSize {
  height: number;
  width: number;
}

/** PNG: width and height of the IHDR chunk (bytes 16–23), big-endian. */
function pngSize(bytes: Uint8Array): DeclaredSize | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** TIFF: ImageWidth/ImageLength of every image file directory (classic TIFF; at most 4096 directories). */
function tiffSizes(bytes: Uint8Array): DeclaredSize[] {
  if (bytes.length < 8) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  if (view.getUint16(2, little) !== 42) return [];
  const sizes: DeclaredSize[] = [];
  const seen = new Set<number>();
  let offset = view.getUint32(4, little);
  while (offset !== 0 && offset + 2 <= bytes.length && !seen.has(offset) && sizes.length < 4096) {
    seen.add(offset);
    const count = view.getUint16(offset, little);
    let width = 0, height = 0;
    for (let entry = 0; entry < count; entry++) {
      const at = offset + 2 + 12 * entry;
      if (at + 12 > bytes.length) break;
      const tag = view.getUint16(at, little), type = view.getUint16(at + 2, little);
      const value = type === 3 ? view.getUint16(at + 8, little) : view.getUint32(at + 8, little);
      if (tag === 256) width = value;
      if (tag === 257) height = value;
    }
    sizes.push({ width, height });
    const next = offset + 2 + 12 * count;
    offset = next + 4 <= bytes.length ? view.getUint32(next, little) : 0;
  }
  return sizes;
}

/** JPEG: the size in the first start-of-frame marker (SOF0–SOF15 except DHT, JPG and DAC). */
function jpegSize(bytes: Uint8Array): DeclaredSize | undefined {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) { at++; continue; }
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8] };
    }
    if (marker === 0xda || length < 2) return undefined;
    at += 2 + length;
  }
  return undefined;
}

/**
 * Throws a DrrkitError naming `source` when a PNG, TIFF (any page) or JPEG header declares more
 * pixels than the DRRKIT_MAX_IMAGE_PIXELS limit (64 million by default). Call before decoding.
 * Formats it does not recognise pass (their decoder reports them).
 */
export function checkDeclaredImageSize(bytes: Uint8Array, source: string): void {
  const fail = (message: string): never => { throw new DrrkitError(message, source); };
  let sizes: DeclaredSize[] = [];
  if (bytes[0] === 0x89 && bytes[1] === 0x50) sizes = [pngSize(bytes)].filter((size): size is DeclaredSize => size !== undefined);
  else if ((bytes[0] === 0x49 && bytes[1] === 0x49) || (bytes[0] === 0x4d && bytes[1] === 0x4d)) sizes = tiffSizes(bytes);
  else if (bytes[0] === 0xff && bytes[1] === 0xd8) sizes = [jpegSize(bytes)].filter((size): size is DeclaredSize => size !== undefined);
  for (const size of sizes) checkImagePixels(size.height, size.width, source, fail);
}
