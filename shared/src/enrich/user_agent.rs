//! User agent → device, browser, OS and bot verdict.
//!
//! Bots: one `RegexSet` pass over three lists (see [`PATTERNS`]), in priority order:
//! `bots::KNOWN_BOTS` (hand-kept, names the crawlers and tools events are ranked under),
//! `bots::HTTP_CLIENTS` (HTTP libraries and command-line clients) and isbot's maintained
//! pattern list (npm `isbot`, pinned, generated into `isbot_list.rs` by
//! `infra/isbot/generate.mjs`). How much a match counts depends on where the agent comes
//! from ([`AgentSource`]):
//! - `Visitor`, the public beacon (the visitor's own request), strictest: any match, an
//!   empty (or `-`) agent, and an agent shorter than `MIN_BROWSER_LEN` (20) are bots.
//! - `Reported`, an agent an authenticated caller put in the body: known crawlers and
//!   tools (named lists and isbot's naming patterns) are bots; isbot's *shape* patterns,
//!   which flag an agent for its form alone (a bare `product/version`, 50 characters
//!   without a space), and the length rule do not: a backend may report an agent it has
//!   truncated (the API document's own `"Mozilla/5.0..."`).
//! - `Caller`, the authenticated request's own agent (the body had none): as `Reported`,
//!   and an HTTP client (python-requests, curl, Go-http-client, okhttp, axios, …) is the
//!   site's backend calling, not a bot. Neither is an empty agent.
//!
//! A bot's name: the first named list entry that matches; else a generic `…bot`,
//! `crawler`, `crawl`, `spider` or `slurp` token (not the `CUBOT` phone brand) by the word
//! it sits in; else woothee's crawler name or the product of a woothee `misc` agent; else
//! the product an agent of 20+ characters starts with (`SomeTool/2.0 …`); else the word
//! around isbot's match; else `unknown`. A bot gets device `bot`, its name as the browser,
//! woothee's OS, and the screen is never looked at.
//!
//! Humans: woothee gives the base: category, browser name and OS. Its category gives the
//! device (`pc` → desktop, `smartphone` and `mobilephone` → mobile, anything else → other);
//! smart TVs are `other`; tablets are recognised by their tokens (see `tablet_by_agent`);
//! then the screen refines the ambiguous cases (see `refine_with_screen`).
//!
//! Cost: woothee (about 1 µs) plus one `RegexSet` pass (a second one only for agents
//! that match) and a few substring searches, all patterns compiled once; the only
//! allocations are the returned strings.

use std::sync::LazyLock;

use regex::bytes::{RegexSet, RegexSetBuilder};
use regex::{Regex, RegexBuilder};
use woothee::parser::Parser;
use woothee::woothee::VALUE_UNKNOWN;

mod bots;
mod isbot_list;

pub use isbot_list::ISBOT_VERSION;

/// What the API stores about a user agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserAgentInfo {
    /// "desktop", "mobile", "tablet", "bot" or "other".
    pub device: String,
    /// Browser name ("Chrome", "Firefox", "Safari", "Edge", ...); for bots the bot's name; "" if unknown.
    pub browser: String,
    /// OS name ("Windows 10", "Mac OSX", "Linux", "iOS", "Android", ...) as woothee names it; "" if unknown.
    /// (woothee's `iPhone`, `iPad` and `iPod` are reported as `iOS`.)
    pub os: String,
    pub is_bot: bool,
    /// Short bot name for rankings ("Googlebot", "bingbot", "curl", "HeadlessChrome", "python-requests", ...); None for humans.
    pub bot_name: Option<String>,
}

/// Where an agent comes from, which decides how strictly it is judged (see the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentSource {
    /// The visitor's own request: the public beacon.
    #[default]
    Visitor,
    /// The `user_agent` an authenticated caller put in the body of `POST /api/events`.
    Reported,
    /// The request's own agent of an authenticated `POST /api/events` whose body had none:
    /// the site's backend.
    Caller,
}

/// One isbot pattern as `infra/isbot/generate.mjs` writes it.
struct IsbotPattern {
    /// The pattern in Rust's syntax (lookarounds rewritten), for a case-insensitive,
    /// non-Unicode `regex::bytes` set.
    regex: &'static str,
    /// isbot's own JavaScript pattern, for reference and tests.
    #[cfg_attr(not(test), allow(dead_code))]
    source: &'static str,
    /// Flags an agent for its form alone, naming no crawler or tool.
    shape: bool,
}

