import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DrrkitError } from '../src/errors.js';
import {
  Adam,
  createOptimizer,
  cubicInterpolate,
  isOptimizerName,
  LBFGS,
  OPTIMIZER_NAMES,
  parseOptimizerName,
  ReduceLROnPlateau,
  SGD,
  StepLR,
  strongWolfe,
  type Closure,
  type Optimizer,
  type ReduceLROnPlateauOptions,
} from '../src/optim/index.js';
import { repositoryRoot } from './helpers.js';

// Reference data written by test/data/make-optimizer-reference.py (a numpy re-implementation of
// torch.optim's update rules; PyTorch itself is not available here).

interface ReferenceCase {
  name: string;
  optimizer: 'sgd' | 'adam' | 'lbfgs';
  objective: ObjectiveName;
  groupOptions?: Record<string, unknown>[];
  defaults: Record<string, unknown>;
  steps: number;
  stepSchedule?: { stepSize: number; gamma: number };
  start: number[];
  trajectory: number[][];
  losses: number[];
  learningRates?: number[][];
  evaluations?: [number, number][];
}

interface ReferenceSchedule {
  name: string;
  kind: 'step' | 'plateau';
  initial: number[];
  options: Record<string, unknown>;
  steps?: number;
  metrics?: number[];
  learningRates: number[][];
}

interface Reference {
  problem: { A: number[][]; b: number[]; groupSizes: number[]; quadraticMinimum: number[] };
  cases: ReferenceCase[];
  schedules: ReferenceSchedule[];
}

const reference: Reference = JSON.parse(
  readFileSync(path.join(repositoryRoot(), 'test', 'data', 'optimizer-reference.json'), 'utf8'),
);
const { A, b, groupSizes } = reference.problem;

type ObjectiveName = 'quadratic' | 'negated-quadratic' | 'shallow-quadratic' | 'rosenbrock' | 'wavy';
type Objective = (x: Float64Array) => { value: number; gradient: Float64Array };

/** f(x) = ½ xᵀAx − bᵀx, ∇f = Ax − b. */
function quadratic(x: Float64Array) {
  const gradient = new Float64Array(x.length);
  let value = 0;
  for (let i = 0; i < x.length; i++) {
    let row = 0;
    for (let j = 0; j < x.length; j++) row += A[i][j] * x[j];
    value += 0.5 * x[i] * row - b[i] * x[i];
    gradient[i] = row - b[i];
  }
  return { value, gradient };
}

const objectives: Record<ObjectiveName, Objective> = {
  quadratic,
  'negated-quadratic': (x) => {
    const { value, gradient } = quadratic(x);
    return { value: -value, gradient: gradient.map((g) => -g) };
  },
  'shallow-quadratic': (x) => {
    const { value, gradient } = quadratic(x);
    return { value: value / 100, gradient: gradient.map((g) => g / 100) };
  },
  rosenbrock: (x) => {
    let value = 0;
    const gradient = new Float64Array(x.length);
    for (let i = 0; i < x.length - 1; i++) {
      const r = x[i + 1] - x[i] * x[i], s = 1 - x[i];
      value += 100 * r * r + s * s;
      gradient[i] += -400 * x[i] * r - 2 * s;
      gradient[i + 1] += 200 * r;
    }
    return { value, gradient };
  },
  wavy: (x) => {
    let value = 0;
    const gradient = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      value += 0.5 * x[i] * x[i] + 2 * Math.sin(3 * x[i]);
      gradient[i] = x[i] + 6 * Math.cos(3 * x[i]);
    }
    return { value, gradient };
  },
};

/** The start split into parameters of `groupSizes`. */
function splitStart(start: number[]): Float64Array[] {
  const parameters: Float64Array[] = [];
  let offset = 0;
  for (const size of groupSizes) {
    parameters.push(Float64Array.from(start.slice(offset, offset + size)));
    offset += size;
  }
  return parameters;
}

function concatenate(parameters: Float64Array[]): number[] {
  return parameters.flatMap((parameter) => Array.from(parameter));
}

/** A closure over `parameters` whose gradients are arranged as `layout` (parameter indices per group). */
function makeClosure(objective: Objective, parameters: Float64Array[], layout: number[][]): Closure {
  return () => {
    const { value, gradient } = objective(Float64Array.from(concatenate(parameters)));
    const pieces: Float64Array[] = [];
    let offset = 0;
    for (const parameter of parameters) {
      pieces.push(gradient.slice(offset, offset + parameter.length));
      offset += parameter.length;
    }
    return { loss: value, gradients: layout.map((indices) => indices.map((index) => pieces[index])) };
  };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, message: string, tolerance = 1e-9): void {
  assert.equal(actual.length, expected.length, `${message}: length`);
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    assert.ok(
      difference <= tolerance + tolerance * Math.abs(expected[i]),
      `${message}[${i}]: got ${actual[i]}, expected ${expected[i]} (difference ${difference})`,
    );
  }
}

