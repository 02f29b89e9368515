//! Logging: JSON lines on Lambda (CloudWatch), readable lines locally.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::Mode;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(mode: Mode) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match mode {
        Mode::Production => builder
            .json()
            .with_current_span(false)
            .without_time() // CloudWatch stamps every line
            .try_init(),
        Mode::Local => builder
            .with_target(false)
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
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
