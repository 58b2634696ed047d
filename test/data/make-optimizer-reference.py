#!/usr/bin/env python3
"""Writes test/data/optimizer-reference.json: parameter trajectories of torch.optim's SGD, Adam and
LBFGS (and the learning rates of StepLR and ReduceLROnPlateau) on small fixed problems.

PyTorch is not available where drrkit is built, so this script re-implements the update rules in
numpy, straight from PyTorch's documentation and the reference (single-tensor, non-fused,
non-capturable, CPU) code paths of torch/optim/{sgd,adam,lbfgs,lr_scheduler}.py:

  SGD   (torch.optim.SGD, _single_tensor_sgd)
        g = -grad if maximize else grad;  g += weight_decay * p
        momentum: buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g
                  g = g + momentum * buf if nesterov else buf
        p -= lr * g
        (the documentation's pseudo-code applies `maximize` at the end, p += lr * g; the code
        negates the gradient first, which differs when weight_decay != 0: we follow the code.)
  Adam  (torch.optim.Adam, _single_tensor_adam)
        g = -grad if maximize else grad;  g += weight_decay * p;  step += 1
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** step;  bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        amsgrad: v_max = max(v_max, v) and v_max replaces v below
        denom = sqrt(v) / sqrt(bias_correction2) + eps
        p += -step_size * m / denom
  LBFGS (torch.optim.LBFGS with _strong_wolfe and _cubic_interpolate): ported below as it is.
  StepLR, ReduceLROnPlateau: torch.optim.lr_scheduler's chainable forms.

Parameters are torch-like objects (data + grad) so the optimizers read as PyTorch's do.
Numbers are written with 17 significant digits. Run from anywhere:
    python3 test/data/make-optimizer-reference.py
"""
import json
import math
import os

import numpy as np

# ----------------------------------------------------------------------------------------------
# Problems
# ----------------------------------------------------------------------------------------------

# f(x) = 1/2 x^T A x - b^T x with A symmetric positive definite (strictly diagonally dominant).
A = np.array([
    [4.0, 1.0, 0.5, 0.2],
    [1.0, 3.0, 0.3, 0.1],
    [0.5, 0.3, 2.0, 0.4],
    [0.2, 0.1, 0.4, 1.5],
])
B = np.array([1.0, -2.0, 0.5, 3.0])
X0 = np.array([0.5, -0.3, 1.2, -0.7])
GROUP_SIZES = [3, 1]
ROSENBROCK_X0 = np.array([-1.2, 1.0, -0.5, 0.8])


def quadratic(x):
    return 0.5 * float(x @ (A @ x)) - float(B @ x), A @ x - B


def negated_quadratic(x):
    value, gradient = quadratic(x)
    return -value, -gradient


def rosenbrock(x):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2 and its gradient."""
    value = 0.0
    gradient = np.zeros_like(x)
    for i in range(len(x) - 1):
        r = x[i + 1] - x[i] * x[i]
        s = 1.0 - x[i]
        value += 100.0 * r * r + s * s
        gradient[i] += -400.0 * x[i] * r - 2.0 * s
        gradient[i + 1] += 200.0 * r
    return value, gradient


def shallow_quadratic(x):
    """f / 100: a gradient with ‖g‖₁ < 1, so L-BFGS's first step length is lr itself."""
    value, gradient = quadratic(x)
    return value / 100.0, gradient / 100.0


def wavy(x):
    """sum_i x[i]^2 / 2 + 2 sin(3 x[i]) (not convex) and its gradient."""
    return float(np.sum(0.5 * x * x + 2.0 * np.sin(3.0 * x))), x + 6.0 * np.cos(3.0 * x)


OBJECTIVES = {'quadratic': quadratic, 'negated-quadratic': negated_quadratic, 'shallow-quadratic': shallow_quadratic,
              'rosenbrock': rosenbrock, 'wavy': wavy}
STARTS = {'quadratic': X0, 'negated-quadratic': X0, 'shallow-quadratic': X0, 'rosenbrock': ROSENBROCK_X0, 'wavy': X0}


class Parameter:
    """A stand-in for a torch leaf tensor: `data` is updated in place, `grad` set by the closure."""

    def __init__(self, values):
        self.data = np.array(values, dtype=np.float64)
        self.grad = None


