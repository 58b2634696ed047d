/**
 * Procedural CT phantoms beside the example chest CT, for measuring registration on anatomy the
 * strategy was not tuned on: an adult head and an adult pelvis, in Hounsfield units, built from
 * the same signed-distance toolkit (src/volume/shapes.ts) in the same layout and RAS affine as
 * the example CT (i anterior → posterior, j right → left, k head → feet; the volume centre at
 * the origin). Deterministic: no random numbers at all. Each is built in about a second.
 *
 * Both are deliberately asymmetric, as patients are, so that a mirrored or 180°-rotated view is
 * distinguishable: the head has a left-dominant frontal sinus, a larger left maxillary sinus,
 * amalgam fillings in the left molars, a missing lower-right molar and a calcified right choroid
 * plexus; the pelvis has the caecum with gas on the right, the descending and sigmoid colon on
 * the left, a calcified plaque in the left common iliac artery and a sacrum tilted slightly to
 * the left.
 */
import { DrrkitError, requirePositive, requirePositiveInteger } from '../errors.js';
import {
  Canvas, Difference, Ellipsoid, EllipticCylinder, Grid, HalfSpace, Intersection, Loft, Offset, RoundedBox, TubeSet, Union,
  bone, cross, normalize, solid, type Structure, type Vector3,
} from './shapes.js';
import { createVolume, type Volume } from './volume.js';

/** The phantoms {@link loadPhantom} builds by name. */
export const PHANTOM_NAMES = ['head', 'pelvis'] as const;

/** A phantom's name. */
export type PhantomName = (typeof PHANTOM_NAMES)[number];

/** Options of the phantom builders. */
export interface PhantomOptions {
  /** Grid size (nx, ny, nz) = (anterior→posterior, right→left, head→feet). */
  shape?: [number, number, number];
  /** Voxel size in mm along i, j, k. */
  spacing?: [number, number, number];
}

/** Default grid of the head phantom: 192 × 192 × 124 voxels of 1.25 × 1.25 × 2 mm (240 × 240 × 248 mm). */
export const HEAD_PHANTOM_SHAPE: readonly [number, number, number] = [192, 192, 124];
/** Default voxel size of the head phantom, mm. */
export const HEAD_PHANTOM_SPACING: readonly [number, number, number] = [1.25, 1.25, 2];
/** Default grid of the pelvis phantom: 224 × 224 × 100 voxels of 1.6 × 1.6 × 2.5 mm (358 × 358 × 250 mm). */
export const PELVIS_PHANTOM_SHAPE: readonly [number, number, number] = [224, 224, 100];
/** Default voxel size of the pelvis phantom, mm. */
export const PELVIS_PHANTOM_SPACING: readonly [number, number, number] = [1.6, 1.6, 2.5];

/** Hounsfield units of the tissues of the head and pelvis phantoms. */
export const PHANTOM_HOUNSFIELD = {
  air: -1000,
  sinusAir: -960,
  fat: -100,
  orbitalFat: -80,
  softTissue: 35,
  muscle: 50,
  csf: 8,
  greyMatter: 38,
  whiteMatter: 27,
  eye: 12,
  lens: 90,
  blood: 42,
  urine: 8,
  bowelWall: 40,
  bowelContents: 15,
  disc: 90,
  cartilage: 110,
  choroidCalcification: 250,
  arterialCalcification: 700,
  cranialTable: 1700,
  diploe: 550,
  facialCortex: 1300,
  petrous: 2000,
  vertebralCortex: 1000,
  pelvicCortex: 1100,
  femoralCortex: 1500,
  cancellousBone: 260,
  marrow: 60,
  dentin: 1800,
  enamel: 2800,
  amalgam: 3071,
} as const;

const HU = PHANTOM_HOUNSFIELD;
const RIGHT = -1, LEFT = 1;
const SIDES = [RIGHT, LEFT] as const;

/** Builds a phantom by name. */
export function loadPhantom(name: string, options: PhantomOptions = {}): Volume {
  if (name === 'head') return loadHeadPhantom(options);
  if (name === 'pelvis') return loadPelvisPhantom(options);
  throw new DrrkitError(`unknown phantom "${name}"; drrkit builds ${PHANTOM_NAMES.map((entry) => `"${entry}"`).join(', ')}`, name);
}

