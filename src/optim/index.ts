/**
 * Optimizers with PyTorch's update rules (torch.optim.SGD, Adam, LBFGS) and learning-rate
 * schedules (StepLR, ReduceLROnPlateau), over Float64Array parameters in parameter groups.
 *
 *   const optimizer = createOptimizer('sgd', [
 *     { params: [rotation], options: { learningRate: 5.3e-2 } },
 *     { params: [translation], options: { learningRate: 7.5e1 } },
 *   ], { momentum: 0.9, maximize: true });
 *   optimizer.step([[rotationGradient], [translationGradient]]);
 */
import { DrrkitError } from '../errors.js';
import { Adam, type AdamOptions } from './adam.js';
import { LBFGS, type LBFGSOptions } from './lbfgs.js';
import { OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type ParameterGroupInput } from './optimizer.js';
import { SGD, type SGDOptions } from './sgd.js';

export * from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
export * from './lbfgs.js';
export * from './schedules.js';

/** The options type of each optimizer. */
export interface OptimizerOptionsByName {
  sgd: SGDOptions;
  adam: AdamOptions;
  lbfgs: LBFGSOptions;
}

/** Whether `text` names an optimizer ('sgd', 'adam' or 'lbfgs'). */
export function isOptimizerName(text: string): text is OptimizerName {
  return (OPTIMIZER_NAMES as readonly string[]).includes(text);
}

/** `text` as an optimizer name; a DrrkitError naming `what` (e.g. a CLI flag) otherwise. */
export function parseOptimizerName(text: string, what = 'optimizer'): OptimizerName {
  if (!isOptimizerName(text)) {
    throw new DrrkitError(`${what}: unknown optimizer '${text}' (choose from ${OPTIMIZER_NAMES.join(', ')})`, what);
  }
  return text;
}

/**
 * Makes the optimizer `name` over `groups`; `options` are the defaults for every group, which a
 * group's own options override (as torch.optim's constructor arguments and parameter-group dicts).
 * LBFGS takes exactly one group. Throws a DrrkitError for an unknown name or invalid options.
 */
export function createOptimizer<N extends OptimizerName>(
  name: N,
  groups: ParameterGroupInput<OptimizerOptionsByName[N]>[],
  options: Partial<OptimizerOptionsByName[N]> = {},
): Optimizer<OptimizerOptionsByName[N]> {
  switch (parseOptimizerName(name)) {
    case 'sgd':
      return new SGD(groups as ParameterGroupInput<SGDOptions>[], options as Partial<SGDOptions>) as unknown as Optimizer<OptimizerOptionsByName[N]>;
    case 'adam':
      return new Adam(groups as ParameterGroupInput<AdamOptions>[], options as Partial<AdamOptions>) as unknown as Optimizer<OptimizerOptionsByName[N]>;
    case 'lbfgs':
      return new LBFGS(groups as ParameterGroupInput<LBFGSOptions>[], options as Partial<LBFGSOptions>) as unknown as Optimizer<OptimizerOptionsByName[N]>;
  }
}
