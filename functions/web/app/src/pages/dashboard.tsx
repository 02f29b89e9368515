import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { api, download, ApiError } from '../api';
import { fmtDay, fmtDuration, fmtNum, fmtPct, lang, t, type Key } from '../i18n';
import { loc, navigate, type Route } from '../router';
import { applyTheme, theme } from '../theme';
import { Dialog, ErrorBox, NotFound, Skeleton, msgOf } from '../ui';
import {
  PERIOD_KINDS,
  apiDay,
  canShiftForward,
  changePct,
  csvName,
  daysBetween,
  isDay,
  resolve,
  shift,
  todayIn,
  MAX_DAYS,
  type Period,
  type PeriodKind,
} from '../period';

interface SiteInfo {
  name: string;
  domain: string;
  timezone: string;
}
interface Figures {
  pv: number;
  uv: number;
  ip_count: number;
  event_count: number;
  bounce_rate: number;
  avg_duration: number;
  hourly_stats: { hour: number; count: number }[];
  daily?: { date: string; pv: number; uv: number }[];
}
interface Summary extends Figures {
  previous?: Figures;
}
type Ranking = { list: { key: string; count: number }[]; total: number };

export const PANELS = ['url', 'referrer', 'country', 'city', 'browser', 'os', 'device', 'screen', 'isp', 'event_type', 'bot'] as const;
const PANEL_LABEL: Record<string, Key> = {
  url: 'panelPages',
  referrer: 'panelReferrers',
  country: 'panelCountries',
  city: 'panelCities',
  browser: 'panelBrowsers',
  os: 'panelOs',
  device: 'panelDevices',
  screen: 'panelScreens',
  isp: 'panelIsps',
  event_type: 'panelEvents',
  bot: 'panelBots',
};
const METRICS: { key: keyof Figures; label: Key; lowerIsBetter?: boolean }[] = [
  { key: 'uv', label: 'visitors' },
  { key: 'pv', label: 'pageviews' },
  { key: 'ip_count', label: 'uniqueIps' },
  { key: 'bounce_rate', label: 'bounceRate', lowerIsBetter: true },
  { key: 'avg_duration', label: 'visitDuration' },
  { key: 'event_count', label: 'customEvents' },
];
const PERIOD_LABEL: Record<PeriodKind, Key> = {
  today: 'today',
  yesterday: 'yesterday',
  '7d': 'last7',
  '30d': 'last30',
  month: 'thisMonth',
  lastmonth: 'lastMonth',
  custom: 'customRange',
};

function tzCacheKey(id: string) {
  return `pingoo.tz.${id}`;
}
export function rememberTz(id: number | string, tz: string) {
  try {
    localStorage.setItem(tzCacheKey(String(id)), tz);
  } catch {
    /* ignore */
  }
}
function cachedTz(id: string): string | null {
  try {
    return localStorage.getItem(tzCacheKey(id));
  } catch {
    return null;
  }
}

/** The view's state as the URL keeps it. */
function viewFromUrl(search: string, today: string) {
  const q = new URLSearchParams(search);
  const from = q.get('from');
  const to = q.get('to');
  let period: Period;
  if (isDay(from) && isDay(to)) period = resolve('custom', today, { start: from, end: to });
  else {
    const k = q.get('period') as PeriodKind | null;
    period = resolve(k && PERIOD_KINDS.includes(k) && k !== 'custom' ? k : '30d', today);
  }
  const c = q.get('compare');
  const compare = c === 'year' || c === 'off' ? c : 'previous';
  return { period, compare, details: q.get('details') };
}

function setUrl(changes: Record<string, string | null>, replace = false) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(location.pathname + (s ? `?${s}` : ''), replace);
}

function setPeriod(p: Period) {
  if (p.kind === 'custom') setUrl({ period: null, from: p.start, to: p.end });
  else setUrl({ period: p.kind, from: null, to: null });
}

