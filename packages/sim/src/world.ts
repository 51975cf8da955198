/**
 * A simple 2-D world for the mobile bases: a rectangular room (four walls) with box and round
 * obstacles. Range sensors cast rays into it; the bases bump into what is in it. Units: m, rad.
 */

export interface Box {
  kind: 'box';
  /** Centre and half-extents, axis-aligned. */
  x: number;
  y: number;
  halfW: number;
  halfH: number;
}

export interface Disc {
  kind: 'disc';
  x: number;
  y: number;
  r: number;
}

export type Obstacle = Box | Disc;

export interface WorldSpec {
  /** The room spans ±halfWidth in x and ±halfHeight in y around the dock at the origin. */
  halfWidth: number;
  halfHeight: number;
  obstacles: readonly Obstacle[];
}

/** Distance along a ray from (x, y) at heading `theta` to the first surface, or `max` if none is nearer. */
export function raycast(world: WorldSpec, x: number, y: number, theta: number, max: number): number {
  const dx = Math.cos(theta);
  const dy = Math.sin(theta);
  let best = max;
  // Walls: the room's inside, so the ray leaves through exactly one of them.
  if (dx > 0) best = Math.min(best, (world.halfWidth - x) / dx);
  if (dx < 0) best = Math.min(best, (-world.halfWidth - x) / dx);
  if (dy > 0) best = Math.min(best, (world.halfHeight - y) / dy);
  if (dy < 0) best = Math.min(best, (-world.halfHeight - y) / dy);
  for (const o of world.obstacles) {
    const t = o.kind === 'disc' ? rayDisc(o, x, y, dx, dy) : rayBox(o, x, y, dx, dy);
    if (t !== undefined && t >= 0 && t < best) best = t;
  }
  return Math.max(0, best);
}

function rayDisc(d: Disc, x: number, y: number, dx: number, dy: number): number | undefined {
  // |p + t·u − c|² = r², u a unit vector
  const ox = x - d.x;
  const oy = y - d.y;
  const b = ox * dx + oy * dy;
  const c = ox * ox + oy * oy - d.r * d.r;
  const disc = b * b - c;
  if (disc < 0) return undefined;
  const t = -b - Math.sqrt(disc);
  return t >= 0 ? t : c <= 0 ? 0 : undefined;
}

/** Slab method. */
function rayBox(b: Box, x: number, y: number, dx: number, dy: number): number | undefined {
  let tmin = -Infinity;
  let tmax = Infinity;
  for (const [p, d, lo, hi] of [
    [x, dx, b.x - b.halfW, b.x + b.halfW],
    [y, dy, b.y - b.halfH, b.y + b.halfH],
  ] as const) {
    if (Math.abs(d) < 1e-12) {
      if (p < lo || p > hi) return undefined;
      continue;
    }
    const t1 = (lo - p) / d;
    const t2 = (hi - p) / d;
    tmin = Math.max(tmin, Math.min(t1, t2));
    tmax = Math.min(tmax, Math.max(t1, t2));
  }
  if (tmax < Math.max(tmin, 0)) return undefined;
  return Math.max(tmin, 0);
}

/** Whether a round robot of radius `r` at (x, y) overlaps a wall or an obstacle. */
export function collides(world: WorldSpec, x: number, y: number, r: number): boolean {
  if (Math.abs(x) + r > world.halfWidth || Math.abs(y) + r > world.halfHeight) return true;
  for (const o of world.obstacles) {
    if (o.kind === 'disc') {
      if (Math.hypot(x - o.x, y - o.y) < o.r + r) return true;
    } else {
      const cx = Math.max(o.x - o.halfW, Math.min(x, o.x + o.halfW));
      const cy = Math.max(o.y - o.halfH, Math.min(y, o.y + o.halfH));
      if (Math.hypot(x - cx, y - cy) < r) return true;
    }
  }
  return false;
}

/**
 * The room a base patrols: its walls a little beyond the patrol area, a shelf, a pillar and a
 * crate placed away from the dock so the way home is always open.
 */
export function roomFor(arenaM: number): WorldSpec {
  const s = arenaM / 8; // laid out for an 8 m patrol area, scaled
  return {
    halfWidth: arenaM * 1.25,
    halfHeight: arenaM * 1.25,
    obstacles: [
      { kind: 'box', x: 5 * s, y: 0, halfW: 0.3 * s, halfH: 2 * s },
      { kind: 'disc', x: -4 * s, y: 4 * s, r: 0.5 * s },
      { kind: 'box', x: -3 * s, y: -5 * s, halfW: 0.6 * s, halfH: 0.6 * s },
    ],
  };
}
