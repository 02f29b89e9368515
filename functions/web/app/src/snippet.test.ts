import { describe, expect, it } from 'vitest';
import { snippets } from './pages/snippet';

describe('snippets', () => {
  const site = { id: 7, tracking_id: 'abc123' };
  it('load the tracker from the beacon Function URL when the server has one', () => {
    const [byId, byTracking] = snippets(site, 'https://xyz.lambda-url.us-east-1.on.aws/');
    expect(byId).toBe('<script defer src="https://xyz.lambda-url.us-east-1.on.aws/pingoo.js" site-id="7"></script>');
    expect(byTracking).toBe(
      '<script defer src="https://xyz.lambda-url.us-east-1.on.aws/pingoo.js" data-tracking-id="abc123"></script>',
    );
  });
  it('add the missing slash', () => {
    expect(snippets(site, 'https://stats.example.com')[0]).toContain('src="https://stats.example.com/pingoo.js"');
  });
});
