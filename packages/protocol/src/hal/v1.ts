import { Type, type TProperties } from '@sinclair/typebox';
import type { CapabilitySpec } from './spec.js';

/**
 * The HAL v1 catalogue: the capabilities seed 000 names (motors, sensors, camera, actuators)
 * plus battery and emergency stop, with the commands DESIGN.md promises everyone can rely on
 * (`motor.differential` drive/stop, `estop` engage/release, `led` set). Units are SI unless a
 * robot convention is stronger (IMU angles in degrees, bus-servo positions in servo units).
 *
 * A published spec here changes only compatibly (new optional arguments, new commands, new
 * metrics, wider ranges) with a version bump; anything else is a `hal.v2.*` next to it.
 */

const args = (properties: TProperties) => Type.Object(properties, { additionalProperties: false });
const none = () => args({});
const metric = (unit: string, description: string, range: { minimum?: number; maximum?: number } = {}) => ({
  unit,
  description,
  ...range,
});
const bool = (description: string) => metric('bool', `${description} (1 or 0)`, { minimum: 0, maximum: 1 });
const vector3 = (description: string) => Type.Array(Type.Number(), { minItems: 3, maxItems: 3, description });

/** Wheel speeds a differential drive accepts, m/s: far above any robot's, well below nonsense. */
const WHEEL_SPEED = { minimum: -20, maximum: 20 };

export const motorDifferential: CapabilitySpec = {
  name: 'hal.v1.motor.differential',
  version: '1.0.0',
  title: 'Differential drive',
  description: 'Two driven wheels (or tracks) on one axle; the robot turns by driving them at different speeds.',
  commands: {
    drive: {
      description: 'Sets both wheel speeds until the next drive or stop (the robot may clamp to its own maximum).',
      args: args({
        left: Type.Number({ ...WHEEL_SPEED, description: 'left wheel speed, m/s (negative: backwards)' }),
        right: Type.Number({ ...WHEEL_SPEED, description: 'right wheel speed, m/s' }),
      }),
      result: Type.Object({ left: Type.Number(), right: Type.Number() }, { description: 'the speeds applied' }),
    },
    stop: {
      description: 'Brings both wheels to rest.',
      args: none(),
      result: Type.Object({ left: Type.Number(), right: Type.Number() }),
    },
  },
  metrics: {
    'wheel.left.speed': metric('m/s', 'measured left wheel speed'),
    'wheel.right.speed': metric('m/s', 'measured right wheel speed'),
    'velocity.linear': metric('m/s', 'forward speed of the base'),
    'velocity.angular': metric('rad/s', 'turn rate of the base, counter-clockwise positive'),
    'pose.x': metric('m', 'odometry position x'),
    'pose.y': metric('m', 'odometry position y'),
    'pose.theta': metric('rad', 'odometry heading'),
  },
  samples: {
    pose: Type.Object(
      { x: Type.Number(), y: Type.Number(), theta: Type.Number() },
      { description: 'odometry pose in the start frame: m, m, rad' },
    ),
  },
};

export const motorServo: CapabilitySpec = {
  name: 'hal.v1.motor.servo',
  version: '1.0.0',
  title: 'Position servos',
  description: 'Servos addressed by id that move to a position (bus servos such as a humanoid’s, 0–1000 servo units).',
  commands: {
    move: {
      description: 'Moves one servo to a position over a duration.',
      args: args({
        servo: Type.Integer({ minimum: 0, maximum: 253, description: 'servo id' }),
        position: Type.Integer({ minimum: 0, maximum: 1000, description: 'target, servo units' }),
        durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000, description: 'time to get there' })),
      }),
    },
    moveMany: {
      description: 'Moves several servos together, arriving at the same time.',
      args: args({
        targets: Type.Array(
          Type.Object(
            {
              servo: Type.Integer({ minimum: 0, maximum: 253 }),
              position: Type.Integer({ minimum: 0, maximum: 1000 }),
            },
            { additionalProperties: false },
          ),
          { minItems: 1, maxItems: 254 },
        ),
        durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30_000 })),
      }),
    },
    torque: {
      description: 'Turns holding torque on or off (off lets the servos be moved by hand).',
      args: args({
        enabled: Type.Boolean(),
        servo: Type.Optional(Type.Integer({ minimum: 0, maximum: 253, description: 'one servo; all when absent' })),
      }),
    },
  },
  metrics: {
    'servo.temperature.max': metric('degC', 'hottest servo'),
  },
  samples: {
    servos: Type.Array(
      Type.Object({
        id: Type.Integer({ minimum: 0, maximum: 253 }),
        position: Type.Number({ description: 'servo units' }),
        temperature: Type.Optional(Type.Number({ description: 'degC' })),
        load: Type.Optional(Type.Number({ description: 'fraction of stall torque, 0..1' })),
      }),
      { description: 'every servo’s state' },
    ),
  },
};

