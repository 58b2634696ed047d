/**
 * DRR datasets on disk: float32 `.npy` shards and a JSON-lines manifest.
 *
 *   DIR/dataset.json          what was asked for (count, shard size, seed, poses, render flags)
 *   DIR/shard-00000.npy       samples 0 … k−1 as [k, H, W] (or [k, C, H, W] with channels)
 *   DIR/manifest.jsonl        one record per sample, in id order, once every shard is done
 *   DIR/.parts/shard-00000.json   the records of a finished shard (removed with the manifest)
 *
 * A shard counts as done when its `.npy` (of the right size) and its part file both exist; every
 * file is written atomically (temporary file + rename), so an interrupted run leaves only whole
 * shards and resuming re-renders the rest. A sample depends only on (seed, id) and the render
 * flags, so re-rendering a shard, on any machine, writes the same bytes.
 */
import { open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DrrkitError } from '../errors.js';
import type { Camera } from '../geometry/camera.js';
import { poseFromParameters } from '../geometry/pose.js';
import { intrinsicMatrix, type WorldDetector } from '../geometry/world-camera.js';
import { writeFileAtomic } from '../io/files.js';
import { encodeNpy, decodeNpyHeader } from './npy.js';
import { samplePose, type PoseContext, type PoseDistribution } from './pose-distribution.js';

/** What a dataset holds: enough to render any of its samples anywhere. */
export interface DatasetSpec {
  format: 'drrkit-dataset';
  version: 1;
  /** Number of samples. */
  count: number;
  /** Samples per shard (the last shard may hold fewer). */
  shardSize: number;
  /** Seed of the per-sample random streams. */
  seed: number;
  /** The pose distribution. */
  poses: PoseDistribution;
  /** The `drrkit render` flags (commander keys; file paths absolute). */
  render: Record<string, string | boolean>;
}

/** What renders a dataset's samples: the images of a pose, and the context its poses are drawn in. */
export interface SampleRenderer {
  /** Rows and columns. */
  readonly height: number;
  readonly width: number;
  /** Label of each channel, or null for one image per sample. */
  readonly channelLabels: readonly number[] | null;
  /** The camera, isocentre and centre pose. */
  readonly context: PoseContext;
  /** The images (one per channel) of a pose; `camera` replaces the DRR's own. */
  renderImages(pose: ReturnType<typeof samplePose>['pose'], camera?: Camera): Float32Array[];
}

/** One line of manifest.jsonl. */
export interface ManifestRecord {
  id: number;
  shard: string;
  index: number;
  ct: string;
  pose: Record<string, unknown>;
  camera_to_world: number[][];
  detector: Record<string, unknown>;
  channels?: number[];
}

/** Number of shards of a dataset. */
export function shardCount(spec: Pick<DatasetSpec, 'count' | 'shardSize'>): number {
  return Math.ceil(spec.count / spec.shardSize);
}

