/**
 * Image similarity scores (to maximise) with analytic gradients, and a factory by name.
 *
 *   ncc            global NCC, mean(f̂ m̂), x̂ = (x − μ)/sqrt(var + eps)
 *   local_ncc      mean over P × P patches of the patch NCC
 *   multiscale_ncc Σ_k w_k NCC_{P_k}   (default ½ global + ½ 13 × 13 patches)
 *   gradient_ncc   ½ (NCC of Sobel-x + NCC of Sobel-y) of the Gaussian-blurred images
 *   mi             normalised mutual information 2 MI/(H_f + H_m), Parzen-window histogram
 */
import { DrrkitError } from '../errors.js';
import { GradientNormalizedCrossCorrelation, type GradientNCCOptions } from './gradient-ncc.js';
import { LocalNormalizedCrossCorrelation, type LocalNCCOptions } from './local-ncc.js';
import { MultiscaleNormalizedCrossCorrelation, type MultiscaleNCCOptions } from './multiscale-ncc.js';
import { MutualInformation, type MutualInformationOptions } from './mutual-information.js';
import { NormalizedCrossCorrelation, type NCCOptions } from './ncc.js';
import type { Similarity } from './similarity.js';

export type { ImageShape, Similarity, SimilarityResult } from './similarity.js';
export { ImageSimilarity, requireFiniteImage, validateImagePair } from './similarity.js';
export { NormalizedCrossCorrelation, DEFAULT_NCC_EPS, nccOfPixels, type NCCOptions } from './ncc.js';
export { LocalNormalizedCrossCorrelation, DEFAULT_PATCH_SIZE, type LocalNCCOptions } from './local-ncc.js';
export { MultiscaleNormalizedCrossCorrelation, type MultiscaleNCCOptions } from './multiscale-ncc.js';
export { GradientNormalizedCrossCorrelation, type GradientNCCOptions } from './gradient-ncc.js';
export { MutualInformation, type MutualInformationOptions } from './mutual-information.js';
export { GaussianBlur, SobelFilter, gaussianKernel } from './filters.js';

/** Names accepted by createSimilarity (and the CLI). */
export const SIMILARITY_NAMES = ['ncc', 'local_ncc', 'multiscale_ncc', 'gradient_ncc', 'mi'] as const;

/** One of SIMILARITY_NAMES. */
export type SimilarityName = (typeof SIMILARITY_NAMES)[number];

/** The options type of each similarity name. */
export interface SimilarityOptionsByName {
  ncc: NCCOptions;
  local_ncc: LocalNCCOptions;
  multiscale_ncc: MultiscaleNCCOptions;
  gradient_ncc: GradientNCCOptions;
  mi: MutualInformationOptions;
}

/** True when `value` is one of SIMILARITY_NAMES. */
export function isSimilarityName(value: unknown): value is SimilarityName {
  return typeof value === 'string' && (SIMILARITY_NAMES as readonly string[]).includes(value);
}

/** Returns `value` as a SimilarityName or throws a DrrkitError listing the valid names. */
export function parseSimilarityName(value: string, what = 'similarity'): SimilarityName {
  if (isSimilarityName(value)) return value;
  throw new DrrkitError(`unknown ${what} "${value}"; expected one of ${SIMILARITY_NAMES.join(', ')}`, what);
}

/** Creates the similarity called `name` with its options (see each class for defaults). */
export function createSimilarity<Name extends SimilarityName>(name: Name, options?: SimilarityOptionsByName[Name]): Similarity {
  switch (name as SimilarityName) {
    case 'ncc':
      return new NormalizedCrossCorrelation(options as NCCOptions | undefined);
    case 'local_ncc':
      return new LocalNormalizedCrossCorrelation(options as LocalNCCOptions | undefined);
    case 'multiscale_ncc':
      return new MultiscaleNormalizedCrossCorrelation(options as MultiscaleNCCOptions | undefined);
    case 'gradient_ncc':
      return new GradientNormalizedCrossCorrelation(options as GradientNCCOptions | undefined);
    case 'mi':
      return new MutualInformation(options as MutualInformationOptions | undefined);
    default:
      return parseSimilarityName(String(name)) as never;
  }
}