def make_closure(objective, parameters):
    """Like a PyTorch closure: evaluates the objective at the current parameters, sets the grads."""

    def closure():
        x = np.concatenate([p.data for p in parameters])
        value, gradient = objective(x)
        offset = 0
        for p in parameters:
            p.grad = np.array(gradient[offset:offset + p.data.size])
            offset += p.data.size
        return value

    return closure


# ----------------------------------------------------------------------------------------------
# torch.optim re-implementations
# ----------------------------------------------------------------------------------------------

class Optimizer:
    def __init__(self, param_groups, defaults):
        self.param_groups = []
        for group in param_groups:
            merged = dict(defaults)
            merged.update(group)
            self.param_groups.append(merged)
        self.state = {}

    def state_of(self, p):
        return self.state.setdefault(id(p), {})


class SGD(Optimizer):
    def __init__(self, param_groups, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, maximize=False):
        super().__init__(param_groups, dict(lr=lr, momentum=momentum, dampening=dampening,
                                            weight_decay=weight_decay, nesterov=nesterov,
                                            maximize=maximize))

    def step(self, closure):
        loss = closure()
        for group in self.param_groups:
            lr, momentum, dampening = group['lr'], group['momentum'], group['dampening']
            for p in group['params']:
                d_p = -p.grad if group['maximize'] else p.grad.copy()
                if group['weight_decay'] != 0:
                    d_p = d_p + group['weight_decay'] * p.data
                if momentum != 0:
                    state = self.state_of(p)
                    if 'momentum_buffer' not in state:
                        buf = d_p.copy()
                        state['momentum_buffer'] = buf
                    else:
                        buf = state['momentum_buffer'] * momentum + (1 - dampening) * d_p
                        state['momentum_buffer'] = buf
                    if group['nesterov']:
                        d_p = d_p + momentum * buf
                    else:
                        d_p = buf
                p.data = p.data + (-lr) * d_p
        return loss


class Adam(Optimizer):
    def __init__(self, param_groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False):
        super().__init__(param_groups, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                            amsgrad=amsgrad, maximize=maximize))

    def step(self, closure):
        loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            lr, eps = group['lr'], group['eps']
            for p in group['params']:
                grad = -p.grad if group['maximize'] else p.grad.copy()
                state = self.state_of(p)
                if not state:
                    state['step'] = 0.0
                    state['exp_avg'] = np.zeros_like(p.data)
                    state['exp_avg_sq'] = np.zeros_like(p.data)
                    state['max_exp_avg_sq'] = np.zeros_like(p.data)
                state['step'] += 1
                if group['weight_decay'] != 0:
                    grad = grad + group['weight_decay'] * p.data
                exp_avg = state['exp_avg']
                # torch.lerp(start, end, weight) as computed on the CPU
                weight = 1 - beta1
                if weight < 0.5:
                    exp_avg = exp_avg + weight * (grad - exp_avg)
                else:
                    exp_avg = grad - (grad - exp_avg) * (1 - weight)
                exp_avg_sq = state['exp_avg_sq'] * beta2 + ((1 - beta2) * grad) * grad
                state['exp_avg'], state['exp_avg_sq'] = exp_avg, exp_avg_sq
                step = state['step']
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = math.sqrt(bias_correction2)
                if group['amsgrad']:
                    state['max_exp_avg_sq'] = np.maximum(state['max_exp_avg_sq'], exp_avg_sq)
                    denom = np.sqrt(state['max_exp_avg_sq']) / bias_correction2_sqrt + eps
                else:
                    denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
                p.data = p.data + ((-step_size) * exp_avg) / denom
        return loss


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    else:
        return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    d_norm = float(np.max(np.abs(d)))
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)

    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev = tmp
        f_prev = f_new
        g_prev = g_new.copy()
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1

    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]

    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new

    t = bracket[low_pos]
    f_new = bracket_f[low_pos]
    g_new = bracket_g[low_pos]
    return f_new, g_new, t, ls_func_evals