/** Loads once per key; never refetches what a view change did not change. */
function useKeyed<T>(key: string | null, load: () => Promise<T>) {
  const [state, setState] = useState<{ key: string | null; data?: T; error?: unknown }>({ key: null });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (key === null) return;
    let live = true;
    setState((s) => ({ key: s.key, data: s.data }));
    load().then(
      (data) => live && setState({ key, data }),
      (error) => live && setState({ key, error }),
    );
    return () => {
      live = false;
    };
  }, [key, n]);
  const fresh = state.key === key;
  return { data: state.data, stale: !fresh, error: fresh ? state.error : undefined, reload: () => setN((x) => x + 1) };
}

function Change({ cur, prev, lowerIsBetter }: { cur: number; prev?: number; lowerIsBetter?: boolean }) {
  const pct = changePct(cur, prev);
  if (pct === null) return <span class="change none" data-change="">—</span>;
  const up = pct > 0;
  const good = pct === 0 ? '' : up !== !!lowerIsBetter ? 'good' : 'bad';
  return (
    <span class={`change ${good}`} data-change={pct} title={t('vsPrevious')}>
      {pct === 0 ? '±0 %' : `${up ? '▲' : '▼'} ${fmtPct(Math.abs(pct))}`}
    </span>
  );
}

function Cards({ summary, compare }: { summary?: Summary; compare: string }) {
  return (
    <div class="cards">
      {METRICS.map((m) => {
        const v = summary ? Number(summary[m.key]) : undefined;
        const prev = summary?.previous ? Number(summary.previous[m.key]) : undefined;
        return (
          <div class="card metric" key={m.key} data-metric={m.key} data-value={v ?? ''}>
            <div class="muted">{t(m.label)}</div>
            {v === undefined ? (
              <div class="skel-line big" />
            ) : (
              <div class="figure">{m.key === 'bounce_rate' ? fmtPct(v) : m.key === 'avg_duration' ? fmtDuration(v) : fmtNum(v)}</div>
            )}
            {v !== undefined && compare !== 'off' && <Change cur={v} prev={prev} lowerIsBetter={m.lowerIsBetter} />}
          </div>
        );
      })}
    </div>
  );
}

function Realtime({ base, bearer }: { base: string; bearer?: string | false }) {
  const [n, setN] = useState<number | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setInterval> | undefined;
    const load = () =>
      api<{ visitors: number }>(`${base}/realtime`, { bearer }).then(
        (r) => {
          if (!live) return;
          setN(r.visitors);
          setErr(null);
        },
        (e) => live && setErr(e),
      );
    const start = () => {
      clearInterval(timer);
      timer = setInterval(load, 30000);
    };
    const onVis = () => {
      if (document.hidden) clearInterval(timer);
      else {
        load();
        start();
      }
    };
    load();
    start();
    document.addEventListener('visibilitychange', onVis);
    return () => {
      live = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVis);
    };
  }, [base, bearer]);
  return (
    <div class="realtime" role="status" title={err ? msgOf(err) : undefined}>
      <span class={n ? 'dot live' : 'dot'} aria-hidden="true" />
      <span data-metric="realtime" data-value={n ?? ''}>
        {n === null ? '…' : fmtNum(n)}
      </span>{' '}
      {t('visitorsNow')}
    </div>
  );
}

function PanelRows({ ranking, type }: { ranking: Ranking; type: string }) {
  const sum = ranking.list.reduce((a, r) => a + r.count, 0);
  const total = Math.max(ranking.total, sum, 1);
  const max = Math.max(1, ...ranking.list.map((r) => r.count));
  return (
    <ul class="rows">
      {ranking.list.map((r) => (
        <li key={r.key} data-key={r.key} data-count={r.count}>
          <span class="bar" style={{ width: `${(r.count / max) * 100}%` }} />
          <span class="k" title={r.key}>
            {r.key || t('none')}
          </span>
          <span class="c">{fmtNum(r.count)}</span>
          <span class="p muted">{fmtPct(Math.round((r.count / total) * 1000) / 10)}</span>
        </li>
      ))}
      {type && null}
    </ul>
  );
}

