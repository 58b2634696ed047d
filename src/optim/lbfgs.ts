/**
 * L-BFGS, a port of torch.optim.LBFGS (torch/optim/lbfgs.py, itself after minFunc), including
 * its strong-Wolfe line search `_strong_wolfe` and `_cubic_interpolate` (from torch7's
 * lswolfe.lua and polyinterp.lua). As in torch there is a single parameter group, all of whose
 * parameters are treated as one flat vector x, and `step` needs a closure.
 *
 * One `step(closure)` runs up to `maxIterations` iterations of:
 *   d = −H·g with H the L-BFGS inverse-Hessian estimate from the last `historySize` pairs
 *       (s = t·d, y = g_new − g_old) kept when yᵀs > 1e-10, scaled by yᵀs / yᵀy (d = −g at first)
 *   t = min(1, 1/‖g‖₁)·learningRate on the very first iteration, else learningRate
 *   stop if gᵀd > −toleranceChange
 *   x = x + t·d, with t from the strong-Wolfe search (c₁ 1e-4, c₂ 0.9, at most 26 evaluations)
 *       when lineSearch is 'strong_wolfe', else fixed
 * and stops early when the evaluations reach `maxEvaluations`, max|g| ≤ toleranceGradient,
 * max|t·d| ≤ toleranceChange or |Δloss| < toleranceChange.
 *
 * `maximize` is not an option of torch's LBFGS; here it minimises the negated objective (the
 * closure's loss and gradient are negated inside the optimizer; `step` still returns the closure's
 * own loss).
 */
import { DrrkitError } from '../errors.js';
import {
  buildParameterGroups,
  checkGradientShapes,
  requireBoolean,
  requireCount,
  requireNonNegative,
  type Closure,
  type Evaluation,
  type Optimizer,
  type ParameterGroup,
  type ParameterGroupInput,
} from './optimizer.js';

/** LBFGS's options (torch's names: lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size, line_search_fn). */
export interface LBFGSOptions {
  /** Step length multiplier (> 0; default 1). */
  learningRate: number;
  /** Iterations per `step` (default 20). */
  maxIterations: number;
  /** Function evaluations per `step` (default ⌊maxIterations·5/4⌋). */
  maxEvaluations: number;
  /** Stop when max|gradient| ≤ this (default 1e-7). */
  toleranceGradient: number;
  /** Stop when the loss or the parameters change by less than this (default 1e-9). */
  toleranceChange: number;
  /** Number of (s, y) pairs kept (default 100). */
  historySize: number;
  /** null: fixed step t; 'strong_wolfe': strong-Wolfe line search. */
  lineSearch: 'strong_wolfe' | null;
  /** Maximise the objective (drrkit's addition: minimises its negation). */
  maximize: boolean;
}

/** torch.optim.LBFGS's defaults (maxEvaluations, when not given, follows maxIterations). */
export const LBFGS_DEFAULTS: Readonly<LBFGSOptions> = Object.freeze({
  learningRate: 1,
  maxIterations: 20,
  maxEvaluations: 25,
  toleranceGradient: 1e-7,
  toleranceChange: 1e-9,
  historySize: 100,
  lineSearch: null,
  maximize: false,
});

/** Checks LBFGS options (learning rate > 0, counts whole numbers ≥ 1, tolerances ≥ 0, lineSearch null or 'strong_wolfe'). */
export function validateLBFGSOptions(options: LBFGSOptions, where = 'LBFGS'): void {
  requireNonNegative(options.learningRate, `${where}: learningRate`);
  if (options.learningRate === 0) throw new DrrkitError(`${where}: learningRate must be greater than zero`, 'learningRate');
  requireCount(options.maxIterations, `${where}: maxIterations`);
  requireCount(options.maxEvaluations, `${where}: maxEvaluations`);
  requireNonNegative(options.toleranceGradient, `${where}: toleranceGradient`);
  requireNonNegative(options.toleranceChange, `${where}: toleranceChange`);
  requireCount(options.historySize, `${where}: historySize`);
  if (options.lineSearch !== null && options.lineSearch !== 'strong_wolfe') {
    throw new DrrkitError(`${where}: lineSearch must be null or 'strong_wolfe', got ${String(options.lineSearch)}`, 'lineSearch');
  }
  requireBoolean(options.maximize, `${where}: maximize`);
}

