/**
 * A small seeded PRNG (mulberry32): 32 bits of state, fast, and good enough for physics noise.
 * Every simulated device owns one, seeded from the simulation's random source, so a device's
 * trajectory depends only on the seed and the number of steps, never on socket timing or on
 * how many other devices share the process.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller), scaled by `sd`. */
  gaussian(sd = 1): number {
    const u = 1 - this.next(); // (0, 1]: log(0) would be -Infinity
    return sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A 32-bit seed for a child generator. */
  seed(): number {
    return Math.floor(this.next() * 4_294_967_296);
  }
}

/** A `() => number` view, the shape the agent and the simulation options take. */
export function randomFrom(rng: Rng): () => number {
  return () => rng.next();
}

/**
 * A 32-bit seed from a string (FNV-1a). A simulated device's identity facts (serial, MAC, IP,
 * site) come from its id alone, so the same robot says the same things after every restart and
 * the hub sees no spurious DeviceUpdated.
 */
export function seedFromString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
