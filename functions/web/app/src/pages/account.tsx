import { useState } from 'preact/hooks';
import { api, clearSession, endSession, user } from '../api';
import { fmtTime, t } from '../i18n';
import { navigate } from '../router';
import { CopyButton, Dialog, ErrorBox, RevokeButton, Skeleton, useAsync } from '../ui';

interface ApiKey {
  id: number;
  name: string;
  scope: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

const tz = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function Password() {
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  return (
    <form
      class="card"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.target as HTMLFormElement;
        const f = new FormData(form);
        setErr(null);
        setMsg(null);
        try {
          await api('/api/auth/password', { method: 'PUT', body: { old_password: f.get('old'), new_password: f.get('new') } });
          form.reset();
          setMsg(t('passwordChanged'));
        } catch (x) {
          setErr(x);
        }
      }}
    >
      <h2>{t('changePassword')}</h2>
      <label>
        {t('currentPassword')}
        <input type="password" name="old" autocomplete="current-password" required />
      </label>
      <label>
        {t('newPassword')}
        <input type="password" name="new" autocomplete="new-password" minLength={8} required />
      </label>
      {err !== null && <ErrorBox error={err} />}
      {msg && <p role="status">✓ {msg}</p>}
      <button class="btn primary" type="submit">
        {t('save')}
      </button>
    </form>
  );
}

function Keys() {
  const list = useAsync(() => api<ApiKey[]>('/api/auth/keys'), []);
  const [created, setCreated] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  return (
    <div class="card">
      <h2>{t('apiKeys')}</h2>
      <form
        class="row wrap"
        data-testid="key-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          const f = new FormData(form);
          setErr(null);
          try {
            const k = await api<{ key: string }>('/api/auth/keys', { method: 'POST', body: { name: f.get('name'), scope: f.get('scope') } });
            setCreated(k.key);
            form.reset();
            list.reload();
          } catch (x) {
            setErr(x);
          }
        }}
      >
        <label>
          {t('keyName')}
          <input name="name" required />
        </label>
        <label>
          {t('scope')}
          <select name="scope">
            <option value="read">read</option>
            <option value="ingest">ingest</option>
            <option value="read_ingest">read_ingest</option>
          </select>
        </label>
        <button class="btn primary" type="submit" data-testid="create-key">
          {t('createKey')}
        </button>
      </form>
      {err !== null && <ErrorBox error={err} />}
      {created && (
        <div class="notice" role="status">
          <p>{t('keyShownOnce')}</p>
          <div class="snippet">
            <code data-testid="new-key">{created}</code>
            <CopyButton text={created} />
          </div>
        </div>
      )}
      {list.error !== undefined ? (
        <ErrorBox error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={2} />
      ) : list.data.length === 0 ? (
        <p class="empty">{t('noKeys')}</p>
      ) : (
        <ul class="plain">
          {list.data.map((k) => (
            <li key={k.id} class="share-row">
              <strong>{k.name}</strong>
              <code>{k.prefix}…</code>
              <span class="muted">
                {k.scope} · {k.last_used_at ? t('lastUsed', { date: fmtTime(k.last_used_at, tz()) }) : t('neverUsed')}
              </span>
              <RevokeButton path={`/api/auth/keys/${k.id}`} done={list.reload} fail={setErr} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Sessions() {
  return (
    <div class="card">
      <h2>{t('sessions')}</h2>
      <p class="muted">{t('signOutEverywhereHelp')}</p>
      <button
        type="button"
        class="btn"
        data-testid="sign-out-everywhere"
        onClick={async () => {
          await endSession(true);
          navigate('/login');
        }}
      >
        {t('signOutEverywhere')}
      </button>
    </div>
  );
}

function DeleteAccount() {
  const [open, setOpen] = useState(false);
  const [pw, setPw] = useState('');
  const [typed, setTyped] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const word = t('deleteWord');
  return (
    <div class="card danger-zone">
      <h2>{t('deleteAccount')}</h2>
      <p class="muted">{t('deleteAccountHelp')}</p>
      <button type="button" class="btn danger" onClick={() => setOpen(true)}>
        {t('deleteAccount')}
      </button>
      {open && (
        <Dialog title={t('deleteAccount')} onClose={() => setOpen(false)}>
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              try {
                await api('/api/auth/me', { method: 'DELETE', body: { password: pw } });
                clearSession();
                navigate('/login');
              } catch (x) {
                setErr(x);
              }
            }}
          >
            <label>
              {t('password')}
              <input type="password" autofocus required value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
            </label>
            <label>
              {t('typeName', { name: word })}
              <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
            </label>
            {err !== null && <ErrorBox error={err} />}
            <div class="row end">
              <button type="button" class="btn" onClick={() => setOpen(false)}>
                {t('cancel')}
              </button>
              <button type="submit" class="btn danger" disabled={typed !== word || !pw}>
                {t('deleteAccount')}
              </button>
            </div>
          </form>
        </Dialog>
      )}
    </div>
  );
}

export default function Account() {
  const me = useAsync(() => api<{ username: string; email: string }>('/api/auth/me'), []);
  return (
    <section class="account">
      <h1>{t('account')}</h1>
      <div class="card">
        {me.error !== undefined ? (
          <ErrorBox error={me.error} retry={me.reload} />
        ) : !me.data ? (
          <Skeleton lines={2} />
        ) : (
          <dl class="usage">
            <dt>{t('username')}</dt>
            <dd>{me.data.username}</dd>
            <dt>{t('email')}</dt>
            <dd data-testid="account-email">{me.data.email}</dd>
          </dl>
        )}
      </div>
      <Password />
      <Sessions />
      <Keys />
      <DeleteAccount />
      {user.value && null}
    </section>
  );
}
