import { Command, Option } from 'commander';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DRR } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { createDetector, type RayGrid } from '../geometry/detector.js';
import { poseFromParameters } from '../geometry/pose.js';
import { writeFileAtomic } from '../io/files.js';
import { loadVolume } from '../io/load-volume.js';
import { encodeNifti } from '../io/nifti.js';
import { peakSignalToNoiseRatio, structuralSimilarity3d } from '../metrics/volume-quality.js';
import { projectorForGrid } from '../render/backprojection.js';
import { availableThreads } from '../render/worker-platform.js';
import { parseReconstructionMethod, reconstructVolume, RECONSTRUCTION_METHODS } from '../reconstruction/reconstruct.js';
import { densityVolume, downsampleVolume } from '../volume/pyramid.js';
import { createVolume } from '../volume/volume.js';
import { contactSheet } from '../viz/contact-sheet.js';
import { encodeRasterPng } from '../viz/encode.js';
import { middleSlices, sliceRaster } from '../viz/volume-slices.js';
import { addDetectorOptions, detectorOptionsFrom, parseInteger, parseNumber, type RawOptions } from './options.js';

/** The seed grid's values (i fastest, axis 0 flipped) back in the volume's file order. */
function fileOrder(values: ArrayLike<number>, shape: readonly [number, number, number]): Float32Array {
  const [nx, ny, nz] = shape;
  const out = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    out[i + nx * (j + ny * k)] = values[nx - 1 - i + nx * (j + ny * k)];
  }
  return out;
}

