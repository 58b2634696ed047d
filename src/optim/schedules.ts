/**
 * Learning-rate schedules, as torch.optim.lr_scheduler's StepLR and ReduceLROnPlateau. They act on
 * each parameter group's `options.learningRate`, the value the optimizer reads at its next step.
 * As in torch, call the schedule's `step` after the optimizer's.
 */
import { DrrkitError, requireFinite } from '../errors.js';
import { rejectUnknownOptions, requireCount, requireNonNegative } from './optimizer.js';

/** Anything with parameter groups holding a learning rate (every drrkit optimizer). */
export interface LearningRateHolder {
  readonly groups: readonly { readonly options: { learningRate: number } }[];
}

function currentLearningRates(optimizer: LearningRateHolder): number[] {
  return optimizer.groups.map((group) => group.options.learningRate);
}

/** StepLR's options (torch's step_size, gamma). */
export interface StepLROptions {
  /** Epochs between decays (whole number ≥ 1). */
  stepSize: number;
  /** Factor applied to every learning rate every `stepSize` epochs (default 0.1). */
  gamma?: number;
}

/**
 * torch.optim.lr_scheduler.StepLR: every `stepSize` calls of `step`, each group's learning rate is
 * multiplied by `gamma` (lr ← lr·γ when epoch % stepSize = 0, torch's chainable form; it equals
 * initial lr·γ^⌊epoch/stepSize⌋ while nothing else changes the rates).
 */
export class StepLR {
  readonly stepSize: number;
  readonly gamma: number;
  /** Learning rates when the schedule was made (torch's base_lrs). */
  readonly baseLearningRates: number[];
  /** Epochs counted so far: 0 after construction, +1 per `step` (torch's last_epoch). */
  lastEpoch = 0;

  constructor(readonly optimizer: LearningRateHolder, options: StepLROptions) {
    rejectUnknownOptions(options ?? {}, { stepSize: 0, gamma: 0 }, 'StepLR');
    this.stepSize = requireCount(options?.stepSize, 'StepLR: stepSize');
    this.gamma = requireFinite(options.gamma ?? 0.1, 'StepLR: gamma');
    this.baseLearningRates = currentLearningRates(optimizer);
  }

  /** Advances one epoch; decays the learning rates when the epoch is a multiple of stepSize. */
  step(): void {
    this.lastEpoch += 1;
    if (this.lastEpoch % this.stepSize === 0) {
      for (const group of this.optimizer.groups) group.options.learningRate = group.options.learningRate * this.gamma;
    }
  }

  /** The learning rates in force now (torch's get_last_lr). */
  lastLearningRates(): number[] {
    return currentLearningRates(this.optimizer);
  }
}

/** ReduceLROnPlateau's options (torch's mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps). */
export interface ReduceLROnPlateauOptions {
  /** 'min': the metric should fall (a loss); 'max': it should rise (a similarity). */
  mode: 'min' | 'max';
  /** Factor (< 1) applied to the learning rates on a plateau. */
  factor: number;
  /** Epochs without improvement tolerated before reducing (whole number ≥ 0). */
  patience: number;
  /** How much better than the best a metric must be to count as an improvement. */
  threshold: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold. */
  thresholdMode: 'rel' | 'abs';
  /** Epochs after a reduction during which bad epochs are not counted (whole number ≥ 0). */
  cooldown: number;
  /** Lower bound on the learning rate: one for all groups, or one per group. */
  minLearningRate: number | readonly number[];
  /** A reduction smaller than this is not applied. */
  epsilon: number;
}

/** torch's ReduceLROnPlateau defaults. */
export const REDUCE_LR_ON_PLATEAU_DEFAULTS: Readonly<ReduceLROnPlateauOptions> = Object.freeze({
  mode: 'min',
  factor: 0.1,
  patience: 10,
  threshold: 1e-4,
  thresholdMode: 'rel',
  cooldown: 0,
  minLearningRate: 0,
  epsilon: 1e-8,
});

function requireWholeNonNegative(value: number, what: string): number {
  requireNonNegative(value, what);
  if (!Number.isInteger(value)) throw new DrrkitError(`${what} must be a whole number ≥ 0, got ${value}`, what);
  return value;
}

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau. Per `step(metric)`:
 *   improvement (mode min, rel): metric < best·(1 − threshold); (min, abs): metric < best − threshold;
 *               (max, rel): metric > best·(1 + threshold); (max, abs): metric > best + threshold
 *   improvement → best = metric, badEpochs = 0; else badEpochs += 1
 *   in cooldown → cooldownCounter −= 1, badEpochs = 0
 *   badEpochs > patience → each lr ← max(lr·factor, minLearningRate) if that lowers it by more
 *   than epsilon; cooldownCounter = cooldown; badEpochs = 0
 * (best starts at +∞ for min, −∞ for max; as in torch, 'rel' with a negative best moves the bar
 * the other way.)
 */
