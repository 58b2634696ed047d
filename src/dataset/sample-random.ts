/**
 * Per-sample random streams: the numbers of sample `id` depend only on (seed, id), so a dataset
 * split into shards, processes or machines in any way draws bit-identical samples.
 *
 * The stream is xoshiro128** (Blackman & Vigna), its 128-bit state filled by SplitMix32 from a
 * hash of the seed and the sample id; doubles take 53 bits from two outputs.
 */
import { DrrkitError } from '../errors.js';

/** SplitMix32's output function (a bijective 32-bit mixer). */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Checks that a number is a whole number in 0 … 2⁵³ − 1. */
function wholeNumber(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new DrrkitError(`${what} must be a whole number ≥ 0, got ${value}`, what);
  return value;
}

/** The random stream of one sample. */
export class SampleRandom {
  readonly #state = new Uint32Array(4);

  constructor(seed: number, id: number) {
    wholeNumber(seed, 'seed');
    wholeNumber(id, 'sample id');
    const words = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, id >>> 0, Math.floor(id / 2 ** 32) >>> 0];
    let counter = 0x9e3779b9;
    for (const word of words) counter = mix32(counter ^ word) + 0x9e3779b9;
    for (let index = 0; index < 4; index++) {
      counter = (counter + 0x9e3779b9) >>> 0;
      this.#state[index] = mix32(counter ^ mix32(words[index] + index));
    }
    if (this.#state.every((word) => word === 0)) this.#state[0] = 1;
  }

  /** The next 32-bit output. */
  nextUint32(): number {
    const s = this.#state;
    const result = Math.imul(rotateLeft(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotateLeft(s[3], 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits. */
  random(): number {
    const high = this.nextUint32() >>> 5, low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A double in [low, high) (exactly `low` when low = high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}