function Details({ type, base, bearer, period, onClose }: { type: string; base: string; bearer?: string | false; period: Period; onClose: () => void }) {
  const [items, setItems] = useState<{ key: string; count: number }[]>([]);
  const [page, setPage] = useState(1);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [filter, setFilter] = useState('');
  const [asc, setAsc] = useState(false);
  useEffect(() => {
    let live = true;
    setLoading(true);
    api<{ list: { key: string; count: number }[]; total: number }>(
      `${base}/stats?stat_type=${type}&start_date=${apiDay(period.start)}&end_date=${apiDay(period.end)}&page_size=100&page=${page}`,
      { bearer },
    ).then(
      (d) => {
        if (!live) return;
        setItems((old) => (page === 1 ? d.list : [...old, ...d.list]));
        setTotal(d.total);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [type, page, period.start, period.end]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const l = f ? items.filter((i) => i.key.toLowerCase().includes(f)) : items.slice();
    l.sort((a, b) => (asc ? a.count - b.count : b.count - a.count));
    return l;
  }, [items, filter, asc]);
  return (
    <Dialog title={t(PANEL_LABEL[type] ?? 'details')} onClose={onClose} wide>
      <div class="row wrap">
        <input type="search" autofocus aria-label={t('search')} placeholder={t('search')} value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <button type="button" class="btn small" onClick={() => setAsc(!asc)} aria-label={t('sortByCount')}>
          {t('count')} {asc ? '▲' : '▼'}
        </button>
      </div>
      {error !== null && <ErrorBox error={error} retry={() => (setError(null), setPage(1))} />}
      <div class="details-list" data-testid="details-list">
        <PanelRows ranking={{ list: shown, total: 0 }} type={type} />
        {loading && <Skeleton lines={4} />}
        {!loading && shown.length === 0 && <p class="empty">{t('noData')}</p>}
      </div>
      {items.length < total && !loading && (
        <button type="button" class="btn" onClick={() => setPage(page + 1)}>
          {t('loadMore')}
        </button>
      )}
    </Dialog>
  );
}

type ChartProps = { summary: Summary; period: Period; onDay: (d: string) => void };

function ChartBox({ summary, period, onDay }: { summary?: Summary; period: Period; onDay: (d: string) => void }) {
  const [Chart, setChart] = useState<ComponentType<ChartProps> | null>(null);
  useEffect(() => {
    import('./chart').then((m) => setChart(() => m.default));
  }, []);
  if (!summary || !Chart) return <div class="card chart-card"><Skeleton lines={1} height={260} /></div>;
  return (
    <div class="card chart-card">
      <Chart summary={summary} period={period} onDay={onDay} />
    </div>
  );
}

function ShareGate({ token, onUnlock }: { token: string; onUnlock: (bearer: string) => void }) {
  const [pw, setPw] = useState('');
  const [err, setErr] = useState<unknown>(null);
  return (
    <form
      class="card auth"
      data-testid="share-password"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          const d = await api<{ token: string }>(`/api/share/${token}/unlock`, { method: 'POST', body: { password: pw }, bearer: false });
          sessionStorage.setItem(`pingoo.share.${token}`, d.token);
          onUnlock(d.token);
        } catch (x) {
          setErr(x);
        }
      }}
    >
      <h1>{t('sharePassword')}</h1>
      <label>
        {t('password')}
        <input type="password" autofocus required value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
      </label>
      {err !== null && <ErrorBox error={err} />}
      <button class="btn primary" type="submit">
        {t('unlock')}
      </button>
    </form>
  );
}

