import { Type, type Static } from '@sinclair/typebox';
import { LOG_LEVELS, logLevelName, type LogLevel } from '@flotilla/protocol';
import type { StoredLogLine } from '../storage/logs.js';

/** How a stored log line looks in listings and on the live subject `flotilla.<id>.log`. */

export const Level = Type.Unsafe<LogLevel>({ type: 'string', enum: [...LOG_LEVELS] });

export const LogLineBody = Type.Object(
  {
    id: Type.Integer({
      description: 'Order in which the hub stored the line; the same in listings and on `flotilla.<id>.log`',
    }),
    device: Type.String(),
    ts: Type.Integer({ description: "The device's clock (ms)" }),
    level: Level,
    message: Type.String(),
    fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    received: Type.Integer({ description: "The hub's clock when the line arrived (ms)" }),
  },
  { additionalProperties: false },
);

/** A stored line as the API (and the live subject) shows it. */
export function logLineView(line: StoredLogLine): Static<typeof LogLineBody> {
  const view: Static<typeof LogLineBody> = {
    id: line.id,
    device: line.device,
    ts: line.ts,
    level: logLevelName(line.level),
    message: line.message,
    received: line.received,
  };
  if (line.fields !== null) view.fields = line.fields;
  return view;
}
