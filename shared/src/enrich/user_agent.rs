//! User agent → device, browser, os and bot, with woothee plus a pattern list for the
//! crawlers, tools and headless browsers woothee does not know.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};

/// What the API stores about a user agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserAgentInfo {
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: String,
    /// Browser name (`Chrome`, `Firefox`, `Safari`, `Edge`, …); for bots the bot's name;
    /// empty when unknown.
    pub browser: String,
    /// OS name as woothee names it (`Windows 10`, `Mac OSX`, `Linux`, `Android`), with
    /// iPhone and iPad reported as `iOS`; empty when unknown.
    pub os: String,
    pub is_bot: bool,
    /// Stable bot name for rankings (`Googlebot`, `curl`, `HeadlessChrome`); `None` for people.
    pub bot_name: Option<String>,
}

/// Known bots, tools and headless browsers: (case-insensitive pattern, name). Checked
/// before woothee, in order. Keep it sorted by kind; add new agents here.
const KNOWN_BOTS: &[(&str, &str)] = &[
    // Headless browsers and audits.
    (r"HeadlessChrome", "HeadlessChrome"),
    (r"PhantomJS", "PhantomJS"),
    (r"Chrome-Lighthouse|Lighthouse", "Lighthouse"),
    (r"\bPuppeteer\b", "Puppeteer"),
    (r"\bPlaywright\b", "Playwright"),
    (r"\bSelenium\b", "Selenium"),
    (r"Google-InspectionTool", "Google-InspectionTool"),
    (r"AdsBot-Google", "AdsBot-Google"),
    (r"Mediapartners-Google", "Mediapartners-Google"),
    (r"FeedFetcher-Google", "FeedFetcher-Google"),
    (r"Googlebot", "Googlebot"),
    (r"Google-Extended|GoogleOther", "GoogleOther"),
    (r"bingbot|BingPreview", "bingbot"),
    (r"DuckDuckBot", "DuckDuckBot"),
    (r"Baiduspider", "Baiduspider"),
    (r"YandexBot|YandexMobileBot|Yandex[A-Za-z]*/", "YandexBot"),
    (r"Sogou", "Sogou"),
    (r"Bytespider", "Bytespider"),
    (r"Applebot", "Applebot"),
    (r"GPTBot", "GPTBot"),
    (r"ChatGPT-User", "ChatGPT-User"),
    (r"OAI-SearchBot", "OAI-SearchBot"),
    (r"ClaudeBot|Claude-Web|Claude-User", "ClaudeBot"),
    (r"anthropic-ai", "anthropic-ai"),
    (r"PerplexityBot|Perplexity-User", "PerplexityBot"),
    (r"\bCCBot", "CCBot"),
    (r"Amazonbot", "Amazonbot"),
    (
        r"meta-externalagent|meta-externalfetcher",
        "meta-externalagent",
    ),
    (
        r"facebookexternalhit|facebookcatalog",
        "facebookexternalhit",
    ),
    // SEO tools.
    (r"AhrefsBot|AhrefsSiteAudit", "AhrefsBot"),
    (r"SemrushBot", "SemrushBot"),
    (r"MJ12bot", "MJ12bot"),
    (r"\bDotBot", "DotBot"),
    (r"PetalBot", "PetalBot"),
    (r"SeznamBot", "SeznamBot"),
    (r"DataForSeoBot", "DataForSeoBot"),
    // Link previews.
    (r"Twitterbot", "Twitterbot"),
    (r"Slackbot|Slack-ImgProxy", "Slackbot"),
    (r"Discordbot", "Discordbot"),
    (r"TelegramBot", "TelegramBot"),
    (r"WhatsApp", "WhatsApp"),
    (r"LinkedInBot", "LinkedInBot"),
    (r"Pinterest(bot)?", "Pinterestbot"),
    (r"redditbot", "redditbot"),
    (r"Embedly", "Embedly"),
    (r"Iframely", "Iframely"),
    (r"SkypeUriPreview", "SkypeUriPreview"),
    // Monitoring.
    (r"UptimeRobot", "UptimeRobot"),
    (r"Pingdom", "Pingdom"),
    (r"StatusCake", "StatusCake"),
    (r"Site24x7", "Site24x7"),
    (r"Better ?Uptime", "BetterUptime"),
    (r"Datadog", "Datadog"),
    (r"NewRelicPinger", "NewRelicPinger"),
    (r"GTmetrix", "GTmetrix"),
    (r"Checkly", "Checkly"),
    // Command-line tools and HTTP libraries.
    (r"^curl/|\bcurl/", "curl"),
    (r"\bWget/", "Wget"),
    (r"python-requests", "python-requests"),
    (r"python-urllib|Python-urllib", "python-urllib"),
    (r"aiohttp", "aiohttp"),
    (r"python-httpx|\bhttpx/", "httpx"),
    (r"Go-http-client", "Go-http-client"),
    (r"^Java/|Apache-HttpClient|\bJava-http-client", "Java"),
    (r"okhttp", "okhttp"),
    (r"^axios/|\baxios/", "axios"),
    (r"node-fetch", "node-fetch"),
    (r"\bundici\b", "undici"),
    (r"libwww-perl", "libwww-perl"),
    (r"^Ruby\b", "Ruby"),
    (r"GuzzleHttp", "Guzzle"),
    (r"Scrapy", "Scrapy"),
    (r"HTTPie", "HTTPie"),
    (r"PostmanRuntime", "PostmanRuntime"),
    (r"insomnia", "insomnia"),
    (r"^Dart/", "Dart"),
];

