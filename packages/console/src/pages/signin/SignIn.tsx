import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../app/ErrorMessage.tsx';
import { useSessionState } from '../../app/session.tsx';

export function SignIn({ message }: { message?: string }) {
  const { signIn } = useSessionState();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(username, password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main className="signin panel" id="main">
      <h1>Sign in to Flotilla</h1>
      {message && <p className="muted">{message}</p>}
      <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <label className="field">
          Username
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
          />
        </label>
        <label className="field">
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error !== undefined && <ErrorMessage error={error} what="Sign-in failed" />}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="muted">
        <code>npm start</code> prints the password of user <code>admin</code> on the first start.
      </p>
    </main>
  );
}
