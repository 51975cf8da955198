import { useState, type FormEvent } from 'react';
import type { CreatedApiToken, Role } from '@flotilla/sdk';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { dateTime } from '../../app/format.ts';
import { useSession } from '../../app/session.tsx';
import { useAsync } from '../../app/use-async.ts';

const ROLES: Role[] = ['admin', 'engineer', 'operator', 'viewer'];

function Users() {
  const { client, me } = useSession();
  const [users, reload] = useAsync((signal) => client.users.list({ signal }), [client]);
  const [draft, setDraft] = useState({ username: '', password: '', role: 'viewer' as Role });
  const [error, setError] = useState<unknown>(undefined);

  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setError(undefined);
    try {
      await action();
      reload();
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };
  const create = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (await run(() => client.users.create(draft))) setDraft({ username: '', password: '', role: 'viewer' });
  };

  return (
    <section className="panel" aria-label="Users">
      <h2>Users</h2>
      <form
        className="row"
        onSubmit={(e) => void create(e)}
        aria-label="New user"
        style={{ alignItems: 'flex-end', marginBottom: '0.75rem' }}
      >
        <label className="field">
          Username
          <input required value={draft.username} onChange={(e) => setDraft({ ...draft, username: e.target.value })} />
        </label>
        <label className="field">
          Password
          <input
            required
            type="password"
            minLength={8}
            autoComplete="new-password"
            value={draft.password}
            onChange={(e) => setDraft({ ...draft, password: e.target.value })}
          />
        </label>
        <label className="field">
          Role
          <select value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary">
          Add user
        </button>
      </form>
      {error !== undefined && <ErrorMessage error={error} />}
      {users.status === 'error' && <ErrorMessage error={users.error} what="Cannot load users" />}
      {users.data && (
        <table className="list">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>State</th>
              <th>Created</th>
              <th>
                <span className="skip">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    disabled={u.id === me.user.id}
                    onChange={(e) => void run(() => client.users.update(u.id, { role: e.target.value as Role }))}
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td className={u.disabled ? 'bad' : 'on'}>{u.disabled ? 'disabled' : 'active'}</td>
                <td>{dateTime(u.createdAt)}</td>
                <td>
                  {u.id !== me.user.id && (
                    <div className="row">
                      <button
                        type="button"
                        onClick={() => void run(() => client.users.update(u.id, { disabled: !u.disabled }))}
                      >
                        {u.disabled ? 'Enable' : 'Disable'} <span className="skip">{u.username}</span>
                      </button>
                      <button
                        type="button"
                        onClick={() => {
                          if (confirm(`Delete ${u.username} with their tokens and sessions?`))
                            void run(() => client.users.delete(u.id));
                        }}
                      >
                        Delete <span className="skip">{u.username}</span>
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Tokens() {
  const { client, can, me } = useSession();
  const [all, setAll] = useState(false);
  const [tokens, reload] = useAsync((signal) => client.tokens.list({ all }, { signal }), [client, all]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(me.role as Role);
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<CreatedApiToken | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const allowed = ROLES.slice(ROLES.indexOf(me.role as Role));

  const create = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(undefined);
    try {
      setCreated(await client.tokens.create({ name, role, ...(days ? { expiresIn: Number(days) * 86400 } : {}) }));
      setName('');
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (id: string): Promise<void> => {
    setError(undefined);
    try {
      await client.tokens.revoke(id);
      reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="panel" aria-label="API tokens">
      <div className="spread">
        <h2>API tokens</h2>
        {can('tokens:manage') && (
          <label className="row">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> everyone's
          </label>
        )}
      </div>
      <form
        className="row"
        onSubmit={(e) => void create(e)}
        aria-label="New API token"
        style={{ alignItems: 'flex-end', marginBottom: '0.75rem' }}
      >
        <label className="field">
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="ci" />
        </label>
        <label className="field">
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {allowed.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label className="field">
          Expires in (days, empty: never)
          <input type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Create token
        </button>
      </form>
      {created && (
        <div className="ok-box" role="status">
          Token <b>{created.name}</b> created. Copy it now, it is not shown again:
          <pre className="mono" style={{ userSelect: 'all', whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
            {created.token}
          </pre>
        </div>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      {tokens.status === 'error' && <ErrorMessage error={tokens.error} what="Cannot load tokens" />}
      {tokens.data && tokens.data.length === 0 && <p className="muted">No tokens.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Last used</th>
              <th>
                <span className="skip">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.role}</td>
                <td>{dateTime(t.createdAt)}</td>
                <td>{t.expiresAt ? dateTime(t.expiresAt) : 'never'}</td>
                <td>{t.lastUsedAt ? dateTime(t.lastUsedAt) : 'never'}</td>
                <td>
                  {t.revokedAt ? (
                    <span className="muted">revoked</span>
                  ) : (
                    <button type="button" onClick={() => void revoke(t.id)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Users (admins) and API tokens (everyone their own; admins everyone's). */
export default function UsersPage() {
  const { can } = useSession();
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: '1rem' }}>
      <h1>{can('users:manage') ? 'Users and tokens' : 'API tokens'}</h1>
      {can('users:manage') && <Users />}
      <Tokens />
    </div>
  );
}
