import { Type } from '@sinclair/typebox';
import type { CapabilitySpec } from './spec.js';
import type { Upcaster } from './upcast.js';

/**
 * HAL v2 lives next to v1, never instead of it. `hal.v2.led` takes a colour as RGB numbers with
 * a brightness (what PWM drivers want) instead of v1's `#rrggbb` string, and adds `blink`. A
 * v1 `set` upcasts to v2 without loss, so clients written for v1 keep working with devices that
 * only speak v2.
 */
export const ledV2: CapabilitySpec = {
  name: 'hal.v2.led',
  version: '2.0.0',
  title: 'LED',
  description: 'A light, possibly coloured, with brightness and blinking.',
  commands: {
    set: {
      description: 'Turns the light on or off, with a colour and brightness.',
      args: Type.Object(
        {
          on: Type.Boolean(),
          rgb: Type.Optional(
            Type.Object(
              {
                r: Type.Integer({ minimum: 0, maximum: 255 }),
                g: Type.Integer({ minimum: 0, maximum: 255 }),
                b: Type.Integer({ minimum: 0, maximum: 255 }),
              },
              { additionalProperties: false },
            ),
          ),
          brightness: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'fraction of full' })),
        },
        { additionalProperties: false },
      ),
    },
    blink: {
      description: 'Blinks, then stays as it was.',
      args: Type.Object(
        {
          periodMs: Type.Integer({ minimum: 20, maximum: 60_000 }),
          count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'forever when absent' })),
        },
        { additionalProperties: false },
      ),
    },
  },
  metrics: {
    'led.on': { unit: 'bool', description: 'lit (1 or 0)', minimum: 0, maximum: 1 },
    'led.brightness': { unit: '1', description: 'fraction of full brightness', minimum: 0, maximum: 1 },
  },
  samples: {},
};

export const HAL_V2: readonly CapabilitySpec[] = [ledV2];

function hexToRgb(hex: string): { r: number; g: number; b: number } {
  const n = Number.parseInt(hex.slice(1), 16);
  return { r: (n >> 16) & 0xff, g: (n >> 8) & 0xff, b: n & 0xff };
}

export const V1_TO_V2: readonly Upcaster[] = [
  {
    from: 'hal.v1.led',
    to: 'hal.v2.led',
    commands: {
      set: (args) => {
        const { on, color } = args as { on: boolean; color?: string };
        return { command: 'set', args: color === undefined ? { on } : { on, rgb: hexToRgb(color), brightness: 1 } };
      },
    },
  },
];
