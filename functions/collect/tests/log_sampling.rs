//! What a beacon logs, in the production JSON format: nothing per success but one line in
//! `BEACON_LOG_SAMPLE` (for latency), a line for every rejection, never an address. Its
//! own binary: the sample counter is per process, and no other test may bump it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use pingoo_stack::testkit::{TestApp, Visitor};
use serde_json::{Value, json};

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

const BEACONS: usize = 500;
const ONE_IN: u32 = 50;

#[tokio::test]
async fn beacons_log_one_success_in_n_and_every_rejection() {
    let app = TestApp::with_config(pingoo_collect::router, |c| c.beacon_log_sample = ONE_IN).await;
    let (token, _) = app.user("owner@example.com").await;
    let site = app.site(&token, "https://example.com").await;
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing::subscriber::set_default(pingoo::telemetry::production(
        tracing_subscriber::EnvFilter::new("info"),
        move || writer.clone(),
    ));
    let beacon = |origin: &'static str, n: usize| {
        let app = &app;
        let body = json!({
            "session_id": format!("s{n}"), "site_id": site.id.to_string(),
            "url": "https://example.com/", "event_type": "page_view"
        });
        async move {
            let headers = [("content-type", "text/plain"), ("origin", origin)];
            let visitor = Visitor {
                ip: Some("81.2.69.142"),
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0"),
                headers: &headers,
            };
            app.call_as(
                Method::POST,
                "/send",
                None,
                &visitor,
                Some(body.to_string().into_bytes()),
            )
            .await
            .status
        }
    };

    for n in 0..BEACONS {
        assert_eq!(
            beacon("https://example.com", n).await,
            StatusCode::NO_CONTENT
        );
    }
    let text = logs.take();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), BEACONS / ONE_IN as usize, "{text}");
    for line in &lines {
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["fields"]["status"], 204, "{line}");
        assert_eq!(line["fields"]["one_in"], ONE_IN, "{line}");
        assert!(line["fields"]["latency_us"].as_u64().is_some(), "{line}");
        assert_eq!(line["spans"][0]["path"], "/send", "{line}");
    }
    assert!(!text.contains("81.2.69"), "an address was logged: {text}");
    // The figure scripts/bench prints (docs/cost.md prices it): without Lambda's request
    // span, which only the runtime adds.
    println!(
        "logged per successful beacon: {:.1} bytes at 1 line in {ONE_IN} ({:.0} bytes a line; Lambda adds its request-id span)",
        text.len() as f64 / BEACONS as f64,
        text.len() as f64 / lines.len() as f64
    );

    // Rejections (a page on another site's domain) are all logged, with their status.
    for n in 0..3 {
        assert_eq!(
            beacon("https://elsewhere.example", n).await,
            StatusCode::FORBIDDEN
        );
    }
    let text = logs.take();
    let rejected: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["fields"]["message"] == "request answered")
        .collect();
    assert_eq!(rejected.len(), 3, "{text}");
    assert!(
        rejected.iter().all(|l| l["fields"]["status"] == 403),
        "{text}"
    );
    assert!(!text.contains("81.2.69"), "an address was logged: {text}");
}
