import { signal } from '@preact/signals';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: number,
    msg: string,
  ) {
    super(msg);
  }
}

const TOKEN = 'pingoo.token';
const REFRESH = 'pingoo.refresh';
const USER = 'pingoo.user';

export interface User {
  id: number;
  username: string;
  email: string;
  role?: string;
}

function load(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function save(key: string, value: string | null) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* memory only */
  }
}

export const token = signal<string | null>(load(TOKEN));
let refreshToken: string | null = load(REFRESH);
export const user = signal<User | null>((() => {
  try {
    return JSON.parse(load(USER) ?? 'null');
  } catch {
    return null;
  }
})());

/** Called when the session is gone for good (refresh failed): the app goes to sign-in. */
export let onSignedOut: () => void = () => {};
export function setOnSignedOut(f: () => void) {
  onSignedOut = f;
}

export function setSession(data: { token: string; refresh_token?: string; user?: User }) {
  token.value = data.token;
  save(TOKEN, data.token);
  if (data.refresh_token) {
    refreshToken = data.refresh_token;
    save(REFRESH, data.refresh_token);
  }
  if (data.user) {
    user.value = data.user;
    save(USER, JSON.stringify(data.user));
  }
}

export function clearSession() {
  token.value = null;
  refreshToken = null;
  user.value = null;
  save(TOKEN, null);
  save(REFRESH, null);
  save(USER, null);
}

/** Signs out on the server (this sign-in's tokens stop working), then here. */
export async function endSession(everywhere = false) {
  const bearer = token.value;
  clearSession();
  if (!bearer) return;
  try {
    await fetch(everywhere ? '/api/auth/logout-all' : '/api/auth/logout', {
      method: 'POST',
      headers: { Authorization: `Bearer ${bearer}` },
      keepalive: true,
    });
  } catch {
    /* offline: the tokens lapse on their own */
  }
}

// Tabs share one session: every refresh rotates the refresh token (the used one stops
// working), so a tab adopts what another tab stored, and signs out when it signs out.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === TOKEN) token.value = e.newValue;
    else if (e.key === REFRESH) refreshToken = e.newValue;
    else if (e.key === USER) {
      try {
        user.value = JSON.parse(e.newValue ?? 'null');
      } catch {
        user.value = null;
      }
    }
  });
}

let refreshing: Promise<boolean> | null = null;

async function refresh(failed: string | null): Promise<boolean> {
  // Another tab may have refreshed meanwhile: its tokens are the current ones.
  const storedToken = load(TOKEN);
  if (storedToken && storedToken !== failed) {
    token.value = storedToken;
    refreshToken = load(REFRESH) ?? refreshToken;
    return true;
  }
  refreshToken = load(REFRESH) ?? refreshToken;
  if (!refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const res = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok || !body || body.code !== 0 || !body.data?.token) return false;
      setSession(body.data);
      return true;
    } catch {
      return false;
    } finally {
      setTimeout(() => (refreshing = null), 0);
    }
  })();
  return refreshing;
}

export interface Options {
  method?: string;
  body?: unknown;
  /** Bearer to send instead of the signed-in user's token (a share's unlock token), or false for none. */
  bearer?: string | false;
  signal?: AbortSignal;
}

async function send(path: string, opts: Options): Promise<Response> {
  const headers: Record<string, string> = {};
  const bearer = opts.bearer === undefined ? token.value : opts.bearer;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
}

async function errorOf(res: Response): Promise<ApiError> {
  const body = await res.json().catch(() => null);
  const msg = body?.msg ?? body?.error ?? `HTTP ${res.status}`;
  return new ApiError(res.status, body?.code ?? 1, String(msg));
}

/** A raw response; on a 401 with the user's token, refreshes once and retries. */
export async function raw(path: string, opts: Options = {}): Promise<Response> {
  const used = token.value;
  let res = await send(path, opts);
  if (res.status === 401 && opts.bearer === undefined && used) {
    if (await refresh(used)) res = await send(path, opts);
    if (res.status === 401) {
      clearSession();
      onSignedOut();
    }
  }
  return res;
}

/** The envelope's `data`, or an ApiError with the API's `msg`. */
export async function api<T = any>(path: string, opts: Options = {}): Promise<T> {
  const res = await raw(path, opts);
  if (!res.ok) throw await errorOf(res);
  const body = await res.json().catch(() => null);
  if (!body || typeof body !== 'object') throw new ApiError(res.status, 1, `HTTP ${res.status}`);
  if (body.code !== 0) throw new ApiError(res.status, body.code, String(body.msg ?? 'error'));
  return body.data as T;
}

/** Downloads a CSV export as `name` (the export needs the bearer, so no plain link). */
export async function download(path: string, name: string, bearer?: string | false) {
  const res = await raw(path, { bearer });
  if (!res.ok) throw await errorOf(res);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
