/**
 * The README's registration snippet, compiled with the build so that it stays correct: the
 * tutorial's plain loop (`register`) and the robust strategy (`buildPyramid` + `registerRobust`).
 *
 *   npm run build && node dist/examples/readme-register.js
 */
import { buildPyramid, DRR, loadExampleCT, NormalizedCrossCorrelation, Registration, register, registerRobust } from 'drrkit';

const volume = loadExampleCT();
const detector = { sdr: 300, height: 100, delx: 8 };
const drr = new DRR(volume, detector);
const [bx, by, bz] = drr.center;
const truePose = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.of(bx, by, bz),
                   parameterization: 'euler_angles', convention: 'ZYX' } as const;
const groundTruth = drr.render(truePose);                      // the target X-ray (or loadXray('target.png'))
const initialRotation = Float64Array.of(Math.PI - 0.1, 0.05, Math.PI / 2 + 0.1);
const initialTranslation = Float64Array.of(bx + 5, by - 5, bz + 5);

// The tutorial's loop:
const reg = new Registration(drr, initialRotation, initialTranslation,
                             { parameterization: 'euler_angles', convention: 'ZYX' });
const result = register(reg, groundTruth, {
  optimizer: 'sgd', learningRateRotation: 5.3e-2, learningRateTranslation: 7.5e1,
  momentum: 0.9, dampening: 0.1, maxIterations: 250, stopScore: 0.999,
  similarity: new NormalizedCrossCorrelation(),
});
result.trajectory;   // [{ iteration, rotation: [alpha, beta, gamma], translation: [bx, by, bz], loss }]

// The robust strategy (drrkit register's default):
const robust = registerRobust(buildPyramid(volume, detector, groundTruth, 3),
                              { ...truePose, rotation: initialRotation, translation: initialTranslation });
robust.pose;         // the final pose; robust.settled, robust.finalScore

console.log(`tutorial loop: ${result.converged ? 'converged' : 'stopped'} after ${result.trajectory.length} iterations, NCC ${result.finalLoss.toFixed(4)}`);
console.log(`robust: ${robust.settled ? 'settled' : 'stopped'}, NCC ${robust.finalScore.toFixed(4)}, rotation ${Array.from(robust.pose.rotation, (value) => value.toFixed(3)).join(', ')}`);
