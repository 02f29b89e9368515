import { useState } from 'preact/hooks';
import { api } from '../api';
import { fmtNum, fmtTime, t } from '../i18n';
import { navigate, type Route } from '../router';
import { CopyButton, Dialog, ErrorBox, RevokeButton, Skeleton, useAsync } from '../ui';
import { Snippet } from './snippet';
import type { Site } from './sites';
import { rememberTz } from './dashboard';

interface Share {
  id: number;
  token: string;
  url: string;
  created_at: string;
  expires_at: string | null;
  has_password: boolean;
}

function Confirm({ title, name, typed, onConfirm, onClose, action }: { title: string; name: string; typed?: boolean; action: string; onConfirm: () => Promise<void>; onClose: () => void }) {
  const [text, setText] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          try {
            await onConfirm();
          } catch (x) {
            setErr(x);
            setBusy(false);
          }
        }}
      >
        <p>{t('confirmSite', { name })}</p>
        {typed && (
          <label>
            {t('typeName', { name })}
            <input data-testid="confirm-name" autofocus value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          </label>
        )}
        {err !== null && <ErrorBox error={err} />}
        <div class="row end">
          <button type="button" class="btn" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" class="btn danger" data-testid="confirm" disabled={busy || (typed && text !== name)}>
            {action}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Shares({ siteId, tz }: { siteId: number; tz: string }) {
  const list = useAsync(() => api<Share[]>(`/api/sites/${siteId}/shares`), [siteId]);
  const [expires, setExpires] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<unknown>(null);
  return (
    <div class="card">
      <h2>{t('shareLinks')}</h2>
      <form
        class="row wrap"
        data-testid="share-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setErr(null);
          try {
            const body: Record<string, string> = {};
            if (expires) body.expires_at = new Date(`${expires}T23:59:59`).toISOString();
            if (password) body.password = password;
            await api(`/api/sites/${siteId}/shares`, { method: 'POST', body });
            setPassword('');
            list.reload();
          } catch (x) {
            setErr(x);
          }
        }}
      >
        <label>
          {t('expiresOn')}
          <input type="date" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('optionalPassword')}
          <input type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <button class="btn primary" type="submit" data-testid="create-share">
          {t('createShare')}
        </button>
      </form>
      {err !== null && <ErrorBox error={err} />}
      {list.error !== undefined ? (
        <ErrorBox error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={2} />
      ) : list.data.length === 0 ? (
        <p class="empty">{t('noShares')}</p>
      ) : (
        <ul class="plain" data-testid="shares">
          {list.data.map((s) => {
            const url = location.origin + s.url;
            return (
              <li key={s.id} class="share-row" data-share-url={url}>
                <code>{url}</code>
                <span class="muted">
                  {s.has_password ? `🔒 ${t('hasPassword')} · ` : ''}
                  {s.expires_at ? t('expires', { date: fmtTime(s.expires_at, tz) }) : t('noExpiry')}
                </span>
                <CopyButton text={url} />
                <RevokeButton path={`/api/sites/${siteId}/shares/${s.id}`} done={list.reload} fail={setErr} testId="revoke-share" />
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function Usage({ siteId }: { siteId: number }) {
  const u = useAsync(() => api<{ events: number; page_views: number; custom_events: number; bot_events: number; estimated_cost_usd: number; price_basis: string }>(`/api/sites/${siteId}/usage`), [siteId]);
  return (
    <div class="card">
      <h2>{t('usageThisMonth')}</h2>
      {u.error !== undefined ? (
        <ErrorBox error={u.error} retry={u.reload} />
      ) : !u.data ? (
        <Skeleton lines={2} />
      ) : (
        <dl class="usage">
          <dt>{t('events')}</dt>
          <dd>{fmtNum(u.data.events)}</dd>
          <dt>{t('pageviews')}</dt>
          <dd>{fmtNum(u.data.page_views)}</dd>
          <dt>{t('customEvents')}</dt>
          <dd>{fmtNum(u.data.custom_events)}</dd>
          <dt>{t('botEvents')}</dt>
          <dd>{fmtNum(u.data.bot_events)}</dd>
          <dt>{t('estimatedCost')}</dt>
          <dd title={u.data.price_basis}>
            {new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 4 }).format(u.data.estimated_cost_usd)}
          </dd>
        </dl>
      )}
    </div>
  );
}

function zoneList(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = (Intl as any).supportedValuesOf('timeZone');
  } catch {
    /* old browser */
  }
  return zones.includes(current) ? zones : [current, ...zones];
}

export default function Settings({ route }: { route: Route }) {
  const id = route.name === 'settings' ? route.id : 0;
  const site = useAsync(() => api<Site>(`/api/sites/${id}`), [id]);
  const [saved, setSaved] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<'clear' | 'delete' | null>(null);
  const [cleared, setCleared] = useState(false);
  if (site.error !== undefined) return <ErrorBox error={site.error} retry={site.reload} />;
  if (!site.data) return <Skeleton lines={8} />;
  const s = site.data;
  return (
    <section class="settings">
      <div class="row between wrap">
        <h1>
          {s.name} · {t('settings')}
        </h1>
        <a class="btn" href={`/sites/${s.id}`}>
          {t('openDashboard')}
        </a>
      </div>
      <form
        class="card"
        data-testid="site-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          setErr(null);
          setSaved(false);
          try {
            await api(`/api/sites/${s.id}`, { method: 'PUT', body: { name: f.get('name'), domain: f.get('domain'), timezone: f.get('timezone') } });
            rememberTz(s.id, String(f.get('timezone')));
            setSaved(true);
            site.reload();
          } catch (x) {
            setErr(x);
          }
        }}
      >
        <h2>{t('site')}</h2>
        <label>
          {t('siteName')}
          <input name="name" required defaultValue={s.name} />
        </label>
        <label>
          {t('domain')}
          <input name="domain" required defaultValue={s.domain} />
        </label>
        <label>
          {t('timezone')}
          <select name="timezone">
            {zoneList(s.timezone).map((z) => (
              <option key={z} value={z} selected={z === s.timezone}>
                {z}
              </option>
            ))}
          </select>
        </label>
        {err !== null && <ErrorBox error={err} />}
        <div class="row">
          <button class="btn primary" type="submit">
            {t('save')}
          </button>
          {saved && <span role="status">✓ {t('saved')}</span>}
        </div>
      </form>
      <div class="card">
        <h2>{t('trackingSnippet')}</h2>
        <Snippet site={s} both />
        <p class="muted">{t('snippetSpa')}</p>
        <p class="muted">{t('snippetEvents')}</p>
        <code class="block">{'<button pingoo-event="signup">…</button>\npingoo.track("signup")'}</code>
        <p class="muted">{t('snippetDnt')}</p>
      </div>
      <Shares siteId={s.id} tz={s.timezone} />
      <Usage siteId={s.id} />
      <div class="card danger-zone">
        <h2>{t('dangerZone')}</h2>
        {cleared && <p role="status">✓ {t('statsCleared')}</p>}
        <div class="row wrap">
          <button type="button" class="btn danger" data-testid="clear-stats" onClick={() => setConfirm('clear')}>
            {t('clearStats')}
          </button>
          <button type="button" class="btn danger" data-testid="delete-site" onClick={() => setConfirm('delete')}>
            {t('deleteSite')}
          </button>
        </div>
      </div>
      {confirm && (
        <Confirm
          title={confirm === 'clear' ? t('clearStats') : t('deleteSite')}
          action={confirm === 'clear' ? t('clearStats') : t('deleteSite')}
          name={s.name}
          typed={confirm === 'delete'}
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            if (confirm === 'clear') {
              await api(`/api/sites/${s.id}/stats`, { method: 'DELETE' });
              setConfirm(null);
              setCleared(true);
            } else {
              await api(`/api/sites/${s.id}`, { method: 'DELETE' });
              navigate('/');
            }
          }}
        />
      )}
    </section>
  );
}

export { CopyButton };
