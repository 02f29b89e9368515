import { describe, expect, it } from 'vitest';
import { addDays, addMonths, canShiftForward, changePct, csvName, daysBetween, isDay, resolve, shift, todayIn } from './period';
import { DICTS } from './i18n';

describe('todayIn', () => {
  it('is the site’s calendar day, not the browser’s', () => {
    const now = new Date('2026-11-30T23:30:00Z');
    expect(todayIn('UTC', now)).toBe('2026-11-30');
    expect(todayIn('Asia/Shanghai', now)).toBe('2026-12-01');
    expect(todayIn('America/Los_Angeles', now)).toBe('2026-11-30');
  });
  it('follows DST changes', () => {
    // US DST starts 2026-03-08 at 02:00 local: 06:59Z is 01:59 EST, 07:00Z is 03:00 EDT.
    expect(todayIn('America/New_York', new Date('2026-03-08T04:59:00Z'))).toBe('2026-03-07');
    expect(todayIn('America/New_York', new Date('2026-03-08T05:00:00Z'))).toBe('2026-03-08');
    // Europe leaves DST on 2026-10-25: midnight in Paris is 22:00Z before, 23:00Z after.
    expect(todayIn('Europe/Paris', new Date('2026-10-25T22:30:00Z'))).toBe('2026-10-25');
    expect(todayIn('Europe/Paris', new Date('2026-10-25T23:30:00Z'))).toBe('2026-10-26');
  });
});

describe('day arithmetic', () => {
  it('crosses month and year ends', () => {
    expect(addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(31);
    // A DST week is still 7 days.
    expect(daysBetween('2026-03-05', '2026-03-11')).toBe(7);
  });
  it('validates days', () => {
    expect(isDay('2026-02-29')).toBe(false);
    expect(isDay('2028-02-29')).toBe(true);
    expect(isDay('2026-13-01')).toBe(false);
    expect(isDay('x')).toBe(false);
  });
});

describe('periods', () => {
  const today = '2026-03-31';
  it('resolves each kind', () => {
    expect(resolve('today', today)).toMatchObject({ start: today, end: today });
    expect(resolve('yesterday', today)).toMatchObject({ start: '2026-03-30', end: '2026-03-30' });
    expect(resolve('7d', today)).toMatchObject({ start: '2026-03-25', end: today });
    expect(resolve('30d', today)).toMatchObject({ start: '2026-03-02', end: today });
    expect(resolve('month', today)).toMatchObject({ start: '2026-03-01', end: today });
    expect(resolve('lastmonth', today)).toMatchObject({ start: '2026-02-01', end: '2026-02-28' });
  });
  it('clamps and orders a custom range', () => {
    expect(resolve('custom', today, { start: '2026-03-10', end: '2026-03-01' })).toMatchObject({ start: '2026-03-01', end: '2026-03-10' });
    const long = resolve('custom', today, { start: '2020-01-01', end: today });
    expect(daysBetween(long.start, long.end)).toBe(366);
  });
  it('moves by one period', () => {
    expect(shift(resolve('7d', today), -1)).toMatchObject({ start: '2026-03-18', end: '2026-03-24' });
    expect(shift(resolve('today', today), 1)).toMatchObject({ start: '2026-04-01', end: '2026-04-01' });
    // Months move by calendar month: February after March, then January's 31 days.
    const feb = shift(resolve('month', today), -1);
    expect(feb).toMatchObject({ start: '2026-02-01', end: '2026-02-28' });
    expect(shift(feb, -1)).toMatchObject({ start: '2026-01-01', end: '2026-01-31' });
    expect(canShiftForward(resolve('7d', today), today)).toBe(false);
    expect(canShiftForward(feb, today)).toBe(true);
  });
});

describe('changePct', () => {
  it('is relative to the previous value, none when it was 0', () => {
    expect(changePct(112, 100)).toBe(12);
    expect(changePct(97, 100)).toBe(-3);
    expect(changePct(1, 3)).toBe(-66.7);
    expect(changePct(5, 0)).toBeNull();
    expect(changePct(5, undefined)).toBeNull();
    expect(changePct(0, 0)).toBeNull();
  });
});

describe('csvName', () => {
  it('names the site, kind, panel and range', () => {
    expect(csvName('https://example.com', 'daily', '2026-03-01', '2026-03-31')).toBe('pingoo-example-com-daily-2026-03-01_2026-03-31.csv');
    expect(csvName('我的网站', 'ranking', '2026-03-01', '2026-03-01', 'url')).toBe('pingoo-我的网站-ranking-url-2026-03-01.csv');
    expect(csvName('../..', 'daily', '2026-03-01', '2026-03-02')).toBe('pingoo-site-daily-2026-03-01_2026-03-02.csv');
  });
});

describe('i18n', () => {
  it('has every key in both languages, none empty, same placeholders', () => {
    const en = DICTS.en;
    const zh = DICTS['zh-CN'];
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      expect(en[k].trim(), k).not.toBe('');
      expect(zh[k].trim(), k).not.toBe('');
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(zh[k]), k).toEqual(ph(en[k]));
    }
  });
  it('every key used in the source exists', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dir = path.resolve(__dirname);
    const files = [...fs.readdirSync(dir), ...fs.readdirSync(path.join(dir, 'pages')).map((f: string) => `pages/${f}`)].filter((f: string) => f.endsWith('.tsx'));
    for (const f of files) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of src.matchAll(/\bt\('([A-Za-z0-9]+)'/g)) expect(DICTS.en, `${f}: ${m[1]}`).toHaveProperty(m[1]);
    }
  });
});
