import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { loc, match, navigate, onLinkClick, type Route } from './router';
import { lang, setLang, t, type Lang } from './i18n';
import { theme, setTheme, applyTheme, type Theme } from './theme';
import { token, user, endSession, setOnSignedOut, api } from './api';
import { NotFound, Skeleton } from './ui';

applyTheme(theme.value);
document.documentElement.lang = lang.value;
setOnSignedOut(() => navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, true));

type Loader = () => Promise<{ default: ComponentType<any> }>;
const pages: Record<string, Loader> = {
  login: () => import('./pages/auth'),
  register: () => import('./pages/auth'),
  sites: () => import('./pages/sites'),
  site: () => import('./pages/dashboard'),
  share: () => import('./pages/dashboard'),
  settings: () => import('./pages/settings'),
  account: () => import('./pages/account'),
};

function Page({ route }: { route: Route }) {
  const [mod, setMod] = useState<{ name: string; C: ComponentType<any> } | null>(null);
  const [err, setErr] = useState(false);
  const load = pages[route.name];
  useEffect(() => {
    if (!load) return;
    let live = true;
    setErr(false);
    load().then(
      (m) => live && setMod({ name: route.name, C: m.default }),
      () => live && setErr(true),
    );
    return () => {
      live = false;
    };
  }, [route.name]);
  if (!load) return <NotFound />;
  if (err)
    return (
      <div class="error" role="alert">
        {t('loadFailed')}{' '}
        <button class="btn small" type="button" onClick={() => location.reload()}>
          {t('retry')}
        </button>
      </div>
    );
  if (!mod || mod.name !== route.name) return <Skeleton lines={6} />;
  return <mod.C route={route} />;
}

function Prefs() {
  return (
    <div class="prefs">
      <label class="sr-only" for="lang-select">
        {t('language')}
      </label>
      <select id="lang-select" data-testid="lang" value={lang.value} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
        <option value="en">English</option>
        <option value="zh-CN">中文</option>
      </select>
      <label class="sr-only" for="theme-select">
        {t('theme')}
      </label>
      <select id="theme-select" data-testid="theme" value={theme.value} onChange={(e) => setTheme((e.target as HTMLSelectElement).value as Theme)}>
        <option value="system">{t('themeSystem')}</option>
        <option value="light">{t('themeLight')}</option>
        <option value="dark">{t('themeDark')}</option>
      </select>
    </div>
  );
}

async function signOut() {
  await endSession();
  navigate('/login');
}

function App() {
  const { path, search } = loc.value;
  const route = match(path);
  const embed = route.name === 'share' && new URLSearchParams(search).get('embed') === '1';
  const publicPage = route.name === 'login' || route.name === 'register' || route.name === 'share' || route.name === 'notfound';
  useEffect(() => {
    if (!publicPage && !token.value) navigate(`/login?next=${encodeURIComponent(path + search)}`, true);
  }, [publicPage, path]);
  useEffect(() => {
    if (token.value && !user.value && !publicPage) api('/api/auth/me').then((u) => (user.value = u)).catch(() => {});
  }, [token.value]);
  lang.value; // re-render on language change
  if (embed) return <main class="embed"><Page route={route} /></main>;
  return (
    <>
      <a class="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header class="top">
        <a class="brand" href={token.value ? '/' : '/login'}>
          <img src="/favicon.svg" alt="" width="22" height="22" /> Pingoo
        </a>
        <nav>
          {token.value && route.name !== 'share' && (
            <>
              <a href="/" aria-current={route.name === 'sites' ? 'page' : undefined}>
                {t('sites')}
              </a>
              <a href="/account" aria-current={route.name === 'account' ? 'page' : undefined}>
                {t('account')}
              </a>
              <button type="button" class="btn ghost" data-testid="sign-out" onClick={signOut}>
                {t('signOut')}
              </button>
            </>
          )}
        </nav>
        <Prefs />
      </header>
      <main id="main">{!publicPage && !token.value ? <Skeleton /> : <Page route={route} />}</main>
      <footer class="foot">
        <a href="/api/docs" data-testid="api-docs">
          {t('apiDocs')}
        </a>
      </footer>
    </>
  );
}

document.addEventListener('click', onLinkClick);
const root = document.getElementById('app');
if (root) render(<App />, root);
