import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from 'react';
import { ErrorBoundary } from './ErrorMessage.tsx';
import { Layout } from './Layout.tsx';
import { usePath } from './router.ts';
import { SessionProvider, useSessionState } from './session.tsx';
import { SignIn } from '../pages/signin/SignIn.tsx';

// Every page is its own chunk: the first load carries the shell and sign-in only.
const FleetPage = lazy(() => import('../pages/fleet/FleetPage.tsx'));
const DevicePage = lazy(() => import('../pages/device/DevicePage.tsx'));
const AlertsPage = lazy(() => import('../pages/alerts/AlertsPage.tsx'));
const EventsPage = lazy(() => import('../pages/events/EventsPage.tsx'));
const ReportsPage = lazy(() => import('../pages/reports/ReportsPage.tsx'));
const UsersPage = lazy(() => import('../pages/users/UsersPage.tsx'));

interface Route {
  pattern: RegExp;
  title: string;
  page: LazyExoticComponent<ComponentType<{ params: string[] }>>;
}

export const ROUTES: Route[] = [
  { pattern: /^\/$/, title: 'Fleet', page: FleetPage },
  { pattern: /^\/devices\/([^/]+)$/, title: 'Device', page: DevicePage },
  { pattern: /^\/alerts$/, title: 'Alerts', page: AlertsPage },
  { pattern: /^\/events$/, title: 'Events', page: EventsPage },
  { pattern: /^\/reports$/, title: 'Reports', page: ReportsPage },
  { pattern: /^\/users$/, title: 'Users and tokens', page: UsersPage },
];

function Pages() {
  const path = usePath();
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const Page = route.page;
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    document.title = `${route.title} · Flotilla`;
    return (
      <ErrorBoundary key={path} label={route.title}>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Page params={params} />
        </Suspense>
      </ErrorBoundary>
    );
  }
  return (
    <div>
      <h1>Not found</h1>
      <p>The console has no page at {path}.</p>
    </div>
  );
}

function Gate() {
  const { state } = useSessionState();
  if (state.kind === 'loading') return <p className="muted">Loading…</p>;
  if (state.kind === 'signed-out') return <SignIn {...(state.message !== undefined && { message: state.message })} />;
  return (
    <Layout>
      <Pages />
    </Layout>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Gate />
    </SessionProvider>
  );
}
