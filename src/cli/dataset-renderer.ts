/**
 * The renderer of a dataset's samples, built from the `drrkit render` flags its spec records —
 * the same code in `drrkit generate` and in every queue worker, so both render the same bytes.
 */
import type { DatasetSpec, SampleRenderer } from '../dataset/dataset.js';
import { checkPoseDistribution } from '../dataset/pose-distribution.js';
import { createRenderSetup, planRender, type RenderSetup } from './render-setup.js';

/** A dataset's sample renderer with the setup it wraps (dispose the setup when done). */
export interface DatasetRenderer extends SampleRenderer {
  readonly setup: RenderSetup;
}

/** Loads the CT and builds the DRRs of a dataset spec (`threads` per image; default every core). */
export async function createDatasetRenderer(spec: DatasetSpec, threads?: number): Promise<DatasetRenderer> {
  checkPoseDistribution(spec.poses);
  const setup = await createRenderSetup(await planRender({ ...spec.render }), { threads });
  const drr = setup.drrs[0];
  return {
    setup,
    height: setup.height,
    width: setup.width,
    channelLabels: setup.channelLabels,
    context: { camera: drr.camera, isocenter: drr.center, centre: setup.pose },
    renderImages: (pose, camera) => setup.renderImages(pose, camera),
  };
}
