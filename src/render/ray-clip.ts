/**
 * Clipping a ray a + α·b (α ∈ [0, 1]) to an axis-aligned box by the slab method.
 * Writes the entry and exit α into `out[0]`, `out[1]`; returns false when the ray misses the
 * box (or touches it in a single point).
 */
export function clipRayToBox(
  ax: number, ay: number, az: number,
  bx: number, by: number, bz: number,
  lowX: number, lowY: number, lowZ: number,
  highX: number, highY: number, highZ: number,
  out: Float64Array,
): boolean {
  let entry = 0, exit = 1;
  if (bx !== 0) {
    const t1 = (lowX - ax) / bx, t2 = (highX - ax) / bx;
    if (t1 < t2) { if (t1 > entry) entry = t1; if (t2 < exit) exit = t2; }
    else { if (t2 > entry) entry = t2; if (t1 < exit) exit = t1; }
  } else if (ax < lowX || ax > highX) return false;
  if (by !== 0) {
    const t1 = (lowY - ay) / by, t2 = (highY - ay) / by;
    if (t1 < t2) { if (t1 > entry) entry = t1; if (t2 < exit) exit = t2; }
    else { if (t2 > entry) entry = t2; if (t1 < exit) exit = t1; }
  } else if (ay < lowY || ay > highY) return false;
  if (bz !== 0) {
    const t1 = (lowZ - az) / bz, t2 = (highZ - az) / bz;
    if (t1 < t2) { if (t1 > entry) entry = t1; if (t2 < exit) exit = t2; }
    else { if (t2 > entry) entry = t2; if (t1 < exit) exit = t1; }
  } else if (az < lowZ || az > highZ) return false;
  out[0] = entry;
  out[1] = exit;
  return exit > entry;
}