/** `drrkit reconstruct`: densities from DRRs of a CT at known poses, compared with the truth. */
export function reconstructCommand(): Command {
  const command = new Command('reconstruct')
    .description('reconstruct CT densities from N projections at known poses (SIRT, SART or Adam on the volume), with PSNR/SSIM against the truth')
    .option('--ct <file|folder|example>', 'CT volume whose DRRs are the projections (the truth is its densities, downsampled)', 'example');
  addDetectorOptions(command, { sdr: '300', height: '64', delx: '12.5' })
    .option('--views <n>', 'number of projections, evenly spaced on an axial arc', '8')
    .option('--arc <degrees>', 'angle covered by the views (view i at i·arc/n from the tutorial pose)', '180')
    .option('--downsample <factor>', 'reconstruction grid: the CT downsampled by this whole factor (the projections come from the full CT)', '4')
    .addOption(new Option('--method <name>', 'algorithm').choices(RECONSTRUCTION_METHODS as unknown as string[]).default('sirt'))
    .option('--iterations <n>', 'passes over all views', '50')
    .option('--relaxation <lambda>', 'SIRT/SART relaxation λ in (0, 2)', '1')
    .option('--learning-rate <step>', 'Adam step in density units', '0.02')
    .option('--tv <weight>', 'total-variation regularisation weight (0: none)', '0')
    .option('--threads <n>', 'threads per projection (default: all)')
    .requiredOption('--out-dir <folder>', 'folder for reconstruction.nii.gz, slices.png, projections.png and metrics.json')
    .action(async (options: RawOptions) => {
      const text = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
      const drrOptions = detectorOptionsFrom(options);
      createDetector(drrOptions);
      const views = parseInteger(text('views')!, '--views');
      if (views < 1 || views > 1024) throw new DrrkitError(`--views: expected 1 to 1024 views, got ${views}`, '--views');
      const arc = parseNumber(text('arc')!, '--arc');
      const factor = parseInteger(text('downsample')!, '--downsample');
      if (factor < 1) throw new DrrkitError(`--downsample: expected a whole number ≥ 1, got ${factor}`, '--downsample');
      const method = parseReconstructionMethod(String(options.method));
      const iterations = parseInteger(text('iterations')!, '--iterations');
      if (iterations < 1) throw new DrrkitError(`--iterations: expected a whole number ≥ 1, got ${iterations}`, '--iterations');
      const relaxation = parseNumber(text('relaxation')!, '--relaxation');
      if (!(relaxation > 0 && relaxation < 2)) throw new DrrkitError(`--relaxation: expected a number in (0, 2), got ${relaxation}`, '--relaxation');
      const learningRate = parseNumber(text('learningRate')!, '--learning-rate');
      if (!(learningRate > 0)) throw new DrrkitError(`--learning-rate: expected a positive number, got ${learningRate}`, '--learning-rate');
      const tv = parseNumber(text('tv')!, '--tv');
      if (!(tv >= 0)) throw new DrrkitError(`--tv: expected a number ≥ 0, got ${tv}`, '--tv');
      const threads = text('threads') !== undefined ? parseInteger(text('threads')!, '--threads') : availableThreads();
      if (threads < 1) throw new DrrkitError(`--threads: expected a whole number ≥ 1, got ${threads}`, '--threads');
      const outDir = String(options.outDir);

      const volume = await loadVolume(String(options.ct));
      const density = drrOptions.density ?? 'diffdrr';
      const coarse = downsampleVolume(densityVolume(volume, density, drrOptions.boneAttenuationMultiplier ?? 1), factor);
      const fine = new DRR(volume, { ...drrOptions, threads });
      const model = new DRR(coarse, { ...drrOptions, density: 'raw', threads: 1 });
      const pixels = fine.pixelCount;
      const rays: RayGrid[] = [];
      const projections = new Float32Array(views * pixels);
      const renderStarted = performance.now();
      for (let view = 0; view < views; view++) {
        const angle = (view * arc * Math.PI) / 180 / views;
        const pose = poseFromParameters({ rotation: Float64Array.of(Math.PI + angle, 0, Math.PI / 2), translation: Float64Array.from(fine.center), parameterization: 'euler_angles', convention: 'ZYX' });
        rays.push(model.rays(pose));
        projections.set(fine.render(pose), view * pixels);
      }
      fine.dispose();
      const renderSeconds = (performance.now() - renderStarted) / 1000;
      const projector = projectorForGrid(model.grid, { settings: model.settings, threads, maximumPixels: pixels });
      const [nx, ny, nz] = model.grid.shape;
      const truth = new Float32Array(nx * ny * nz);
      const px = nx + 2, pxy = px * (ny + 2);
      for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
        truth[i + nx * (j + ny * k)] = model.grid.data[i + 1 + px * (j + 1) + pxy * (k + 1)];
      }
      const result = reconstructVolume(projector, rays, projections, { method, iterations, relaxation, learningRate, totalVariation: tv });
      projector.dispose();
      const psnr = peakSignalToNoiseRatio(truth, result.densities);
      const ssim = structuralSimilarity3d(truth, result.densities, model.grid.shape);

      // Pictures: the truth, the reconstruction and their difference, three middle slices each.
      const spacing = model.grid.spacing;
      const millimetres = Math.min(spacing[0], spacing[1], spacing[2]) / Math.max(1, Math.round(256 / Math.max(nx, ny, nz)));
      let maximum = 0;
      for (const value of truth) if (value > maximum) maximum = value;
      const difference = new Float32Array(truth.length);
      for (let v = 0; v < truth.length; v++) difference[v] = Math.abs(result.densities[v] - truth[v]);
      const rows = [
        { label: 'truth', values: truth, max: maximum },
        { label: `${method}${tv > 0 ? ` + TV ${tv}` : ''}, ${views} views`, values: Float32Array.from(result.densities), max: maximum },
        { label: '|difference|', values: difference, max: maximum / 2 },
      ];
      const panels = rows.flatMap((row) => middleSlices(row.values, model.grid.shape, spacing).map((slice) => ({ raster: sliceRaster(slice, 0, row.max, millimetres), title: `${row.label}: ${slice.name} plane` })));
      const slices = contactSheet(panels.map((panel) => panel.raster), panels.map((panel) => panel.title), { columns: 3, heading: `PSNR ${psnr.toFixed(2)} dB, SSIM ${ssim.toFixed(3)} (${nx}x${ny}x${nz} voxels, ${result.seconds.toFixed(1)} s)` });
      const shown = Math.min(views, 8);
      const projectionSheet = contactSheet(
        Array.from({ length: shown }, (_, index) => { const view = Math.floor((index * views) / shown); return { data: projections.subarray(view * pixels, (view + 1) * pixels), height: fine.detector.height, width: fine.detector.width }; }),
        Array.from({ length: shown }, (_, index) => { const view = Math.floor((index * views) / shown); return `view ${view}: ${((view * arc) / views).toFixed(1)} deg`; }),
        { columns: Math.min(shown, 4), scale: fine.detector.height < 128 ? 2 : 1 },
      );
      const metrics = {
        ct: volume.source, grid: [nx, ny, nz], spacingMm: spacing, views, arcDegrees: arc, method, iterations, relaxation, learningRate, totalVariation: tv,
        renderer: model.settings.renderer, detector: { height: fine.detector.height, width: fine.detector.width, delx: drrOptions.delx, sdr: drrOptions.sdr },
        psnr, ssim, seconds: result.seconds, projectionSeconds: renderSeconds, threads, residuals: result.residuals,
      };
      const reconstructed = createVolume({ data: fileOrder(result.densities, coarse.shape), shape: coarse.shape, spacing: coarse.spacing, affine: coarse.affine, source: 'reconstruction' });
      await mkdir(outDir, { recursive: true });
      await writeFileAtomic(path.join(outDir, 'reconstruction.nii.gz'), encodeNifti(reconstructed, { gzip: true }));
      await writeFileAtomic(path.join(outDir, 'slices.png'), encodeRasterPng(slices));
      await writeFileAtomic(path.join(outDir, 'projections.png'), encodeRasterPng(projectionSheet));
      await writeFileAtomic(path.join(outDir, 'metrics.json'), new TextEncoder().encode(`${JSON.stringify(metrics, null, 2)}\n`));
      process.stdout.write(
        `${method}${tv > 0 ? ` + TV ${tv}` : ''} from ${views} views (${iterations} iterations, ${nx}×${ny}×${nz} voxels): ` +
          `PSNR ${psnr.toFixed(2)} dB, SSIM ${ssim.toFixed(4)}, ${result.seconds.toFixed(1)} s (projections ${renderSeconds.toFixed(1)} s); ` +
          `residual ${result.residuals[0].toFixed(3)} → ${result.residuals[result.residuals.length - 1].toFixed(4)}; wrote ${outDir}\n`,
      );
    });
  return command;
}