static KNOWN: LazyLock<RegexSet> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    RegexSet::new(
        KNOWN_BOTS
            .iter()
            .map(|(pattern, _)| format!("(?i){pattern}")),
    )
    .expect("the bot patterns are valid")
});

/// Any product token that calls itself a bot, crawler or spider (`FooBot/1.0`).
static GENERIC: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(
        r"(?i)\b([a-z0-9][a-z0-9_.-]*?(?:bot|crawler|spider|crawl|slurp|scraper)[a-z0-9_.-]*)",
    )
    .expect("the generic bot pattern is valid")
});

/// Real devices whose names end in "bot" (Cubot phones).
const NOT_BOTS: &[&str] = &["cubot"];

static PARSER: LazyLock<woothee::parser::Parser> = LazyLock::new(woothee::parser::Parser::new);

fn known_bot(ua: &str) -> Option<&'static str> {
    let index = KNOWN.matches(ua).into_iter().next()?;
    KNOWN_BOTS.get(index).map(|(_, name)| *name)
}

fn generic_bot(ua: &str) -> Option<String> {
    GENERIC.captures_iter(ua).find_map(|caps| {
        let token = caps.get(1)?.as_str();
        let lower = token.to_ascii_lowercase();
        if NOT_BOTS.iter().any(|real| lower.starts_with(real)) {
            return None;
        }
        Some(token.trim_end_matches(['.', '-', '_']).to_owned())
    })
}

fn known(value: &str) -> String {
    if value == "UNKNOWN" {
        String::new()
    } else {
        value.to_owned()
    }
}

fn os_name(os: &str) -> String {
    match os {
        "iPhone" | "iPad" | "iPod" => "iOS".to_owned(),
        other => known(other),
    }
}

/// Apps and browsers woothee lumps together (WeChat's web view, UC, QQ).
fn browser_name(ua: &str, woothee_name: &str) -> String {
    if ua.contains("MicroMessenger") {
        "WeChat".to_owned()
    } else if ua.contains("UCBrowser") {
        "UC Browser".to_owned()
    } else if ua.contains("QQBrowser") {
        "QQ Browser".to_owned()
    } else {
        known(woothee_name)
    }
}

fn is_tablet(ua: &str, os: &str) -> bool {
    os == "iPad"
        || ua.contains("iPad")
        || ua.contains("Tablet")
        || ua.contains("Kindle")
        || ua.contains("Silk/")
        || (ua.contains("Android") && !ua.contains("Mobile"))
}

/// The shorter side of a `1920x1080` screen.
fn screen_short_side(screen: &str) -> Option<u32> {
    let (w, h) = screen.trim().split_once('x')?;
    let (w, h): (u32, u32) = (w.parse().ok()?, h.parse().ok()?);
    (w > 0 && h > 0).then_some(w.min(h))
}

