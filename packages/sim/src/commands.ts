import { AgentErrorCodes, CommandError, CommandRegistry, type CommandArgs } from '@flotilla/agent';
import { SimErrorCodes } from './errors.js';
import type { Kind, SimRobot } from './kinds/types.js';
import { isDrivable, isEstoppable } from './kinds/types.js';

export const Capabilities = {
  differential: 'hal.v1.motor.differential',
  estop: 'hal.v1.estop',
} as const;

function speed(args: CommandArgs, name: string, max: number): number {
  const v = args[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new CommandError(SimErrorCodes.INVALID_ARGS, `${name} must be a number (m/s)`);
  }
  if (Math.abs(v) > max) throw new CommandError(SimErrorCodes.OUT_OF_RANGE, `${name} must be within ±${max} m/s`);
  return v;
}

/**
 * Command registries shared by every simulated device of a kind: one handler function serves
 * thousands of devices, finding its robot by `context.device`. Each kind gets a registry with
 * only the capabilities it has, because the agent declares the registry's capabilities in hello.
 */
export function simRegistries(robotOf: (device: string) => SimRobot | undefined): Record<Kind, CommandRegistry> {
  const robot = (device: string): SimRobot => {
    const r = robotOf(device);
    if (!r) throw new CommandError(SimErrorCodes.UNKNOWN_DEVICE, `no simulated device ${device}`);
    return r;
  };
  const estop = (registry: CommandRegistry): CommandRegistry => {
    registry.register(Capabilities.estop, 'engage', (_args, ctx) => {
      const r = robot(ctx.device);
      if (!isEstoppable(r)) throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no estop`);
      r.setEstop(true);
      return { engaged: true };
    });
    registry.register(Capabilities.estop, 'release', (_args, ctx) => {
      const r = robot(ctx.device);
      if (!isEstoppable(r)) throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no estop`);
      r.setEstop(false);
      return { engaged: false };
    });
    return registry;
  };
  const mobile = estop(new CommandRegistry());
  mobile.register(Capabilities.differential, 'drive', (args, ctx) => {
    const r = robot(ctx.device);
    if (!isDrivable(r))
      throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no differential drive`);
    if (isEstoppable(r) && r.estopEngaged)
      throw new CommandError(SimErrorCodes.ESTOP_ENGAGED, 'emergency stop is engaged; release it first');
    const left = speed(args, 'left', r.maxSpeed);
    const right = speed(args, 'right', r.maxSpeed);
    r.drive(left, right);
    return { left, right };
  });
  mobile.register(Capabilities.differential, 'stop', (_args, ctx) => {
    const r = robot(ctx.device);
    if (!isDrivable(r))
      throw new CommandError(AgentErrorCodes.UNSUPPORTED_COMMAND, `${r.kind} has no differential drive`);
    r.stop();
    return { left: 0, right: 0 };
  });
  return { lekiwi: mobile, xle: mobile, tonypi: estop(new CommandRegistry()), mcu: new CommandRegistry() };
}