export const motorStepper: CapabilitySpec = {
  name: 'hal.v1.motor.stepper',
  version: '1.0.0',
  title: 'Stepper motor',
  description: 'A stepper motor with a step counter, homed against a limit switch.',
  commands: {
    move: {
      description: 'Moves by a number of steps (negative: backwards).',
      args: args({
        steps: Type.Integer({ minimum: -10_000_000, maximum: 10_000_000 }),
        speed: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'steps/s' })),
      }),
    },
    moveTo: {
      description: 'Moves to an absolute step position.',
      args: args({
        position: Type.Integer({ minimum: -10_000_000, maximum: 10_000_000 }),
        speed: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: 'steps/s' })),
      }),
    },
    home: { description: 'Runs to the limit switch and sets the position to 0.', args: none(), job: true },
    stop: { description: 'Stops at once, holding position.', args: none() },
  },
  metrics: {
    'stepper.position': metric('steps', 'current position'),
    'stepper.homed': bool('homed since power-on'),
  },
  samples: {},
};

export const sensorRange: CapabilitySpec = {
  name: 'hal.v1.sensor.range',
  version: '1.0.0',
  title: 'Range sensor',
  description: 'Distance to the nearest obstacle (ultrasonic, time-of-flight, single-beam lidar).',
  commands: {},
  metrics: { range: metric('m', 'distance to the nearest obstacle', { minimum: 0 }) },
  samples: {
    ranges: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      description: 'several sensors by name, m',
    }),
  },
};

export const sensorImu: CapabilitySpec = {
  name: 'hal.v1.sensor.imu',
  version: '1.0.0',
  title: 'Inertial measurement unit',
  description: 'Orientation, acceleration and turn rates.',
  commands: {
    calibrate: { description: 'Calibrates the gyroscope bias; keep the robot still.', args: none(), job: true },
  },
  metrics: {
    'imu.roll': metric('deg', 'roll angle'),
    'imu.pitch': metric('deg', 'pitch angle'),
    'imu.yaw': metric('deg', 'yaw angle'),
  },
  samples: {
    imu: Type.Object({
      roll: Type.Number({ description: 'deg' }),
      pitch: Type.Number({ description: 'deg' }),
      yaw: Type.Number({ description: 'deg' }),
      accel: Type.Optional(vector3('m/s², x y z')),
      gyro: Type.Optional(vector3('rad/s, x y z')),
    }),
  },
};

export const sensorTemperature: CapabilitySpec = {
  name: 'hal.v1.sensor.temperature',
  version: '1.0.0',
  title: 'Temperature sensor',
  description: 'Ambient air temperature.',
  commands: {},
  metrics: { 'env.temperature': metric('degC', 'air temperature', { minimum: -273.15 }) },
  samples: {},
};

export const sensorHumidity: CapabilitySpec = {
  name: 'hal.v1.sensor.humidity',
  version: '1.0.0',
  title: 'Humidity sensor',
  description: 'Relative humidity of the air.',
  commands: {},
  metrics: { 'env.humidity': metric('%', 'relative humidity', { minimum: 0, maximum: 100 }) },
  samples: {},
};

export const sensorGps: CapabilitySpec = {
  name: 'hal.v1.sensor.gps',
  version: '1.0.0',
  title: 'Satellite positioning',
  description: 'A GNSS receiver’s position fix.',
  commands: {},
  metrics: {
    'gps.satellites': metric('count', 'satellites used in the fix', { minimum: 0 }),
    'gps.hdop': metric('1', 'horizontal dilution of precision', { minimum: 0 }),
  },
  samples: {
    fix: Type.Object({
      lat: Type.Number({ minimum: -90, maximum: 90, description: 'deg' }),
      lon: Type.Number({ minimum: -180, maximum: 180, description: 'deg' }),
      alt: Type.Optional(Type.Number({ description: 'm above the ellipsoid' })),
      accuracy: Type.Optional(Type.Number({ minimum: 0, description: 'm, horizontal' })),
    }),
  },
};