const DESKTOP: &str = "desktop";
const MOBILE: &str = "mobile";
const TABLET: &str = "tablet";
const BOT: &str = "bot";
const OTHER: &str = "other";

/// The name of a bot that does not say what it is (empty or absurd agents).
const UNNAMED_BOT: &str = "unknown";
/// Real browsers' agents are 60+ characters; anything this short is a script or a probe.
const MIN_BROWSER_LEN: usize = 20;
/// Names taken from the agent itself (generic tokens, library products) are cut here.
const MAX_NAME_LEN: usize = 40;

/// Screen breakpoints on the shorter side, in CSS pixels.
const TABLET_MIN_SIDE: u32 = 768;
const DESKTOP_MIN_SIDE: u32 = 1280;
/// Android's own phone/tablet boundary (`sw600dp`), for Android agents without `Mobile`.
const ANDROID_TABLET_MIN_SIDE: u32 = 600;
/// Larger "screens" are garbage, not displays.
const MAX_SCREEN_SIDE: u32 = 16_384;

/// Every bot pattern in one set, highest priority first: `bots::KNOWN_BOTS`, then
/// `bots::HTTP_CLIENTS`, then isbot's list. Case-insensitive with Unicode off, so `\w`,
/// `\d`, `\s` and `\b` are ASCII, as in isbot's JavaScript.
static PATTERNS: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSetBuilder::new(
        bots::KNOWN_BOTS
            .iter()
            .chain(bots::HTTP_CLIENTS)
            .map(|(pattern, _)| *pattern)
            .chain(isbot_list::PATTERNS.iter().map(|p| p.regex)),
    )
    .case_insensitive(true)
    .unicode(false)
    .build()
    .expect("the bot patterns compile (a unit test checks them)")
});

/// isbot's patterns one by one, to find the word a match sits in (bots only).
static ISBOT_REGEXES: LazyLock<Vec<Option<regex::bytes::Regex>>> = LazyLock::new(|| {
    isbot_list::PATTERNS
        .iter()
        .map(|p| {
            regex::bytes::RegexBuilder::new(p.regex)
                .case_insensitive(true)
                .unicode(false)
                .build()
                .ok()
        })
        .collect()
});

/// The generic tokens: `bot`/`bots` ending a word (`Googlebot`, `Pingdom.com_bot_version`),
/// and `crawl`, `spider`, `slurp` anywhere. `CUBOT` phones are skipped in code.
static GENERIC_BOT: LazyLock<Regex> = LazyLock::new(|| {
    RegexBuilder::new(r"bots?(?:(?-u:\b)|_)|crawl|spider|slurp")
        .case_insensitive(true)
        .build()
        .expect("the generic bot pattern compiles")
});

/// What an index of [`PATTERNS`] points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Known(usize),
    Client(usize),
    Isbot(usize),
}

fn entry(index: usize) -> Entry {
    let known = bots::KNOWN_BOTS.len();
    let clients = known + bots::HTTP_CLIENTS.len();
    if index < known {
        Entry::Known(index)
    } else if index < clients {
        Entry::Client(index - known)
    } else {
        Entry::Isbot(index - clients)
    }
}
/// In-app and regional browsers woothee reports as Chrome, Safari or `Webview`: the first
/// token found names the browser (WeChat's agent also carries `MQQBrowser`).
const APP_BROWSERS: &[(&str, &str)] = &[
    ("MicroMessenger", "WeChat"),
    ("MQQBrowser", "QQ Browser"),
    (" QQ/", "QQ"),
    ("UCBrowser", "UC Browser"),
    ("UCWEB", "UC Browser"),
    ("baiduboxapp", "Baidu App"),
    ("HuaweiBrowser", "Huawei Browser"),
    ("MiuiBrowser", "MIUI Browser"),
    ("Silk/", "Silk"),
    ("FBAN/", "Facebook"),
    ("FBAV/", "Facebook"),
    ("Instagram", "Instagram"),
];

