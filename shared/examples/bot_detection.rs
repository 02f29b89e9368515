//! Bot detection rates on pinned public corpora: how many known crawlers the beacon's
//! rules flag, and how many real browsers they wrongly flag. Prints figures; asserts
//! nothing. `scripts/bench` runs it after `npm ci` in `infra/isbot`:
//!
//! `cargo run -p pingoo --release --example bot_detection [-- --misses]`
//!
//! - Crawlers: every instance of the npm `crawler-user-agents` list.
//! - Browsers: the distinct agents of the npm `user-agents` package (real-world browser
//!   agents by traffic share), plus our own `human` cases of
//!   `shared/src/enrich/user_agent/sample.txt` (text, Amiga and in-app browsers).
//!
//! The corpora are read from `infra/isbot/node_modules` (or `$BOT_CORPUS_DIR`).
//! `--misses` lists the crawlers missed and the browsers flagged. `BENCH_JSON=path`
//! also writes the figures as JSON.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pingoo::enrich::user_agent::{self, AgentSource};
use serde_json::Value;

const SAMPLE: &str = include_str!("../src/enrich/user_agent/sample.txt");

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| {
        panic!(
            "{}: {err} (run `npm ci` in infra/isbot first)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn version(dir: &Path, package: &str) -> String {
    read_json(&dir.join(package).join("package.json"))["version"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

/// (flagged, total) for `agents` judged as `source`, with the agents on the wrong side.
fn rate<'a>(
    agents: impl IntoIterator<Item = &'a str>,
    source: AgentSource,
    want_bot: bool,
) -> (usize, usize, Vec<&'a str>) {
    let (mut flagged, mut total, mut wrong) = (0, 0, Vec::new());
    for agent in agents {
        total += 1;
        let is_bot = user_agent::parse_from(agent, None, source).is_bot;
        if is_bot {
            flagged += 1;
        }
        if is_bot != want_bot {
            wrong.push(agent);
        }
    }
    (flagged, total, wrong)
}

fn percent(part: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

fn main() {
    let show_misses = std::env::args().any(|arg| arg == "--misses");
    let dir = std::env::var_os("BOT_CORPUS_DIR").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../infra/isbot/node_modules"
            ))
        },
        PathBuf::from,
    );

    let crawler_list = read_json(&dir.join("crawler-user-agents/crawler-user-agents.json"));
    let crawlers: Vec<String> = crawler_list
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["instances"].as_array().into_iter().flatten())
        .filter_map(|agent| agent.as_str().map(str::to_owned))
        .collect();
    let browser_list = read_json(&dir.join("user-agents/dist/user-agents.json"));
    let browsers: BTreeSet<String> = browser_list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["userAgent"].as_str().map(str::to_owned))
        .collect();
    let own: Vec<&str> = SAMPLE
        .lines()
        .filter_map(|line| line.strip_prefix("human\t"))
        .collect();

    let crawler_versions = version(&dir, "crawler-user-agents");
    let browser_versions = version(&dir, "user-agents");
    let (caught, crawler_total, missed) = rate(
        crawlers.iter().map(String::as_str),
        AgentSource::Visitor,
        true,
    );
    let (flagged, browser_total, wrong) = rate(
        browsers.iter().map(String::as_str),
        AgentSource::Visitor,
        false,
    );
    let (own_flagged, own_total, own_wrong) =
        rate(own.iter().copied(), AgentSource::Visitor, false);
    let humans_flagged = flagged + own_flagged;
    let humans_total = browser_total + own_total;

    println!(
        "bot detection (the beacon's rules, user_agent::parse; isbot {} patterns)",
        user_agent::ISBOT_VERSION
    );
    println!(
        "  crawlers flagged: {caught}/{crawler_total} = {:.2} % (crawler-user-agents {crawler_versions}, every instance)",
        percent(caught, crawler_total)
    );
    println!(
        "  browsers flagged: {humans_flagged}/{humans_total} = {:.2} % (user-agents {browser_versions}: {flagged}/{browser_total} distinct agents; own text, Amiga and in-app cases: {own_flagged}/{own_total})",
        percent(humans_flagged, humans_total)
    );
    if show_misses {
        for agent in &missed {
            println!("  missed crawler: {agent}");
        }
        for agent in wrong.iter().chain(&own_wrong) {
            println!("  flagged browser: {agent}");
        }
    }
    if let Some(out) = std::env::var_os("BENCH_JSON") {
        let json = serde_json::json!({
            "crawlers": crawler_total,
            "crawlers_flagged": caught,
            "crawler_percent": percent(caught, crawler_total),
            "crawler_corpus": format!("crawler-user-agents {crawler_versions}"),
            "browsers": humans_total,
            "browsers_flagged": humans_flagged,
            "browser_percent": percent(humans_flagged, humans_total),
            "browser_corpus": format!("user-agents {browser_versions} + {own_total} own cases"),
        });
        if let Err(err) = std::fs::write(&out, json.to_string()) {
            eprintln!("bot_detection: cannot write {out:?}: {err}");
        }
    }
}
