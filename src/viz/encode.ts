/**
 * Still-image encoding of RGBA rasters (PNG via fast-png, pure JavaScript, browser-safe). For
 * writing the bytes to a file see `writeFileAtomic` in ../io/files.ts.
 */
import { encode as encodePngBytes } from 'fast-png';
import { validateRaster, type Raster } from './raster.js';

/** Encodes an RGBA raster as an 8-bit RGBA PNG. */
export function encodeRasterPng(raster: Raster): Uint8Array {
  validateRaster(raster);
  return encodePngBytes({ width: raster.width, height: raster.height, data: raster.data, depth: 8, channels: 4 });
}
