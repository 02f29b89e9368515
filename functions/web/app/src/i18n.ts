import { signal, computed } from '@preact/signals';
import { en } from './locales/en';
import { zh } from './locales/zh';

export type Lang = 'en' | 'zh-CN';
export type Key = keyof typeof en;
export const DICTS: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zh };

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem('pingoo.lang');
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    /* storage unavailable */
  }
  const langs = typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : [];
  return langs.some((l) => l?.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export const lang = signal<Lang>(typeof window === 'undefined' ? 'en' : initialLang());

export function setLang(l: Lang) {
  lang.value = l;
  try {
    localStorage.setItem('pingoo.lang', l);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = l;
}

/** The string for `key`, `{name}` placeholders filled from `vars`. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  let s = DICTS[lang.value][key] ?? en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export const numberFormat = computed(() => new Intl.NumberFormat(lang.value));

export function fmtNum(n: number): string {
  return numberFormat.value.format(n);
}

export function fmtPct(n: number): string {
  return new Intl.NumberFormat(lang.value, { maximumFractionDigits: 1 }).format(n) + ' %';
}

export function fmtDuration(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  const r = s % 60;
  return m > 0 ? `${m}m ${r.toString().padStart(2, '0')}s` : `${r}s`;
}

/** A calendar day ('YYYY-MM-DD') in the chosen language (the day is already the site's). */
export function fmtDay(day: string, opts: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric' }): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(lang.value, { ...opts, timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** An instant in the site's time zone. */
export function fmtTime(iso: string | number, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang.value, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
}
