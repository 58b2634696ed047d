/**
 * Type declarations for the one class drrkit uses from `jpeg-lossless-decoder-js`, whose package
 * names a declaration file that it does not ship.
 */
declare module 'jpeg-lossless-decoder-js' {
  /** Decodes a JPEG lossless (ITU-T T.81 process 14) bitstream. */
  export class Decoder {
    constructor(buffer?: ArrayBuffer, numBytes?: number);
    /** Decodes `length` bytes of `buffer` from `offset`; samples of `numBytes` bytes (1 → Uint8Array, 2 → Uint16Array). */
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