/** L-BFGS's state, kept between steps (torch's state of the first parameter). */
export interface LBFGSState {
  /** Closure evaluations so far (torch's func_evals). */
  functionEvaluations: number;
  /** Iterations so far (torch's n_iter). */
  iterations: number;
  /** Last search direction d. */
  direction: Float64Array | null;
  /** Last step length t. */
  stepLength: number | null;
  /** Gradient differences y (torch's old_dirs), oldest first. */
  gradientDifferences: Float64Array[];
  /** Steps s = t·d (torch's old_stps), oldest first. */
  stepDifferences: Float64Array[];
  /** 1 / yᵀs for each pair (torch's ro). */
  inverseCurvatures: number[];
  /** Scale yᵀs / yᵀy of the initial inverse Hessian (torch's H_diag). */
  hessianDiagonal: number;
  /** Flat gradient at the start of the last iteration. */
  previousFlatGradient: Float64Array | null;
  /** Loss at the start of the last iteration. */
  previousLoss: number | null;
}

/** A loss and its gradient as one flat vector. */
export interface FlatEvaluation {
  loss: number;
  gradient: Float64Array;
}

/** Python's max(a, b): a unless b > a (so NaN in `a` survives and NaN in `b` does not). */
function pythonMax(a: number, b: number): number {
  return b > a ? b : a;
}