interface Run {
  trajectory: number[][];
  losses: number[];
  learningRates: number[][];
  evaluations: [number, number][];
}

function runCase(testCase: ReferenceCase, useClosure = true): Run {
  const parameters = splitStart(testCase.start);
  const objective = objectives[testCase.objective];
  let optimizer: Optimizer;
  let closure: Closure;
  if (testCase.optimizer === 'lbfgs') {
    optimizer = createOptimizer('lbfgs', [{ params: parameters }], testCase.defaults);
    closure = makeClosure(objective, parameters, [parameters.map((_, index) => index)]);
  } else {
    const groups = testCase.groupOptions!.map((options, index) => ({ params: [parameters[index]], options }));
    optimizer = createOptimizer(testCase.optimizer, groups, testCase.defaults);
    closure = makeClosure(objective, parameters, parameters.map((_, index) => [index]));
  }
  const schedule = testCase.stepSchedule ? new StepLR(optimizer, testCase.stepSchedule) : null;
  const run: Run = { trajectory: [], losses: [], learningRates: [], evaluations: [] };
  for (let step = 0; step < testCase.steps; step++) {
    let loss: number | undefined;
    if (useClosure || testCase.optimizer === 'lbfgs') {
      loss = optimizer.step(null, closure);
    } else {
      const evaluation = closure();
      assert.equal(optimizer.step(evaluation.gradients), undefined);
      loss = evaluation.loss;
    }
    run.losses.push(loss!);
    run.trajectory.push(concatenate(parameters));
    if (optimizer instanceof LBFGS) run.evaluations.push([optimizer.state.functionEvaluations, optimizer.state.iterations]);
    schedule?.step();
    run.learningRates.push(optimizer.groups.map((group) => group.options.learningRate));
  }
  return run;
}

function referenceCase(name: string): ReferenceCase {
  const found = reference.cases.find((testCase) => testCase.name === name);
  assert.ok(found, `reference case '${name}' missing`);
  return found;
}

describe('optimizers reproduce the reference trajectories', () => {
  for (const testCase of reference.cases) {
    test(testCase.name, () => {
      const run = runCase(testCase);
      assert.equal(run.trajectory.length, testCase.trajectory.length);
      testCase.trajectory.forEach((expected, step) => assertClose(run.trajectory[step], expected, `step ${step + 1} parameters`));
      assertClose(run.losses, testCase.losses, 'losses');
      if (testCase.evaluations) assert.deepEqual(run.evaluations, testCase.evaluations, 'evaluations and iterations');
      if (testCase.learningRates) {
        testCase.learningRates.forEach((expected, step) => assertClose(run.learningRates[step], expected, `step ${step + 1} learning rates`));
      }
    });
  }

  test('gradients given directly give the same trajectory as a closure', () => {
    for (const name of ['sgd nesterov', 'adam amsgrad weight decay']) {
      const testCase = referenceCase(name);
      assert.deepEqual(runCase(testCase, false).trajectory, runCase(testCase, true).trajectory);
    }
  });

  test('maximize on −f follows exactly the trajectory of minimising f', () => {
    const pairs = [
      ['sgd maximize negated', 'sgd momentum weight decay'],
      ['adam maximize negated', 'adam default'],
      ['lbfgs strong wolfe maximize', 'lbfgs strong wolfe'],
    ];
    for (const [maximized, minimized] of pairs) {
      assert.deepEqual(runCase(referenceCase(maximized)).trajectory, runCase(referenceCase(minimized)).trajectory, maximized);
    }
  });
});

