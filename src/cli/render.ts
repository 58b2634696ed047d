import { Command } from 'commander';
import { DrrkitError } from '../errors.js';
import { checkImageExtension, encodeFloatTiffStack, writeImage, type Image2D } from '../io/image.js';
import { requireFiniteValues } from '../validation.js';
import type { RawOptions } from './options.js';
import { addRenderFlags, createRenderSetup, planRender } from './render-setup.js';
import { addBackendOption, openRenderBackend } from './backend.js';

/** `drrkit render`: one DRR of a CT at one camera pose, written as PNG (to look at) or float TIFF (exact). */
export function renderCommand(): Command {
  const command = new Command('render').description('render a DRR (simulated X-ray) of a CT at one camera pose');
  addBackendOption(addRenderFlags(command))
    .requiredOption('--out <file>', 'output image: .png (8-bit, min-max windowed) or .tif/.tiff (32-bit float, exact values; several pages with --channels)')
    .action(async (options: RawOptions) => {
      const out = String(options.out);
      const extension = checkImageExtension(out);
      const plan = await planRender(options); // validates the detector before any file is read
      if (plan.channels && extension === '.png') throw new DrrkitError(`${out}: --channels writes one page per label; use a .tif output`, out);
      const backend = await openRenderBackend(String(options.backend ?? 'cpu'));
      const setup = await createRenderSetup(plan, backend.name === 'webgpu' ? { threads: 1 } : {});
      const started = performance.now();
      let images: Float32Array[];
      try {
        images = backend.name === 'cpu' ? setup.renderImages(setup.pose) : await setup.renderImagesWith(setup.pose, (drr, at) => backend.render(drr, at));
      } finally {
        backend.close();
      }
      const milliseconds = performance.now() - started;
      images.forEach((image) => requireFiniteValues(image, `${out}: the DRR`, 'check --sdr/--sdd/--sod, the pixel size, --i0 and the CT\'s values'));
      const { height, width } = setup;
      const pages: Image2D[] = images.map((data) => ({ data, height, width }));
      if (pages.length > 1 || plan.channels) {
        const { writeFileAtomic } = await import('../io/files.js');
        await writeFileAtomic(out, encodeFloatTiffStack(pages));
      } else {
        await writeImage(out, pages[0]);
      }
      let minimum = Infinity, maximum = -Infinity;
      for (const image of images) for (const value of image) { if (value < minimum) minimum = value; if (value > maximum) maximum = value; }
      process.stdout.write(
        `wrote ${out}: ${pages.length > 1 ? `${pages.length} × ` : ''}${height}×${width} ${setup.description}${backend.name === 'webgpu' ? ` on ${backend.description}` : ''} of ${setup.volume.source} ` +
          `in ${milliseconds.toFixed(1)} ms (values ${minimum.toPrecision(4)}…${maximum.toPrecision(4)})\n`,
      );
    });
  return command;
}
