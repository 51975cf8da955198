import { useState } from 'react';
import type { ApiToken, CreatedApiToken, Role, User } from '@flotilla/sdk';
import { ListingTable, type Column } from '../../app/DataTable.tsx';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { FormRow } from '../../app/FormRow.tsx';
import { dateTime } from '../../app/format.ts';
import { useSession } from '../../app/session.tsx';
import { useAction } from '../../app/use-action.ts';
import { useAsync } from '../../app/use-async.ts';

const ROLES: Role[] = ['admin', 'engineer', 'operator', 'viewer'];

function RoleOptions({ roles }: { roles: readonly Role[] }) {
  return roles.map((r) => <option key={r}>{r}</option>);
}

function Users() {
  const { client, me } = useSession();
  const [users, reload] = useAsync((signal) => client.users.list({ signal }), [client]);
  const [draft, setDraft] = useState({ username: '', password: '', role: 'viewer' as Role });
  const { run, error } = useAction(reload);

  const create = async (): Promise<void> => {
    if (await run(() => client.users.create(draft))) setDraft({ username: '', password: '', role: 'viewer' });
  };

  const columns: ReadonlyArray<Column<User>> = [
    { header: 'User', cell: (u) => u.username },
    {
      header: 'Role',
      cell: (u) => (
        <select
          aria-label={`Role of ${u.username}`}
          value={u.role}
          disabled={u.id === me.user.id}
          onChange={(e) => void run(() => client.users.update(u.id, { role: e.target.value as Role }))}
        >
          <RoleOptions roles={ROLES} />
        </select>
      ),
    },
    {
      header: 'State',
      cell: (u) => <span className={u.disabled ? 'bad' : 'on'}>{u.disabled ? 'disabled' : 'active'}</span>,
    },
    { header: 'Created', cell: (u) => dateTime(u.createdAt) },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (u) =>
        u.id !== me.user.id && (
          <div className="row">
            <button type="button" onClick={() => void run(() => client.users.update(u.id, { disabled: !u.disabled }))}>
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
        ),
    },
  ];

  return (
    <section className="panel" aria-label="Users">
      <h2>Users</h2>
      <FormRow label="New user" onSubmit={create}>
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
            <RoleOptions roles={ROLES} />
          </select>
        </label>
        <button type="submit" className="primary">
          Add user
        </button>
      </FormRow>
      {error !== undefined && <ErrorMessage error={error} />}
      <ListingTable listing={users} failed="Cannot load users" columns={columns} empty="No users." />
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
  const { run, error } = useAction(reload);
  const allowed = ROLES.slice(ROLES.indexOf(me.role as Role));

  const create = (): Promise<boolean> =>
    run(async () => {
      setCreated(await client.tokens.create({ name, role, ...(days ? { expiresIn: Number(days) * 86400 } : {}) }));
      setName('');
    });

  const columns: ReadonlyArray<Column<ApiToken>> = [
    { header: 'Name', cell: (t) => t.name },
    { header: 'Role', cell: (t) => t.role },
    { header: 'Created', cell: (t) => dateTime(t.createdAt) },
    { header: 'Expires', cell: (t) => (t.expiresAt ? dateTime(t.expiresAt) : 'never') },
    { header: 'Last used', cell: (t) => (t.lastUsedAt ? dateTime(t.lastUsedAt) : 'never') },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (t) =>
        t.revokedAt ? (
          <span className="muted">revoked</span>
        ) : (
          <button
            type="button"
            onClick={() => void run(() => client.tokens.revoke(t.id))}
            aria-label={`Revoke ${t.name}`}
          >
            Revoke
          </button>
        ),
    },
  ];

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
      <FormRow label="New API token" onSubmit={create}>
        <label className="field">
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="ci" />
        </label>
        <label className="field">
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <RoleOptions roles={allowed} />
          </select>
        </label>
        <label className="field">
          Expires in (days, empty: never)
          <input type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Create token
        </button>
      </FormRow>
      {created && (
        <div className="ok-box" role="status">
          Token <b>{created.name}</b> created. Copy it now, it is not shown again:
          <pre className="mono" style={{ userSelect: 'all', whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
            {created.token}
          </pre>
        </div>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <ListingTable listing={tokens} failed="Cannot load tokens" columns={columns} empty="No tokens." />
    </section>
  );
}

/** Users (admins) and API tokens (everyone their own; admins everyone's). */
export default function UsersPage() {
  const { can } = useSession();
  return (
    <div className="stack">
      <h1>{can('users:manage') ? 'Users and tokens' : 'API tokens'}</h1>
      {can('users:manage') && <Users />}
      <Tokens />
    </div>
  );
}
