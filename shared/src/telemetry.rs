//! Logging: JSON lines on Lambda (CloudWatch), readable lines locally.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::Mode;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(mode: Mode) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = match mode {
        Mode::Production => {
            tracing::subscriber::set_global_default(production(filter, std::io::stdout))
                .map_err(|e| e.to_string())
        }
        Mode::Local => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(std::io::stdout().is_terminal())
            .try_init()
            .map_err(|e| e.to_string()),
    };
}

/// The subscriber of a function on Lambda, writing to `writer`: one JSON object a line,
/// with `level` and an RFC 3339 `timestamp`, the keys Lambda's JSON log format reads
/// (a line without a valid timestamp would be filed as INFO whatever its level). Lambda
/// does not re-encode a line that is already JSON. Tests give it a buffer to count what a
/// request would log.
pub fn production<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .with_current_span(false)
        .finish()
}

/// Mode from the environment before the full config is read, so config errors get logged
/// in the right format.
pub fn mode_from_env() -> Mode {
    match std::env::var("PINGOO_ENV").as_deref() {
        Ok("local") => Mode::Local,
        Ok(_) => Mode::Production,
        Err(_) if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => Mode::Production,
        Err(_) => Mode::Local,
    }
}