/** The file name of shard `index` (five digits at least). */
export function shardName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.npy`;
}

/** The sample ids of shard `index`: first … first + count − 1. */
export function shardRange(spec: Pick<DatasetSpec, 'count' | 'shardSize'>, index: number): { first: number; count: number } {
  const first = index * spec.shardSize;
  return { first, count: Math.min(spec.shardSize, spec.count - first) };
}

/** Checks a spec's numbers. */
export function checkDatasetSpec(spec: DatasetSpec): void {
  if (!Number.isSafeInteger(spec.count) || spec.count < 1) throw new DrrkitError(`--count: expected a whole number ≥ 1, got ${spec.count}`, '--count');
  if (!Number.isSafeInteger(spec.shardSize) || spec.shardSize < 1) throw new DrrkitError(`--shard-size: expected a whole number ≥ 1, got ${spec.shardSize}`, '--shard-size');
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0) throw new DrrkitError(`--seed: expected a whole number ≥ 0, got ${spec.seed}`, '--seed');
}

function nested(matrix: ArrayLike<number>, rows: number, columns: number): number[][] {
  return Array.from({ length: rows }, (_, row) => Array.from({ length: columns }, (_, column) => matrix[row * columns + column]));
}

/** The manifest's description of a camera: its detector parameters and its rays in camera coordinates (and K for a pinhole camera). */
export function cameraRecord(camera: Camera): Record<string, unknown> {
  const frame = camera.frameRays();
  const detector: Record<string, unknown> = { kind: camera.kind, ...camera.detector };
  if (camera.kind === 'pinhole') detector.intrinsic = nested(intrinsicMatrix(camera.detector as WorldDetector), 3, 3);
  return {
    ...detector,
    source: Array.from(frame.source),
    first_pixel: Array.from(frame.firstPixel),
    row_step: Array.from(frame.rowStep),
    column_step: Array.from(frame.columnStep),
  };
}

/** The record of sample `id` at position `index` of `shard`. */
export function sampleRecord(spec: DatasetSpec, renderer: SampleRenderer, id: number, index: number, sample: ReturnType<typeof samplePose>): ManifestRecord {
  const camera = sample.camera ?? renderer.context.camera;
  const placement = camera.cameraToWorld(poseFromParameters(sample.pose));
  const q = placement.translation, Q = placement.rotation;
  const record: ManifestRecord = {
    id,
    shard: shardName(Math.floor(id / spec.shardSize)),
    index,
    ct: String(spec.render.ct ?? 'example'),
    pose: {
      distribution: spec.poses.kind,
      parameterization: 'euler_angles',
      convention: 'ZYX',
      rotation: Array.from(sample.pose.rotation),
      translation: Array.from(sample.pose.translation),
      ...sample.parameters,
    },
    camera_to_world: [[Q[0], Q[1], Q[2], q[0]], [Q[3], Q[4], Q[5], q[1]], [Q[6], Q[7], Q[8], q[2]], [0, 0, 0, 1]],
    detector: cameraRecord(camera),
  };
  if (renderer.channelLabels !== null) record.channels = [...renderer.channelLabels];
  return record;
}

/** The array shape of a shard of `count` samples. */
export function shardShape(renderer: Pick<SampleRenderer, 'height' | 'width' | 'channelLabels'>, count: number): number[] {
  return renderer.channelLabels === null ? [count, renderer.height, renderer.width] : [count, renderer.channelLabels.length, renderer.height, renderer.width];
}

/**
 * Renders shard `index`: its `.npy` bytes and its manifest records. Yields to the event loop
 * between samples (so a queue worker keeps its lock) and reports each finished sample.
 */
export async function renderShard(
  spec: DatasetSpec,
  renderer: SampleRenderer,
  index: number,
  onSample?: (done: number, total: number) => void | Promise<void>,
): Promise<{ bytes: Uint8Array; records: ManifestRecord[] }> {
  const { first, count } = shardRange(spec, index);
  if (count < 1) throw new DrrkitError(`shard ${index} is past the end of a ${spec.count}-sample dataset`, 'shard');
  const pixels = renderer.height * renderer.width;
  const channels = renderer.channelLabels?.length ?? 1;
  const data = new Float32Array(count * channels * pixels);
  const records: ManifestRecord[] = [];
  for (let offset = 0; offset < count; offset++) {
    const id = first + offset;
    const sample = samplePose(spec.poses, renderer.context, spec.seed, id);
    const images = renderer.renderImages(sample.pose, sample.camera);
    images.forEach((image, channel) => data.set(image, (offset * channels + channel) * pixels));
    records.push(sampleRecord(spec, renderer, id, offset, sample));
    await onSample?.(offset + 1, count);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { bytes: encodeNpy(data, shardShape(renderer, count)), records };
}

/** Path of the part file that marks shard `index` done. */
export function partPath(directory: string, index: number): string {
  return path.join(directory, '.parts', shardName(index).replace(/\.npy$/, '.json'));
}

/** Writes a finished shard's records (after its `.npy`): the shard counts as done from now on. */
export async function writePart(directory: string, index: number, records: readonly ManifestRecord[]): Promise<void> {
  await writeFileAtomic(partPath(directory, index), new TextEncoder().encode(`${JSON.stringify(records)}\n`));
}

/** The records of shard `index` when it is done (part file readable, `.npy` of the right size), else null. */
export async function finishedShard(directory: string, spec: DatasetSpec, index: number): Promise<ManifestRecord[] | null> {
  let records: ManifestRecord[];
  try {
    records = JSON.parse(await readFile(partPath(directory, index), 'utf8')) as ManifestRecord[];
  } catch {
    return null;
  }
  const { first, count } = shardRange(spec, index);
  if (!Array.isArray(records) || records.length !== count || records.some((record, offset) => record.id !== first + offset)) return null;
  const file = path.join(directory, shardName(index));
  try {
    const size = (await stat(file)).size;
    const head = new Uint8Array(Math.min(size, 4096));
    const handle = await open(file, 'r');
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    const header = decodeNpyHeader(head, file);
    const values = header.shape.reduce((product, value) => product * value, 1);
    if (header.descr !== '<f4' || header.shape[0] !== count || size !== header.dataOffset + 4 * values) return null;
  } catch {
    return null;
  }
  return records;
}

/** Reads DIR/dataset.json, or null when absent. */
export async function readDatasetSpec(directory: string): Promise<DatasetSpec | null> {
  const file = path.join(directory, 'dataset.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as DatasetSpec;
  } catch {
    throw new DrrkitError(`${file}: not valid JSON (a damaged dataset description)`, file);
  }
}

/** Writes DIR/dataset.json. */
export async function writeDatasetSpec(directory: string, spec: DatasetSpec): Promise<void> {
  await writeFileAtomic(path.join(directory, 'dataset.json'), new TextEncoder().encode(`${JSON.stringify(spec, null, 2)}\n`));
}

/** The top-level keys (and render flags) in which two specs differ. */
export function specDifferences(a: DatasetSpec, b: DatasetSpec): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const key of keys) {
    if (key === 'render') {
      const flags = new Set([...Object.keys(a.render ?? {}), ...Object.keys(b.render ?? {})]);
      for (const name of flags) if (JSON.stringify(a.render?.[name]) !== JSON.stringify(b.render?.[name])) out.push(`render flag ${name}`);
    } else if (JSON.stringify((a as unknown as Record<string, unknown>)[key]) !== JSON.stringify((b as unknown as Record<string, unknown>)[key])) {
      out.push(key);
    }
  }
  return out;
}

/**
 * Writes DIR/manifest.jsonl from the part files of every shard, in id order, then removes the
 * parts and any temporary files left by interrupted writers. A DrrkitError when a shard is missing.
 */
export async function writeManifest(directory: string, spec: DatasetSpec): Promise<number> {
  const lines: string[] = [];
  for (let index = 0; index < shardCount(spec); index++) {
    const records = await finishedShard(directory, spec, index);
    if (records === null) throw new DrrkitError(`${directory}: shard ${shardName(index)} is not finished; the manifest cannot be written`, directory);
    for (const record of records) lines.push(JSON.stringify(record));
  }
  await writeFileAtomic(path.join(directory, 'manifest.jsonl'), new TextEncoder().encode(`${lines.join('\n')}\n`));
  await rm(path.join(directory, '.parts'), { recursive: true, force: true });
  await removeTemporaryFiles(directory);
  return lines.length;
}

/** Removes temporary files of interrupted shard writes (`.shard-*.tmp`). */
export async function removeTemporaryFiles(directory: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return;
  }
  await Promise.all(names.filter((name) => /^\.shard-\d+\.npy\..*\.tmp$/.test(name)).map((name) => unlink(path.join(directory, name)).catch(() => undefined)));
}