/** Whether `name` names a built-in phantom. */
export function isPhantomName(name: string): name is PhantomName {
  return (PHANTOM_NAMES as readonly string[]).includes(name);
}

/** Paints `structures` into a new air-filled grid and wraps it as a volume with the example CT's RAS affine. */
function paintPhantom(name: string, structures: Structure[], options: PhantomOptions, defaultShape: readonly number[], defaultSpacing: readonly number[]): Volume {
  const shape = options.shape ?? [defaultShape[0], defaultShape[1], defaultShape[2]];
  const spacing = options.spacing ?? [defaultSpacing[0], defaultSpacing[1], defaultSpacing[2]];
  for (let axis = 0; axis < 3; axis++) {
    requirePositiveInteger(shape[axis], `${name} phantom shape[${axis}]`);
    requirePositive(spacing[axis], `${name} phantom spacing[${axis}]`);
  }
  const grid = new Grid(shape, spacing);
  const data = new Float32Array(grid.voxelCount).fill(HU.air);
  const canvas = new Canvas(grid, data);
  for (const structure of structures) canvas.paint(structure);
  const [dx, dy, dz] = spacing;
  // Voxel → RAS mm as the example CT: i anterior → posterior (−y), j right → left (−x), k head → feet (−z).
  const affine = Float64Array.from([
    0, -dy, 0, ((shape[1] - 1) / 2) * dy,
    -dx, 0, 0, ((shape[0] - 1) / 2) * dx,
    0, 0, -dz, ((shape[2] - 1) / 2) * dz,
    0, 0, 0, 1,
  ]);
  return createVolume({ data, shape: [shape[0], shape[1], shape[2]], spacing: [spacing[0], spacing[1], spacing[2]], affine, source: name });
}

/** An ellipsoid given its thin axis `normal` and its first in-plane axis `along` (orthogonalised). */
function plate(center: Vector3, along: Vector3, normal: Vector3, radii: Vector3): Ellipsoid {
  const n = normalize(normal);
  const u = normalize(cross(cross(n, along), n));
  return new Ellipsoid(center, radii, [u, cross(n, u), n]);
}

/** A vertebra: body (cortex + cancellous), pedicles, laminae, transverse and spinous processes. */
function vertebra(name: string, center: Vector3, halfWidth: number, halfDepth: number, halfHeight: number, processes: { transverse: number; spinous: number; radius: number }): Structure[] {
  const [x, y, z] = center;
  const elements = new TubeSet();
  const back = y + halfDepth;
  for (const side of SIDES) {
    const pedicleEnd: Vector3 = [x + side * halfWidth * 0.6, back + 10, z + halfHeight * 0.2];
    elements.addSegment([x + side * halfWidth * 0.55, back - 3, z + halfHeight * 0.3], processes.radius, pedicleEnd, processes.radius);
    elements.addSegment(pedicleEnd, processes.radius * 0.9, [x, back + 20, z], processes.radius * 0.8);
    elements.addSegment(pedicleEnd, processes.radius * 0.9, [x + side * (halfWidth + processes.transverse), back + 8, z + halfHeight * 0.3], processes.radius * 0.7);
  }
  elements.addCurve([[x, back + 18, z, processes.radius * 0.8], [x, back + 18 + processes.spinous * 0.6, z - 4, processes.radius * 0.7], [x, back + 18 + processes.spinous, z - 9, processes.radius * 0.6]], 3);
  return [
    bone(`${name} body`, new EllipticCylinder(center, halfWidth, halfDepth, halfHeight), HU.vertebralCortex, 1.4, HU.cancellousBone),
    bone(`${name} posterior elements`, elements, HU.vertebralCortex, 1.2, HU.cancellousBone),
  ];
}

// ───────────────────────────── head ─────────────────────────────

/**
 * An adult head and upper neck (Hounsfield units): skull with outer and inner tables around the
 * diploe, skull base with petrous ridges, brain (grey and white matter) with lateral and third
 * ventricles in CSF, orbits (fat, globes, lenses), nasal cavity, frontal, maxillary and sphenoid
 * sinuses with air, zygomatic arches, maxilla, mandible with teeth (two amalgam fillings, one
 * missing molar), cervical vertebrae C1–C7 with discs, the pharyngeal airway, neck muscles, fat
 * and skin, with air around. Default grid {@link HEAD_PHANTOM_SHAPE} × {@link HEAD_PHANTOM_SPACING}.
 */
