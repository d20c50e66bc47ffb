import { useState, type FormEvent } from 'react';

import { api } from '../api';
import { errorText } from '../components/common';

export function SignIn({ expired, onSignedIn }: { expired: boolean; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(
    expired ? 'Your session ended or the token was refused; sign in again.' : null,
  );
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter the admin token (HOOKFLOW_ADMIN_TOKEN of config-api).');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.checkToken(value);
      onSignedIn(value);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Hookflow console</h1>
        <p className="muted">Sign in with the admin token config-api was started with. It is kept for this browser tab only.</p>
        <label>
          Admin token
          <input
            type="password"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'sign-in-error' : undefined}
          />
        </label>
        {error && (
          <p className="error-text" id="sign-in-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