/// Tokens of smart TVs and TV sticks (woothee calls most of them desktops or phones).
const TV_TOKENS: &[&str] = &[
    "SMART-TV",
    "SmartTV",
    "Smart TV",
    "HbbTV",
    "Android TV",
    "GoogleTV",
    "CrKey",
    "BRAVIA",
    "Web0S",
    "NetCast",
    "; AFT",
    "Roku",
];

/// Parses a visitor's own user agent (the public beacon's rules, the strictest).
/// `screen` is the reported screen size like "1920x1080" (may be empty/invalid).
pub fn parse(user_agent: &str, screen: Option<&str>) -> UserAgentInfo {
    parse_from(user_agent, screen, AgentSource::Visitor)
}

/// Parses a user agent judged by where it comes from (see [`AgentSource`]).
pub fn parse_from(user_agent: &str, screen: Option<&str>, source: AgentSource) -> UserAgentInfo {
    let agent = user_agent.trim();
    if source == AgentSource::Visitor && (agent.is_empty() || agent == "-") {
        return bot_info(UNNAMED_BOT, "");
    }
    let found = Parser::new().parse(agent);
    let (category, name, woothee_os) = found
        .as_ref()
        .map_or((VALUE_UNKNOWN, VALUE_UNKNOWN, VALUE_UNKNOWN), |r| {
            (r.category, r.name, r.os)
        });
    let os = os_name(woothee_os);
    if let Some(bot) = bot_name(agent, category, name, source) {
        return bot_info(bot, os);
    }
    UserAgentInfo {
        device: device(agent, category, woothee_os, screen).to_owned(),
        browser: browser_name(agent, name).to_owned(),
        os: os.to_owned(),
        is_bot: false,
        bot_name: None,
    }
}

fn bot_info(name: &str, os: &str) -> UserAgentInfo {
    UserAgentInfo {
        device: BOT.to_owned(),
        browser: name.to_owned(),
        os: os.to_owned(),
        is_bot: true,
        bot_name: Some(name.to_owned()),
    }
}

/// The bot's name, or `None` for a human (see the module documentation).
fn bot_name<'a>(
    agent: &'a str,
    category: &'a str,
    woothee_name: &'a str,
    source: AgentSource,
) -> Option<&'a str> {
    let bytes = agent.as_bytes();
    let strict = source == AgentSource::Visitor;
    // Most agents are browsers that match nothing: one pass, no match list built.
    if !PATTERNS.is_match(bytes) {
        return (strict && agent.len() < MIN_BROWSER_LEN)
            .then(|| derived_name(agent, category, woothee_name, None));
    }
    let matches = PATTERNS.matches(bytes);
    let first = matches.iter().next().map(entry)?;
    match first {
        Entry::Known(index) => bots::KNOWN_BOTS.get(index).map(|&(_, name)| name),
        Entry::Client(_) if source == AgentSource::Caller => None,
        Entry::Client(index) => bots::HTTP_CLIENTS.get(index).map(|&(_, name)| name),
        Entry::Isbot(_) => {
            let naming = matches.iter().any(|index| match entry(index) {
                Entry::Isbot(i) => isbot_list::PATTERNS.get(i).is_some_and(|p| !p.shape),
                _ => false,
            });
            (strict || naming).then(|| derived_name(agent, category, woothee_name, Some(&matches)))
        }
    }
}

/// A name for a bot no named entry matched.
fn derived_name<'a>(
    agent: &'a str,
    category: &'a str,
    woothee_name: &'a str,
    matches: Option<&regex::bytes::SetMatches>,
) -> &'a str {
    generic_bot_token(agent)
        .or(match (category, woothee_name) {
            ("crawler", "misc crawler" | VALUE_UNKNOWN) => None,
            ("crawler", name) => Some(name),
            ("misc", name) => product_token(agent).or(Some(name)),
            _ => None,
        })
        .or_else(|| compatible_token(agent))
        .or_else(|| {
            (agent.len() >= MIN_BROWSER_LEN)
                .then(|| product_token(agent))
                .flatten()
        })
        .or_else(|| matches.and_then(|matches| isbot_word(agent, matches)))
        .unwrap_or(UNNAMED_BOT)
}