/** Python's min(a, b): a unless b < a. */
function pythonMin(a: number, b: number): number {
  return b < a ? b : a;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function maxAbs(a: Float64Array): number {
  let maximum = 0;
  for (let i = 0; i < a.length; i++) {
    const value = Math.abs(a[i]);
    if (value > maximum || Number.isNaN(value)) maximum = value;
  }
  return maximum;
}

/**
 * torch's `_cubic_interpolate`: the minimiser of the cubic through (x1, f1) and (x2, f2) with
 * slopes g1 and g2, clamped to `bounds` (default [min(x1, x2), max(x1, x2)]):
 *   d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2),  d2 = √(d1² − g1·g2)
 *   x = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2)   (x1 ≤ x2; symmetric otherwise)
 * and the middle of the bounds when d1² − g1·g2 < 0.
 */
export function cubicInterpolate(
  x1: number, f1: number, g1: number,
  x2: number, f2: number, g2: number,
  bounds?: readonly [number, number],
): number {
  const [lowerBound, upperBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 ** 2 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minimum = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return pythonMin(pythonMax(minimum, lowerBound), upperBound);
  }
  return (lowerBound + upperBound) / 2;
}

/** Options of `strongWolfe` (torch's c1, c2, tolerance_change, max_ls). */
export interface StrongWolfeOptions {
  /** c₁ of the sufficient-decrease (Armijo) condition (default 1e-4). */
  sufficientDecrease?: number;
  /** c₂ of the curvature condition (default 0.9). */
  curvature?: number;
  /** Stop zooming when the bracket times max|d| is below this (default 1e-9). */
  toleranceChange?: number;
  /** Most evaluations after the first (torch's max_ls, default 25). */
  maxEvaluations?: number;
}

/** What `strongWolfe` found: the accepted step length with its loss and flat gradient. */
export interface LineSearchResult {
  loss: number;
  gradient: Float64Array;
  stepLength: number;
  evaluations: number;
}

/**
 * torch's `_strong_wolfe`: a line search along d from the point where the loss is `loss`, the
 * gradient `gradient` and the slope gᵀd = `slope` (< 0), starting at step length `stepLength`.
 * `evaluate(t)` returns the loss and flat gradient at x + t·d. It brackets an interval that holds a
 * point satisfying the strong Wolfe conditions
 *   f(t) ≤ f(0) + c₁·t·gᵀd   and   |g(t)ᵀd| ≤ −c₂·gᵀd
 * (extrapolating by cubic interpolation within [t + 0.01(t − t_prev), 10t]) and then zooms in
 * on it by cubic interpolation: at most 1 + `maxEvaluations` evaluations in all (26 by default).
 */
export function strongWolfe(
  evaluate: (stepLength: number) => FlatEvaluation,
  direction: Float64Array,
  stepLength: number,
  loss: number,
  gradient: Float64Array,
  slope: number,
  options: StrongWolfeOptions = {},
): LineSearchResult {
  const search = strongWolfeSteps(direction, stepLength, loss, gradient, slope, options);
  let next = search.next();
  while (!next.done) next = search.next(evaluate(next.value));
  return next.value;
}

/**
 * {@link strongWolfe} as a coroutine: it yields each step length t it needs evaluated and is
 * resumed with the loss and flat gradient at x + t·d (so the evaluation may be asynchronous).
 */
export function* strongWolfeSteps(
  direction: Float64Array,
  stepLength: number,
  loss: number,
  gradient: Float64Array,
  slope: number,
  options: StrongWolfeOptions = {},
): Generator<number, LineSearchResult, FlatEvaluation> {
  const c1 = options.sufficientDecrease ?? 1e-4;
  const c2 = options.curvature ?? 0.9;
  const toleranceChange = options.toleranceChange ?? 1e-9;
  const maxSearches = options.maxEvaluations ?? 25;
  const f = loss, gtd = slope;
  let t = stepLength;
  const directionNorm = maxAbs(direction);
  const g = Float64Array.from(gradient);
  let { loss: fNew, gradient: gNew } = yield t;
  let evaluations = 1;
  let gtdNew = dot(gNew, direction);

  // bracket an interval containing a point satisfying the Wolfe criteria
  let tPrevious = 0, fPrevious = f, gPrevious = g, gtdPrevious = gtd;
  let done = false;
  let searches = 0;
  let bracket: number[] = [];
  let bracketLoss: number[] = [];
  let bracketGradient: Float64Array[] = [];
  let bracketSlope: number[] = [];
  while (searches < maxSearches) {
    if (fNew > f + c1 * t * gtd || (searches > 1 && fNew >= fPrevious)) {
      bracket = [tPrevious, t];
      bracketLoss = [fPrevious, fNew];
      bracketGradient = [gPrevious, Float64Array.from(gNew)];
      bracketSlope = [gtdPrevious, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t];
      bracketLoss = [fNew];
      bracketGradient = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrevious, t];
      bracketLoss = [fPrevious, fNew];
      bracketGradient = [gPrevious, Float64Array.from(gNew)];
      bracketSlope = [gtdPrevious, gtdNew];
      break;
    }
    // interpolate (extrapolate) within [t + 0.01 (t − t_prev), 10 t]
    const minimumStep = t + 0.01 * (t - tPrevious);
    const maximumStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrevious, fPrevious, gtdPrevious, t, fNew, gtdNew, [minimumStep, maximumStep]);
    tPrevious = previous;
    fPrevious = fNew;
    gPrevious = Float64Array.from(gNew);
    gtdPrevious = gtdNew;
    ({ loss: fNew, gradient: gNew } = yield t);
    evaluations += 1;
    gtdNew = dot(gNew, direction);
    searches += 1;
  }

  // reached the maximum number of evaluations?
  if (searches === maxSearches) {
    bracket = [0, t];
    bracketLoss = [f, fNew];
    bracketGradient = [g, gNew];
    bracketSlope = [gtd, gtdNew]; // unused: the zoom below does not run
  }

  // zoom phase: refine the bracket until a point satisfies the criteria
  let insufficientProgress = false;
  let [low, high] = bracketLoss[0] <= bracketLoss[bracketLoss.length - 1] ? [0, 1] : [1, 0];
  while (!done && searches < maxSearches) {
    // the bracket is too small
    if (Math.abs(bracket[1] - bracket[0]) * directionNorm < toleranceChange) break;

    t = cubicInterpolate(bracket[0], bracketLoss[0], bracketSlope[0], bracket[1], bracketLoss[1], bracketSlope[1]);

    // When t is within 10% of the bracket's length from one end, note insufficient progress; if
    // progress was already insufficient or t is at (or beyond) an end, move t to 10% from that end.
    const bracketMax = pythonMax(bracket[0], bracket[1]);
    const bracketMin = pythonMin(bracket[0], bracket[1]);
    const margin = 0.1 * (bracketMax - bracketMin);
    if (pythonMin(bracketMax - t, t - bracketMin) < margin) {
      if (insufficientProgress || t >= bracketMax || t <= bracketMin) {
        t = Math.abs(t - bracketMax) < Math.abs(t - bracketMin) ? bracketMax - margin : bracketMin + margin;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }

    ({ loss: fNew, gradient: gNew } = yield t);
    evaluations += 1;
    gtdNew = dot(gNew, direction);
    searches += 1;

    if (fNew > f + c1 * t * gtd || fNew >= bracketLoss[low]) {
      // Armijo condition not satisfied or not lower than the lowest point
      bracket[high] = t;
      bracketLoss[high] = fNew;
      bracketGradient[high] = Float64Array.from(gNew);
      bracketSlope[high] = gtdNew;
      [low, high] = bracketLoss[0] <= bracketLoss[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true; // Wolfe conditions satisfied
      } else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        // old high becomes new low
        bracket[high] = bracket[low];
        bracketLoss[high] = bracketLoss[low];
        bracketGradient[high] = bracketGradient[low];
        bracketSlope[high] = bracketSlope[low];
      }
      // new point becomes new low
      bracket[low] = t;
      bracketLoss[low] = fNew;
      bracketGradient[low] = Float64Array.from(gNew);
      bracketSlope[low] = gtdNew;
    }
  }

  return { loss: bracketLoss[low], gradient: bracketGradient[low], stepLength: bracket[low], evaluations };
}

