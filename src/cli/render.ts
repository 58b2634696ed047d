import { Command } from 'commander';
import { DRR } from '../drr.js';
import { createDetector } from '../geometry/detector.js';
import { poseFromParameters } from '../geometry/pose.js';
import { checkImageExtension, writeImage } from '../io/image.js';
import { loadVolume } from '../io/load-volume.js';
import { addDetectorOptions, detectorOptionsFrom, type RawOptions } from './options.js';
import { addRotationFormatOptions, poseFromFlags } from './pose-options.js';

/** `drrkit render`: one DRR of a CT at one camera pose, written as PNG (to look at) or float TIFF (exact). */
export function renderCommand(): Command {
  const command = new Command('render')
    .description('render a DRR (simulated X-ray) of a CT at one camera pose')
    .option('--ct <file|example>', 'CT volume: a NIfTI file (.nii, .nii.gz) or "example" for the built-in chest CT', 'example');
  addDetectorOptions(command, { sdr: '300', height: '100', delx: '8' });
  addRotationFormatOptions(command)
    .option('--rotation <numbers>', 'camera rotation, comma-separated, in the chosen parameterization (radians unless --degrees; default: the tutorial\'s π,0,π/2 for ZYX Euler angles)')
    .option('--translation <x,y,z>', 'camera translation in world mm (default: the volume centre)')
    .requiredOption('--out <file>', 'output image: .png (8-bit, min-max windowed) or .tif/.tiff (32-bit float, exact values)')
    .action(async (options: RawOptions) => {
      const out = String(options.out);
      checkImageExtension(out);
      const drrOptions = detectorOptionsFrom(options);
      createDetector(drrOptions); // reject a bad detector before the CT is loaded
      const volume = await loadVolume(String(options.ct));
      const drr = new DRR(volume, drrOptions);
      const pose = poseFromFlags(
        options,
        { name: '--rotation', text: options.rotation as string | undefined },
        { name: '--translation', text: options.translation as string | undefined },
        drr.center,
      );
      poseFromParameters(pose); // validates the numbers
      const started = performance.now();
      const image = drr.render(pose);
      const milliseconds = performance.now() - started;
      await writeImage(out, { data: image, height: drr.detector.height, width: drr.detector.width });
      let minimum = Infinity, maximum = -Infinity;
      for (const value of image) { if (value < minimum) minimum = value; if (value > maximum) maximum = value; }
      process.stdout.write(
        `wrote ${out}: ${drr.detector.height}×${drr.detector.width} ${drr.settings.renderer} DRR of ${volume.source} ` +
          `in ${milliseconds.toFixed(1)} ms (values ${minimum.toPrecision(4)}…${maximum.toPrecision(4)})\n`,
      );
    });
  return command;
}
