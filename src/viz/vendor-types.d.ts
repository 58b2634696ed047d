/**
 * Minimal type declarations for the parts of two untyped packages that src/viz uses:
 * gifenc (GIF encoding, MIT) and node-webpmux (WebP muxing around a bundled libwebp WebAssembly
 * build, LGPL-3.0-or-later).
 */

declare module 'gifenc' {
  /** A colour table: [r, g, b] (or [r, g, b, a]) entries, at most 256. */
  export type GifPalette = number[][];

  /** Per-frame options of `writeFrame`. */
  export interface GifFrameOptions {
    palette?: GifPalette;
    /** Frame delay in milliseconds (stored in hundredths of a second). */
    delay?: number;
    /** NETSCAPE2.0 repeat count on the first frame: 0 = forever, -1 = no loop block (play once). */
    repeat?: number;
    transparent?: boolean;
    transparentIndex?: number;
    dispose?: number;
    first?: boolean;
    colorDepth?: number;
  }

  /** A GIF byte stream being written. */
  export interface GifEncoderStream {
    writeFrame(index: Uint8Array, width: number, height: number, options?: GifFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
    bytesView(): Uint8Array;
    reset(): void;
  }

  export function GIFEncoder(options?: { auto?: boolean; initialCapacity?: number }): GifEncoderStream;
  export function quantize(
    rgba: Uint8Array | Uint8ClampedArray,
    maxColors: number,
    options?: { format?: 'rgb565' | 'rgb444' | 'rgba4444'; oneBitAlpha?: boolean | number; clearAlpha?: boolean },
  ): GifPalette;
  export function applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: GifPalette, format?: 'rgb565' | 'rgb444' | 'rgba4444'): Uint8Array;

  /** Node's CommonJS interop exposes module.exports as the default export; the ESM build, GIFEncoder. */
  const defaultExport: unknown;
  export default defaultExport;
}

declare module 'node-webpmux' {
  /** Encoder settings of `setImageData` / `setFrameData`. */
  export interface WebpEncodeOptions {
    width?: number;
    height?: number;
    preset?: number;
    /** 0..100 (lossy quality, or lossless effort). */
    quality?: number;
    exact?: boolean;
    /** 0 = lossy; 1..9 = lossless preset (higher is smaller and slower). */
    lossless?: number;
    /** 0..6, higher is smaller and slower. */
    method?: number;
  }

  /** One frame description for `Image.save(null, { frames })`. */
  export interface WebpFrameSpec {
    img?: WebpImage;
    buffer?: Uint8Array;
    path?: string;
    x?: number;
    y?: number;
    delay?: number;
    blend?: boolean;
    dispose?: boolean;
  }

  /** Options of `Image.save` for animations. */
  export interface WebpSaveOptions {
    width?: number;
    height?: number;
    frames?: WebpFrameSpec[];
    bgColor?: [number, number, number, number];
    loops?: number;
    delay?: number;
    blend?: boolean;
    dispose?: boolean;
  }

  /** A parsed frame of a loaded animation. */
  export interface WebpLoadedFrame {
    width: number;
    height: number;
    x: number;
    y: number;
    delay: number;
  }

  export class WebpImage {
    readonly width: number;
    readonly height: number;
    readonly hasAnim: boolean;
    readonly frames: WebpLoadedFrame[] | undefined;
    readonly anim: { loops: number; bgColor: number[]; frames: WebpLoadedFrame[] } | undefined;
    load(source: string | Uint8Array): Promise<void>;
    setImageData(rgba: Uint8Array, options?: WebpEncodeOptions): Promise<number>;
    getImageData(): Promise<Uint8Array>;
    getFrameData(frameIndex: number): Promise<Uint8Array>;
    save(path: string | null, options?: WebpSaveOptions): Promise<Uint8Array | undefined>;
    static initLib(): Promise<void>;
    static getEmptyImage(extended?: boolean): Promise<WebpImage>;
    static save(path: string | null, options: WebpSaveOptions): Promise<Uint8Array | undefined>;
  }

  const webpmux: {
    Image: typeof WebpImage;
    encodeResults: { SUCCESS: number } & Record<string, number>;
    TYPE_LOSSY: number;
    TYPE_LOSSLESS: number;
    TYPE_EXTENDED: number;
  };
  export default webpmux;
}