export function loadHeadPhantom(options: PhantomOptions = {}): Volume {
  return paintPhantom('head', headAnatomy(), options, HEAD_PHANTOM_SHAPE, HEAD_PHANTOM_SPACING);
}

function headAnatomy(): Structure[] {
  const structures: Structure[] = [];
  const craniumCenter: Vector3 = [0, 8, 34];
  const outerRadii: Vector3 = [72, 92, 80];
  const skullThickness = 7;
  const innerRadii: Vector3 = [outerRadii[0] - skullThickness, outerRadii[1] - skullThickness, outerRadii[2] - skullThickness];
  const outerSkull = new Ellipsoid(craniumCenter, outerRadii);
  const innerSkull = new Ellipsoid(craniumCenter, innerRadii);

  // Soft tissues: scalp over the vault, the face, the neck; fat under the skin, muscle in the neck.
  const scalp = new Ellipsoid(craniumCenter, [outerRadii[0] + 6, outerRadii[1] + 6, outerRadii[2] + 6]);
  const face = new Union([
    new Ellipsoid([0, -38, -14], [62, 58, 62]),
    new Ellipsoid([0, -58, -52], [46, 36, 30]), // chin and lower face
    new Ellipsoid([0, -92, -4], [10, 14, 20]), // nose
  ]);
  const neck = new Loft([
    { z: -20, x: 0, y: 12, radiusX: 58, radiusY: 56 },
    { z: -80, x: 0, y: 14, radiusX: 54, radiusY: 52 },
    { z: -112, x: 0, y: 12, radiusX: 60, radiusY: 55 },
  ]);
  const head = new Union([scalp, face, neck]);
  structures.push({ name: 'skin and subcutaneous fat', shape: head, layers: [{ inset: 0, hounsfield: HU.softTissue }, { inset: 1.5, hounsfield: HU.fat }, { inset: 5, hounsfield: HU.softTissue }] });
  for (const side of SIDES) {
    structures.push(solid(`sternocleidomastoid ${side === RIGHT ? 'right' : 'left'}`, new Intersection([
      Ellipsoid.along([side * 38, 0, -78], [side * 0.15, -0.45, -0.88], [46, 11, 13]), new Offset(neck, -3)]), HU.muscle));
    structures.push(solid(`neck extensors ${side === RIGHT ? 'right' : 'left'}`, new Intersection([
      new Ellipsoid([side * 22, 46, -70], [22, 18, 48]), new Offset(neck, -3)]), HU.muscle));
    structures.push(solid(`temporalis ${side === RIGHT ? 'right' : 'left'}`, new Ellipsoid([side * 72, -6, 30], [6, 34, 30]), HU.muscle));
    structures.push(solid(`masseter ${side === RIGHT ? 'right' : 'left'}`, Ellipsoid.along([side * 50, -24, -36], [0, 0.3, -0.95], [26, 8, 14]), HU.muscle));
  }

  // Skull: outer and inner tables (cortical) around the diploe, open below the skull base.
  const vault = new Intersection([new Difference(outerSkull, [innerSkull]), new HalfSpace([0, 0, -1], 2)]);
  structures.push({ name: 'cranial vault', shape: vault, layers: [{ inset: 0, hounsfield: HU.cranialTable }, { inset: 2, hounsfield: HU.diploe }] });
  // Frontal bone thickened around the frontal sinus; the sinus itself is left-dominant.
  structures.push(bone('frontal bone', new Ellipsoid([4, -80, 38], [26, 9, 18]), HU.cranialTable, 2, HU.diploe));
  // Occipital protuberance.
  structures.push(bone('occipital protuberance', new Ellipsoid([0, 96, 12], [16, 6, 10]), HU.cranialTable, 2, HU.diploe));
  // Skull base: a plate under the brain with the foramen magnum; petrous ridges running forward and in.
  const foramenMagnum = new EllipticCylinder([0, 34, -2], 15, 18, 20);
  structures.push(bone('skull base', new Difference(new Ellipsoid([0, 12, -2], [64, 80, 8]), [foramenMagnum]), HU.facialCortex, 2, HU.diploe));
  for (const side of SIDES) {
    structures.push(solid(`petrous ridge ${side === RIGHT ? 'right' : 'left'}`, Ellipsoid.along([side * 36, 22, 2], [side * 0.8, 0.6, 0.05], [30, 9, 10]), HU.petrous));
    structures.push(bone(`mastoid ${side === RIGHT ? 'right' : 'left'}`, new Ellipsoid([side * 58, 32, -12], [11, 14, 17]), HU.facialCortex, 1.5, HU.diploe));
    structures.push(solid(`mastoid air cells ${side === RIGHT ? 'right' : 'left'}`, new Ellipsoid([side * 58, 33, -11], [6, 8, 9]), HU.sinusAir + 200));
  }
  // Sphenoid body with its sinus, clivus down to the foramen magnum.
  structures.push(bone('sphenoid and clivus', new Union([
    new Ellipsoid([0, -22, 2], [24, 18, 16]),
    Ellipsoid.along([0, 8, -8], [0, 0.7, -0.7], [24, 9, 8]),
  ]), HU.facialCortex, 1.5, HU.diploe));

  // Brain in CSF: cortex (grey matter) around the white matter, ventricles, a calcified choroid plexus.
  const brain = new Intersection([new Offset(innerSkull, -1), new HalfSpace([0, 0, -1], -6)]);
  structures.push({ name: 'brain', shape: brain, layers: [{ inset: 0, hounsfield: HU.csf }, { inset: 2, hounsfield: HU.greyMatter }, { inset: 6, hounsfield: HU.whiteMatter }] });
  structures.push(solid('cerebellum', new Intersection([new Ellipsoid([0, 58, 4], [48, 26, 20]), new Offset(innerSkull, -2)]), HU.greyMatter));
  structures.push(solid('brainstem', Ellipsoid.along([0, 26, 4], [0, 0.25, -0.97], [28, 12, 13]), HU.whiteMatter + 4));
  const ventricles = new Union([
    Ellipsoid.along([-10, 6, 48], [0.05, 1, -0.25], [30, 6, 8]),
    Ellipsoid.along([10, 6, 48], [-0.05, 1, -0.25], [30, 6, 8]),
    Ellipsoid.along([-14, 30, 36], [-0.3, 0.6, -0.75], [16, 5, 5]), // occipital and temporal horns
    Ellipsoid.along([14, 30, 36], [0.3, 0.6, -0.75], [16, 5, 5]),
    new Ellipsoid([0, 10, 30], [2.5, 14, 8]), // third ventricle
  ]);
  structures.push(solid('ventricles', ventricles, HU.csf));
  structures.push(solid('calcified choroid plexus (right)', new Ellipsoid([-13, 26, 40], [3, 4, 3]), HU.choroidCalcification));

  // Orbits: bony rims, fat, globes and lenses.
  for (const side of SIDES) {
    const orbitCenter: Vector3 = [side * 32, -64, 14];
    structures.push(bone(`orbital walls ${side === RIGHT ? 'right' : 'left'}`, Ellipsoid.along(orbitCenter, [side * 0.2, 1, 0], [28, 21, 20]), HU.facialCortex, 1.5, HU.diploe));
    structures.push(solid(`orbital fat ${side === RIGHT ? 'right' : 'left'}`, Ellipsoid.along([side * 32, -66, 14], [side * 0.2, 1, 0], [26, 17, 16]), HU.orbitalFat));
    structures.push(solid(`globe ${side === RIGHT ? 'right' : 'left'}`, new Ellipsoid([side * 32, -76, 14], [12, 12, 12]), HU.eye));
    structures.push(solid(`lens ${side === RIGHT ? 'right' : 'left'}`, new Ellipsoid([side * 32, -86.5, 14], [4.5, 2, 4.5]), HU.lens));
    structures.push(bone(`zygomatic arch ${side === RIGHT ? 'right' : 'left'}`, (() => {
      const arch = new TubeSet();
      arch.addCurve([[side * 46, -68, -6, 7], [side * 60, -50, -8, 5], [side * 66, -20, -6, 4], [side * 62, 4, -4, 4.5]], 3);
      return arch;
    })(), HU.facialCortex, 1.5, HU.diploe));
  }
  // Maxilla with the maxillary sinuses (left larger), the nasal cavity and septum, the frontal sinus.
  structures.push(bone('maxilla', new RoundedBox([0, -58, -20], [42, 22, 22], 10), HU.facialCortex, 2, HU.diploe));
  structures.push(solid('maxillary sinus right', new Ellipsoid([-22, -58, -16], [13, 15, 15]), HU.sinusAir));
  structures.push(solid('maxillary sinus left', new Ellipsoid([23, -57, -15], [16, 17, 17]), HU.sinusAir));
  structures.push(solid('nasal cavity', new RoundedBox([0, -66, -8], [10, 24, 22], 4), HU.sinusAir));
  structures.push(solid('nasal septum', new RoundedBox([1.5, -64, -6], [1.2, 20, 18], 1), HU.facialCortex));
  structures.push(solid('frontal sinus', new Union([new Ellipsoid([10, -80, 42], [16, 5, 11]), new Ellipsoid([-6, -80, 38], [7, 4.5, 7])]), HU.sinusAir));
  structures.push(solid('sphenoid sinus', new Ellipsoid([3, -22, 2], [14, 10, 10]), HU.sinusAir));
  // Pharyngeal airway: nasopharynx behind the nasal cavity, down behind the tongue.
  const airway = new TubeSet();
  airway.addCurve([[0, -44, -8, 9], [0, -30, -22, 9], [0, -26, -50, 8], [0, -24, -80, 8], [0, -28, -112, 8]], 4);
  structures.push(solid('pharynx', airway, HU.air));

  // Mandible: body in a U from angle to angle, rami up to the condyles; teeth in both arches.
  const mandible = new TubeSet();
  mandible.addCurve([[-50, 6, -14, 6], [-50, 0, -40, 8], [-46, -8, -58, 9], [-34, -40, -64, 9], [-16, -60, -66, 9], [0, -66, -68, 10],
    [16, -60, -66, 9], [34, -40, -64, 9], [46, -8, -58, 9], [50, 0, -40, 8], [50, 6, -14, 6]], 3);
  structures.push(bone('mandible', mandible, HU.facialCortex + 200, 2.2, HU.cancellousBone));
  for (const [arch, z, radial] of [['upper', -38, 1], ['lower', -50, 0.94]] as const) {
    for (let tooth = 0; tooth < 16; tooth++) {
      if (arch === 'lower' && tooth === 2) continue; // missing lower-right first molar
      const angle = Math.PI - ((tooth + 0.5) * Math.PI) / 16; // from the right (−x) around the front to the left (+x)
      const molar = tooth < 5 || tooth > 10;
      const center: Vector3 = [radial * 38 * Math.cos(angle), -6 - radial * 52 * Math.sin(angle), z];
      const size = molar ? 5.5 : 3.6;
      structures.push({ name: `${arch} tooth ${tooth}`, shape: new Ellipsoid(center, [size, size, 7]), layers: [{ inset: 0, hounsfield: HU.enamel }, { inset: 1.2, hounsfield: HU.dentin }] });
      if (molar && tooth > 10 && tooth < 14) {
        structures.push(solid(`amalgam filling ${arch} ${tooth}`, new Ellipsoid([center[0], center[1], z + (arch === 'upper' ? -2 : 2)], [2.8, 2.8, 2]), HU.amalgam));
      }
    }
  }

  // Cervical spine: C1 (ring), C2 with the dens, C3–C7 with discs; spinal cord in the canal.
  const spineY = 30;
  structures.push(bone('atlas (C1)', new Difference(new EllipticCylinder([0, spineY + 6, -18], 26, 22, 5), [new EllipticCylinder([0, spineY + 8, -18], 14, 15, 8)]), HU.vertebralCortex, 1.4, HU.cancellousBone));
  structures.push(bone('dens', new EllipticCylinder([0, spineY - 8, -22], 5, 5, 9), HU.vertebralCortex, 1.2, HU.cancellousBone));
  let z = -36;
  for (let level = 2; level <= 7; level++) {
    structures.push(...vertebra(`C${level}`, [0, spineY - 6 + level * 0.5, z], 10 + level * 0.6, 8 + level * 0.3, 6.5, { transverse: 10, spinous: 10 + level * 2.5, radius: 3.5 }));
    structures.push(solid(`disc C${level}-C${level + 1}`, new EllipticCylinder([0, spineY - 6 + level * 0.5, z - 9], 9 + level * 0.6, 7.5 + level * 0.3, 2), HU.disc));
    z -= 18;
  }
  const cord = new TubeSet();
  cord.addCurve([[0, spineY + 10, -6, 6], [0, spineY + 12, -60, 5.5], [0, spineY + 14, -112, 5.5]], 4);
  structures.push({ name: 'spinal canal', shape: cord, layers: [{ inset: -1.5, hounsfield: HU.csf }, { inset: 0, hounsfield: HU.whiteMatter + 6 }] });
  return structures;
}

