import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { t } from '../i18n';
import { CopyButton } from '../ui';

export function snippets(site: { id: number; tracking_id: string }) {
  const origin = location.origin;
  return [
    `<script defer src="${origin}/pingoo.js" site-id="${site.id}"></script>`,
    `<script defer src="${origin}/pingoo.js" data-tracking-id="${site.tracking_id}"></script>`,
  ];
}

export function Snippet({ site, both }: { site: { id: number; tracking_id: string }; both?: boolean }) {
  const list = snippets(site);
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