describe('known properties of torch.optim', () => {
  const start = [0.5, -0.3, 1.2, -0.7];
  const gradient = Array.from(quadratic(Float64Array.from(start)).gradient);

  test('SGD: the first step is p − lr·∇ (the momentum buffer starts as the gradient, undamped)', () => {
    for (const defaults of [{}, { momentum: 0.9, dampening: 0.5 }]) {
      const parameters = splitStart(start);
      const optimizer = new SGD([{ params: [parameters[0]], options: { learningRate: 0.1 } }, { params: [parameters[1]], options: { learningRate: 0.05 } }], defaults);
      optimizer.step([[Float64Array.from(gradient.slice(0, 3))], [Float64Array.from(gradient.slice(3))]]);
      const expected = start.map((value, index) => value - (index < 3 ? 0.1 : 0.05) * gradient[index]);
      assert.deepEqual(concatenate(parameters), expected);
    }
  });

  test('Adam: the first step moves every parameter by lr·sign(∇), less ε', () => {
    const parameters = splitStart(start);
    const optimizer = new Adam([{ params: [parameters[0]], options: { learningRate: 0.05 } }, { params: [parameters[1]], options: { learningRate: 0.1 } }]);
    optimizer.step([[Float64Array.from(gradient.slice(0, 3))], [Float64Array.from(gradient.slice(3))]]);
    concatenate(parameters).forEach((value, index) => {
      const learningRate = index < 3 ? 0.05 : 0.1;
      const expected = start[index] - learningRate * Math.sign(gradient[index]);
      assert.ok(Math.abs(value - expected) <= learningRate * (1e-8 / Math.abs(gradient[index]) + 1e-15), `parameter ${index}: ${value} vs ${expected}`);
    });
    assert.equal(optimizer.state[0][0].step, 1);
  });

  test('LBFGS: the first step length is min(1, 1/‖∇‖₁)·lr along −∇', () => {
    const parameters = splitStart(start);
    const optimizer = new LBFGS([{ params: parameters }], { maxIterations: 1, learningRate: 0.7 });
    const loss = optimizer.step(null, makeClosure(quadratic, parameters, [[0, 1]]));
    assert.equal(loss, quadratic(Float64Array.from(start)).value);
    const t = Math.min(1, 1 / gradient.reduce((sum, value) => sum + Math.abs(value), 0)) * 0.7;
    assertClose(concatenate(parameters), start.map((value, index) => value - t * gradient[index]), 'parameters', 1e-15);
    assert.equal(optimizer.state.functionEvaluations, 1); // the last iteration is not re-evaluated
  });

  test('LBFGS with strong Wolfe reaches the minimum A⁻¹b of the quadratic', () => {
    const testCase = referenceCase('lbfgs strong wolfe long step');
    assertClose(runCase(testCase).trajectory.at(-1)!, reference.problem.quadraticMinimum, 'minimum', 1e-12);
  });

  test('LBFGS stops at once when the gradient is below toleranceGradient', () => {
    const parameters = splitStart(reference.problem.quadraticMinimum);
    const optimizer = new LBFGS([{ params: parameters }]);
    optimizer.step(null, makeClosure(quadratic, parameters, [[0, 1]]));
    assert.equal(optimizer.state.functionEvaluations, 1);
    assert.equal(optimizer.state.iterations, 0);
  });

  test('cubicInterpolate finds the minimiser of a cubic, clamps it, and falls back to the midpoint', () => {
    // f(x) = x³ − 3x has its local minimum at x = 1
    const f = (x: number) => x ** 3 - 3 * x, g = (x: number) => 3 * x * x - 3;
    assert.ok(Math.abs(cubicInterpolate(0, f(0), g(0), 2, f(2), g(2)) - 1) < 1e-15);
    assert.ok(Math.abs(cubicInterpolate(2, f(2), g(2), 0, f(0), g(0)) - 1) < 1e-15);
    assert.equal(cubicInterpolate(0, f(0), g(0), 2, f(2), g(2), [1.5, 3]), 1.5);
    // (x − 0.3)² between 0 and 1
    assert.ok(Math.abs(cubicInterpolate(0, 0.09, -0.6, 1, 0.49, 1.4) - 0.3) < 1e-15);
    // d1² − g1·g2 < 0: the middle of the bounds
    assert.equal(cubicInterpolate(0, 0, 1, 1, 0.7, 1, [2, 4]), 3);
    assert.equal(cubicInterpolate(1, 0.7, 1, 0, 0, 1), 0.5);
  });

  test('strongWolfe returns a step that satisfies the strong Wolfe conditions', () => {
    // φ(t) = (t − 2)² + 0.1 t⁴ along d = 1 from x = 0
    const phi = (t: number) => (t - 2) ** 2 + 0.1 * t ** 4;
    const slope = (t: number) => 2 * (t - 2) + 0.4 * t ** 3;
    const direction = Float64Array.of(1);
    for (const initial of [0.01, 1, 50]) {
      const result = strongWolfe((t) => ({ loss: phi(t), gradient: Float64Array.of(slope(t)) }), direction, initial, phi(0), Float64Array.of(slope(0)), slope(0));
      assert.ok(result.loss <= phi(0) + 1e-4 * result.stepLength * slope(0), `sufficient decrease from ${initial}`);
      assert.ok(Math.abs(slope(result.stepLength)) <= -0.9 * slope(0), `curvature from ${initial}`);
      assert.equal(result.loss, phi(result.stepLength));
      assert.ok(result.evaluations >= 1 && result.evaluations <= 26);
    }
  });
});

