/**
 * DiffDRR's registration tutorial, line for line in drrkit.
 *
 *   npm run build && node dist/examples/tutorial.js [output-directory]
 *
 * 1. Generate a target X-ray; 2. initialise a moving DRR from a random pose; 3. measure the loss;
 * 4. back-propagate to the pose parameters and step, with four optimizers; then visualise.
 */
import { DRR, loadExampleCT, NormalizedCrossCorrelation, NumpyRandom, Registration, register, registerAndRecord, tutorialInitialPose, writeComparisonOutputs, type RecordedRun } from 'drrkit';
import type { RegisterOptions } from 'drrkit';

const random = new NumpyRandom(39); // np.random.seed(39)

// 1. Make the ground truth X-ray
const SDR = 300.0;
const HEIGHT = 100;
const DELX = 8.0;

const volume = loadExampleCT();
const [bx, by, bz] = volume.shape.map((size, axis) => (size * volume.spacing[axis]) / 2);
const trueParams = { sdr: SDR, alpha: Math.PI, beta: 0, gamma: Math.PI / 2, bx, by, bz };

let drr = new DRR(volume, { sdr: SDR, height: HEIGHT, delx: DELX });
const rotations = Float64Array.of(trueParams.alpha, trueParams.beta, trueParams.gamma);
const translations = Float64Array.of(trueParams.bx, trueParams.by, trueParams.bz);
const groundTruth = drr.render({ rotation: rotations, translation: translations, parameterization: 'euler_angles', convention: 'ZYX' });

// 2. Initialize a moving DRR from a random pose (the tutorial's get_initial_parameters)
const initial = tutorialInitialPose(rotations, translations, random);
drr = new DRR(volume, { sdr: SDR, height: HEIGHT, delx: DELX });
const estimate = drr.render({ rotation: initial.rotation, translation: initial.translation, parameterization: 'euler_angles', convention: 'ZYX' });

// 3. Measure the loss between the target X-ray and the moving DRR
const criterion = new NormalizedCrossCorrelation();
const shape = { height: HEIGHT, width: HEIGHT };
console.log(`initial NCC: ${criterion.score(groundTruth, estimate, shape)[0].toFixed(4)}`);

// 4. Optimize: the tutorial's optimize(reg, ground_truth, lr_rotations, lr_translations, momentum, dampening, n_itrs, optimizer)
function optimize(
  reg: Registration,
  target: Float32Array,
  lrRotations = 5.3e-2,
  lrTranslations = 7.5e1,
  momentum = 0,
  dampening = 0,
  nItrs = 250,
  optimizer: 'sgd' | 'adam' = 'sgd',
  label: string = optimizer,
): RecordedRun {
  const options: RegisterOptions = {
    optimizer,
    learningRateRotation: lrRotations,
    learningRateTranslation: lrTranslations,
    momentum: optimizer === 'sgd' ? momentum : undefined,
    dampening: optimizer === 'sgd' ? dampening : undefined,
    maxIterations: nItrs,
    stopScore: 0.999, // if loss > 0.999: "Converged in {itr} iterations"
    similarity: new NormalizedCrossCorrelation(),
  };
  const run = registerAndRecord(reg, target, options, label);
  const { result } = run;
  console.log(result.converged ? `${label}: Converged in ${result.iterations} iterations (${result.iterationsPerSecond.toFixed(1)} it/s)` : `${label}: did not converge in ${nItrs} iterations (final NCC ${result.finalLoss.toFixed(4)})`);
  return run; // result.trajectory is the tutorial's DataFrame: alpha, beta, gamma, bx, by, bz, loss
}

const newRegistration = () => new Registration(new DRR(volume, { sdr: SDR, height: HEIGHT, delx: DELX }), initial.rotation, initial.translation, { parameterization: 'euler_angles', convention: 'ZYX' });

const paramsBase = optimize(newRegistration(), groundTruth, undefined, undefined, 0, 0, 250, 'sgd', 'SGD');
const paramsMomentum = optimize(newRegistration(), groundTruth, undefined, undefined, 0.9, 0, 250, 'sgd', 'SGD + momentum');
const paramsMomentumDampen = optimize(newRegistration(), groundTruth, undefined, undefined, 0.9, 0.1, 250, 'sgd', 'SGD + momentum + dampening');
const paramsAdam = optimize(newRegistration(), groundTruth, 1e-1, 1e1, 0, 0, 250, 'adam', 'Adam');

// Visualize the parameter updates: one animation with the four runs side by side, and the trajectories.
const outDirectory = process.argv[2] ?? 'output/tutorial';
const written = await writeComparisonOutputs(outDirectory, [paramsBase, paramsMomentum, paramsMomentumDampen, paramsAdam], {
  fixed: { data: groundTruth, ...shape },
  truth: { rotation: rotations, translation: translations, parameterization: 'euler_angles', convention: 'ZYX' },
  parameterization: 'euler_angles',
  convention: 'ZYX',
});
console.log(`wrote ${written.join(', ')}`);
void register; // the plain loop is also available as register(reg, target, options)
