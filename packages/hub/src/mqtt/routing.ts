import { ErrorCodes, SUBJECT_ROOT, isDeviceId } from '@flotilla/protocol';
import { decodePublish, type Decoded } from './decode.js';
import {
  adaptInbound,
  adaptOutbound,
  isMappedOutbound,
  mappedSubscribeAllowed,
  matchInbound,
  outboundTopic,
  ruleFor,
  type CompiledRule,
  type MappedTopic,
} from './mapping.js';
import {
  authorizeDevicePublish,
  authorizeDeviceSubscribe,
  hubTopics,
  isOwnTopic,
  type DeviceTopic,
  type TopicVerdict,
} from './topics.js';

/**
 * The topics of one device, Flotilla's and those of the mapping rule that applies to it
 * (mapping.ts): what it may publish and subscribe to, where the hub's messages to it go and how
 * a publish of its becomes a protocol frame. Shared by the embedded broker and the bridge.
 */

/** A publish the device may make: its Flotilla meaning, and the legacy topic it came as, if mapped. */
export interface RoutedPublish {
  readonly topic: DeviceTopic;
  readonly mapped?: MappedTopic;
}

/** The Flotilla prefix of topics (`flotilla`, or `<prefix>/flotilla` on a bridge with a topic prefix). */
export class DeviceRoutes {
  constructor(
    readonly rules: readonly CompiledRule[] = [],
    /** Levels before `flotilla/` on the bridge's broker (`--mqtt-prefix`); empty on the embedded one. */
    readonly prefix: string = '',
  ) {}

  /** The rule that applies to `device`, if any. */
  ruleFor(device: string): CompiledRule | undefined {
    return ruleFor(this.rules, device);
  }

  /** A Flotilla topic as devices see it (with the prefix). */
  external(topic: string): string {
    return this.prefix === '' ? topic : `${this.prefix}/${topic}`;
  }

  /** A topic without the prefix, or undefined when it is not under the prefix. */
  private internal(topic: string): string | undefined {
    if (this.prefix === '') return topic;
    return topic.startsWith(`${this.prefix}/`) ? topic.slice(this.prefix.length + 1) : undefined;
  }

  /** Which device a publish speaks for, from its topic alone (the bridge, where no one logged in). */
  deviceOf(topic: string): string | undefined {
    const own = this.internal(topic);
    if (own !== undefined) {
      const [root, id] = own.split('/');
      if (root === SUBJECT_ROOT) return isDeviceId(id) ? id : undefined;
    }
    return matchInbound(this.rules, topic)?.device;
  }

  /** May `device` publish on `topic`? */
  publish(device: string, topic: string): TopicVerdict<RoutedPublish> {
    const own = this.internal(topic);
    if (own !== undefined && own.startsWith(`${SUBJECT_ROOT}/`)) {
      const verdict = authorizeDevicePublish(device, own);
      return verdict.ok ? { ok: true, value: { topic: verdict.value } } : verdict;
    }
    const mapped = matchInbound(this.rules, topic);
    if (!mapped) return { ok: false, code: ErrorCodes.FORBIDDEN_TOPIC };
    if (mapped.device !== device) return { ok: false, code: ErrorCodes.DEVICE_MISMATCH, claimed: mapped.device };
    const { kind, name } = mapped;
    return { ok: true, value: { topic: name === undefined ? { device, kind } : { device, kind, name }, mapped } };
  }

  /** May `device` subscribe to `filter`? Its own Flotilla hub → device topics, or its rule's. */
  subscribe(device: string, filter: string): TopicVerdict<string> {
    const verdict = authorizeDeviceSubscribe(device, filter);
    if (verdict.ok || verdict.code === ErrorCodes.DEVICE_MISMATCH) return verdict;
    return mappedSubscribeAllowed(this.ruleFor(device), device, filter) ? { ok: true, value: filter } : verdict;
  }

  /** Whether a message about to be delivered to `device` is on one of its own topics. */
  deliverable(device: string, topic: string): boolean {
    return isOwnTopic(device, topic) || isMappedOutbound(this.ruleFor(device), device, topic);
  }

  /** Whether `topic` is the device's status topic (a last will there may state its facts). */
  isStatus(device: string, topic: string): boolean {
    const verdict = this.publish(device, topic);
    return verdict.ok && verdict.value.topic.kind === 'status';
  }

  /**
   * A publish as a protocol frame (reshaped first when it came on a mapped topic). `correlation`
   * is the MQTT 5 correlation data of a result: the command id, when the payload does not say it.
   */
  decode(routed: RoutedPublish, payload: Buffer, seq: number, now: number, correlation?: string): Decoded {
    let body = payload;
    if (routed.mapped) {
      const adapted = adaptInbound(routed.mapped, payload);
      if ('error' in adapted) return { error: { code: ErrorCodes.BAD_FRAME, message: adapted.error } };
      body = adapted.payload;
    }
    if (correlation !== undefined && routed.topic.kind === 'result') body = withId(body, correlation);
    return decodePublish(routed.topic, body, seq, now);
  }

  /** Where a device answers commands: its rule's result topic, or `flotilla/<id>/result`. */
  resultTopic(device: string): string {
    const levels = this.ruleFor(device)?.topics.result;
    if (!levels) return this.external(`${SUBJECT_ROOT}/${device}/result`);
    return levels.map((l) => ('literal' in l ? l.literal : device)).join('/');
  }

  /** Where a command goes, and as what. */
  command(device: string, payload: { capability: string; command: string } & Record<string, unknown>): Outbound {
    const rule = this.ruleFor(device);
    const mapped = outboundTopic(rule, 'command', { device, capability: payload.capability, command: payload.command });
    return mapped
      ? { topic: mapped, payload: adaptOutbound(rule, 'command', device, payload) }
      : { topic: this.external(hubTopics.command(device, payload.capability)), payload: JSON.stringify(payload) };
  }

  /** Where a cancel goes, and as what. */
  cancel(device: string, payload: Record<string, unknown>): Outbound {
    const rule = this.ruleFor(device);
    const mapped = outboundTopic(rule, 'cancel', { device });
    return mapped
      ? { topic: mapped, payload: adaptOutbound(rule, 'cancel', device, payload) }
      : { topic: this.external(hubTopics.cancel(device)), payload: JSON.stringify(payload) };
  }

  /** The Flotilla topics the hub sends on, prefixed. */
  hub(kind: 'error' | 'credential' | 'status', device: string): string {
    return this.external(hubTopics[kind](device));
  }
}

export interface Outbound {
  topic: string;
  payload: string;
}

/** A JSON object result without an `id` gets the correlated one; anything else is left for the validators. */
function withId(payload: Buffer, id: string): Buffer {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return payload;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'id' in value) return payload;
  return Buffer.from(JSON.stringify({ id, ...value }));
}
