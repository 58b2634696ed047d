/**
 * The README's registration snippets, compiled with the build so that they stay correct: the
 * tutorial's plain loop (`register`) and the robust strategy (`buildPyramid` + `registerRobust`).
 *
 *   npm run build && node dist/examples/readme-register.js
 */
import { buildPyramid, DRR, loadExampleCT, NormalizedCrossCorrelation, Registration, register, registerRobust, type PoseParameters } from 'drrkit';

const volume = loadExampleCT();
const detector = { sdr: 300, height: 100, delx: 8 };
const drr = new DRR(volume, detector);
const [bx, by, bz] = drr.center;

// A target X-ray: here a DRR at a known pose (use loadXray('target.png') for a real image).
const truePose: PoseParameters = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.of(bx, by, bz), parameterization: 'euler_angles', convention: 'ZYX' };
const groundTruth = drr.render(truePose);

// The tutorial's loop: SGD with momentum and dampening from a nearby start.
const initialRotation = Float64Array.of(Math.PI - 0.1, 0.05, Math.PI / 2 + 0.1);
const initialTranslation = Float64Array.of(bx + 5, by - 5, bz + 5);
const reg = new Registration(drr, initialRotation, initialTranslation, { parameterization: 'euler_angles', convention: 'ZYX' });
const result = register(reg, groundTruth, {
  optimizer: 'sgd', learningRateRotation: 5.3e-2, learningRateTranslation: 7.5e1,
  momentum: 0.9, dampening: 0.1, maxIterations: Number(process.env.ITERATIONS ?? 250), stopScore: 0.999,
  similarity: new NormalizedCrossCorrelation(),
});
console.log(`tutorial loop: ${result.converged ? 'converged' : 'stopped'} after ${result.trajectory.length} iterations, NCC ${result.finalLoss.toFixed(4)}`);

// The robust strategy (drrkit register's default): rotation search on a coarse level, then coarse-to-fine refinement.
const pyramid = buildPyramid(volume, detector, groundTruth, 3);
const robust = registerRobust(pyramid, { ...truePose, rotation: initialRotation, translation: initialTranslation }, { rotationRangeDegrees: [15, 15, 15] });
console.log(`robust: ${robust.settled ? 'settled' : 'stopped'}, NCC ${robust.finalScore.toFixed(4)}, rotation ${Array.from(robust.pose.rotation, (value) => value.toFixed(3)).join(', ')}`);
