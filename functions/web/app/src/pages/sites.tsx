import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { fmtNum, t } from '../i18n';
import { navigate } from '../router';
import { Dialog, ErrorBox, Skeleton, Sparkline, useAsync } from '../ui';
import { Snippet, WaitForFirstVisit } from './snippet';

export interface Site {
  id: number;
  name: string;
  domain: string;
  tracking_id: string;
  timezone: string;
  created_at: string;
  summary?: { pv: number; uv: number; daily: { date: string; pv: number; uv: number }[] };
}

const PAGE = 50;

function browserTz(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function timezones(): string[] {
  try {
    return (Intl as any).supportedValuesOf('timeZone') as string[];
  } catch {
    return ['UTC'];
  }
}

function AddSite({ onClose, onAdded }: { onClose: () => void; onAdded: (s: Site) => void }) {
  const [name, setName] = useState('');
  const [domain, setDomain] = useState('');
  const [tz, setTz] = useState(browserTz());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const zones = timezones();
  if (!zones.includes(tz)) zones.unshift(tz);
  return (
    <Dialog title={t('addSite')} onClose={onClose}>
      <form
        data-testid="add-site-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onAdded(await api<Site>('/api/sites', { method: 'POST', body: { name, domain, timezone: tz } }));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          {t('siteName')}
          <input name="name" required autofocus value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('domain')}
          <input name="domain" required placeholder="https://example.com" value={domain} onInput={(e) => setDomain((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('timezone')}
          <select name="timezone" value={tz} onChange={(e) => setTz((e.target as HTMLSelectElement).value)}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
        {error !== null && <ErrorBox error={error} />}
        <div class="row end">
          <button type="button" class="btn" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" class="btn primary" disabled={busy}>
            {t('addSite')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export default function Sites() {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState<Site | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  useEffect(() => {
    const id = setTimeout(() => {
      setQuery(search.trim());
      setPage(1);
    }, 250);
    return () => clearTimeout(id);
  }, [search]);
  const list = useAsync(
    () =>
      api<{ list: Site[]; total: number }>(
        `/api/sites?include=summary&limit=${PAGE}&page=${page}${query ? `&search=${encodeURIComponent(query)}` : ''}`,
      ),
    [query, page],
  );
  const pages = list.data ? Math.max(1, Math.ceil(list.data.total / PAGE)) : 1;
  return (
    <section>
      <div class="row between wrap">
        <h1>{t('sites')}</h1>
        <div class="row wrap">
          <input type="search" aria-label={t('searchSites')} placeholder={t('searchSites')} value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
          <button type="button" class="btn primary" data-testid="add-site" onClick={() => setAdding(true)}>
            + {t('addSite')}
          </button>
        </div>
      </div>
      {added && (
        <div class="card" data-testid="new-site">
          <h2>{t('siteAdded', { name: added.name })}</h2>
          <Snippet site={added} />
          <WaitForFirstVisit siteId={added.id} />
          <a class="btn" href={`/sites/${added.id}`}>
            {t('openDashboard')}
          </a>
        </div>
      )}
      {list.error !== undefined ? (
        <ErrorBox error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={5} />
      ) : list.data.list.length === 0 ? (
        <p class="empty">{query ? t('noMatch') : t('noSites')}</p>
      ) : (
        <ul class="site-list" data-testid="site-list">
          {list.data.list.map((s) => (
            <li key={s.id} class="card site-row" data-site-id={s.id}>
              <a class="site-link" href={`/sites/${s.id}`}>
                <strong>{s.name}</strong>
                <span class="muted">{s.domain.replace(/^https?:\/\//, '')}</span>
              </a>
              <div class="site-figures">
                <span>
                  <b data-metric="uv" data-value={s.summary?.uv ?? 0}>
                    {fmtNum(s.summary?.uv ?? 0)}
                  </b>{' '}
                  <span class="muted">{t('visitorsToday')}</span>
                </span>
                <span>
                  <b data-metric="pv" data-value={s.summary?.pv ?? 0}>
                    {fmtNum(s.summary?.pv ?? 0)}
                  </b>{' '}
                  <span class="muted">{t('pageviewsToday')}</span>
                </span>
                <Sparkline values={(s.summary?.daily ?? []).map((d) => d.pv)} />
              </div>
              <div class="row">
                {s.summary && s.summary.daily.every((d) => d.pv === 0 && d.uv === 0) && (
                  <button type="button" class="btn small" aria-expanded={open === s.id} onClick={() => setOpen(open === s.id ? null : s.id)}>
                    {t('trackingSnippet')}
                  </button>
                )}
                <a class="btn small" href={`/sites/${s.id}/settings`} aria-label={`${t('settings')}: ${s.name}`}>
                  {t('settings')}
                </a>
              </div>
              {open === s.id && (
                <div class="site-setup">
                  <Snippet site={s} />
                  <WaitForFirstVisit siteId={s.id} />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {pages > 1 && (
        <div class="row center">
          <button type="button" class="btn" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            ◄
          </button>
          <span>
            {page} / {pages}
          </span>
          <button type="button" class="btn" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            ►
          </button>
        </div>
      )}
      {adding && (
        <AddSite
          onClose={() => setAdding(false)}
          onAdded={(s) => {
            setAdding(false);
            setAdded(s);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

export { navigate };