class LBFGS(Optimizer):
    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__([{'params': params}], dict(
            lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn))
        self._params = self.param_groups[0]['params']

    def _gather_flat_grad(self):
        return np.concatenate([p.grad.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update):
        offset = 0
        for p in self._params:
            numel = p.data.size
            p.data = p.data + step_size * update[offset:offset + numel]
            offset += numel

    def _clone_param(self):
        return [p.data.copy() for p in self._params]

    def _set_param(self, params_data):
        for p, pdata in zip(self._params, params_data):
            p.data = pdata.copy()

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure):
        group = self.param_groups[0]
        lr = group['lr']
        max_iter = group['max_iter']
        max_eval = group['max_eval']
        tolerance_grad = group['tolerance_grad']
        tolerance_change = group['tolerance_change']
        line_search_fn = group['line_search_fn']
        history_size = group['history_size']

        state = self.state_of(self._params[0])
        state.setdefault('func_evals', 0)
        state.setdefault('n_iter', 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state['func_evals'] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
        if opt_cond:
            return orig_loss

        d = state.get('d')
        t = state.get('t')
        old_dirs = state.get('old_dirs')
        old_stps = state.get('old_stps')
        ro = state.get('ro')
        H_diag = state.get('H_diag')
        prev_flat_grad = state.get('prev_flat_grad')
        prev_loss = state.get('prev_loss')

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state['n_iter'] += 1

            if state['n_iter'] == 1:
                d = -flat_grad
                old_dirs = []
                old_stps = []
                ro = []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)
                num_old = len(old_dirs)
                if 'al' not in state:
                    state['al'] = [None] * history_size
                al = state['al']
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q + (-al[i]) * old_dirs[i]
                r = q * H_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            if state['n_iter'] == 1:
                t = min(1.0, 1.0 / float(np.sum(np.abs(flat_grad)))) * lr
            else:
                t = lr

            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != 'strong_wolfe':
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd)
                self._add_grad(t, d)
                opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state['func_evals'] += ls_func_evals

            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if np.max(np.abs(d * t)) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state['d'] = d
        state['t'] = t
        state['old_dirs'] = old_dirs
        state['old_stps'] = old_stps
        state['ro'] = ro
        state['H_diag'] = H_diag
        state['prev_flat_grad'] = prev_flat_grad
        state['prev_loss'] = prev_loss
        return orig_loss