/** torch.optim.LBFGS: see the module comment for the algorithm. */
export class LBFGS implements Optimizer<LBFGSOptions> {
  readonly name = 'lbfgs' as const;
  readonly groups: ParameterGroup<LBFGSOptions>[];
  /** State kept between steps. */
  readonly state: LBFGSState = {
    functionEvaluations: 0,
    iterations: 0,
    direction: null,
    stepLength: null,
    gradientDifferences: [],
    stepDifferences: [],
    inverseCurvatures: [],
    hessianDiagonal: 1,
    previousFlatGradient: null,
    previousLoss: null,
  };
  private readonly size: number;

  /**
   * Exactly one parameter group, as in torch (per-group options are not supported); its options
   * override `defaults`. When maxEvaluations is not given it is ⌊maxIterations·5/4⌋.
   */
  constructor(groups: ParameterGroupInput<LBFGSOptions>[], defaults: Partial<LBFGSOptions> = {}) {
    if (Array.isArray(groups) && groups.length > 1) {
      throw new DrrkitError("LBFGS doesn't support per-parameter options (parameter groups): give one group");
    }
    this.groups = buildParameterGroups('LBFGS', groups, LBFGS_DEFAULTS, defaults, (options, where) => {
      const given = { ...defaults, ...groups[0].options };
      if (given.maxEvaluations === undefined && typeof options.maxIterations === 'number') {
        options.maxEvaluations = Math.floor((options.maxIterations * 5) / 4);
      }
      validateLBFGSOptions(options, where);
    });
    this.size = this.groups[0].params.reduce((total, parameter) => total + parameter.length, 0);
  }

