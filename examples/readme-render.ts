/**
 * The README's rendering snippet, compiled with the build so that it stays correct:
 *
 *   npm run build && node dist/examples/readme-render.js
 */
import { DRR, loadExampleCT } from 'drrkit';

const volume = loadExampleCT(); // or: await readNifti('ct.nii.gz'), await loadVolume('ct.nrrd')
const drr = new DRR(volume, { sdr: 300, height: 100, delx: 8, renderer: 'siddon' });
const [bx, by, bz] = drr.center;
const image = drr.render({ // Float32Array, [pose][row][column]
  rotation: Float64Array.of(Math.PI, 0, Math.PI / 2),
  translation: Float64Array.of(bx, by, bz),
  parameterization: 'euler_angles',
  convention: 'ZYX',
});
console.log(`rendered ${drr.detector.height}×${drr.detector.width} pixels, first value ${image[0].toFixed(3)}`);