export const camera: CapabilitySpec = {
  name: 'hal.v1.camera',
  version: '1.0.0',
  title: 'Camera',
  description: 'A camera that takes stills and streams video.',
  commands: {
    capture: {
      description: 'Takes a still and returns where it was stored.',
      args: args({
        format: Type.Optional(Type.Union([Type.Literal('jpeg'), Type.Literal('png')])),
        width: Type.Optional(Type.Integer({ minimum: 16, maximum: 16_384 })),
        height: Type.Optional(Type.Integer({ minimum: 16, maximum: 16_384 })),
      }),
      result: Type.Object({ url: Type.String(), width: Type.Integer(), height: Type.Integer() }),
    },
    startStream: {
      description: 'Starts a live stream.',
      args: args({ protocol: Type.Optional(Type.Union([Type.Literal('webrtc'), Type.Literal('mjpeg')])) }),
      result: Type.Object({ url: Type.String() }),
    },
    stopStream: { description: 'Stops the live stream.', args: none() },
  },
  metrics: {
    'camera.fps': metric('1/s', 'frames per second being captured', { minimum: 0 }),
    'camera.viewers': metric('count', 'open stream connections', { minimum: 0 }),
  },
  samples: {},
};

export const gripper: CapabilitySpec = {
  name: 'hal.v1.gripper',
  version: '1.0.0',
  title: 'Gripper',
  description: 'A gripper with a position from 0 (open) to 1 (closed).',
  commands: {
    open: { description: 'Opens fully.', args: none() },
    close: {
      description: 'Closes until it holds something or is fully closed.',
      args: args({ force: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'fraction of maximum' })) }),
      result: Type.Object({ holding: Type.Boolean() }),
    },
    set: {
      description: 'Moves to a position.',
      args: args({ position: Type.Number({ minimum: 0, maximum: 1 }) }),
    },
  },
  metrics: {
    'gripper.position': metric('1', 'opening, 0 open … 1 closed', { minimum: 0, maximum: 1 }),
    'gripper.holding': bool('holding an object'),
  },
  samples: {},
};

export const led: CapabilitySpec = {
  name: 'hal.v1.led',
  version: '1.0.0',
  title: 'LED',
  description: 'A light, possibly coloured.',
  commands: {
    set: {
      description: 'Turns the light on or off, optionally with a colour.',
      args: args({
        on: Type.Boolean(),
        color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb' })),
      }),
    },
  },
  metrics: { 'led.on': bool('lit') },
  samples: {},
};

export const relay: CapabilitySpec = {
  name: 'hal.v1.relay',
  version: '1.0.0',
  title: 'Relays',
  description: 'Switched outputs by channel.',
  commands: {
    set: {
      description: 'Switches one channel.',
      args: args({ channel: Type.Integer({ minimum: 0, maximum: 63 }), on: Type.Boolean() }),
    },
  },
  metrics: {},
  samples: {
    relays: Type.Array(Type.Object({ channel: Type.Integer({ minimum: 0, maximum: 63 }), on: Type.Boolean() })),
  },
};

export const battery: CapabilitySpec = {
  name: 'hal.v1.battery',
  version: '1.0.0',
  title: 'Battery',
  description: 'The main battery’s charge and electrical state.',
  commands: {},
  metrics: {
    'battery.soc': metric('%', 'state of charge', { minimum: 0, maximum: 100 }),
    'battery.voltage': metric('V', 'terminal voltage', { minimum: 0 }),
    'battery.current': metric('A', 'current, positive when discharging'),
    'battery.charging': bool('on the charger'),
  },
  samples: {},
};

export const estop: CapabilitySpec = {
  name: 'hal.v1.estop',
  version: '1.0.0',
  title: 'Emergency stop',
  description: 'Cuts motion at once. Engaging jumps every queue; motion commands fail until released.',
  commands: {
    engage: {
      description: 'Stops all motion now.',
      args: none(),
      result: Type.Object({ engaged: Type.Literal(true) }),
      priority: 'critical',
    },
    release: {
      description: 'Allows motion again (the robot stays still until told to move).',
      args: none(),
      result: Type.Object({ engaged: Type.Literal(false) }),
    },
  },
  metrics: { estop: bool('emergency stop engaged') },
  samples: {},
};

export const HAL_V1: readonly CapabilitySpec[] = [
  motorDifferential,
  motorServo,
  motorStepper,
  sensorRange,
  sensorImu,
  sensorTemperature,
  sensorHumidity,
  sensorGps,
  camera,
  gripper,
  led,
  relay,
  battery,
  estop,
];
