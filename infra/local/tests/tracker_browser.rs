//! The tracker in a real headless Chromium (Debian's `chromium`; `scripts/test` installs
//! it): a page with the tag loads, navigates with pushState, clicks a `[pingoo-event]`
//! element, and the three events arrive enriched through the whole local API.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use pingoo::events::Event;
use pingoo::store::EventRange;
use pingoo_stack::testkit::TestApp;

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const TEST_PAGE: &str = include_str!("../../../functions/collect/assets/test-page.html");

fn chromium() -> String {
    for candidate in ["chromium", "chromium-browser", "/usr/bin/chromium"] {
        if Command::new(candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return candidate.to_owned();
        }
    }
    panic!("Chromium is not installed: `apt-get install chromium` (scripts/test does it)");
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// Kills the browser's whole process group when dropped, also on a failed assertion.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn launch(url: &str, user_agent: Option<&str>) -> Browser {
    use std::os::unix::process::CommandExt;
    let profile =
        std::env::temp_dir().join(format!("pingoo-chromium-{}", pingoo::ids::tracking_id()));
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    if let Some(agent) = user_agent {
        command.arg(format!("--user-agent={agent}"));
    }
    command
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    Browser(command.spawn().expect("Chromium starts"))
}

/// Polls the site's events until `want` arrived (deadline 30 s), oldest first.
async fn wait_for_events(app: &TestApp, site_id: u64, want: usize) -> Vec<Event> {
    let range = EventRange {
        site_id,
        generation: 0,
        first_id: 0,
        last_id: pingoo::events::id::MAX_ID,
        filter: Default::default(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut events = app.state.db.newest_events(&range, want + 5).await.unwrap();
        if events.len() >= want {
            events.reverse();
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {want} events arrived within 30 s",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `scripts/test --quick` leaves the browser out.
fn skipped() -> bool {
    let skip = std::env::var_os("PINGOO_SKIP_BROWSER").is_some();
    if skip {
        eprintln!("PINGOO_SKIP_BROWSER is set (scripts/test --quick): browser test skipped");
    }
    skip
}

async fn visit(user_agent: Option<&str>) -> Vec<Event> {
    let app = TestApp::new(pingoo_local::app).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "http://127.0.0.1").await;
    let api = serve(app.router.clone()).await;
    let page = TEST_PAGE
        .replace(
            "{{TRACKER_SRC}}",
            &format!("http://127.0.0.1:{}/pingoo.js", api.port()),
        )
        .replace("{{SITE_ID}}", &site.id.to_string());
    let pages = Router::new()
        .route("/", get(Html(page.clone())))
        .route("/second", get(Html(page)));
    let page_server = serve(pages).await;
    let _browser = launch(
        &format!("http://127.0.0.1:{}/", page_server.port()),
        user_agent,
    );
    wait_for_events(&app, site.id, 3).await
}

#[tokio::test]
async fn a_desktop_visit_arrives_enriched() {
    if skipped() {
        return;
    }
    let events = visit(Some(CHROME_LINUX)).await;
    // Beacons travel on separate connections: they may arrive in any order.
    let mut what: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            let path = e.url.rsplit_once('/').map_or("", |(_, p)| p).to_owned();
            (
                e.event_type.clone(),
                e.event_value.clone(),
                format!("/{path}"),
            )
        })
        .collect();
    what.sort();
    let expected = [
        ("custom", "signup", "/second"),
        ("page_view", "", "/"),
        ("page_view", "", "/second"),
    ]
    .map(|(t, v, p)| (t.to_owned(), v.to_owned(), p.to_owned()));
    assert_eq!(what, expected);
    for e in &events {
        assert_eq!(
            (
                e.device.as_str(),
                e.browser.as_str(),
                e.os.as_str(),
                e.is_bot
            ),
            ("desktop", "Chrome", "Linux", false),
            "{e:?}"
        );
        assert_eq!(e.user_agent, CHROME_LINUX);
        assert_eq!(e.ip, "127.0.0.0", "loopback, anonymized");
        assert!(e.screen.contains('x'), "{e:?}");
    }
    assert_eq!(events[0].session_id, events[2].session_id, "one session");
}

#[tokio::test]
async fn headless_chromiums_own_agent_is_a_bot() {
    if skipped() {
        return;
    }
    let events = visit(None).await;
    assert!(
        events[0].user_agent.contains("HeadlessChrome"),
        "{}",
        events[0].user_agent
    );
    assert!(
        events.iter().all(|e| e.is_bot && e.device == "bot"),
        "{events:?}"
    );
}