/// Touch and unknown devices are refined by the screen, as the original product did:
/// a shorter side under 600 px is a phone, under 1,100 px a tablet; an unknown device
/// with a larger screen is a desktop. Desktops and bots keep their class.
fn refine_by_screen(device: &'static str, screen: Option<&str>) -> &'static str {
    let Some(side) = screen.and_then(screen_short_side) else {
        return device;
    };
    match device {
        "mobile" | "tablet" | "other" if side < 600 => "mobile",
        "mobile" | "tablet" | "other" if side < 1100 => "tablet",
        "other" => "desktop",
        kept => kept,
    }
}

fn bot(name: String, os: String) -> UserAgentInfo {
    UserAgentInfo {
        device: "bot".to_owned(),
        browser: name.clone(),
        os,
        is_bot: true,
        bot_name: Some(name),
    }
}

/// Parses a user agent. `screen` is the reported screen size (`1920x1080`), if any.
pub fn parse(user_agent: &str, screen: Option<&str>) -> UserAgentInfo {
    let ua = user_agent.trim();
    if ua.len() < 8 {
        return bot("unknown".to_owned(), String::new());
    }
    let result = PARSER.parse(ua);
    let os = result.as_ref().map(|r| os_name(r.os)).unwrap_or_default();
    if let Some(name) = known_bot(ua) {
        return bot(name.to_owned(), os);
    }
    let category = result.as_ref().map_or("UNKNOWN", |r| r.category);
    if category == "crawler" {
        let name = generic_bot(ua)
            .or_else(|| result.as_ref().map(|r| known(r.name)))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "crawler".to_owned());
        return bot(name, os);
    }
    if let Some(name) = generic_bot(ua) {
        return bot(name, os);
    }
    if category == "misc" && result.as_ref().is_some_and(|r| r.name == "HTTP Library") {
        let name = ua
            .split(['/', ' '])
            .next()
            .unwrap_or("HTTP library")
            .to_owned();
        return bot(name, os);
    }
    let woothee_os = result.as_ref().map_or("", |r| r.os);
    let device = match category {
        "pc" => "desktop",
        "smartphone" | "mobilephone" if is_tablet(ua, woothee_os) => "tablet",
        "smartphone" | "mobilephone" => "mobile",
        _ => "other",
    };
    UserAgentInfo {
        device: refine_by_screen(device, screen).to_owned(),
        browser: result
            .as_ref()
            .map(|r| browser_name(ua, r.name))
            .unwrap_or_default(),
        os,
        is_bot: false,
        bot_name: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (user agent, device, browser, os, bot name)
    const CASES: &[(&str, &str, &str, &str, Option<&str>)] = &[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "desktop",
            "Chrome",
            "Windows 10",
            None,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "desktop",
            "Chrome",
            "Mac OSX",
            None,
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
            "desktop",
            "Chrome",
            "Linux",
            None,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "desktop",
            "Firefox",
            "Windows 10",
            None,
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "desktop",
            "Firefox",
            "Linux",
            None,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "desktop",
            "Safari",
            "Mac OSX",
            None,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "desktop",
            "Edge",
            "Windows 10",
            None,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/114.0.0.0",
            "desktop",
            "Opera",
            "Windows 10",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            "mobile",
            "SamsungBrowser",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "mobile",
            "Safari",
            "iOS",
            None,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "mobile",
            "Chrome",
            "iOS",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
            "mobile",
            "Chrome",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
            "tablet",
            "Safari",
            "iOS",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "tablet",
            "Chrome",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.2.1 like Chrome/131.0.6778.200 Safari/537.36",
            "tablet",
            "Chrome",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; V2118A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.74 Mobile Safari/537.36 MicroMessenger/8.0.49.2600(0x2800313B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
            "mobile",
            "WeChat",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; U; Android 13; zh-CN; V2227A Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/17.0.6.1380 Mobile Safari/537.36",
            "mobile",
            "UC Browser",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PGBM10 Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 MQQBrowser/14.9 Mobile Safari/537.36",
            "mobile",
            "QQ Browser",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
            "mobile",
            "Chrome",
            "Android",
            None,
        ),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "bot",
            "Googlebot",
            "",
            Some("Googlebot"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.204 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "bot",
            "Googlebot",
            "",
            Some("Googlebot"),
        ),
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "bot",
            "bingbot",
            "",
            Some("bingbot"),
        ),
        (
            "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            "bot",
            "Baiduspider",
            "",
            Some("Baiduspider"),
        ),
        (
            "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
            "bot",
            "YandexBot",
            "",
            Some("YandexBot"),
        ),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "bot",
            "GPTBot",
            "",
            Some("GPTBot"),
        ),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
            "bot",
            "ClaudeBot",
            "",
            Some("ClaudeBot"),
        ),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "bot",
            "facebookexternalhit",
            "",
            Some("facebookexternalhit"),
        ),
        (
            "Twitterbot/1.0",
            "bot",
            "Twitterbot",
            "",
            Some("Twitterbot"),
        ),
        (
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "bot",
            "Slackbot",
            "",
            Some("Slackbot"),
        ),
        (
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "bot",
            "Discordbot",
            "",
            Some("Discordbot"),
        ),
        ("curl/8.5.0", "bot", "curl", "", Some("curl")),
        ("Wget/1.21.4", "bot", "Wget", "", Some("Wget")),
        (
            "python-requests/2.32.3",
            "bot",
            "python-requests",
            "",
            Some("python-requests"),
        ),
        (
            "Go-http-client/1.1",
            "bot",
            "Go-http-client",
            "",
            Some("Go-http-client"),
        ),
        (
            "PostmanRuntime/7.42.0",
            "bot",
            "PostmanRuntime",
            "",
            Some("PostmanRuntime"),
        ),
        ("axios/1.7.9", "bot", "axios", "", Some("axios")),
        (
            "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            "bot",
            "node-fetch",
            "",
            Some("node-fetch"),
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
            "bot",
            "HeadlessChrome",
            "Linux",
            Some("HeadlessChrome"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            "bot",
            "Lighthouse",
            "Android",
            Some("Lighthouse"),
        ),
        (
            "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
            "bot",
            "UptimeRobot",
            "",
            Some("UptimeRobot"),
        ),
        (
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "bot",
            "AhrefsBot",
            "",
            Some("AhrefsBot"),
        ),
        (
            "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
            "bot",
            "SemrushBot",
            "",
            Some("SemrushBot"),
        ),
        (
            "Mozilla/5.0 (compatible; FooCrawler/0.1; +https://foo.example)",
            "bot",
            "FooCrawler",
            "",
            Some("FooCrawler"),
        ),
        ("", "bot", "unknown", "", Some("unknown")),
        ("Mozilla", "bot", "unknown", "", Some("unknown")),
    ];

    #[test]
    fn real_user_agents() {
        assert!(CASES.len() >= 35);
        for (ua, device, browser, os, bot_name) in CASES {
            let info = parse(ua, None);
            let expected = UserAgentInfo {
                device: (*device).to_owned(),
                browser: (*browser).to_owned(),
                os: (*os).to_owned(),
                is_bot: bot_name.is_some(),
                bot_name: bot_name.map(str::to_owned),
            };
            assert_eq!(info, expected, "{ua}");
        }
    }

    #[test]
    fn the_screen_refines_touch_and_unknown_devices() {
        let android_tablet = "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(parse(android_tablet, Some("800x1280")).device, "tablet");
        assert_eq!(parse(android_tablet, Some("412x915")).device, "mobile");
        let phone = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(parse(phone, Some("412x915")).device, "mobile");
        assert_eq!(parse(phone, Some("junk")).device, "mobile");
        let unknown = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) SomethingNew/1.0";
        assert_eq!(parse(unknown, Some("2560x1440")).device, "desktop");
        // Desktops and bots keep their class whatever the screen says.
        let desktop = CASES[0].0;
        assert_eq!(parse(desktop, Some("375x812")).device, "desktop");
        let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        assert!(parse(googlebot, Some("412x915")).is_bot);
    }

    /// Hand-run speed check: `cargo test -p pingoo --release --lib user_agent -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn speed() {
        let start = std::time::Instant::now();
        let rounds = 20_000;
        for _ in 0..rounds {
            for (ua, ..) in CASES {
                std::hint::black_box(parse(ua, Some("1920x1080")));
            }
        }
        let per_call = start.elapsed().as_nanos() / (rounds * CASES.len()) as u128;
        println!("{per_call} ns per user agent");
    }
}
