import type { FastifyInstance } from 'fastify';
import { createWebSocketStream, type WebSocket } from 'ws';
import { verifiedPeer } from '../gateway/ws-agent.js';
import type { MqttBroker } from './broker.js';

/** MQTT over WebSocket (subprotocol `mqtt`), for browsers and devices behind HTTP-only proxies. */
export const MQTT_WS_PATH = '/mqtt';

/**
 * Registers `/mqtt` on an app with @fastify/websocket: each socket's byte stream goes to the
 * broker like a TCP connection (MQTT packets may span WebSocket messages). Public at the HTTP
 * level: the device authenticates in its CONNECT, as on the MQTT port.
 */
export function registerMqttWebSocket(app: FastifyInstance, options: { broker: MqttBroker }): void {
  const { broker } = options;
  app.get(
    MQTT_WS_PATH,
    { websocket: true, config: { public: true }, schema: { hide: true } },
    (socket: WebSocket, request) => {
      const stream = createWebSocketStream(socket);
      // Peers that break the WebSocket protocol are closed by ws itself; the broker sees the close.
      stream.on('error', () => undefined);
      broker.handle(stream, verifiedPeer(request.raw.socket));
    },
  );
}
