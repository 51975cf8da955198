import type { Agent, StateEvent } from '@flotilla/agent';

/**
 * Starts agents with at most `concurrency` handshakes in flight, so 10,000 devices reach the
 * hub as a steady stream rather than one SYN flood. A slot frees when the agent's first
 * attempt settles either way (Connected or Disconnected); from then on its own backoff paces it.
 */
export async function startInBatches(
  agents: readonly Agent[],
  concurrency: number,
  stopped: () => boolean,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < agents.length && !stopped()) {
      const agent = agents[next++]!;
      await new Promise<void>((resolve) => {
        const onState = (e: StateEvent): void => {
          if (e.state !== 'Connected' && e.state !== 'Disconnected' && e.state !== 'Stopped') return;
          agent.off('state', onState);
          resolve();
        };
        agent.on('state', onState);
        agent.start();
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, agents.length) }, worker));
}
