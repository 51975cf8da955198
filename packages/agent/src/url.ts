import { AgentError, AgentErrorCodes } from './errors.js';

const SCHEMES: Readonly<Record<string, string>> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };

export const AGENT_PATH = '/ws/agent';

/**
 * The agent socket URL for a hub URL: http→ws, https→wss, path `/ws/agent` appended to any
 * base path (a hub behind a reverse proxy at `https://example.com/flotilla`). A URL that
 * already names `/ws/agent` is used as it is.
 */
export function agentSocketUrl(hubUrl: string): string {
  let url: URL;
  try {
    url = new URL(hubUrl);
  } catch {
    throw new AgentError(AgentErrorCodes.INVALID_HUB_URL, `hub URL ${JSON.stringify(hubUrl)} is not a URL`);
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) {
    throw new AgentError(
      AgentErrorCodes.INVALID_HUB_URL,
      `hub URL must start with http://, https://, ws:// or wss://, got ${url.protocol}//`,
    );
  }
  url.protocol = scheme;
  const base = url.pathname.replace(/\/+$/, '');
  if (!base.endsWith(AGENT_PATH)) url.pathname = base + AGENT_PATH;
  url.hash = '';
  return url.toString();
}