describe('learning-rate schedules reproduce torch', () => {
  for (const schedule of reference.schedules) {
    test(schedule.name, () => {
      const holder = { groups: schedule.initial.map((learningRate) => ({ options: { learningRate } })) };
      const learningRates: number[][] = [];
      if (schedule.kind === 'step') {
        const scheduler = new StepLR(holder, schedule.options as { stepSize: number; gamma: number });
        for (let step = 0; step < schedule.steps!; step++) {
          scheduler.step();
          learningRates.push(scheduler.lastLearningRates());
        }
        assert.equal(scheduler.lastEpoch, schedule.steps);
        assert.deepEqual(scheduler.baseLearningRates, schedule.initial);
      } else {
        const scheduler = new ReduceLROnPlateau(holder, schedule.options as Partial<ReduceLROnPlateauOptions>);
        for (const metric of schedule.metrics!) {
          scheduler.step(metric);
          learningRates.push(scheduler.lastLearningRates());
        }
      }
      schedule.learningRates.forEach((expected, step) => assertClose(learningRates[step], expected, `epoch ${step + 1}`, 1e-12));
    });
  }

  test('StepLR on a DiffDRR-style optimizer: halves both groups every stepSize steps', () => {
    const rotation = new Float64Array(3), translation = new Float64Array(3);
    const optimizer = createOptimizer('sgd', [
      { params: [rotation], options: { learningRate: 5.3e-2 } },
      { params: [translation], options: { learningRate: 7.5e1 } },
    ], { momentum: 0.9, maximize: true });
    const scheduler = new StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
    const seen: number[][] = [];
    for (let step = 0; step < 5; step++) {
      optimizer.step([[new Float64Array(3)], [new Float64Array(3)]]);
      scheduler.step();
      seen.push(scheduler.lastLearningRates());
    }
    assert.deepEqual(seen, [[5.3e-2, 7.5e1], [2.65e-2, 37.5], [2.65e-2, 37.5], [1.325e-2, 18.75], [1.325e-2, 18.75]]);
  });
});

