import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { t } from '../i18n';
import { CopyButton } from '../ui';

/**
 * The tags a site pastes. `base` is where the tracker (and so its beacons) lives: the
 * beacon's own Function URL when the server has one, else this origin.
 */
export function snippets(site: { id: number; tracking_id: string }, base: string = location.origin + '/') {
  const root = base.endsWith('/') ? base : base + '/';
  return [
    `<script defer src="${root}pingoo.js" site-id="${site.id}"></script>`,
    `<script defer src="${root}pingoo.js" data-tracking-id="${site.tracking_id}"></script>`,
  ];
}

/** The server's beacon URL (`GET /api/auth/config`), asked once per page load. */
let beaconUrl: Promise<string | undefined> | undefined;
function serverBeaconUrl(): Promise<string | undefined> {
  beaconUrl ??= api<{ beacon_url?: string }>('/api/auth/config', { bearer: false })
    .then((c) => c.beacon_url)
    .catch(() => undefined);
  return beaconUrl;
}

export function Snippet({ site, both }: { site: { id: number; tracking_id: string }; both?: boolean }) {
  const [base, setBase] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    serverBeaconUrl().then((url) => live && url && setBase(url));
    return () => {
      live = false;
    };
  }, []);
  const list = snippets(site, base);
  return (
    <div class="snippets">
      {(both ? list : list.slice(0, 1)).map((s) => (
        <div class="snippet" key={s}>
          <code data-testid="snippet">{s}</code>
          <CopyButton text={s} />
        </div>
      ))}
    </div>
  );
}

/** Polls realtime every 5 s until a visit is seen. */
export function WaitForFirstVisit({ siteId }: { siteId: number }) {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    if (seen) return;
    let live = true;
    const check = async () => {
      try {
        const r = await api<{ visitors: number }>(`/api/events/${siteId}/realtime`);
        if (live && r.visitors > 0) setSeen(true);
      } catch {
        /* keep waiting */
      }
    };
    check();
    const id = setInterval(check, 5000);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [siteId, seen]);
  return (
    <p class={seen ? 'wait ok' : 'wait'} data-testid="first-visit" data-seen={seen ? '1' : '0'} role="status">
      {seen ? `✓ ${t('firstVisitSeen')}` : t('waitingFirstVisit')}
    </p>
  );
}