export default function Dashboard({ route }: { route: Route }) {
  const share = route.name === 'share' ? route.token : null;
  const id = route.name === 'site' ? String(route.id) : null;
  const search = loc.value.search;
  const q = new URLSearchParams(search);
  const embed = share !== null && q.get('embed') === '1';
  const [bearer, setBearer] = useState<string | false | undefined>(() => (share ? sessionStorage.getItem(`pingoo.share.${share}`) || false : undefined));

  useEffect(() => {
    const th = q.get('theme');
    if (share && (th === 'light' || th === 'dark')) {
      applyTheme(th);
      return () => applyTheme(theme.value);
    }
  }, [share, q.get('theme')]);

  // The site (or the share's site). Its time zone defines the days.
  const siteReq = useKeyed<SiteInfo & { has_password?: boolean }>(share ?? id, async () => {
    if (share) {
      const d = await api<{ site: SiteInfo; has_password: boolean }>(`/api/share/${share}`, { bearer: false });
      return { ...d.site, has_password: d.has_password };
    }
    const s = await api<SiteInfo & { id: number }>(`/api/sites/${id}`);
    rememberTz(s.id, s.timezone);
    return s;
  });
  const tz = siteReq.data?.timezone ?? (id ? cachedTz(id) : null);
  const base = share ? `/api/share/${share}` : `/api/events/${id}`;
  const locked = !!share && siteReq.data?.has_password === true && !bearer;
  const today = tz ? todayIn(tz) : null;
  const view = today ? viewFromUrl(search, today) : null;
  const period = view?.period;
  const ready = !!period && !locked && !(share && !siteReq.data);
  const range = period ? `start_date=${apiDay(period.start)}&end_date=${apiDay(period.end)}` : '';
  const cmp = view && view.compare !== 'off' ? `&compare=${view.compare}` : '';

  const summary = useKeyed<Summary>(ready ? `${base}?${range}${cmp}|${bearer}` : null, () => api(`${base}/summary?${range}${cmp}`, { bearer }));
  const breakdown = useKeyed<Record<string, Ranking>>(ready ? `${base}?${range}|${bearer}` : null, () => api(`${base}/breakdown?${range}&limit=10`, { bearer }));
  const [exportErr, setExportErr] = useState<unknown>(null);

  if (siteReq.error instanceof ApiError && siteReq.error.status === 404) return <NotFound />;
  if (siteReq.error && !siteReq.data) return <ErrorBox error={siteReq.error} retry={siteReq.reload} />;
  if (locked && share) return <ShareGate token={share} onUnlock={setBearer} />;
  if (summary.error instanceof ApiError && summary.error.status === 401 && share) {
    sessionStorage.removeItem(`pingoo.share.${share}`);
  }

  const site = siteReq.data;
  const name = site?.name ?? '';
  const doExport = (kind: string, statType?: string) => {
    if (!period || !id) return;
    setExportErr(null);
    const st = statType ? `&stat_type=${statType}` : '';
    download(`${base}/export?${range}&kind=${kind}${st}`, csvName(site?.domain ?? name, kind, period.start, period.end, statType)).catch(setExportErr);
  };
  lang.value;

  return (
    <section class={embed ? 'dash embed' : 'dash'} data-testid="dashboard">
      <div class="row between wrap dash-head">
        <div>
          <h1>{site ? name : <span class="skel-line title" />}</h1>
          {site && <span class="muted">{site.domain.replace(/^https?:\/\//, '')} · {site.timezone}</span>}
        </div>
        <div class="row wrap">
          <Realtime base={base} bearer={bearer} />
          {id && (
            <a class="btn small" href={`/sites/${id}/settings`}>
              {t('settings')}
            </a>
          )}
        </div>
      </div>
      {period && today && view && (
        <PeriodBar period={period} today={today} compare={view.compare} />
      )}
      {summary.error !== undefined ? <ErrorBox error={summary.error} retry={summary.reload} /> : <Cards summary={summary.stale ? undefined : summary.data} compare={view?.compare ?? 'previous'} />}
      {summary.error === undefined && period && (
        <ChartBox summary={summary.stale ? undefined : summary.data} period={period} onDay={(d) => setPeriod({ kind: 'custom', start: d, end: d })} />
      )}
      {id && period && (
        <div class="row wrap exports">
          <button type="button" class="btn small" data-testid="export-daily" onClick={() => doExport('daily')}>
            ⇩ {t('exportDaily')}
          </button>
          {exportErr !== null && <ErrorBox error={exportErr} />}
        </div>
      )}
      <div class="panels">
        {PANELS.map((p) => (
          <div class="card panel" key={p} data-panel={p}>
            <div class="row between">
              <h2>{t(PANEL_LABEL[p])}</h2>
              <div class="row">
                {id && (
                  <button type="button" class="btn ghost small" onClick={() => doExport('ranking', p)} aria-label={`${t('exportCsv')}: ${t(PANEL_LABEL[p])}`}>
                    CSV
                  </button>
                )}
                <button type="button" class="btn ghost small" data-testid={`details-${p}`} onClick={() => setUrl({ details: p })}>
                  {t('details')}
                </button>
              </div>
            </div>
            {breakdown.error !== undefined ? (
              <ErrorBox error={breakdown.error} retry={breakdown.reload} />
            ) : breakdown.stale || !breakdown.data ? (
              <Skeleton lines={4} />
            ) : !breakdown.data[p] ? (
              <p class="empty">{t('panelUnavailable')}</p>
            ) : breakdown.data[p].list.length === 0 ? (
              <p class="empty">{t('noData')}</p>
            ) : (
              <PanelRows ranking={breakdown.data[p]} type={p} />
            )}
          </div>
        ))}
      </div>
      {view?.details && period && (PANELS as readonly string[]).includes(view.details) && (
        <Details type={view.details} base={base} bearer={bearer} period={period} onClose={() => setUrl({ details: null })} />
      )}
    </section>
  );
}

function PeriodBar({ period, today, compare }: { period: Period; today: string; compare: string }) {
  const [from, setFrom] = useState(period.start);
  const [to, setTo] = useState(period.end);
  const [custom, setCustom] = useState(false);
  useEffect(() => {
    setFrom(period.start);
    setTo(period.end);
  }, [period.start, period.end]);
  const label =
    period.start === period.end ? fmtDay(period.start, { dateStyle: 'medium' }) : `${fmtDay(period.start, { dateStyle: 'medium' })} – ${fmtDay(period.end, { dateStyle: 'medium' })}`;
  return (
    <div class="periodbar row wrap">
      <button type="button" class="btn" aria-label={t('previousPeriod')} data-testid="prev-period" onClick={() => setPeriod(shift(period, -1))}>
        ◄
      </button>
      <select
        aria-label={t('period')}
        data-testid="period"
        value={custom ? 'custom' : period.kind}
        onChange={(e) => {
          const k = (e.target as HTMLSelectElement).value as PeriodKind;
          if (k === 'custom') setCustom(true);
          else {
            setCustom(false);
            setPeriod(resolve(k, today));
          }
        }}
      >
        {PERIOD_KINDS.map((k) => (
          <option key={k} value={k}>
            {t(PERIOD_LABEL[k])}
          </option>
        ))}
      </select>
      <button type="button" class="btn" aria-label={t('nextPeriod')} data-testid="next-period" disabled={!canShiftForward(period, today)} onClick={() => setPeriod(shift(period, 1))}>
        ►
      </button>
      <span class="period-label" data-start={period.start} data-end={period.end}>
        {label}
      </span>
      {(custom || period.kind === 'custom') && (
        <form
          class="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            if (isDay(from) && isDay(to) && daysBetween(from <= to ? from : to, from <= to ? to : from) <= MAX_DAYS) {
              setPeriod(resolve('custom', today, { start: from, end: to }));
              setCustom(false);
            }
          }}
        >
          <input type="date" aria-label={t('from')} value={from} max={today} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          <input type="date" aria-label={t('to')} value={to} max={today} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          <button class="btn small" type="submit">
            {t('apply')}
          </button>
        </form>
      )}
      <select aria-label={t('compare')} data-testid="compare" value={compare} onChange={(e) => setUrl({ compare: (e.target as HTMLSelectElement).value === 'previous' ? null : (e.target as HTMLSelectElement).value })}>
        <option value="previous">{t('comparePrevious')}</option>
        <option value="year">{t('compareYear')}</option>
        <option value="off">{t('compareOff')}</option>
      </select>
    </div>
  );
}
