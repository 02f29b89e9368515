import { useEffect, useState } from 'preact/hooks';
import { api, setSession, ApiError } from '../api';
import { t } from '../i18n';
import { navigate, type Route } from '../router';

export default function Auth({ route }: { route: Route }) {
  const register = route.name === 'register';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The server says whether it takes new accounts (GET /api/auth/config, public).
  const [closed, setClosed] = useState(false);
  useEffect(() => {
    api<{ registration: string }>('/api/auth/config', { bearer: false })
      .then((c) => setClosed(c.registration === 'closed'))
      .catch(() => setClosed(false));
  }, []);
  const next = new URLSearchParams(location.search).get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await api(register ? '/api/auth/register' : '/api/auth/login', {
        method: 'POST',
        body: { email, password },
        bearer: false,
      });
      setSession(data);
      navigate(target, true);
    } catch (err) {
      if (register && err instanceof ApiError && err.status === 403) setError(t('registrationClosed'));
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (register && closed) {
    return (
      <div class="auth card">
        <h1>{t('register')}</h1>
        <p role="status" data-testid="registration-closed">
          {t('registrationClosed')}
        </p>
        <p class="muted">
          <a href="/login">{t('haveAccount')}</a>
        </p>
      </div>
    );
  }

  return (
    <div class="auth card">
      <h1>{register ? t('register') : t('signIn')}</h1>
      <form onSubmit={submit} data-testid="auth-form">
        <label>
          {t('email')}
          <input type="email" name="email" autocomplete="email" required value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('password')}
          <input
            type="password"
            name="password"
            autocomplete={register ? 'new-password' : 'current-password'}
            required
            minLength={register ? 8 : undefined}
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {error && (
          <div class="error" role="alert" data-testid="auth-error">
            {error}
          </div>
        )}
        <button class="btn primary" type="submit" disabled={busy}>
          {register ? t('createAccount') : t('signIn')}
        </button>
      </form>
      <p class="muted">
        {register ? (
          <a href="/login">{t('haveAccount')}</a>
        ) : closed ? null : (
          <a href="/register">{t('noAccount')}</a>
        )}
      </p>
    </div>
  );
}
