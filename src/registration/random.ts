/**
 * NumPy-compatible random numbers: the Mersenne Twister MT19937 seeded as NumPy's legacy
 * `np.random.seed(n)` seeds it (init_genrand), with `random_sample` (53-bit doubles) and
 * `uniform(low, high)`. With seed 39 it reproduces the tutorial's random initial pose exactly.
 */
export class NumpyRandom {
  private readonly state = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    const state = this.state;
    state[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const previous = state[i - 1] ^ (state[i - 1] >>> 30);
      // 1812433253 · previous + i, modulo 2³², without losing bits to float rounding.
      state[i] = (((((previous & 0xffff0000) >>> 16) * 1812433253) << 16) + (previous & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
  }

  /** The next 32-bit output of MT19937. */
  nextUint32(): number {
    const state = this.state;
    if (this.index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (state[i] & 0x80000000) | (state[(i + 1) % 624] & 0x7fffffff);
        state[i] = state[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (NumPy's random_sample / genrand_res53). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** low + (high − low)·random_sample(), as np.random.uniform. */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.randomSample();
  }
}

/** The tutorial's perturbation ranges around the true pose (radians and mm). */
export const TUTORIAL_PERTURBATION = {
  alpha: [-Math.PI / 4, Math.PI / 4],
  beta: [-Math.PI / 3, Math.PI / 3],
  gamma: [-Math.PI / 3, Math.PI / 3],
  translation: [-30, 31],
} as const;

/**
 * The tutorial's `get_initial_parameters`: the true ZYX Euler angles and translation plus
 * uniform perturbations (alpha ±π/4, beta ±π/3, gamma ±π/3, each translation −30…+31 mm),
 * drawn in that order from `random`.
 */
export function tutorialInitialPose(
  trueRotation: ArrayLike<number>,
  trueTranslation: ArrayLike<number>,
  random: NumpyRandom,
): { rotation: Float64Array; translation: Float64Array } {
  const p = TUTORIAL_PERTURBATION;
  const rotation = Float64Array.of(
    trueRotation[0] + random.uniform(p.alpha[0], p.alpha[1]),
    trueRotation[1] + random.uniform(p.beta[0], p.beta[1]),
    trueRotation[2] + random.uniform(p.gamma[0], p.gamma[1]),
  );
  const translation = Float64Array.of(
    trueTranslation[0] + random.uniform(p.translation[0], p.translation[1]),
    trueTranslation[1] + random.uniform(p.translation[0], p.translation[1]),
    trueTranslation[2] + random.uniform(p.translation[0], p.translation[1]),
  );
  return { rotation, translation };
}
