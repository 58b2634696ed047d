/**
 * What drrkit's optimizers share, modelled on torch.optim.Optimizer: parameters are Float64Array
 * vectors, updated in place, in parameter groups that each carry their own options (for example
 * a rotation group and a translation group with different learning rates). Gradients are given
 * to `step` per group, per parameter, or come from a closure that re-evaluates the objective.
 */
import { DrrkitError, requireFinite } from '../errors.js';

/** The optimizers drrkit implements. */
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'lbfgs'] as const;

/** Name of an optimizer: 'sgd' (torch.optim.SGD), 'adam' (torch.optim.Adam) or 'lbfgs' (torch.optim.LBFGS). */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Parameters that share options; `params` are updated in place by `step`, `options` may be changed between steps. */
export interface ParameterGroup<O> {
  /** The parameter vectors (not copied: the optimizer writes into these arrays). */
  params: Float64Array[];
  /** The options in force for this group (schedules change `learningRate` here). */
  options: O;
}

/** A parameter group as given to an optimizer; options left out come from the optimizer's defaults. */
export interface ParameterGroupInput<O> {
  params: Float64Array[];
  options?: Partial<O>;
}

/** What a closure returns: the loss at the current parameters and its gradient, per group, per parameter. */
export interface Evaluation {
  loss: number;
  gradients: Float64Array[][];
}

/**
 * Re-evaluates the objective at the current parameter values and returns the loss with its gradient,
 * like the closure of torch's `optimizer.step(closure)` (which calls `backward()`).
 */
export type Closure = () => Evaluation;

/** The option every optimizer has, and the one learning-rate schedules change. */
export interface LearningRateOptions {
  learningRate: number;
}

/** An optimizer over parameter groups, as torch.optim.Optimizer. */
export interface Optimizer<O extends LearningRateOptions = LearningRateOptions> {
  /** Which algorithm this is. */
  readonly name: OptimizerName;
  /** The parameter groups, with their options (mutable: `options.learningRate` is what schedules change). */
  readonly groups: ParameterGroup<O>[];
  /**
   * Performs one optimization step and updates the parameters in place. Give either `gradients`
   * (per group, per parameter, each as long as its parameter) or a `closure` that re-evaluates the
   * objective at the current parameters (required by L-BFGS). Returns the closure's loss (for
   * L-BFGS, its first evaluation in this step), or undefined without a closure.
   */
  step(gradients?: Float64Array[][] | null, closure?: Closure): number | undefined;
}

/** Throws a DrrkitError naming `what` unless `value` is a finite number ≥ 0. */
export function requireNonNegative(value: number, what: string): number {
  requireFinite(value, what);
  if (value < 0) throw new DrrkitError(`${what} must be ≥ 0, got ${value}`, what);
  return value;
}

/** Throws a DrrkitError naming `what` unless `value` is true or false. */
export function requireBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new DrrkitError(`${what} must be true or false, got ${String(value)}`, what);
  return value;
}

/** Throws a DrrkitError naming `what` unless `value` is a whole number ≥ 1. */
export function requireCount(value: number, what: string): number {
  requireFinite(value, what);
  if (!Number.isInteger(value) || value < 1) throw new DrrkitError(`${what} must be a whole number ≥ 1, got ${value}`, what);
  return value;
}

/** Throws a DrrkitError when `options` has a key that `defaults` lacks (a misspelt option, or torch's `lr`). */
export function rejectUnknownOptions(options: object, defaults: object, where: string): void {
  for (const key of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      throw new DrrkitError(`${where}: unknown option '${key}' (known: ${Object.keys(defaults).join(', ')})`, key);
    }
  }
}

/**
 * Builds an optimizer's parameter groups as torch does: each group's options are the optimizer's
 * `defaults` (themselves over `builtIn`) overridden by the group's own options; then `validate`
 * checks each group. Rejects an empty group list, empty groups, non-Float64Array parameters and a
 * parameter that appears twice.
 */
export function buildParameterGroups<O extends LearningRateOptions>(
  label: string,
  inputs: readonly ParameterGroupInput<O>[],
  builtIn: Readonly<O>,
  defaults: Partial<O>,
  validate: (options: O, where: string) => void,
): ParameterGroup<O>[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new DrrkitError(`${label}: no parameter groups given`);
  rejectUnknownOptions(defaults ?? {}, builtIn, `${label} defaults`);
  const seen = new Set<Float64Array>();
  return inputs.map((input, groupIndex) => {
    const where = `${label} parameter group ${groupIndex + 1}`;
    if (!input || !Array.isArray(input.params) || input.params.length === 0) {
      throw new DrrkitError(`${where}: no parameters given`);
    }
    for (const parameter of input.params) {
      if (!(parameter instanceof Float64Array)) throw new DrrkitError(`${where}: parameters must be Float64Arrays`);
      if (seen.has(parameter)) throw new DrrkitError(`${where}: a parameter appears in more than one place`);
      seen.add(parameter);
    }
    rejectUnknownOptions(input.options ?? {}, builtIn, where);
    const options = { ...builtIn, ...stripUndefined(defaults ?? {}), ...stripUndefined(input.options ?? {}) } as O;
    validate(options, where);
    return { params: [...input.params], options };
  });
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Throws a DrrkitError unless `gradients` has one array per group and one vector per parameter, of the same lengths. */
export function checkGradientShapes(label: string, groups: readonly ParameterGroup<unknown>[], gradients: Float64Array[][]): void {
  if (!Array.isArray(gradients) || gradients.length !== groups.length) {
    throw new DrrkitError(`${label}: expected gradients for ${groups.length} parameter group(s), got ${Array.isArray(gradients) ? gradients.length : String(gradients)}`);
  }
  groups.forEach((group, groupIndex) => {
    const groupGradients = gradients[groupIndex];
    if (!Array.isArray(groupGradients) || groupGradients.length !== group.params.length) {
      throw new DrrkitError(`${label}: parameter group ${groupIndex + 1} has ${group.params.length} parameter(s) but ${Array.isArray(groupGradients) ? groupGradients.length : 'no'} gradient(s) were given`);
    }
    group.params.forEach((parameter, parameterIndex) => {
      const gradient = groupGradients[parameterIndex];
      if (!gradient || gradient.length !== parameter.length) {
        throw new DrrkitError(`${label}: gradient ${parameterIndex + 1} of parameter group ${groupIndex + 1} has ${gradient ? gradient.length : 0} value(s), its parameter ${parameter.length}`);
      }
    });
  });
}

/**
 * The gradients for a first-order step (SGD, Adam) and the loss to return: from the closure when
 * one is given (evaluated once, before the update, as torch does), else the `gradients` argument.
 */
export function gradientsForStep(
  label: string,
  groups: readonly ParameterGroup<unknown>[],
  gradients: Float64Array[][] | null | undefined,
  closure: Closure | undefined,
): { loss: number | undefined; gradients: Float64Array[][] } {
  if (closure !== undefined && gradients != null) throw new DrrkitError(`${label}.step: give either gradients or a closure, not both`);
  let loss: number | undefined;
  if (closure !== undefined) {
    const evaluation = closure();
    loss = evaluation.loss;
    gradients = evaluation.gradients;
  }
  if (gradients == null) throw new DrrkitError(`${label}.step: no gradients and no closure given`);
  checkGradientShapes(label, groups, gradients);
  return { loss, gradients };
}