/// The product named first in a `(compatible; Name/1.0; …)` comment.
fn compatible_token(agent: &str) -> Option<&str> {
    let at = agent.find("compatible;")? + "compatible;".len();
    let rest = agent.get(at..)?.trim_start();
    let end = rest.find(['/', ';', ')', '(', '+']).unwrap_or(rest.len());
    let name = rest.get(..end)?.trim();
    let usable = name.len() >= 2
        && !name.eq_ignore_ascii_case("mozilla")
        && name.bytes().any(|b| b.is_ascii_alphabetic());
    usable.then(|| shorten(name))
}

/// The word around the first naming isbot match that is not part of a URL
/// (`… Foo-Monitor/2 …` → `Foo-Monitor`).
fn isbot_word<'a>(agent: &'a str, matches: &regex::bytes::SetMatches) -> Option<&'a str> {
    const URL_WORDS: &[&str] = &["http", "https", "www", "com"];
    matches.iter().find_map(|index| {
        let Entry::Isbot(i) = entry(index) else {
            return None;
        };
        if isbot_list::PATTERNS.get(i).is_none_or(|p| p.shape) {
            return None;
        }
        let found = ISBOT_REGEXES.get(i)?.as_ref()?.find(agent.as_bytes())?;
        word_around(agent, found.start(), found.end())
            .filter(|word| !URL_WORDS.iter().any(|url| word.eq_ignore_ascii_case(url)))
    })
}

/// The word (ASCII letters, digits, `-`, `_`) around `start..end`, trimmed of `-`/`_`,
/// cut to [`MAX_NAME_LEN`]; `None` when empty or not on character boundaries.
fn word_around(agent: &str, start: usize, end: usize) -> Option<&str> {
    let bytes = agent.as_bytes();
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    let before = bytes
        .get(..start)?
        .iter()
        .rev()
        .take_while(|b| is_word(b))
        .count();
    let after = bytes.get(end..)?.iter().take_while(|b| is_word(b)).count();
    let word = agent.get(start - before..end + after)?;
    let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    (!word.is_empty()).then(|| shorten(word))
}

/// The first generic bot token and the word around it (`FooBot/1.0` → `FooBot`), skipping
/// the `CUBOT` phone brand (`CUBOT_X30`, `CUBOT KINGKONG`).
fn generic_bot_token(agent: &str) -> Option<&str> {
    let bytes = agent.as_bytes();
    GENERIC_BOT
        .find_iter(agent)
        .find(|m| {
            let cubot = m.as_str().starts_with(['b', 'B'])
                && m.start() >= 2
                && bytes
                    .get(m.start() - 2..m.start())
                    .is_some_and(|before| before.eq_ignore_ascii_case(b"cu"));
            !cubot
        })
        .map(|m| word_around(agent, m.start(), m.end()).unwrap_or(UNNAMED_BOT))
}

/// The product an agent starts with: `PHP/8.3` → `PHP`, `Jakarta Commons-HttpClient/3.1`
/// → `Jakarta Commons-HttpClient`. `None` for `Mozilla/…` and for nothing usable.
fn product_token(agent: &str) -> Option<&str> {
    let end = agent.find(['/', '(', ';', ',']).unwrap_or(agent.len());
    let product = agent.get(..end)?.trim();
    if product.is_empty() || product.eq_ignore_ascii_case("mozilla") {
        return None;
    }
    Some(shorten(product))
}

/// At most [`MAX_NAME_LEN`] bytes, cut on a character boundary.
fn shorten(name: &str) -> &str {
    let mut end = name.len().min(MAX_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or_default().trim_end()
}

/// woothee's OS name, with `UNKNOWN` as "" and its device-named Apple systems (`iPhone`,
/// `iPad`, `iPod`) as `iOS`, the name it already uses for iOS apps (`CFNetwork`).
fn os_name(os: &str) -> &str {
    match os {
        VALUE_UNKNOWN => "",
        "iPhone" | "iPad" | "iPod" => "iOS",
        os => os,
    }
}

/// woothee's browser name, overridden by the in-app and regional browsers it does not know.
fn browser_name<'a>(agent: &str, woothee_name: &'a str) -> &'a str {
    if let Some(&(_, name)) = APP_BROWSERS.iter().find(|(token, _)| agent.contains(token)) {
        return name;
    }
    match woothee_name {
        VALUE_UNKNOWN => "",
        "SamsungBrowser" => "Samsung Internet",
        name => name,
    }
}