// ───────────────────────────── pelvis ─────────────────────────────

/**
 * An adult pelvis (Hounsfield units): L4 and L5 with discs, the sacrum and coccyx, iliac wings,
 * acetabula, femoral heads, necks, trochanters and proximal shafts (cortex and marrow), pubic and
 * ischial rami with the symphysis, bladder, rectum and colon with gas pockets, small bowel,
 * iliac vessels (a calcified plaque on the left), psoas, iliacus, gluteal and abdominal wall
 * muscles in subcutaneous fat, with air around. Default grid {@link PELVIS_PHANTOM_SHAPE} ×
 * {@link PELVIS_PHANTOM_SPACING}.
 */
export function loadPelvisPhantom(options: PhantomOptions = {}): Volume {
  return paintPhantom('pelvis', pelvisAnatomy(), options, PELVIS_PHANTOM_SHAPE, PELVIS_PHANTOM_SPACING);
}

function pelvisAnatomy(): Structure[] {
  const structures: Structure[] = [];
  // Body: abdomen above, hips below, flat back; the thighs part below the buttocks.
  const trunk = new Loft([
    { z: 126, x: 0, y: -4, radiusX: 158, radiusY: 118 },
    { z: 40, x: 0, y: -2, radiusX: 168, radiusY: 116 },
    { z: -40, x: 0, y: 4, radiusX: 172, radiusY: 112 },
    { z: -80, x: 0, y: 4, radiusX: 165, radiusY: 104 },
  ], true);
  const thighs = SIDES.map((side) => new Loft([
    { z: -70, x: side * 80, y: 4, radiusX: 88, radiusY: 96 },
    { z: -126, x: side * 90, y: 0, radiusX: 80, radiusY: 82 },
  ]));
  const body = new Union([trunk, ...thighs]);
  const inner = new Offset(body, -22);
  structures.push({ name: 'body', shape: body, layers: [{ inset: 0, hounsfield: HU.softTissue }, { inset: 1.5, hounsfield: HU.fat }] });
  structures.push(solid('abdominopelvic contents', new Intersection([trunk, inner, new HalfSpace([0, 0, -1], 40)]), HU.softTissue - 10));

  for (const side of SIDES) {
    const name = side === RIGHT ? 'right' : 'left';
    structures.push(solid(`gluteus ${name}`, new Intersection([Ellipsoid.along([side * 82, 62, -20], [side * 0.3, 0.2, -0.93], [95, 56, 36]), new Offset(body, -10)]), HU.muscle));
    structures.push(solid(`thigh muscles ${name}`, new Intersection([new EllipticCylinder([side * 92, 0, -108], 62, 66, 24), new Offset(body, -10)]), HU.muscle));
    structures.push(solid(`psoas ${name}`, Ellipsoid.along([side * 44, 28, 60], [side * 0.25, -0.35, -0.9], [85, 18, 16]), HU.muscle));
    structures.push(solid(`iliacus ${name}`, plate([side * 72, 6, 36], [side * 0.6, 0.3, 0.7], [side * 0.7, -0.55, 0.1], [56, 44, 12]), HU.muscle));
    structures.push(solid(`rectus abdominis ${name}`, new Intersection([new EllipticCylinder([side * 38, -104, 50], 30, 10, 70), new Offset(body, -8)]), HU.muscle));
    structures.push(solid(`paraspinal muscles ${name}`, new Intersection([new EllipticCylinder([side * 36, 92, 90], 30, 24, 40), new Offset(body, -8)]), HU.muscle));
  }

  // Bowel: small-bowel loops with fluid, the caecum (gas) on the right, descending and sigmoid
  // colon (gas pockets) on the left, the rectum with a little gas; bladder in front.
  const smallBowel = new TubeSet();
  smallBowel.addCurve([[-40, -60, 110, 14], [0, -70, 100, 14], [40, -55, 112, 14], [30, -30, 90, 13], [-20, -40, 80, 13], [-50, -60, 70, 13], [-10, -75, 60, 13], [30, -60, 55, 13]], 4);
  structures.push({ name: 'small bowel', shape: smallBowel, layers: [{ inset: 0, hounsfield: HU.bowelWall }, { inset: 2.5, hounsfield: HU.bowelContents }] });
  const colon = new TubeSet();
  colon.addCurve([[-82, -20, 40, 26], [-84, -24, 80, 26], [-80, -20, 126, 24]], 4); // caecum and ascending colon (right)
  colon.addCurve([[92, 8, 126, 18], [94, 10, 80, 18], [84, 0, 40, 17], [60, -30, 20, 16], [30, -20, 0, 15], [10, 30, -10, 15]], 4); // descending and sigmoid (left)
  structures.push({ name: 'colon', shape: colon, layers: [{ inset: 0, hounsfield: HU.bowelWall }, { inset: 3, hounsfield: HU.bowelContents }] });
  structures.push(solid('caecal gas', new Ellipsoid([-84, -34, 74], [18, 10, 28]), HU.air));
  structures.push(solid('descending colon gas', new Ellipsoid([92, 2, 96], [11, 7, 22]), HU.air));
  structures.push(solid('sigmoid gas', new Union([new Ellipsoid([58, -38, 22], [12, 7, 10]), new Ellipsoid([28, -30, 2], [10, 6, 8])]), HU.air));
  const rectum = new TubeSet();
  rectum.addCurve([[10, 30, -10, 16], [4, 50, -40, 17], [0, 48, -75, 14], [0, 36, -100, 8]], 4);
  structures.push({ name: 'rectum', shape: rectum, layers: [{ inset: 0, hounsfield: HU.bowelWall }, { inset: 3, hounsfield: HU.bowelContents }] });
  structures.push(solid('rectal gas', new Ellipsoid([2, 44, -46], [9, 6, 12]), HU.air));
  structures.push({ name: 'bladder', shape: new Ellipsoid([0, -58, -50], [44, 34, 32]), layers: [{ inset: 0, hounsfield: HU.muscle }, { inset: 3, hounsfield: HU.urine }] });

  // Vessels: aorta bifurcation into the common and external iliac arteries; a plaque on the left.
  const vessels = new TubeSet();
  vessels.addCurve([[6, 8, 126, 10], [6, 10, 108, 9.5]], 4);
  for (const side of SIDES) {
    vessels.addCurve([[6, 10, 108, 7], [side * 30, 6, 80, 6.5], [side * 50, 0, 40, 6], [side * 70, -24, -10, 5.5], [side * 84, -40, -60, 5]], 4);
    vessels.addCurve([[0, 18, 108, 8], [side * 28, 16, 80, 7.5], [side * 52, 4, 40, 7], [side * 74, -18, -10, 6.5], [side * 96, -32, -60, 6]], 4);
  }
  structures.push(solid('iliac vessels', vessels, HU.blood));
  structures.push(solid('calcified plaque, left common iliac artery', new Ellipsoid([34, 8, 74], [3.5, 4, 6]), HU.arterialCalcification));

  // Lumbar spine: L4, L5 and their discs.
  structures.push(...vertebra('L4', [0, 46, 110], 26, 18, 13, { transverse: 26, spinous: 28, radius: 5.5 }));
  structures.push(solid('disc L4-L5', new EllipticCylinder([0, 48, 93], 25, 17.5, 4.5), HU.disc));
  structures.push(...vertebra('L5', [0, 50, 74], 27, 19, 13.5, { transverse: 36, spinous: 24, radius: 6 }));
  structures.push(solid('disc L5-S1', new EllipticCylinder([0, 53, 57], 25, 17, 4), HU.disc));

  // Sacrum (tilted back, drifting slightly left as it descends) and coccyx.
  const sacrum = new Loft([
    { z: 53, x: 0, y: 56, radiusX: 50, radiusY: 18 },
    { z: 30, x: 1, y: 66, radiusX: 44, radiusY: 15 },
    { z: 5, x: 2, y: 78, radiusX: 33, radiusY: 13 },
    { z: -18, x: 3, y: 86, radiusX: 20, radiusY: 10 },
    { z: -34, x: 4, y: 88, radiusX: 9, radiusY: 7 },
  ]);
  structures.push(bone('sacrum', sacrum, HU.pelvicCortex, 1.6, HU.cancellousBone));
  const coccyx = new TubeSet();
  coccyx.addCurve([[4, 88, -34, 6], [4, 84, -46, 4.5], [3, 74, -56, 3.5]], 3);
  structures.push(bone('coccyx', coccyx, HU.pelvicCortex, 1.2, HU.cancellousBone));
  const foramina = new TubeSet();
  for (const side of SIDES) for (const [level, height] of [[0, 40], [1, 20], [2, 2]] as const) {
    const width = 22 - level * 4;
    foramina.addSegment([side * width + 1, 52 + level * 12, height], 4 - level * 0.6, [side * width + 1, 80 + level * 10, height - 4], 4 - level * 0.6);
  }
  structures.push(solid('sacral foramina', foramina, HU.softTissue));

  // Hip bones: iliac wings, acetabula, pubic and ischial rami, the symphysis.
  for (const side of SIDES) {
    const name = side === RIGHT ? 'right' : 'left';
    const acetabulum: Vector3 = [side * 92, -4, -38];
    structures.push(bone(`iliac wing ${name}`, new Union([
      plate([side * 86, 28, 40], [side * 0.55, -0.45, 0.7], [side * 0.75, -0.6, 0.2], [70, 48, 5.5]),
      Ellipsoid.along([side * 52, 58, 34], [side * 0.5, 0.2, 0.84], [34, 12, 14]), // sacroiliac joint region
      Ellipsoid.along([side * 80, 6, -6], [side * 0.3, -0.2, -0.93], [38, 16, 14]), // body of the ilium down to the acetabulum
    ]), HU.pelvicCortex, 1.8, HU.cancellousBone));
    const crest = new TubeSet();
    crest.addCurve([[side * 52, 74, 66, 7], [side * 98, 50, 88, 7.5], [side * 130, 4, 70, 7], [side * 118, -44, 26, 6]], 4);
    structures.push(bone(`iliac crest ${name}`, crest, HU.pelvicCortex, 1.6, HU.cancellousBone));
    const rami = new TubeSet();
    rami.addCurve([[acetabulum[0] - side * 12, -18, -42, 11], [side * 50, -56, -48, 9], [side * 10, -78, -56, 9]], 3); // superior pubic ramus
    rami.addCurve([[side * 10, -76, -70, 8], [side * 34, -50, -84, 8], [side * 62, 0, -90, 10]], 3); // inferior pubic and ischial ramus
    rami.addCurve([[acetabulum[0] - side * 4, 14, -48, 14], [side * 74, 26, -72, 14], [side * 64, 16, -92, 13]], 3); // ischium to the tuberosity
    structures.push(bone(`pubic and ischial rami ${name}`, rami, HU.pelvicCortex, 1.6, HU.cancellousBone));
    structures.push(bone(`acetabulum ${name}`, new Ellipsoid([side * 88, -4, -36], [30, 32, 32]), HU.pelvicCortex, 2, HU.cancellousBone));
    structures.push(solid(`hip joint space ${name}`, new Ellipsoid(acetabulum, [26.5, 26.5, 26.5]), HU.cartilage));
    // Femur: head, neck, greater and lesser trochanter, proximal shaft with marrow.
    structures.push(bone(`femoral head ${name}`, new Ellipsoid(acetabulum, [24, 24, 24]), HU.femoralCortex - 300, 1.3, HU.cancellousBone + 60));
    const neck = new TubeSet();
    neck.addSegment(acetabulum, 15, [side * 126, 2, -68], 16);
    structures.push(bone(`femoral neck ${name}`, neck, HU.femoralCortex, 2.2, HU.cancellousBone));
    structures.push(bone(`greater trochanter ${name}`, new Ellipsoid([side * 134, 8, -66], [15, 20, 22]), HU.femoralCortex - 300, 1.6, HU.cancellousBone));
    structures.push(bone(`lesser trochanter ${name}`, new Ellipsoid([side * 112, 12, -92], [9, 9, 10]), HU.femoralCortex - 300, 1.4, HU.cancellousBone));
    const shaft = new TubeSet();
    shaft.addSegment([side * 128, 6, -70], 17, [side * 134, 2, -126], 14);
    structures.push({ name: `femoral shaft ${name}`, shape: shaft, layers: [{ inset: 0, hounsfield: HU.femoralCortex }, { inset: 5, hounsfield: HU.marrow }] });
  }
  structures.push(solid('pubic symphysis', new RoundedBox([0, -80, -62], [4, 8, 14], 3), HU.cartilage));
  return structures;
}