  /** The parameters as one flat vector (a copy). */
  private flatParameters(): Float64Array {
    const flat = new Float64Array(this.size);
    let offset = 0;
    for (const parameter of this.groups[0].params) {
      flat.set(parameter, offset);
      offset += parameter.length;
    }
    return flat;
  }

  private setParameters(flat: Float64Array): void {
    let offset = 0;
    for (const parameter of this.groups[0].params) {
      parameter.set(flat.subarray(offset, offset + parameter.length));
      offset += parameter.length;
    }
  }

  /** x = x + stepLength·direction (torch's _add_grad). */
  private addStep(stepLength: number, direction: Float64Array): void {
    let offset = 0;
    for (const parameter of this.groups[0].params) {
      for (let i = 0; i < parameter.length; i++) parameter[i] = parameter[i] + stepLength * direction[offset + i];
      offset += parameter.length;
    }
  }

  /** One L-BFGS step: up to maxIterations iterations (see the module comment); needs a closure. */
  step(gradients?: Float64Array[][] | null, closure?: Closure): number | undefined {
    if (gradients != null) throw new DrrkitError('LBFGS.step takes a closure, not gradients: pass null and a closure');
    if (typeof closure !== 'function') throw new DrrkitError('LBFGS.step needs a closure that re-evaluates the loss and its gradient');
    const steps = this.stepSteps();
    let next = steps.next();
    while (!next.done) next = steps.next(closure());
    return next.value;
  }

