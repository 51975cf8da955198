import { Duplex } from 'node:stream';

/**
 * aedes (through mqtt-packet) buffers a packet whole before looking at it, whatever its size:
 * MQTT 3.1.1 allows 256 MiB, so one client could make the hub hold that much. This stream sits
 * between the transport and the broker and reads only the fixed header of each packet
 * ([MQTT-2.2]: one byte of type and flags, then the Remaining Length in 1–4 bytes of 7 bits);
 * a packet announcing more than `maxBytes` closes the connection before its body is buffered.
 * MQTT 3.1.1 has no way to tell the client why ([MQTT-4.8.0-1]: the server closes the
 * connection), so the hub counts it (`frame_too_large`) and logs it.
 */

export type PacketLimitVerdict = 'too_large' | 'malformed';

/**
 * The first byte of a packet, as MQTT 3.1.1 allows it: a known packet type (0 and 15 are
 * reserved, [MQTT-2.2.1]), the flags its type requires ([MQTT-2.2.2-1], [MQTT-2.2.2-2]: 0010
 * for PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0000 for the others) and, for PUBLISH, not both QoS
 * bits set ([MQTT-3.3.1-4]: the server closes the connection). mqtt-packet lets some of these
 * through and aedes then silently ignores the packet.
 */
function validFixedHeader(byte: number): boolean {
  const type = byte >> 4;
  const flags = byte & 0x0f;
  if (type === 0 || type === 15) return false;
  if (type === 3) return (flags & 0x06) !== 0x06;
  return flags === (type === 6 || type === 8 || type === 10 ? 0x02 : 0x00);
}

export function limitPacketSize(
  inner: Duplex,
  maxBytes: number,
  refused: (verdict: PacketLimitVerdict, announced: number) => void,
): Duplex {
  return new PacketLimit(inner, maxBytes, refused);
}

class PacketLimit extends Duplex {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(
    private readonly inner: Duplex,
    private readonly maxBytes: number,
    private readonly refused: (verdict: PacketLimitVerdict, announced: number) => void,
  ) {
    super({ allowHalfOpen: false });
    inner.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      if (!this.scan(chunk)) return;
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }

  /** Follows packet boundaries through `chunk`; false (and the connection closed) on a refused packet. */
  private scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === 'type') {
        if (!validFixedHeader(byte)) return this.refuse('malformed', 0);
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        // [MQTT-2.2.3]: at most four bytes of Remaining Length.
        if (this.lengthBytes === 4) return this.refuse('malformed', this.length);
        continue;
      }
      if (this.length > this.maxBytes) return this.refuse('too_large', this.length);
      this.remaining = this.length;
      this.state = this.remaining > 0 ? 'body' : 'type';
    }
    return true;
  }

  private refuse(verdict: PacketLimitVerdict, announced: number): false {
    this.refused(verdict, announced);
    this.destroy();
    return false;
  }
}