export class ReduceLROnPlateau {
  readonly options: Readonly<ReduceLROnPlateauOptions>;
  /** Per-group lower bounds on the learning rate. */
  readonly minLearningRates: number[];
  /** Best metric so far. */
  best: number;
  /** Epochs since the last improvement (torch's num_bad_epochs). */
  badEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Calls of `step` so far. */
  lastEpoch = 0;

  constructor(readonly optimizer: LearningRateHolder, options: Partial<ReduceLROnPlateauOptions> = {}) {
    rejectUnknownOptions(options, REDUCE_LR_ON_PLATEAU_DEFAULTS, 'ReduceLROnPlateau');
    const merged = { ...REDUCE_LR_ON_PLATEAU_DEFAULTS } as ReduceLROnPlateauOptions;
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    }
    if (merged.mode !== 'min' && merged.mode !== 'max') {
      throw new DrrkitError(`ReduceLROnPlateau: mode must be 'min' or 'max', got ${String(merged.mode)}`, 'mode');
    }
    if (merged.thresholdMode !== 'rel' && merged.thresholdMode !== 'abs') {
      throw new DrrkitError(`ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got ${String(merged.thresholdMode)}`, 'thresholdMode');
    }
    requireFinite(merged.factor, 'ReduceLROnPlateau: factor');
    if (merged.factor >= 1) throw new DrrkitError(`ReduceLROnPlateau: factor should be < 1.0, got ${merged.factor}`, 'factor');
    requireWholeNonNegative(merged.patience, 'ReduceLROnPlateau: patience');
    requireFinite(merged.threshold, 'ReduceLROnPlateau: threshold');
    requireWholeNonNegative(merged.cooldown, 'ReduceLROnPlateau: cooldown');
    requireFinite(merged.epsilon, 'ReduceLROnPlateau: epsilon');
    const groupCount = optimizer.groups.length;
    if (Array.isArray(merged.minLearningRate)) {
      if (merged.minLearningRate.length !== groupCount) {
        throw new DrrkitError(`ReduceLROnPlateau: expected ${groupCount} minLearningRate values (one per parameter group), got ${merged.minLearningRate.length}`, 'minLearningRate');
      }
      this.minLearningRates = merged.minLearningRate.map((value) => requireNonNegative(value, 'ReduceLROnPlateau: minLearningRate'));
    } else {
      const value = requireNonNegative(merged.minLearningRate as number, 'ReduceLROnPlateau: minLearningRate');
      this.minLearningRates = optimizer.groups.map(() => value);
    }
    this.options = Object.freeze(merged);
    this.best = merged.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `metric` improves on `best` by more than the threshold. */
  isBetter(metric: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this.options;
    if (mode === 'min' && thresholdMode === 'rel') return metric < best * (1 - threshold);
    if (mode === 'min' && thresholdMode === 'abs') return metric < best - threshold;
    if (mode === 'max' && thresholdMode === 'rel') return metric > best * (threshold + 1);
    return metric > best + threshold;
  }

  /** True while bad epochs are being ignored after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Records one epoch's metric and reduces the learning rates after `patience` epochs without improvement. */
  step(metric: number): void {
    if (typeof metric !== 'number') throw new DrrkitError(`ReduceLROnPlateau: the metric must be a number, got ${String(metric)}`);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.badEpochs = 0;
    } else {
      this.badEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.badEpochs = 0; // ignore any bad epochs in cooldown
    }
    if (this.badEpochs > this.options.patience) {
      this.optimizer.groups.forEach((group, index) => {
        const old = group.options.learningRate;
        const reduced = Math.max(old * this.options.factor, this.minLearningRates[index]);
        if (old - reduced > this.options.epsilon) group.options.learningRate = reduced;
      });
      this.cooldownCounter = this.options.cooldown;
      this.badEpochs = 0;
    }
  }

  /** The learning rates in force now (torch's get_last_lr). */
  lastLearningRates(): number[] {
    return currentLearningRates(this.optimizer);
  }
}
