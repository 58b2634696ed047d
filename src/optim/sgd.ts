/**
 * Stochastic gradient descent with momentum, as torch.optim.SGD (the single-tensor algorithm).
 * For each parameter p with gradient ∇, per step:
 *
 *   g = maximize ? −∇ : ∇;   if weightDecay ≠ 0: g = g + weightDecay·p
 *   if momentum ≠ 0:
 *     b = g on the first step, else b = momentum·b + (1 − dampening)·g
 *     g = nesterov ? g + momentum·b : b
 *   p = p − learningRate·g
 *
 * (`maximize` negates the gradient before weight decay, as torch's code does; its documentation's
 * pseudo-code adds learningRate·g at the end instead, which differs when weightDecay ≠ 0.)
 */
import { DrrkitError, requireFinite } from '../errors.js';
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

/** SGD's options (torch's names: lr, momentum, dampening, weight_decay, nesterov, maximize). */
export interface SGDOptions {
  /** Step size γ (≥ 0). */
  learningRate: number;
  /** Momentum factor μ (≥ 0; 0 turns momentum off). */
  momentum: number;
  /** Dampening τ of the gradient added to the momentum buffer. */
  dampening: number;
  /** L2 penalty λ added to the gradient as λ·p (≥ 0). */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** torch.optim.SGD's defaults (learning rate 1e-3, no momentum, no weight decay). */
export const SGD_DEFAULTS: Readonly<SGDOptions> = Object.freeze({
  learningRate: 1e-3,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
});

/** Checks SGD options as torch does (negative learning rate, momentum or weight decay; Nesterov without momentum or with dampening). */
export function validateSGDOptions(options: SGDOptions, where = 'SGD'): void {
  requireNonNegative(options.learningRate, `${where}: learningRate`);
  requireNonNegative(options.momentum, `${where}: momentum`);
  requireFinite(options.dampening, `${where}: dampening`);
  requireNonNegative(options.weightDecay, `${where}: weightDecay`);
  requireBoolean(options.nesterov, `${where}: nesterov`);
  requireBoolean(options.maximize, `${where}: maximize`);
  if (options.nesterov && (options.momentum <= 0 || options.dampening !== 0)) {
    throw new DrrkitError(`${where}: Nesterov momentum requires a momentum and zero dampening`, 'nesterov');
  }
}

/** torch.optim.SGD: see the module comment for the update rule. */
export class SGD implements Optimizer<SGDOptions> {
  readonly name = 'sgd' as const;
  readonly groups: ParameterGroup<SGDOptions>[];
  /** Momentum buffer b per group, per parameter; null until the first step with momentum ≠ 0. */
  readonly momentumBuffers: (Float64Array | null)[][];

  /** `defaults` apply to every group unless the group's own options say otherwise. */
  constructor(groups: ParameterGroupInput<SGDOptions>[], defaults: Partial<SGDOptions> = {}) {
    this.groups = buildParameterGroups('SGD', groups, SGD_DEFAULTS, defaults, validateSGDOptions);
    this.momentumBuffers = this.groups.map((group) => group.params.map(() => null));
  }

  /** One SGD step (see `Optimizer.step`). */
  step(gradients?: Float64Array[][] | null, closure?: Closure): number | undefined {
    const given = gradientsForStep('SGD', this.groups, gradients, closure);
    this.groups.forEach((group, groupIndex) => {
      const options = group.options;
      validateSGDOptions(options, `SGD parameter group ${groupIndex + 1}`);
      const { learningRate, momentum, dampening, weightDecay, nesterov, maximize } = options;
      group.params.forEach((parameter, parameterIndex) => {
        const gradient = given.gradients[groupIndex][parameterIndex];
        const direction = new Float64Array(parameter.length);
        for (let i = 0; i < parameter.length; i++) {
          let value = maximize ? -gradient[i] : gradient[i];
          if (weightDecay !== 0) value = value + weightDecay * parameter[i];
          direction[i] = value;
        }
        if (momentum !== 0) {
          let buffer = this.momentumBuffers[groupIndex][parameterIndex];
          if (buffer === null) {
            buffer = Float64Array.from(direction);
            this.momentumBuffers[groupIndex][parameterIndex] = buffer;
          } else {
            for (let i = 0; i < buffer.length; i++) buffer[i] = buffer[i] * momentum + (1 - dampening) * direction[i];
          }
          for (let i = 0; i < direction.length; i++) {
            direction[i] = nesterov ? direction[i] + momentum * buffer[i] : buffer[i];
          }
        }
        for (let i = 0; i < parameter.length; i++) parameter[i] = parameter[i] + -learningRate * direction[i];
      });
    });
    return given.loss;
  }
}
