import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtDay, fmtNum, lang, t } from '../i18n';
import { theme } from '../theme';
import type { Period } from '../period';

interface Figures {
  hourly_stats: { hour: number; count: number }[];
  daily?: { date: string; pv: number; uv: number }[];
}
interface Summary extends Figures {
  previous?: Figures;
}

function day(d: string) {
  return d.length === 8 ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d;
}

function hours(f?: Figures): number[] {
  const out = new Array(24).fill(0);
  for (const h of f?.hourly_stats ?? []) if (h.hour >= 0 && h.hour < 24) out[h.hour] = h.count;
  return out;
}

function css(name: string) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Page views and visitors over the period, the previous period dashed. */
export default function Chart({ summary, period, onDay }: { summary: Summary; period: Period; onDay: (d: string) => void }) {
  const box = useRef<HTMLDivElement>(null);
  // Colours and labels are read when the chart is made: a theme or language change remakes it.
  const look = `${theme.value}|${lang.value}`;
  const hourly = period.start === period.end;
  const labels: string[] = hourly ? Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`) : (summary.daily ?? []).map((d) => day(d.date));
  const pv = hourly ? hours(summary) : (summary.daily ?? []).map((d) => d.pv);
  const uv = hourly ? null : (summary.daily ?? []).map((d) => d.uv);
  const prevPv = summary.previous ? (hourly ? hours(summary.previous) : (summary.previous.daily ?? []).map((d) => d.pv)) : null;
  const prevUv = summary.previous && !hourly ? (summary.previous.daily ?? []).map((d) => d.uv) : null;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = labels.map((_, i) => i);
    const accent = css('--accent');
    const accent2 = css('--accent2');
    const muted = css('--muted');
    const grid = css('--border');
    const series: uPlot.Series[] = [{ label: hourly ? t('hour') : t('date') }, { label: t('pageviews'), stroke: accent, width: 2, fill: css('--accent-fill'), value: (_u, v) => (v == null ? '' : fmtNum(v)) }];
    const data: (number | null)[][] = [xs, pv];
    if (uv) {
      series.push({ label: t('visitors'), stroke: accent2, width: 2, value: (_u, v) => (v == null ? '' : fmtNum(v)) });
      data.push(uv);
    }
    if (prevPv) {
      series.push({ label: `${t('pageviews')} (${t('previous')})`, stroke: accent, width: 1, dash: [5, 5], value: (_u, v) => (v == null ? '' : fmtNum(v)) });
      data.push(xs.map((i) => prevPv[i] ?? null));
    }
    if (prevUv) {
      series.push({ label: `${t('visitors')} (${t('previous')})`, stroke: accent2, width: 1, dash: [5, 5], value: (_u, v) => (v == null ? '' : fmtNum(v)) });
      data.push(xs.map((i) => prevUv[i] ?? null));
    }
    const fmtX = (i: number) => {
      const l = labels[Math.round(i)];
      if (l === undefined) return '';
      return hourly ? l : fmtDay(l);
    };
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 260,
      series: series.map((s, i) => (i === 0 ? { ...s, value: (_u: uPlot, v: number) => fmtX(v) } : s)),
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      axes: [
        { ...axis, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? fmtX(v) : '')), space: 60 },
        { ...axis, values: (_u, vals) => vals.map((v) => fmtNum(v)), size: 50 },
      ],
      legend: { live: true },
      cursor: { points: { size: 6 } },
    };
    const plot = new uPlot(opts, data as uPlot.AlignedData, el);
    const onClick = () => {
      const idx = plot.cursor.idx;
      if (!hourly && idx != null && labels[idx]) onDay(labels[idx]);
    };
    plot.over.addEventListener('click', onClick);
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [summary, period.start, period.end, look]);

  return (
    <>
      <div ref={box} class="chart" aria-hidden="true" data-testid="chart" />
      <table class="sr-only">
        <caption>{t('chartTable')}</caption>
        <thead>
          <tr>
            <th scope="col">{hourly ? t('hour') : t('date')}</th>
            <th scope="col">{t('pageviews')}</th>
            {uv && <th scope="col">{t('visitors')}</th>}
          </tr>
        </thead>
        <tbody>
          {labels.map((l, i) => (
            <tr key={l}>
              <th scope="row">{hourly ? l : fmtDay(l)}</th>
              <td>{pv[i]}</td>
              {uv && <td>{uv[i]}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
