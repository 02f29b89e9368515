/*! Pingoo tracker | MIT */
// Readable source of the Pingoo tracker; `infra/tracker/build.sh` minifies it into
// pingoo.min.js (committed), which the collect function serves as /pingoo.js.
//
//   <script src="https://api.example.com/pingoo.js" site-id="1" user-id="optional"></script>
//
// Attributes, each also accepted with a `data-` prefix:
//   site-id | tracking-id   the site (tracking-id is sent as `tracking_id` instead of `site_id`)
//   user-id                 optional
//   api                     endpoint; default `send` next to this script's src
//   allow-localhost         also track on localhost, 127.0.0.1, [::1], *.localhost, file:
//
// Each event is one JSON string, {session_id, site_id | tracking_id, user_id, url,
// referrer, event_type, event_value, screen}, sent with navigator.sendBeacon (a string
// body is text/plain;charset=UTF-8: no CORS preflight), else fetch with keepalive (a
// string body gets the same Content-Type by default, so no header is set).
// - page views on load and when pathname+search changes (pushState, replaceState,
//   popstate); the referrer only goes with the first one;
// - custom events: pingoo.track(name, value), and clicks inside [pingoo-event] or
//   [data-pingoo-event] elements (the attribute's value is the name).
// Nothing is sent under Do Not Track or Global Privacy Control (pingoo.track is then a
// no-op). No cookies: the session id is kept in localStorage as `pingoo_sid`
// ("id|last activity in ms"), renewed after 30 idle minutes, in memory when
// localStorage is unavailable. ES5, never throws, defines only window.pingoo.
(function (w, d) {
  var pingoo = (w.pingoo = { track: function () {} });

  // The value of `name` or `data-name`: "" when present without a value, undefined when absent.
  var attr = function (el, name) {
    return (el.attributes[name] || el.attributes['data-' + name] || 0).value;
  };

  try {
    var nav = navigator;
    var loc = location;
    var script = d.currentScript;
    var store = {}; // localStorage, or this object when it is unavailable
    if (
      // "1" (or 1) in any of them; not "0", "unspecified", null or undefined.
      /1/.test([nav.doNotTrack, w.doNotTrack, nav.msDoNotTrack]) ||
      nav.globalPrivacyControl ||
      // Local pages; file: pages have an empty hostname.
      (/^(127\.0\.0\.1|\[::1\]|(.*\.)?localhost|)$/.test(loc.hostname) && attr(script, 'allow-localhost') == null)
    )
      return;
    try {
      store = localStorage;
    } catch (e) {}

    var endpoint = attr(script, 'api') || new URL('send', script.src);
    var trackingId = attr(script, 'tracking-id');
    var referrer = d.referrer;
    var lastPage;

    var send = function (type, value) {
      try {
        var now = Date.now();
        var id = (store.pingoo_sid || '').split('|');
        id =
          now - id[1] < 18e5 && id[0]
            ? id[0]
            : crypto.randomUUID
              ? crypto.randomUUID()
              : Math.random().toString(36).slice(2) + now.toString(36);
        var saved = id + '|' + now;
        try {
          store.pingoo_sid = saved;
        } catch (e) {
          store = { pingoo_sid: saved }; // e.g. Safari's private mode: no quota
        }
        var event = {
          session_id: id,
          user_id: attr(script, 'user-id') || '',
          url: loc.href.slice(0, 2048),
          referrer: referrer.slice(0, 2048),
          event_type: type,
          event_value: value,
          screen: screen.width + 'x' + screen.height,
        };
        event[trackingId ? 'tracking_id' : 'site_id'] = trackingId || attr(script, 'site-id');
        var body = JSON.stringify(event);
        if (!(nav.sendBeacon && nav.sendBeacon(endpoint, body)))
          fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit' });
      } catch (e) {}
    };

    var page = function () {
      var path = loc.pathname + loc.search;
      if (path != lastPage) {
        if (lastPage) referrer = '';
        lastPage = path;
        send('page_view', '');
      }
    };

    pingoo.track = function (name, value) {
      send('custom', (name + (value === undefined ? '' : ':' + value)).slice(0, 256));
    };

    // Single-page apps.
    var history = w.history;
    ['pushState', 'replaceState'].forEach(function (method) {
      var original = history[method];
      history[method] = function () {
        original.apply(this, arguments); // both return undefined
        page();
      };
    });
    w.addEventListener('popstate', page);

    d.addEventListener(
      'click',
      function (e) {
        var el = e.target;
        el = el.closest && el.closest('[pingoo-event],[data-pingoo-event]');
        if (el) pingoo.track(attr(el, 'pingoo-event'));
      },
      true
    );

    page();
  } catch (e) {}
})(window, document);