class StepLR:
    """torch.optim.lr_scheduler.StepLR (chainable form, as `scheduler.step()` uses it)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.optimizer = optimizer
        self.step_size = step_size
        self.gamma = gamma
        self.last_epoch = -1
        for group in optimizer.param_groups:
            group.setdefault('initial_lr', group['lr'])
        self.step()  # _initial_step

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group['lr'] for group in self.optimizer.param_groups]
        return [group['lr'] * self.gamma for group in self.optimizer.param_groups]

    def step(self):
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group['lr'] = lr


class ReduceLROnPlateau:
    """torch.optim.lr_scheduler.ReduceLROnPlateau."""

    def __init__(self, optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError('Factor should be < 1.0.')
        self.optimizer = optimizer
        self.factor = factor
        if isinstance(min_lr, (list, tuple)):
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.eps = eps
        self.last_epoch = 0
        self.mode_worse = math.inf if mode == 'min' else -math.inf
        self.best = self.mode_worse
        self.num_bad_epochs = 0

    def is_better(self, a, best):
        if self.mode == 'min' and self.threshold_mode == 'rel':
            return a < best * (1.0 - self.threshold)
        if self.mode == 'min' and self.threshold_mode == 'abs':
            return a < best - self.threshold
        if self.mode == 'max' and self.threshold_mode == 'rel':
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics):
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for i, group in enumerate(self.optimizer.param_groups):
                old_lr = float(group['lr'])
                new_lr = max(old_lr * self.factor, self.min_lrs[i])
                if old_lr - new_lr > self.eps:
                    group['lr'] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0


# ----------------------------------------------------------------------------------------------
# Cases. Options use drrkit's names; these helpers translate them to torch's.
# ----------------------------------------------------------------------------------------------

TORCH_NAMES = {
    'learningRate': 'lr', 'momentum': 'momentum', 'dampening': 'dampening',
    'weightDecay': 'weight_decay', 'nesterov': 'nesterov', 'maximize': 'maximize',
    'betas': 'betas', 'epsilon': 'eps', 'amsgrad': 'amsgrad',
    'maxIterations': 'max_iter', 'maxEvaluations': 'max_eval', 'toleranceGradient': 'tolerance_grad',
    'toleranceChange': 'tolerance_change', 'historySize': 'history_size', 'lineSearch': 'line_search_fn',
}


def torch_options(options):
    out = {}
    for key, value in options.items():
        out[TORCH_NAMES[key]] = tuple(value) if key == 'betas' else value
    return out


def split_start(objective):
    x = STARTS[objective]
    parameters, offset = [], 0
    for size in GROUP_SIZES:
        parameters.append(Parameter(x[offset:offset + size]))
        offset += size
    return parameters


def run_case(case):
    objective = OBJECTIVES[case['objective']]
    parameters = split_start(case['objective'])
    closure = make_closure(objective, parameters)
    defaults = torch_options(case.get('defaults', {}))
    maximize = False
    if case['optimizer'] == 'lbfgs':
        maximize = defaults.pop('maximize', False)
        optimizer = LBFGS(parameters, **defaults)
        if maximize:  # drrkit's extension: minimise the negated objective
            inner = closure

            def closure():
                value = inner()
                for p in parameters:
                    p.grad = -p.grad
                return -value
    else:
        groups = [{'params': [parameters[i]], **torch_options(options)}
                  for i, options in enumerate(case['groupOptions'])]
        optimizer = (SGD if case['optimizer'] == 'sgd' else Adam)(groups, **defaults)
    scheduler = None
    if 'stepSchedule' in case:
        scheduler = StepLR(optimizer, case['stepSchedule']['stepSize'], case['stepSchedule']['gamma'])

    trajectory, losses, learning_rates, evaluations = [], [], [], []
    for _ in range(case['steps']):
        loss = optimizer.step(closure)
        if case['optimizer'] == 'lbfgs' and maximize:
            loss = -loss  # drrkit returns the user's loss, not its negation
        losses.append(loss)
        trajectory.append(np.concatenate([p.data for p in parameters]).tolist())
        if case['optimizer'] == 'lbfgs':
            state = optimizer.state_of(parameters[0])
            evaluations.append([state['func_evals'], state['n_iter']])
        if scheduler is not None:
            scheduler.step()
        learning_rates.append([group['lr'] for group in optimizer.param_groups])
    result = dict(case)
    result['start'] = STARTS[case['objective']].tolist()
    result['trajectory'] = trajectory
    result['losses'] = losses
    if scheduler is not None:
        result['learningRates'] = learning_rates
    if evaluations:
        result['evaluations'] = evaluations
    return result


def sgd(name, group_options, defaults=None, objective='quadratic', steps=20, **extra):
    return dict(name=name, optimizer='sgd', objective=objective, groupOptions=group_options,
                defaults=defaults or {}, steps=steps, **extra)


def adam(name, group_options, defaults=None, objective='quadratic', steps=20):
    return dict(name=name, optimizer='adam', objective=objective, groupOptions=group_options,
                defaults=defaults or {}, steps=steps)


def lbfgs(name, defaults, objective='quadratic', steps=6):
    return dict(name=name, optimizer='lbfgs', objective=objective, defaults=defaults, steps=steps)


LR_SGD = [{'learningRate': 0.1}, {'learningRate': 0.05}]
LR_SGD_MOMENTUM = [{'learningRate': 0.05}, {'learningRate': 0.02}]
LR_ADAM = [{'learningRate': 0.05}, {'learningRate': 0.1}]

CASES = [
    sgd('sgd plain', LR_SGD),
    sgd('sgd momentum', LR_SGD_MOMENTUM, {'momentum': 0.9}),
    sgd('sgd momentum dampening', LR_SGD_MOMENTUM, {'momentum': 0.9, 'dampening': 0.1}),
    sgd('sgd nesterov', LR_SGD_MOMENTUM, {'momentum': 0.9, 'nesterov': True}),
    sgd('sgd weight decay', LR_SGD, {'weightDecay': 0.1}),
    sgd('sgd momentum weight decay', LR_SGD_MOMENTUM, {'momentum': 0.9, 'weightDecay': 0.05}),
    sgd('sgd maximize negated', LR_SGD_MOMENTUM, {'momentum': 0.9, 'weightDecay': 0.05, 'maximize': True},
        objective='negated-quadratic'),
    sgd('sgd per-group options', [{'learningRate': 0.05}, {'learningRate': 0.1, 'momentum': 0.5, 'dampening': 0.2}],
        {'momentum': 0.9, 'nesterov': False}),
    sgd('sgd momentum step schedule', LR_SGD_MOMENTUM, {'momentum': 0.9}, steps=20,
        stepSchedule={'stepSize': 5, 'gamma': 0.5}),
    adam('adam default', LR_ADAM),
    adam('adam amsgrad weight decay', LR_ADAM, {'amsgrad': True, 'weightDecay': 0.1}),
    adam('adam maximize negated', LR_ADAM, {'maximize': True}, objective='negated-quadratic'),
    adam('adam custom betas epsilon', LR_ADAM, {'betas': [0.8, 0.99], 'epsilon': 1e-3}),
    adam('adam small beta1', LR_ADAM, {'betas': [0.3, 0.95]}),
    adam('adam amsgrad rosenbrock', [{'learningRate': 0.02}, {'learningRate': 0.05}], {'amsgrad': True},
         objective='rosenbrock', steps=30),
    lbfgs('lbfgs no line search', {'maxIterations': 3}),
    lbfgs('lbfgs no line search history 2', {'learningRate': 0.5, 'maxIterations': 4, 'historySize': 2}),
    lbfgs('lbfgs no line search rosenbrock', {'learningRate': 0.002, 'maxIterations': 4, 'historySize': 3},
          objective='rosenbrock', steps=5),
    lbfgs('lbfgs no line search shallow', {'maxIterations': 3}, objective='shallow-quadratic'),
    lbfgs('lbfgs strong wolfe', {'maxIterations': 2, 'lineSearch': 'strong_wolfe'}),
    # zoom phase with a bracket much too long: insufficient-progress bookkeeping
    lbfgs('lbfgs strong wolfe long step', {'learningRate': 10, 'maxIterations': 3, 'lineSearch': 'strong_wolfe'}),
    # bracketing phase extrapolates (cubic interpolation bounded to [t + 0.01 (t - t_prev), 10 t])
    lbfgs('lbfgs strong wolfe short step', {'learningRate': 0.01, 'maxIterations': 5, 'lineSearch': 'strong_wolfe'}),
    # stops on |loss - previous loss| < tolerance_change
    lbfgs('lbfgs strong wolfe until converged', {'learningRate': 0.5, 'maxIterations': 20, 'lineSearch': 'strong_wolfe'},
          steps=3),
    lbfgs('lbfgs strong wolfe maximize', {'maxIterations': 2, 'lineSearch': 'strong_wolfe', 'maximize': True},
          objective='negated-quadratic'),
    lbfgs('lbfgs strong wolfe rosenbrock', {'maxIterations': 5, 'lineSearch': 'strong_wolfe'},
          objective='rosenbrock', steps=4),
    # extrapolation and the cubic without a real minimiser (midpoint of the bounds)
    lbfgs('lbfgs strong wolfe rosenbrock step 5', {'learningRate': 5, 'maxIterations': 5, 'lineSearch': 'strong_wolfe'},
          objective='rosenbrock', steps=4),
    # zoom moves a trial point away from the bracket's end
    lbfgs('lbfgs strong wolfe wavy', {'learningRate': 10, 'maxIterations': 5, 'lineSearch': 'strong_wolfe'},
          objective='wavy', steps=4),
    # steps too small to change x: the zoom stops on its bracket-length tolerance
    lbfgs('lbfgs strong wolfe tiny step', {'learningRate': 1e-30, 'maxIterations': 2, 'lineSearch': 'strong_wolfe'},
          steps=2),
]


class LearningRateHolder:
    def __init__(self, learning_rates):
        self.param_groups = [{'lr': lr} for lr in learning_rates]


SCHEDULES = [
    dict(name='step lr every 3', kind='step', initial=[0.1, 75.0], options={'stepSize': 3, 'gamma': 0.5}, steps=12),
    dict(name='step lr every step', kind='step', initial=[0.053, 75.0], options={'stepSize': 1, 'gamma': 0.9}, steps=10),
    dict(name='plateau min rel', kind='plateau', initial=[0.1, 75.0],
         options={'mode': 'min', 'factor': 0.5, 'patience': 2, 'cooldown': 1, 'minLearningRate': [0.02, 10.0]},
         metrics=[5, 4, 3.9999, 3.9999, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]),
    dict(name='plateau max abs', kind='plateau', initial=[0.1, 75.0],
         options={'mode': 'max', 'factor': 0.1, 'patience': 1, 'threshold': 0.1, 'thresholdMode': 'abs'},
         metrics=[1, 1.05, 1.2, 1.25, 1.29, 1.5, 1.5, 1.5, 1.61, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6]),
    dict(name='plateau default', kind='plateau', initial=[0.01, 1e-7],
         options={},
         metrics=[3.0] * 40),
    dict(name='plateau max rel eps', kind='plateau', initial=[1e-6, 2e-8],
         options={'mode': 'max', 'factor': 0.5, 'patience': 0, 'threshold': 0.01, 'epsilon': 1e-8, 'minLearningRate': 1e-9},
         metrics=[-1.0, -0.995, -0.98, 2.0, 2.01, 2.03, 2.03, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
]

SCHEDULE_TORCH_NAMES = {'stepSize': 'step_size', 'gamma': 'gamma', 'mode': 'mode', 'factor': 'factor',
                        'patience': 'patience', 'threshold': 'threshold', 'thresholdMode': 'threshold_mode',
                        'cooldown': 'cooldown', 'minLearningRate': 'min_lr', 'epsilon': 'eps'}


def run_schedule(schedule):
    holder = LearningRateHolder(schedule['initial'])
    options = {SCHEDULE_TORCH_NAMES[k]: v for k, v in schedule['options'].items()}
    learning_rates = []
    if schedule['kind'] == 'step':
        scheduler = StepLR(holder, **options)
        for _ in range(schedule['steps']):
            scheduler.step()
            learning_rates.append([group['lr'] for group in holder.param_groups])
    else:
        scheduler = ReduceLROnPlateau(holder, **options)
        for metric in schedule['metrics']:
            scheduler.step(metric)
            learning_rates.append([group['lr'] for group in holder.param_groups])
    result = dict(schedule)
    result['learningRates'] = learning_rates
    return result


# ----------------------------------------------------------------------------------------------
# Output: JSON with every float written with 17 significant digits
# ----------------------------------------------------------------------------------------------

def encode(value, indent=0):
    pad = '  ' * indent
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError('non-finite number in the reference data')
        text = format(float(value), '.17g')
        return text if any(c in text for c in '.en') else text + '.0'
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return '[' + ', '.join(encode(v) for v in value) + ']'
        return '[\n' + ',\n'.join(pad + '  ' + encode(v, indent + 1) for v in value) + '\n' + pad + ']'
    if isinstance(value, dict):
        if all(not isinstance(v, (dict, list, tuple)) or
               (isinstance(v, (list, tuple)) and all(not isinstance(w, (dict, list, tuple)) for w in v))
               for v in value.values()):
            return '{' + ', '.join(json.dumps(k) + ': ' + encode(v) for k, v in value.items()) + '}'
        items = [pad + '  ' + json.dumps(k) + ': ' + encode(v, indent + 1) for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '\n' + pad + '}'
    raise TypeError(type(value))


def main():
    data = {
        'description': 'Trajectories of torch.optim SGD/Adam/LBFGS and learning-rate schedules, '
                       'from make-optimizer-reference.py (numpy re-implementation of PyTorch).',
        'problem': {
            'A': A.tolist(), 'b': B.tolist(), 'groupSizes': GROUP_SIZES,
            'quadraticMinimum': np.linalg.solve(A, B).tolist(),
        },
        'cases': [run_case(case) for case in CASES],
        'schedules': [run_schedule(schedule) for schedule in SCHEDULES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'optimizer-reference.json')
    with open(path, 'w') as handle:
        handle.write(encode(data) + '\n')
    print('wrote', path)


if __name__ == '__main__':
    main()