  /**
   * {@link step} as a coroutine, for objectives evaluated asynchronously (a GPU renderer): it
   * yields whenever it needs the loss and gradients at the parameters as they are now (it has set
   * them in place) and is resumed with that evaluation — what `step`'s closure returns. Returns
   * the loss of the step's first evaluation.
   */
  *stepSteps(): Generator<void, number | undefined, Evaluation> {
    const group = this.groups[0];
    validateLBFGSOptions(group.options, 'LBFGS');
    const {
      learningRate, maxIterations, maxEvaluations, toleranceGradient, toleranceChange, historySize, lineSearch, maximize,
    } = group.options;
    const sign = maximize ? -1 : 1;
    const state = this.state;

    let userLoss = 0;
    const flatten = (evaluation: Evaluation): FlatEvaluation => {
      checkGradientShapes('LBFGS', this.groups, evaluation.gradients);
      userLoss = evaluation.loss;
      const gradient = new Float64Array(this.size);
      let offset = 0;
      evaluation.gradients[0].forEach((part) => {
        for (let i = 0; i < part.length; i++) gradient[offset + i] = sign * part[i];
        offset += part.length;
      });
      return { loss: sign * evaluation.loss, gradient };
    };

    // evaluate the initial f(x) and df/dx
    let { loss, gradient: flatGradient } = flatten(yield);
    const originalLoss = userLoss;
    let currentEvaluations = 1;
    state.functionEvaluations += 1;
    let optimal = maxAbs(flatGradient) <= toleranceGradient;
    if (optimal) return originalLoss;

    let direction = state.direction;
    let t = state.stepLength;
    let gradientDifferences = state.gradientDifferences;
    let stepDifferences = state.stepDifferences;
    let inverseCurvatures = state.inverseCurvatures;
    let hessianDiagonal = state.hessianDiagonal;
    let previousFlatGradient = state.previousFlatGradient;
    let previousLoss = state.previousLoss;

    let iteration = 0;
    while (iteration < maxIterations) {
      iteration += 1;
      state.iterations += 1;

      // compute the descent direction
      if (state.iterations === 1 || direction === null || t === null || previousFlatGradient === null) {
        direction = flatGradient.map((value) => -value);
        gradientDifferences = [];
        stepDifferences = [];
        inverseCurvatures = [];
        hessianDiagonal = 1;
      } else {
        // update the memory
        const y = new Float64Array(this.size);
        const s = new Float64Array(this.size);
        for (let i = 0; i < this.size; i++) {
          y[i] = flatGradient[i] - previousFlatGradient[i];
          s[i] = direction[i] * t;
        }
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (gradientDifferences.length === historySize) {
            gradientDifferences.shift();
            stepDifferences.shift();
            inverseCurvatures.shift();
          }
          gradientDifferences.push(y);
          stepDifferences.push(s);
          inverseCurvatures.push(1 / ys);
          hessianDiagonal = ys / dot(y, y);
        }
        // two-loop recursion: d = −H·g
        const count = gradientDifferences.length;
        const alpha = new Array<number>(count);
        const q = flatGradient.map((value) => -value);
        for (let k = count - 1; k >= 0; k--) {
          alpha[k] = dot(stepDifferences[k], q) * inverseCurvatures[k];
          const yk = gradientDifferences[k];
          for (let i = 0; i < this.size; i++) q[i] = q[i] + -alpha[k] * yk[i];
        }
        const r = q.map((value) => value * hessianDiagonal);
        for (let k = 0; k < count; k++) {
          const beta = dot(gradientDifferences[k], r) * inverseCurvatures[k];
          const sk = stepDifferences[k];
          for (let i = 0; i < this.size; i++) r[i] = r[i] + (alpha[k] - beta) * sk[i];
        }
        direction = r;
      }

      previousFlatGradient = Float64Array.from(flatGradient);
      previousLoss = loss;

      // step length: reset the initial guess
      if (state.iterations === 1) {
        let sumAbs = 0;
        for (let i = 0; i < this.size; i++) sumAbs += Math.abs(flatGradient[i]);
        t = pythonMin(1, 1 / sumAbs) * learningRate;
      } else {
        t = learningRate;
      }

      // directional derivative below tolerance
      const gtd = dot(flatGradient, direction);
      if (gtd > -toleranceChange) break;

      let searchEvaluations = 0;
      if (lineSearch === 'strong_wolfe') {
        const start = this.flatParameters();
        const searchDirection = direction;
        const search = strongWolfeSteps(direction, t, loss, flatGradient, gtd);
        let next = search.next();
        while (!next.done) {
          this.addStep(next.value, searchDirection);
          const evaluation = flatten(yield);
          this.setParameters(start);
          next = search.next(evaluation);
        }
        const result = next.value;
        loss = result.loss;
        flatGradient = result.gradient;
        t = result.stepLength;
        searchEvaluations = result.evaluations;
        this.addStep(t, direction);
        optimal = maxAbs(flatGradient) <= toleranceGradient;
      } else {
        // no line search: move with the fixed step
        this.addStep(t, direction);
        if (iteration !== maxIterations) {
          // re-evaluate only if this is not the last iteration
          ({ loss, gradient: flatGradient } = flatten(yield));
          optimal = maxAbs(flatGradient) <= toleranceGradient;
          searchEvaluations = 1;
        }
      }

      currentEvaluations += searchEvaluations;
      state.functionEvaluations += searchEvaluations;

      // check the stopping conditions
      if (iteration === maxIterations) break;
      if (currentEvaluations >= maxEvaluations) break;
      if (optimal) break;
      const stepLength = t;
      if (maxAbs(direction.map((value) => value * stepLength)) <= toleranceChange) break;
      if (Math.abs(loss - previousLoss) < toleranceChange) break;
    }

    state.direction = direction;
    state.stepLength = t;
    state.gradientDifferences = gradientDifferences;
    state.stepDifferences = stepDifferences;
    state.inverseCurvatures = inverseCurvatures;
    state.hessianDiagonal = hessianDiagonal;
    state.previousFlatGradient = previousFlatGradient;
    state.previousLoss = previousLoss;
    return originalLoss;
  }
}
