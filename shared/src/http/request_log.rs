//! The one line each request logs when it is answered: status and latency in µs, inside
//! the request's span (method, path, site). Routes that answer a flood of requests (the
//! beacons) mark their responses with [`LogOneIn`]: of their successes only one in *n* is
//! logged (for latency), while every error and rejection still is.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::Response;
use axum::response::Response as AxumResponse;
use tower_http::trace::OnResponse;

/// Marks a response: log it only if it is one in this many successes (0: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOneIn(pub u32);

/// Successes of marked routes seen by this process (the sample counter).
static SAMPLED: AtomicU64 = AtomicU64::new(0);

/// The [`OnResponse`] every service uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, _span: &tracing::Span) {
        let status = response.status().as_u16();
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        match response.extensions().get::<LogOneIn>() {
            Some(&LogOneIn(every)) if response.status().is_success() => {
                if !take_sample(every) {
                    return;
                }
                tracing::info!(status, latency_us, one_in = every, "request answered");
            }
            _ => tracing::info!(status, latency_us, "request answered"),
        }
    }
}

/// Whether this success is the one in `every` that is logged.
fn take_sample(every: u32) -> bool {
    every != 0
        && SAMPLED
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(u64::from(every))
}

/// `routes`, with their successes logged one in `every`.
pub fn sample_successes<S: Clone + Send + Sync + 'static>(
    routes: axum::Router<S>,
    every: u32,
) -> axum::Router<S> {
    routes.layer(axum::middleware::map_response(
        move |mut response: AxumResponse| async move {
            response.extensions_mut().insert(LogOneIn(every));
            response
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_in_n_is_taken_and_zero_takes_none() {
        // The counter is shared by the process: count what a run of 300 takes.
        let taken = (0..300).filter(|_| take_sample(100)).count();
        assert!((3..=4).contains(&taken), "{taken}");
        assert!((0..50).all(|_| !take_sample(0)));
        assert!((0..50).all(|_| take_sample(1)));
    }
}
