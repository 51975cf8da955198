import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { FlotillaApiError, FlotillaClient, LiveClient, type LoginResult, type Me } from '@flotilla/sdk';

/**
 * Who is signed in, and the two clients every page uses: REST (`FlotillaClient`) and the live
 * stream (`LiveClient`, one WebSocket for the whole app). The access token lives 15 minutes;
 * the refresh token is exchanged a minute before, and kept (with the access token) in
 * sessionStorage, so a reload stays signed in while closing the tab signs out.
 */

interface StoredSession {
  token: string;
  refreshToken: string;
  /** Epoch ms when `token` expires. */
  expiresAt: number;
}

export interface Session {
  me: Me;
  client: FlotillaClient;
  live: LiveClient;
  /** Whether the caller's role has a permission (`commands:send`…): the UI offers only what works. */
  can(permission: string): boolean;
  signOut(): Promise<void>;
}

type State = { kind: 'loading' } | { kind: 'signed-out'; message?: string } | { kind: 'signed-in'; session: Session };

interface SessionApi {
  state: State;
  signIn(username: string, password: string): Promise<void>;
}

const KEY = 'flotilla.session';
const Context = createContext<SessionApi | null>(null);
const baseUrl = (): string => location.origin;

function load(): StoredSession | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : undefined;
  } catch {
    return undefined;
  }
}

function store(result: LoginResult): StoredSession {
  const stored = {
    token: result.token,
    refreshToken: result.refreshToken,
    expiresAt: Date.now() + result.expiresIn * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(stored));
  return stored;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const current = useRef<StoredSession | undefined>(undefined);
  const timer = useRef<number | undefined>(undefined);

  const end = useCallback((message?: string) => {
    window.clearTimeout(timer.current);
    current.current = undefined;
    sessionStorage.removeItem(KEY);
    setState((previous) => {
      if (previous.kind === 'signed-in') previous.session.live.close();
      return message === undefined ? { kind: 'signed-out' } : { kind: 'signed-out', message };
    });
  }, []);

  const start = useCallback(
    async (stored: StoredSession) => {
      current.current = stored;
      const client = new FlotillaClient({ baseUrl: baseUrl(), token: stored.token });
      const me = await client.me();
      const schedule = (): void => {
        const session = current.current;
        if (!session) return;
        const delay = Math.max(5_000, session.expiresAt - Date.now() - 60_000);
        timer.current = window.setTimeout(() => {
          client.refresh(session.refreshToken).then(
            (result) => {
              current.current = store(result);
              schedule();
            },
            () => end('Your session ended; sign in again.'),
          );
        }, delay);
      };
      schedule();
      // Asked before every (re)connection, so a reconnect hours later sends the refreshed token.
      const live = new LiveClient({ url: baseUrl(), token: () => current.current?.token });
      const permissions = new Set(me.permissions);
      const session: Session = {
        me,
        client,
        live,
        can: (permission) => permissions.has(permission),
        signOut: async () => {
          const refreshToken = current.current?.refreshToken;
          try {
            await client.logout(refreshToken);
          } finally {
            end();
          }
        },
      };
      setState({ kind: 'signed-in', session });
    },
    [end],
  );

  useEffect(() => {
    const stored = load();
    if (!stored) {
      setState({ kind: 'signed-out' });
      return;
    }
    const resume = async (): Promise<void> => {
      if (stored.expiresAt - Date.now() > 30_000) {
        await start(stored);
        return;
      }
      const result = await new FlotillaClient({ baseUrl: baseUrl() }).refresh(stored.refreshToken);
      await start(store(result));
    };
    resume().catch(() => end());
    return () => window.clearTimeout(timer.current);
  }, [start, end]);

  const api = useMemo<SessionApi>(
    () => ({
      state,
      signIn: async (username, password) => {
        const result = await new FlotillaClient({ baseUrl: baseUrl() }).login(username, password);
        await start(store(result));
      },
    }),
    [state, start],
  );
  return <Context.Provider value={api}>{children}</Context.Provider>;
}

export function useSessionState(): SessionApi {
  const api = useContext(Context);
  if (!api) throw new Error('useSessionState outside SessionProvider');
  return api;
}

/** The signed-in session; only used below the sign-in gate. */
export function useSession(): Session {
  const { state } = useSessionState();
  if (state.kind !== 'signed-in') throw new Error('useSession before sign-in');
  return state.session;
}

/** The message to show for a failed call: the hub's own words when it answered. */
export function errorMessage(err: unknown): string {
  if (err instanceof FlotillaApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}
