import { useState, type ReactNode } from 'react';
import { Link, usePath } from './router.ts';
import { useSession } from './session.tsx';
import { useLiveState } from './use-live.ts';
import { saveTheme, storedTheme, type Theme } from './theme.ts';

interface NavItem {
  to: string;
  label: string;
  /** Shown only to roles with this permission. */
  permission?: string;
}

const NAV: NavItem[] = [
  { to: '/', label: 'Fleet' },
  { to: '/alerts', label: 'Alerts', permission: 'alerts:read' },
  { to: '/events', label: 'Events', permission: 'events:read' },
  { to: '/reports', label: 'Reports', permission: 'reports:read' },
  { to: '/users', label: 'Users & tokens', permission: 'tokens:own' },
];

function current(path: string, to: string): boolean {
  return to === '/' ? path === '/' || path.startsWith('/devices/') : path.startsWith(to);
}

const LIVE_TEXT = {
  idle: 'live: idle',
  connecting: 'live: connecting',
  open: 'live',
  reconnecting: 'live: reconnecting',
  closed: 'live: closed',
};

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const path = usePath();
  const live = useLiveState();
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const toggle = (): void => {
    const next = theme === 'dark' ? 'light' : 'dark';
    saveTheme(next);
    setTheme(next);
  };
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="sidebar">
        <div className="brand">Flotilla</div>
        <nav className="nav" aria-label="Main">
          {NAV.filter((item) => !item.permission || session.can(item.permission)).map((item) => (
            <Link key={item.to} to={item.to} aria-current={current(path, item.to) ? 'page' : undefined}>
              {item.label}
            </Link>
          ))}
        </nav>
        <div className="sidebar-foot">
          <span role="status" aria-label="Live connection" className={live === 'open' ? 'on' : 'warn'}>
            ● {LIVE_TEXT[live]}
          </span>
          <span>
            {session.me.user.username} <span className="badge">{session.me.role}</span>
          </span>
          <div className="row">
            <button
              type="button"
              onClick={toggle}
              aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
            >
              {theme === 'dark' ? '☀ Light' : '☾ Dark'}
            </button>
            <button type="button" onClick={() => void session.signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
