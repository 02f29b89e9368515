//! `pingoo-local serve`: every function's routes on one port, against the local stand-ins,
//! exactly as the Lambdas would run them (same routers, same layers), plus the aggregator
//! fed from the events stream and the janitor.
//!
//! `pingoo-local recount`: rebuilds or checks a site's counters from its raw events.
//!
//! Environment (set by `scripts/dev`): the function variables (`DYNAMODB_ENDPOINT`,
//! `S3_ENDPOINT`, `APP_TABLE`, …) plus `PORT` (default 5004), `GEOIP_BUCKET`,
//! `GEOIP_CITY_KEY` and `GEOIP_CITY_FILE` (a local .mmdb to upload when missing).

use std::net::SocketAddr;
use std::path::PathBuf;

use pingoo::AppState;
use pingoo::config::Config;

fn usage() -> ! {
    eprintln!(
        "usage: pingoo-local serve\n       pingoo-local openapi   (prints docs/openapi.json)\n       pingoo-local recount --site ID --from DAY [--to DAY] [--compare]\n\nDAY: 20250915 or 2025-09-15, in the site's time zone. recount rebuilds the\nsite's counters for those days from its raw events; with --compare it only\nreports differences (exit status 1 if any)."
    );
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    pingoo::telemetry::init(pingoo::config::Mode::Local);
    let result = match command.as_deref() {
        Some("serve") => serve().await,
        Some("openapi") => {
            print!("{}", pingoo_local::openapi_json());
            Ok(())
        }
        Some("recount") => recount(args.collect()).await,
        _ => usage(),
    };
    if let Err(err) = result {
        tracing::error!("{err}");
        std::process::exit(1);
    }
}

async fn recount(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let mut site = None;
    let mut from = None;
    let mut to = None;
    let mut mode = pingoo::stats::recount::Mode::Rebuild;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--site" => site = args.next().and_then(|v| v.parse::<u64>().ok()),
            "--from" => from = args.next().and_then(|v| pingoo::time::parse_day(&v)),
            "--to" => to = args.next().and_then(|v| pingoo::time::parse_day(&v)),
            "--compare" => mode = pingoo::stats::recount::Mode::Compare,
            _ => usage(),
        }
    }
    let (Some(site), Some(from)) = (site, from) else {
        usage()
    };
    let config = Config::from_env()?;
    let sdk = pingoo::aws::sdk_config(&config).await;
    let db = pingoo::store::Db::new(pingoo::aws::dynamodb(&sdk, &config), config.tables.clone())
        .with_retention(config.retention);
    let report = pingoo::stats::recount::recount(&db, site, from, to.unwrap_or(from), mode).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if mode == pingoo::stats::recount::Mode::Compare && !report.differences.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let sdk = pingoo::aws::sdk_config(&config).await;
    let dynamodb = pingoo::aws::dynamodb(&sdk, &config);
    pingoo_stack::bootstrap::ensure_tables(&dynamodb, &config.tables).await?;
    if config.s3_endpoint.is_some() {
        let s3 = pingoo::aws::s3(&sdk, &config);
        let bucket = std::env::var("GEOIP_BUCKET").unwrap_or_else(|_| "pingoo-geoip".into());
        pingoo_stack::bootstrap::ensure_bucket(&s3, &bucket).await?;
        if let Ok(file) = std::env::var("GEOIP_CITY_FILE") {
            let key =
                std::env::var("GEOIP_CITY_KEY").unwrap_or_else(|_| "GeoLite2-City.mmdb".into());
            let uploaded = pingoo_stack::bootstrap::upload_if_missing(
                &s3,
                &bucket,
                &key,
                &PathBuf::from(&file),
            )
            .await?;
            tracing::info!(bucket, key, uploaded, "GeoIP database in place");
        }
    }

    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT {p:?} is not a port number"))?,
        Err(_) => 5004,
    };
    let data_dir =
        PathBuf::from(std::env::var("PINGOO_DATA_DIR").unwrap_or_else(|_| ".local/dev".into()));
    let state = AppState::new(config, dynamodb).with_geoip_from_env().await;
    pingoo_local::start_aggregator(&sdk, &state, data_dir.join("stream-checkpoints.json")).await?;
    tokio::spawn(pingoo_local::janitor_loop(
        state.db.clone(),
        state.config.purge_grace(),
        std::time::Duration::from_secs(2),
    ));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e} (set PORT to use another)"))?;
    tracing::info!("Pingoo API listening on http://localhost:{port}/api");
    axum::serve(
        listener,
        pingoo_local::app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