/// How a human's agent reads, before the screen is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tablet {
    /// An explicit tablet token (`iPad`, `Kindle`, `Silk`, `Tablet`, `PlayBook`).
    Certain,
    /// Android without `Mobile`: Google's tablet convention, which some phone web views
    /// break, so a phone-sized screen overrides it.
    Android,
}

/// The device of a human visitor.
fn device(agent: &str, category: &str, woothee_os: &str, screen: Option<&str>) -> &'static str {
    if TV_TOKENS.iter().any(|token| agent.contains(token)) {
        return OTHER;
    }
    let sides = screen.and_then(screen_sides);
    let shorter_side = sides.map(|(short, _)| short);
    match tablet_by_agent(agent, woothee_os) {
        Some(Tablet::Certain) => return TABLET,
        Some(Tablet::Android) => {
            return match shorter_side {
                Some(side) if side < ANDROID_TABLET_MIN_SIDE => MOBILE,
                _ => TABLET,
            };
        }
        None => {}
    }
    match category {
        "pc" => DESKTOP,
        "smartphone" | "mobilephone" => refine_with_screen(MOBILE, sides),
        // woothee could not place it: only the screen can tell.
        VALUE_UNKNOWN => refine_with_screen(OTHER, sides),
        // Game consoles and other appliances.
        _ => OTHER,
    }
}

/// Tablets by their agent: `iPad` (iPadOS 13+ in its default desktop mode sends a Mac
/// agent and stays a desktop), Kindle and Silk, `Tablet` (Firefox on Android tablets; not
/// Windows' `Tablet PC`), BlackBerry `PlayBook`, and Android without `Mobile`.
fn tablet_by_agent(agent: &str, woothee_os: &str) -> Option<Tablet> {
    let certain = woothee_os == "iPad"
        || ["iPad", "Kindle", "Silk/", "PlayBook"]
            .iter()
            .any(|token| agent.contains(token))
        || (agent.contains("Tablet") && !agent.contains("Tablet PC"));
    if certain {
        Some(Tablet::Certain)
    } else if agent.contains("Android") && !agent.contains("Mobi") {
        Some(Tablet::Android)
    } else {
        None
    }
}

/// The screen decides for an ambiguous agent (a phone-class agent, or one woothee could
/// not place). A phone-class agent goes by the shorter side: under 768 px a phone, under
/// 1280 a tablet, else a desktop. An unknown agent is a phone under 768 px, a desktop when
/// the longer side reaches 1280 (laptops and monitors have tablet-like shorter sides:
/// 1366x768, 1920x1080), else a tablet. Without a usable screen the agent's own reading
/// stays. Desktop agents are never refined: a Mac agent on an iPad-sized screen is
/// indistinguishable from a small Mac window… or from iPadOS.
fn refine_with_screen(from_agent: &'static str, sides: Option<(u32, u32)>) -> &'static str {
    let Some((short, long)) = sides else {
        return from_agent;
    };
    match from_agent {
        _ if short < TABLET_MIN_SIDE => MOBILE,
        OTHER if long >= DESKTOP_MIN_SIDE => DESKTOP,
        _ if short < DESKTOP_MIN_SIDE => TABLET,
        _ => DESKTOP,
    }
}

/// The shorter and longer side of a `WIDTHxHEIGHT` screen (`x`, `X` or `×`), `None`
/// unless both sides are whole numbers in 1..=16384.
fn screen_sides(screen: &str) -> Option<(u32, u32)> {
    let (width, height) = screen.trim().split_once(['x', 'X', '×'])?;
    let width: u32 = width.trim().parse().ok()?;
    let height: u32 = height.trim().parse().ok()?;
    let valid = 1..=MAX_SCREEN_SIDE;
    (valid.contains(&width) && valid.contains(&height))
        .then_some((width.min(height), width.max(height)))
}

/// The shorter side of a screen (see [`screen_sides`]).
#[cfg(test)]
fn shorter_side(screen: &str) -> Option<u32> {
    screen_sides(screen).map(|(short, _)| short)
}

#[cfg(test)]
mod tests;
