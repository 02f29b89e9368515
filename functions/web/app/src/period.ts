// Periods as calendar days in the site's time zone. Days are 'YYYY-MM-DD' strings; the
// arithmetic runs on UTC dates, so a DST change never moves a day.

export type PeriodKind = 'today' | 'yesterday' | '7d' | '30d' | 'month' | 'lastmonth' | 'custom';
export const PERIOD_KINDS: PeriodKind[] = ['today', 'yesterday', '7d', '30d', 'month', 'lastmonth', 'custom'];
export const MAX_DAYS = 366;

export interface Period {
  kind: PeriodKind;
  start: string;
  end: string;
}

/** Today's date in `timeZone` at instant `now`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

function toUtc(day: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

function fromUtc(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function isDay(s: string | null | undefined): s is string {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  return fromUtc(toUtc(s)) === s;
}

export function addDays(day: string, n: number): string {
  const d = toUtc(day);
  d.setUTCDate(d.getUTCDate() + n);
  return fromUtc(d);
}

/** Adds `n` months, clamping the day to the month's length (Jan 31 + 1 → Feb 28/29). */
export function addMonths(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1 + n, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return fromUtc(first);
}

export function monthStart(day: string): string {
  return day.slice(0, 8) + '01';
}

export function monthEnd(day: string): string {
  return addDays(addMonths(monthStart(day), 1), -1);
}

/** Inclusive number of days. */
export function daysBetween(start: string, end: string): number {
  return Math.round((toUtc(end).getTime() - toUtc(start).getTime()) / 86400000) + 1;
}

export function resolve(kind: PeriodKind, today: string, custom?: { start: string; end: string }): Period {
  switch (kind) {
    case 'today':
      return { kind, start: today, end: today };
    case 'yesterday': {
      const y = addDays(today, -1);
      return { kind, start: y, end: y };
    }
    case '7d':
      return { kind, start: addDays(today, -6), end: today };
    case '30d':
      return { kind, start: addDays(today, -29), end: today };
    case 'month':
      return { kind, start: monthStart(today), end: today };
    case 'lastmonth': {
      const s = addMonths(monthStart(today), -1);
      return { kind, start: s, end: monthEnd(s) };
    }
    case 'custom': {
      if (custom && isDay(custom.start) && isDay(custom.end)) {
        let { start, end } = custom;
        if (start > end) [start, end] = [end, start];
        if (daysBetween(start, end) > MAX_DAYS) start = addDays(end, -(MAX_DAYS - 1));
        return { kind, start, end };
      }
      return { kind: 'custom', start: addDays(today, -6), end: today };
    }
  }
}

/** The period one step earlier (`dir` -1) or later (+1): months move by calendar month. */
export function shift(p: Period, dir: 1 | -1): Period {
  const wholeMonth = p.start === monthStart(p.start) && p.end === monthEnd(p.start);
  if (p.kind === 'month' || p.kind === 'lastmonth' || wholeMonth) {
    const s = addMonths(monthStart(p.start), dir);
    return { kind: 'custom', start: s, end: monthEnd(s) };
  }
  const n = daysBetween(p.start, p.end) * dir;
  return { kind: 'custom', start: addDays(p.start, n), end: addDays(p.end, n) };
}

/** Whether moving forward would leave the past (no ► past today). */
export function canShiftForward(p: Period, today: string): boolean {
  return p.end < today;
}

/** The API's compact day (20261130). */
export function apiDay(day: string): string {
  return day.replaceAll('-', '');
}

/** Change in percent against the previous value; null when there is nothing to compare. */
export function changePct(current: number, previous: number | null | undefined): number | null {
  if (previous === null || previous === undefined || !Number.isFinite(previous) || previous === 0) return null;
  return Math.round(((current - previous) / previous) * 1000) / 10;
}

function slug(s: string): string {
  const out = s
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return out || 'site';
}

/** File name of a CSV export: pingoo-<site>-<kind>[-<type>]-<start>_<end>.csv */
export function csvName(site: string, kind: string, start: string, end: string, statType?: string): string {
  const what = statType ? `${kind}-${slug(statType)}` : kind;
  const range = start === end ? start : `${start}_${end}`;
  return `pingoo-${slug(site)}-${what}-${range}.csv`;
}
