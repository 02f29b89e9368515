import { signal } from '@preact/signals';

export type Theme = 'light' | 'dark' | 'system';
function initial(): Theme {
  try {
    const t = localStorage.getItem('pingoo.theme');
    if (t === 'light' || t === 'dark' || t === 'system') return t;
  } catch {
    /* ignore */
  }
  return 'system';
}
export const theme = signal<Theme>(initial());
/** `?theme=` of an embedded share: applied, never remembered. */
export function applyTheme(t: Theme) {
  const root = document.documentElement;
  if (t === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', t);
}
export function setTheme(t: Theme) {
  theme.value = t;
  try {
    localStorage.setItem('pingoo.theme', t);
  } catch {
    /* ignore */
  }
  applyTheme(t);
}
