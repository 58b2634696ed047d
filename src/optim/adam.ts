/**
 * Adam, as torch.optim.Adam (the single-tensor, non-fused, non-capturable algorithm). For each
 * parameter p with gradient ∇, per step (t counts this parameter's steps from 1):
 *
 *   g = maximize ? −∇ : ∇;   if weightDecay ≠ 0: g = g + weightDecay·p
 *   m = lerp(m, g, 1 − β₁)            (first moment, torch's exp_avg)
 *   v = β₂·v + (1 − β₂)·g·g           (second moment, torch's exp_avg_sq)
 *   if amsgrad: v_max = max(v_max, v), and v_max stands for v below
 *   stepSize = learningRate / (1 − β₁ᵗ)
 *   denominator = √v / √(1 − β₂ᵗ) + ε
 *   p = p − stepSize·m / denominator
 *
 * On the first step m̂ = g and √v̂ = |g|, so every parameter moves by learningRate·sign(g), less ε.
 */
import { DrrkitError } from '../errors.js';
import {
  buildParameterGroups,
  gradientsForStep,
  requireBoolean,
  requireNonNegative,
  type Closure,
  type Optimizer,
  type ParameterGroup,
  type ParameterGroupInput,
} from './optimizer.js';

/** Adam's options (torch's names: lr, betas, eps, weight_decay, amsgrad, maximize). */
export interface AdamOptions {
  /** Step size γ (≥ 0). */
  learningRate: number;
  /** Decay rates (β₁, β₂) of the first and second moments, each in [0, 1). */
  betas: readonly [number, number];
  /** ε added to the denominator (≥ 0). */
  epsilon: number;
  /** L2 penalty λ added to the gradient as λ·p (≥ 0; this is Adam's, not AdamW's, weight decay). */
  weightDecay: number;
  /** Normalise by the running maximum of the second moment (AMSGrad). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** torch.optim.Adam's defaults (learning rate 1e-3, betas (0.9, 0.999), ε 1e-8). */
export const ADAM_DEFAULTS: Readonly<AdamOptions> = Object.freeze({
  learningRate: 1e-3,
  betas: Object.freeze([0.9, 0.999]) as readonly [number, number],
  epsilon: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
});

/** Checks Adam options as torch does (learning rate, ε and weight decay ≥ 0; each β in [0, 1)). */
export function validateAdamOptions(options: AdamOptions, where = 'Adam'): void {
  requireNonNegative(options.learningRate, `${where}: learningRate`);
  const betas = options.betas;
  if (!Array.isArray(betas) || betas.length !== 2) throw new DrrkitError(`${where}: betas must be two numbers`, 'betas');
  betas.forEach((beta, index) => {
    if (typeof beta !== 'number' || !(beta >= 0 && beta < 1)) {
      throw new DrrkitError(`${where}: beta ${index + 1} must be in [0, 1), got ${String(beta)}`, 'betas');
    }
  });
  requireNonNegative(options.epsilon, `${where}: epsilon`);
  requireNonNegative(options.weightDecay, `${where}: weightDecay`);
  requireBoolean(options.amsgrad, `${where}: amsgrad`);
  requireBoolean(options.maximize, `${where}: maximize`);
}

/** Adam's state for one parameter (torch's step, exp_avg, exp_avg_sq, max_exp_avg_sq). */
export interface AdamParameterState {
  /** Steps taken so far. */
  step: number;
  /** First moment m. */
  firstMoment: Float64Array;
  /** Second moment v. */
  secondMoment: Float64Array;
  /** Running maximum of v (used with amsgrad). */
  maxSecondMoment: Float64Array;
}

/** torch.lerp(start, end, weight) as torch computes it on the CPU. */
function lerp(start: number, end: number, weight: number): number {
  return weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight);
}

/** torch.optim.Adam: see the module comment for the update rule. */
export class Adam implements Optimizer<AdamOptions> {
  readonly name = 'adam' as const;
  readonly groups: ParameterGroup<AdamOptions>[];
  /** State per group, per parameter. */
  readonly state: AdamParameterState[][];

  /** `defaults` apply to every group unless the group's own options say otherwise. */
  constructor(groups: ParameterGroupInput<AdamOptions>[], defaults: Partial<AdamOptions> = {}) {
    this.groups = buildParameterGroups('Adam', groups, ADAM_DEFAULTS, defaults, validateAdamOptions);
    this.state = this.groups.map((group) =>
      group.params.map((parameter) => ({
        step: 0,
        firstMoment: new Float64Array(parameter.length),
        secondMoment: new Float64Array(parameter.length),
        maxSecondMoment: new Float64Array(parameter.length),
      })),
    );
  }

  /** One Adam step (see `Optimizer.step`). */
  step(gradients?: Float64Array[][] | null, closure?: Closure): number | undefined {
    const given = gradientsForStep('Adam', this.groups, gradients, closure);
    this.groups.forEach((group, groupIndex) => {
      const options = group.options;
      validateAdamOptions(options, `Adam parameter group ${groupIndex + 1}`);
      const { learningRate, epsilon, weightDecay, amsgrad, maximize } = options;
      const [beta1, beta2] = options.betas;
      group.params.forEach((parameter, parameterIndex) => {
        const gradient = given.gradients[groupIndex][parameterIndex];
        const state = this.state[groupIndex][parameterIndex];
        state.step += 1;
        const biasCorrection1 = 1 - beta1 ** state.step;
        const biasCorrection2 = 1 - beta2 ** state.step;
        const stepSize = learningRate / biasCorrection1;
        const biasCorrection2Root = Math.sqrt(biasCorrection2);
        const { firstMoment, secondMoment, maxSecondMoment } = state;
        for (let i = 0; i < parameter.length; i++) {
          let g = maximize ? -gradient[i] : gradient[i];
          if (weightDecay !== 0) g = g + weightDecay * parameter[i];
          firstMoment[i] = lerp(firstMoment[i], g, 1 - beta1);
          secondMoment[i] = secondMoment[i] * beta2 + (1 - beta2) * g * g;
          let second = secondMoment[i];
          if (amsgrad) {
            // torch.maximum propagates NaN
            const maximum = maxSecondMoment[i];
            maxSecondMoment[i] = Number.isNaN(second) || second > maximum ? second : maximum;
            second = maxSecondMoment[i];
          }
          const denominator = Math.sqrt(second) / biasCorrection2Root + epsilon;
          parameter[i] = parameter[i] + (-stepSize * firstMoment[i]) / denominator;
        }
      });
    });
    return given.loss;
  }
}