describe('validation', () => {
  const group = () => [{ params: [new Float64Array(2)] }];
  const rejects = (make: () => unknown, pattern: RegExp) =>
    assert.throws(make, (error: unknown) => error instanceof DrrkitError && pattern.test(error.message));

  test('SGD options are checked as torch checks them', () => {
    rejects(() => new SGD(group(), { learningRate: -0.1 }), /learningRate must be ≥ 0/);
    rejects(() => new SGD(group(), { momentum: -0.5 }), /momentum must be ≥ 0/);
    rejects(() => new SGD(group(), { weightDecay: -1 }), /weightDecay must be ≥ 0/);
    rejects(() => new SGD(group(), { nesterov: true }), /Nesterov momentum requires a momentum and zero dampening/);
    rejects(() => new SGD(group(), { nesterov: true, momentum: 0.9, dampening: 0.1 }), /Nesterov/);
    rejects(() => new SGD([{ params: [new Float64Array(1)], options: { learningRate: NaN } }]), /finite number/);
    rejects(() => new SGD(group(), { lr: 0.1 } as never), /unknown option 'lr'/);
    rejects(() => new SGD([{ params: [new Float64Array(1)], options: { maximize: 'yes' as never } }]), /true or false/);
  });

  test('Adam options are checked as torch checks them', () => {
    rejects(() => new Adam(group(), { learningRate: -1e-3 }), /learningRate must be ≥ 0/);
    rejects(() => new Adam(group(), { epsilon: -1e-8 }), /epsilon must be ≥ 0/);
    rejects(() => new Adam(group(), { betas: [1, 0.999] }), /beta 1 must be in \[0, 1\)/);
    rejects(() => new Adam(group(), { betas: [0.9, -0.1] }), /beta 2 must be in \[0, 1\)/);
    rejects(() => new Adam(group(), { weightDecay: -0.1 }), /weightDecay must be ≥ 0/);
  });

  test('LBFGS takes one group and a closure, and checks its options', () => {
    rejects(() => new LBFGS([{ params: [new Float64Array(1)] }, { params: [new Float64Array(1)] }]), /parameter groups/);
    rejects(() => new LBFGS(group(), { lineSearch: 'backtracking' as never }), /lineSearch must be null or 'strong_wolfe'/);
    rejects(() => new LBFGS(group(), { maxIterations: 0 }), /maxIterations must be a whole number ≥ 1/);
    rejects(() => new LBFGS(group(), { historySize: 2.5 }), /historySize must be a whole number ≥ 1/);
    rejects(() => new LBFGS(group(), { learningRate: 0 }), /learningRate must be greater than zero/);
    rejects(() => new LBFGS(group(), { toleranceGradient: -1 }), /toleranceGradient must be ≥ 0/);
    const optimizer = new LBFGS(group());
    rejects(() => optimizer.step(), /needs a closure/);
    rejects(() => optimizer.step([[new Float64Array(2)]]), /takes a closure, not gradients/);
    rejects(() => optimizer.step(null, () => ({ loss: 0, gradients: [[new Float64Array(3)]] })), /has 3 value\(s\), its parameter 2/);
    assert.equal(new LBFGS(group(), { maxIterations: 8 }).groups[0].options.maxEvaluations, 10);
    assert.equal(new LBFGS(group()).groups[0].options.maxEvaluations, 25);
  });

  test('parameter groups and gradients must fit together', () => {
    rejects(() => new SGD([]), /no parameter groups/);
    rejects(() => new SGD([{ params: [] }]), /no parameters/);
    rejects(() => new SGD([{ params: [[1, 2] as never] }]), /Float64Arrays/);
    const shared = new Float64Array(2);
    rejects(() => new SGD([{ params: [shared] }, { params: [shared] }]), /more than one place/);
    const optimizer = new SGD([{ params: [new Float64Array(2)] }, { params: [new Float64Array(1)] }]);
    rejects(() => optimizer.step([[new Float64Array(2)]]), /expected gradients for 2 parameter group/);
    rejects(() => optimizer.step([[new Float64Array(2)], [new Float64Array(2)]]), /gradient 1 of parameter group 2 has 2 value/);
    rejects(() => optimizer.step([[new Float64Array(2)], []]), /parameter group 2 has 1 parameter/);
    rejects(() => optimizer.step(), /no gradients and no closure/);
    rejects(() => optimizer.step([[new Float64Array(2)], [new Float64Array(1)]], () => ({ loss: 0, gradients: [] })), /not both/);
    optimizer.groups[0].options.learningRate = -1;
    rejects(() => optimizer.step([[new Float64Array(2)], [new Float64Array(1)]]), /learningRate must be ≥ 0/);
  });

  test('schedules check their options', () => {
    const holder = { groups: [{ options: { learningRate: 0.1 } }, { options: { learningRate: 1 } }] };
    rejects(() => new StepLR(holder, { stepSize: 0 }), /stepSize must be a whole number ≥ 1/);
    rejects(() => new ReduceLROnPlateau(holder, { factor: 1 }), /factor should be < 1.0/);
    rejects(() => new ReduceLROnPlateau(holder, { mode: 'up' as never }), /mode must be 'min' or 'max'/);
    rejects(() => new ReduceLROnPlateau(holder, { thresholdMode: 'relative' as never }), /thresholdMode/);
    rejects(() => new ReduceLROnPlateau(holder, { minLearningRate: [0.1] }), /expected 2 minLearningRate values/);
    rejects(() => new ReduceLROnPlateau(holder, { patience: -1 }), /patience must be ≥ 0/);
    rejects(() => new ReduceLROnPlateau(holder, { min_lr: 0 } as never), /unknown option 'min_lr'/);
  });

  test('createOptimizer knows sgd, adam and lbfgs only', () => {
    assert.deepEqual([...OPTIMIZER_NAMES], ['sgd', 'adam', 'lbfgs']);
    assert.ok(createOptimizer('sgd', group()) instanceof SGD);
    assert.ok(createOptimizer('adam', group(), { amsgrad: true }) instanceof Adam);
    assert.ok(createOptimizer('lbfgs', group(), { lineSearch: 'strong_wolfe' }) instanceof LBFGS);
    assert.equal(isOptimizerName('adam'), true);
    assert.equal(isOptimizerName('rmsprop'), false);
    assert.equal(parseOptimizerName('lbfgs'), 'lbfgs');
    rejects(() => parseOptimizerName('rmsprop', '--optimizer'), /--optimizer: unknown optimizer 'rmsprop'/);
    rejects(() => createOptimizer('adamw' as never, group()), /unknown optimizer 'adamw'/);
  });
});
