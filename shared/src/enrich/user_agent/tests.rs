//! The user-agent rules' tests: real agents of browsers, apps, crawlers and tools.
use super::*;

/// (user agent, screen, device, browser, os, bot name).
type Case = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// Real user agents with no screen (or a consistent one): what the API stores.
#[rustfmt::skip]
const CASES: &[Case] = &[
    // Desktop browsers.
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", None, "desktop", "Chrome", "Windows 10", None),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Some("1512x982"), "desktop", "Chrome", "Mac OSX", None),
    (CHROME_LINUX, None, "desktop", "Chrome", "Linux", None),
    (CHROME_LINUX, Some("1920x1080"), "desktop", "Chrome", "Linux", None),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", None, "desktop", "Firefox", "Windows 10", None),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", None, "desktop", "Firefox", "Linux", None),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", None, "desktop", "Firefox", "Mac OSX", None),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", None, "desktop", "Safari", "Mac OSX", None),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", None, "desktop", "Edge", "Windows 10", None),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0", None, "desktop", "Opera", "Windows 10", None),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36", None, "desktop", "Yandex Browser", "Windows 10", None),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", None, "desktop", "Chrome", "ChromeOS", None),
    // Phones.
    ("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", None, "mobile", "Samsung Internet", "Android", None),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", Some("393x852"), "mobile", "Safari", "iOS", None),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", None, "mobile", "Chrome", "iOS", None),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Some("412x915"), "mobile", "Chrome", "Android", None),
    ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", None, "mobile", "Firefox", "Android", None),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", None, "mobile", "Edge", "Android", None),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.50.98;FBBV/612432498;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/614329330]", None, "mobile", "Facebook", "iOS", None),
    // Phones in China: in-app and regional browsers.
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323a) NetType/WIFI Language/zh_CN", None, "mobile", "WeChat", "iOS", None),
    ("Mozilla/5.0 (Linux; Android 12; PFEM10 Build/SKQ1.211019.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64", None, "mobile", "WeChat", "Android", None),
    ("Mozilla/5.0 (Linux; U; Android 12; zh-cn; PFEM10 Build/SKQ1.211019.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 MQQBrowser/14.9 Mobile Safari/537.36", None, "mobile", "QQ Browser", "Android", None),
    ("Mozilla/5.0 (Linux; U; Android 11; en-US; RMX2185 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.4.0.1306 Mobile Safari/537.36", None, "mobile", "UC Browser", "Android", None),
    // Cubot phones: a real brand whose model names end in "bot".
    ("Mozilla/5.0 (Linux; Android 11; CUBOT KINGKONG 5 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Mobile Safari/537.36", None, "mobile", "Chrome", "Android", None),
    ("Mozilla/5.0 (Linux; Android 5.1; CUBOT_NOTE_S Build/LMY47I) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/63.0.3239.111 Mobile Safari/537.36", None, "mobile", "Chrome", "Android", None),
    // Codenames that are also tool names (Xiaomi "ruby", Motorola "java").
    ("Mozilla/5.0 (Linux; Android 14; 22101316G Build/UP1A.231005.007; ruby) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", None, "mobile", "Chrome", "Android", None),
    // Tablets.
    ("Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", None, "tablet", "Safari", "iOS", None),
    ("Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", Some("744x1133"), "tablet", "Safari", "iOS", None),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", None, "tablet", "Chrome", "Android", None),
    ("Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", None, "tablet", "Firefox", "Android", None),
    ("Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.3.1 like Chrome/131.0.6778.73 Safari/537.36", None, "tablet", "Silk", "Android", None),
    ("Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, like Gecko) Version/5.0 Safari/531.2+ Kindle/3.0+", None, "tablet", "Safari", "Android", None),
    // Other devices.
    ("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36", Some("1920x1080"), "other", "Samsung Internet", "Linux", None),
    ("Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", None, "other", "Safari", "", None),
    // Search engines.
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/131.0.6778.69 Safari/537.36", None, "bot", "Googlebot", "", Some("Googlebot")),
    ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Some("412x732"), "bot", "Googlebot", "", Some("Googlebot")),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36", None, "bot", "bingbot", "", Some("bingbot")),
    ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", None, "bot", "Baiduspider", "", Some("Baiduspider")),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", None, "bot", "YandexBot", "", Some("YandexBot")),
    ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", None, "bot", "DuckDuckBot", "", Some("DuckDuckBot")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.4 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", None, "bot", "Applebot", "Mac OSX", Some("Applebot")),
    ("Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", None, "bot", "Sogou", "", Some("Sogou")),
    ("Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", None, "bot", "Bytespider", "Android", Some("Bytespider")),
    ("Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)", None, "bot", "Google-InspectionTool", "", Some("Google-InspectionTool")),
    ("AdsBot-Google (+http://www.google.com/adsbot.html)", None, "bot", "AdsBot-Google", "", Some("AdsBot-Google")),
    ("Mediapartners-Google", None, "bot", "Mediapartners-Google", "", Some("Mediapartners-Google")),
    // AI crawlers.
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", None, "bot", "GPTBot", "", Some("GPTBot")),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot", None, "bot", "ChatGPT-User", "", Some("ChatGPT-User")),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", None, "bot", "ClaudeBot", "", Some("ClaudeBot")),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)", None, "bot", "PerplexityBot", "", Some("PerplexityBot")),
    ("CCBot/2.0 (https://commoncrawl.org/faq/)", None, "bot", "CCBot", "", Some("CCBot")),
    ("meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", None, "bot", "meta-externalagent", "", Some("meta-externalagent")),
    // SEO tools.
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", None, "bot", "AhrefsBot", "", Some("AhrefsBot")),
    ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", None, "bot", "SemrushBot", "", Some("SemrushBot")),
    ("Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)", None, "bot", "MJ12bot", "", Some("MJ12bot")),
    ("Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)", None, "bot", "PetalBot", "Android", Some("PetalBot")),
    // Link previews.
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", None, "bot", "facebookexternalhit", "", Some("facebookexternalhit")),
    ("Twitterbot/1.0", None, "bot", "Twitterbot", "", Some("Twitterbot")),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", None, "bot", "Slackbot", "", Some("Slackbot")),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", None, "bot", "Discordbot", "", Some("Discordbot")),
    ("TelegramBot (like TwitterBot)", None, "bot", "TelegramBot", "", Some("TelegramBot")),
    ("WhatsApp/2.23.20.0 A", None, "bot", "WhatsApp", "", Some("WhatsApp")),
    ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", None, "bot", "LinkedInBot", "", Some("LinkedInBot")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", None, "bot", "SkypeUriPreview", "Windows 10", Some("SkypeUriPreview")),
    // Monitoring and performance tools.
    ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", None, "bot", "UptimeRobot", "", Some("UptimeRobot")),
    ("Mozilla/5.0 (compatible; Pingdom.com_bot_version_1.4; http://www.pingdom.com/)", None, "bot", "Pingdom", "", Some("Pingdom")),
    ("Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", Some("412x823"), "bot", "Lighthouse", "Android", Some("Lighthouse")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0 PTST/241120.151225", None, "bot", "WebPageTest", "Windows 10", Some("WebPageTest")),
    // Headless browsers.
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", Some("800x600"), "bot", "HeadlessChrome", "Linux", Some("HeadlessChrome")),
    ("Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", None, "bot", "PhantomJS", "Linux", Some("PhantomJS")),
    // Command-line tools and libraries.
    ("curl/8.5.0", None, "bot", "curl", "", Some("curl")),
    ("Wget/1.21.4", None, "bot", "Wget", "", Some("Wget")),
    ("python-requests/2.32.3", None, "bot", "python-requests", "", Some("python-requests")),
    ("Python/3.11 aiohttp/3.9.5", None, "bot", "aiohttp", "", Some("aiohttp")),
    ("python-httpx/0.27.2", None, "bot", "httpx", "", Some("httpx")),
    ("Go-http-client/1.1", None, "bot", "Go-http-client", "", Some("Go-http-client")),
    ("Java/17.0.2", None, "bot", "Java", "", Some("Java")),
    ("okhttp/4.12.0", None, "bot", "okhttp", "", Some("okhttp")),
    ("axios/1.7.7", None, "bot", "axios", "", Some("axios")),
    ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", None, "bot", "node-fetch", "", Some("node-fetch")),
    ("PostmanRuntime/7.42.0", None, "bot", "PostmanRuntime", "", Some("PostmanRuntime")),
    ("Scrapy/2.11.2 (+https://scrapy.org)", None, "bot", "Scrapy", "", Some("Scrapy")),
    // Unknown bots: named by their own token, or by nothing.
    ("Mozilla/5.0 (compatible; ExampleCrawler/0.3; +https://example.com)", None, "bot", "ExampleCrawler", "", Some("ExampleCrawler")),
    ("Mozilla/5.0 (compatible; Foo/1.0; +https://example.com/bot.html)", None, "bot", "bot", "", Some("bot")),
    ("SomeTool/1.0", None, "bot", "unknown", "", Some("unknown")),
    ("SomeLongerInternalTool/1.0", None, "bot", "SomeLongerInternalTool", "", Some("SomeLongerInternalTool")),
    // A product agent isbot does not flag is not a bot by its form alone any more
    // (that rule also flagged Lynx, CFNetwork apps and Amiga browsers).
    ("SomeLongerInternalTool/1.0 build 7", None, "other", "", "", None),
    ("Mozilla/5.0", Some("1920x1080"), "bot", "unknown", "", Some("unknown")),
    ("", None, "bot", "unknown", "", Some("unknown")),
    ("   ", Some("390x844"), "bot", "unknown", "", Some("unknown")),
    ("-", None, "bot", "unknown", "", Some("unknown")),
];

fn expected(case: &Case) -> UserAgentInfo {
    let (_, _, device, browser, os, bot_name) = *case;
    UserAgentInfo {
        device: device.to_owned(),
        browser: browser.to_owned(),
        os: os.to_owned(),
        is_bot: bot_name.is_some(),
        bot_name: bot_name.map(str::to_owned),
    }
}

#[test]
fn real_user_agents() {
    let mut failures = Vec::new();
    for case in CASES {
        let got = parse(case.0, case.1);
        if got != expected(case) {
            failures.push(format!(
                "{:?} {:?}\n  got      {got:?}\n  expected {:?}",
                case.0,
                case.1,
                expected(case)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(CASES.len() >= 35);
}

#[test]
fn the_desktop_chrome_on_linux_the_browser_tests_use() {
    let info = parse(CHROME_LINUX, Some(""));
    assert_eq!(
        (
            info.device.as_str(),
            info.browser.as_str(),
            info.os.as_str(),
            info.is_bot,
            info.bot_name
        ),
        ("desktop", "Chrome", "Linux", false, None)
    );
}

#[rustfmt::skip]
#[test]
fn the_screen_refines_ambiguous_agents() {
    const PHONE: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    // A foldable, unfolded, still sends a phone agent.
    const UNKNOWN: &str = "Mozilla/5.0 (Something Unheard Of) ExoticEngine/1.0";
    const ANDROID_NO_MOBILE: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    const GOOGLEBOT_PHONE: &str = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let cases: &[(&str, Option<&str>, &str)] = &[
        (PHONE, None, "mobile"),
        (PHONE, Some("390x844"), "mobile"),
        (PHONE, Some("844x390"), "mobile"),
        (PHONE, Some("884x1104"), "tablet"),
        (PHONE, Some("1920x1080"), "tablet"),
        (PHONE, Some("2560x1440"), "desktop"),
        (PHONE, Some(""), "mobile"),
        (PHONE, Some("garbage"), "mobile"),
        (PHONE, Some("0x0"), "mobile"),
        (PHONE, Some("99999x99999"), "mobile"),
        (PHONE, Some("1024×768"), "tablet"),
        (UNKNOWN, None, "other"),
        (UNKNOWN, Some("360x800"), "mobile"),
        (UNKNOWN, Some("768x1024"), "tablet"),
        (UNKNOWN, Some("1280x1024"), "desktop"),
        (UNKNOWN, Some("1920x1080"), "desktop"),
        (UNKNOWN, Some("1366x768"), "desktop"),
        (UNKNOWN, Some("800x1280"), "desktop"),
        (UNKNOWN, Some("820x1180"), "tablet"),
        (UNKNOWN, Some("2560x1440"), "desktop"),
        (ANDROID_NO_MOBILE, None, "tablet"),
        (ANDROID_NO_MOBILE, Some("800x1280"), "tablet"),
        (ANDROID_NO_MOBILE, Some("600x960"), "tablet"),
        (ANDROID_NO_MOBILE, Some("412x915"), "mobile"),
        (IPAD, Some("744x1133"), "tablet"),
        (IPAD, Some("1024x1366"), "tablet"),
        (MAC, Some("1024x1366"), "desktop"),
        (CHROME_LINUX, Some("390x844"), "desktop"),
        (GOOGLEBOT_PHONE, Some("412x732"), "bot"),
        ("", Some("390x844"), "bot"),
    ];
    for &(agent, screen, device) in cases {
        assert_eq!(parse(agent, screen).device, device, "{agent:?} {screen:?}");
    }
    assert!(parse(GOOGLEBOT_PHONE, Some("412x732")).is_bot);
}

#[test]
fn screen_sizes() {
    assert_eq!(shorter_side("1920x1080"), Some(1080));
    assert_eq!(shorter_side(" 390 X 844 "), Some(390));
    assert_eq!(shorter_side("768×1024"), Some(768));
    for bad in [
        "",
        "x",
        "1920",
        "1920x",
        "x1080",
        "0x1080",
        "-1x5",
        "1.5x2",
        "20000x1000",
        "axb",
    ] {
        assert_eq!(shorter_side(bad), None, "{bad:?}");
    }
}

#[test]
fn generic_tokens_do_not_misfire() {
    for human in [
        "Mozilla/5.0 (Linux; Android 8.1.0; CUBOT_POWER) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 8.0.0; CUBOT_X18_Plus Build/O00623; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/71.0.3578.99 Mobile Safari/537.36 OPR/37.6.2254.134291",
        "Mozilla/5.0 (Linux; Android 11; motorola moto g20 Build/RTA31.68-20; java) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Version/17.5.1 Safari/605.1.15 (AirWatch Browser v24.06)",
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.0.0 Mobile Safari/537.36 Instagram 300.0.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) discord/1.0.9163 Chrome/124.0.6367.243 Electron/30.2.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.41.97 Chrome/130.0.6723.91 Electron/33.2.0 Safari/537.36 AppleSilicon Sonic Slack_SSB/4.41.97",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/13.10.0.43 (like Safari/8618.2.12.10.5, panda)",
        "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 trill_330404 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/trill app_version/33.4.4 ByteLocale/en ByteFullLocale/en Region/US AppId/1180 Spark/1.4.9.4-bugfix AppVersion/33.4.4 BytedanceWebview/d8a21c6",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.0.0 Mobile DuckDuckGo/5 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 Telegram-Android/11.0.0 (Google Pixel 8; Android 14; SDK 34; HIGH)",
        "Mozilla/5.0 (Linux; Android 10; SogouMobileBrowser) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.181 Mobile Safari/537.36 SogouMSE,SogouMobileBrowser/5.37.0",
    ] {
        let info = parse(human, None);
        assert!(!info.is_bot, "{human:?} → {info:?}");
    }
    // A Cubot phone that also names a real bot is still a bot.
    let both = "Mozilla/5.0 (Linux; Android 11; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Mobile Safari/537.36 (compatible; FooBot/1.0)";
    assert_eq!(parse(both, None).bot_name.as_deref(), Some("FooBot"));
}

#[test]
fn the_bot_lists_compile_and_name_each_bot_once() {
    let named = bots::KNOWN_BOTS.len() + bots::HTTP_CLIENTS.len();
    assert_eq!(PATTERNS.len(), named + isbot_list::PATTERNS.len());
    let mut patterns: Vec<&str> = bots::KNOWN_BOTS
        .iter()
        .chain(bots::HTTP_CLIENTS)
        .map(|(pattern, _)| *pattern)
        .collect();
    patterns.sort_unstable();
    patterns.dedup();
    assert_eq!(patterns.len(), named, "duplicate pattern");
    for (pattern, name) in bots::KNOWN_BOTS.iter().chain(bots::HTTP_CLIENTS) {
        assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN, "{pattern}");
        // No pattern may match a plain current browser.
        assert!(
            !Regex::new(&format!("(?i){pattern}")).is_ok_and(|re| re.is_match(CHROME_LINUX)),
            "{pattern}"
        );
    }
    assert!(!GENERIC_BOT.is_match(CHROME_LINUX));
    assert!(!PATTERNS.is_match(CHROME_LINUX.as_bytes()));
    // Every isbot pattern compiles on its own too (for naming).
    for (pattern, regex) in isbot_list::PATTERNS.iter().zip(ISBOT_REGEXES.iter()) {
        assert!(regex.is_some(), "{}", pattern.source);
    }
    assert_eq!(isbot_list::ISBOT_VERSION, "5.2.3");
}

/// The committed sample: every line's verdict from a visitor's own request.
#[test]
fn the_committed_sample_is_classified() {
    let mut failures = Vec::new();
    let mut counts = (0, 0);
    for line in include_str!("sample.txt").lines() {
        let Some((want, agent)) = line.split_once('\t') else {
            continue;
        };
        let want_bot = match want {
            "bot" => true,
            "human" => false,
            _ => panic!("sample line {line:?}: expected `bot` or `human`"),
        };
        if want_bot {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
        let got = parse(agent, None);
        if got.is_bot != want_bot {
            failures.push(format!("{want} {agent:?} → {got:?}"));
        }
        if let Some(name) = &got.bot_name {
            assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN, "{agent:?}");
        }
    }
    assert!(counts.0 >= 30 && counts.1 >= 25, "{counts:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The authenticated API: a reported agent is judged by the crawlers and tools it
/// names, not by its shape; the request's own agent of an HTTP client is the backend.
#[rustfmt::skip]
#[test]
fn authenticated_callers_are_judged_by_names_not_shapes() {
    use AgentSource::{Caller, Reported, Visitor};
    const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    // (agent, visitor's verdict, reported verdict, caller verdict): Some(name) for a bot.
    type SourceCase = (&'static str, Option<&'static str>, Option<&'static str>, Option<&'static str>);
    let cases: &[SourceCase] = &[
        // The API document's own example agent, truncated.
        ("Mozilla/5.0...", Some("unknown"), None, None),
        ("Mozilla/5.0", Some("unknown"), None, None),
        ("", Some("unknown"), None, None),
        ("-", Some("unknown"), None, None),
        // HTTP libraries: tools in a body, the backend itself as the request's agent.
        ("python-requests/2.32.3", Some("python-requests"), Some("python-requests"), None),
        ("curl/8.5.0", Some("curl"), Some("curl"), None),
        ("Go-http-client/1.1", Some("Go-http-client"), Some("Go-http-client"), None),
        ("okhttp/4.12.0", Some("okhttp"), Some("okhttp"), None),
        ("axios/1.7.7", Some("axios"), Some("axios"), None),
        ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", Some("node-fetch"), Some("node-fetch"), None),
        ("Python/3.11 aiohttp/3.9.5", Some("aiohttp"), Some("aiohttp"), None),
        ("PostmanRuntime/7.42.0", Some("PostmanRuntime"), Some("PostmanRuntime"), None),
        // Known crawlers are bots wherever they come from.
        (GOOGLEBOT, Some("Googlebot"), Some("Googlebot"), Some("Googlebot")),
        ("Twitterbot/1.0", Some("Twitterbot"), Some("Twitterbot"), Some("Twitterbot")),
        ("Scrapy/2.11.2 (+https://scrapy.org)", Some("Scrapy"), Some("Scrapy"), Some("Scrapy")),
        ("Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", Some("CensysInspect"), Some("CensysInspect"), Some("CensysInspect")),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)", Some("FeedFetcher-Google"), Some("FeedFetcher-Google"), Some("FeedFetcher-Google")),
        // A crawler that embeds an HTTP library is still the crawler.
        ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", Some("LinkedInBot"), Some("LinkedInBot"), Some("LinkedInBot")),
        // Only its shape flags an unknown product: a bot from a visitor, not reported.
        ("SomeLongerInternalTool/1.0", Some("SomeLongerInternalTool"), None, None),
        ("SomeTool/2.0.1", Some("unknown"), None, None),
        // A monitor the hand-kept list names is a bot wherever it comes from.
        ("Uptime-Kuma/1.23.0", Some("Uptime Kuma"), Some("Uptime Kuma"), Some("Uptime Kuma")),
        // Browsers are humans everywhere.
        (CHROME_LINUX, None, None, None),
    ];
    for &(agent, visitor, reported, caller) in cases {
        for (source, want) in [(Visitor, visitor), (Reported, reported), (Caller, caller)] {
            let got = parse_from(agent, Some("1920x1080"), source);
            assert_eq!(got.bot_name.as_deref(), want, "{agent:?} as {source:?}: {got:?}");
            assert_eq!(got.is_bot, want.is_some(), "{agent:?} as {source:?}");
            assert_eq!(got.device == "bot", want.is_some(), "{agent:?} as {source:?}");
        }
    }
    // The document's example as a human: its screen still gives the device.
    let doc = parse_from("Mozilla/5.0...", Some("1920x1080"), Reported);
    assert_eq!((doc.device.as_str(), doc.is_bot), ("desktop", false));
    assert_eq!(parse_from("", Some("390x844"), Caller).device, "mobile");
}

/// HTTP clients rank after every named bot (crawlers embed them), and Rust's `(?i)`
/// negated classes exclude both cases, as JavaScript's do (the lookaround rewrites in
/// `isbot_list.rs` rely on it).
#[test]
fn the_translated_isbot_patterns_keep_their_meaning() {
    let set = |pattern: &str| {
        RegexSetBuilder::new([pattern])
            .case_insensitive(true)
            .unicode(false)
            .build()
            .expect("compiles")
    };
    let find = |source: &str| {
        isbot_list::PATTERNS
            .iter()
            .find(|p| p.source == source)
            .map(|p| set(p.regex))
            .unwrap_or_else(|| panic!("isbot has no pattern {source:?}"))
    };
    // (?<!lib)http
    let http = find("(?<!lib)http");
    for (agent, hit) in [
        ("Go-http-client/1.1", true),
        ("http", true),
        ("xhttp", true),
        ("libhttp", false),
        ("LIBHTTP", false),
        ("ibhttp", true),
        ("lib http", true),
        ("libhttp libhttp http", true),
    ] {
        assert_eq!(http.is_match(agent.as_bytes()), hit, "{agent:?}");
    }
    // (?<! cu)bots?(?:\b|_)
    let bot = find("(?<! cu)bots?(?:\\b|_)");
    for (agent, hit) in [
        ("Googlebot/2.1", true),
        ("bot", true),
        ("x CUBOT_X30", false),
        ("x cubots", false),
        ("xcubot", true),
        ("CUBOT_X30", true),
        ("x cubot robot", true),
        ("robotic", false),
    ] {
        assert_eq!(bot.is_match(agent.as_bytes()), hit, "{agent:?}");
    }
    // (?<! channel/|google/)google(?!(?:wv|app|/google| pixel))
    let google = find("(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))");
    for (agent, hit) in [
        ("Google-InspectionTool/1.0", true),
        ("google", true),
        ("GoogleWV", false),
        ("GoogleApp/1", false),
        ("Google/google", false),
        ("Google Pixel 8", false),
        ("Google Pix", true),
        ("x channel/google", false),
        ("x channel/googlebot", false),
        ("xchannel/google", true),
        ("google/google", false),
        ("google/googlex", false),
        ("GoogleWV google", true),
    ] {
        assert_eq!(google.is_match(agent.as_bytes()), hit, "{agent:?}");
    }
    // (?:^|[^g])news(?!sapphire), `[^g]` excluding `G` under case-insensitivity.
    let news = find("(?:^|[^g])news(?!sapphire)");
    for (agent, hit) in [
        ("NewsBlur/1.0", true),
        ("x news", true),
        ("Gnews", false),
        ("gNEWS", false),
        ("newssapphire", false),
        ("NewsSapphireX", false),
        ("newssapp", true),
    ] {
        assert_eq!(news.is_match(agent.as_bytes()), hit, "{agent:?}");
    }
    // java(?!;), amended: Motorola's `; java)` platform token is no Java client.
    let java = find("java(?!;)");
    for (agent, hit) in [
        ("Java/17.0.2", true),
        ("java", true),
        (
            "Mozilla/5.0 (Linux; Android 11; moto g20; java) AppleWebKit",
            false,
        ),
        ("Mozilla/5.0 (Java; x)", false),
    ] {
        assert_eq!(java.is_match(agent.as_bytes()), hit, "{agent:?}");
    }
    // sogou, amended: the Sogou mobile browser is a browser, its spiders are not.
    let sogou = find("sogou");
    for (agent, hit) in [
        (
            "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
            true,
        ),
        ("sogou", true),
        (
            "Mozilla/5.0 (Linux; Android 10; SogouMobileBrowser) SogouMSE,SogouMobileBrowser/5.37.0",
            false,
        ),
        ("SogouMobile", true),
    ] {
        assert_eq!(sogou.is_match(agent.as_bytes()), hit, "{agent:?}");
    }
    // `[\w\d-.]` keeps its literal `-` and `.`.
    let compatible =
        find("^mozilla/\\d\\.\\d\\s\\((?:compatible;)?(?:\\s?[\\w\\d-.]+[\\s/]\\d+\\.\\d+)?\\)$");
    assert!(compatible.is_match(b"Mozilla/5.0 (compatible; Foo-Bar.io/1.0)"));
    assert!(!compatible.is_match(b"Mozilla/5.0 (compatible; Foo+Bar/1.0)"));
    // Named HTTP clients come after every named bot in priority.
    assert!(matches!(entry(bots::KNOWN_BOTS.len()), Entry::Client(0)));
}

#[test]
fn long_and_odd_agents_are_safe() {
    let long = format!("Mozilla/5.0 ({}) ébot/1.0", "é".repeat(300));
    let info = parse(&long, Some("1x1"));
    assert!(info.is_bot);
    assert!(
        info.bot_name
            .as_deref()
            .is_some_and(|name| name.len() <= MAX_NAME_LEN)
    );
    let name_cut = format!("{}/1.0", "Ü".repeat(100));
    assert!(
        parse(&name_cut, None)
            .bot_name
            .is_some_and(|name| name.len() <= MAX_NAME_LEN)
    );
    let _ = parse("\u{0}\u{ffff}bot", Some("\u{0}x\u{0}"));
}

/// By hand, release build:
/// `cargo test -p pingoo --release --lib enrich::user_agent -- --ignored --nocapture`
#[test]
#[ignore = "micro-benchmark, run by hand in release mode"]
fn benchmark() {
    const ROUNDS: usize = 100_000;
    let agents: Vec<(&str, Option<&str>)> = CASES.iter().map(|case| (case.0, case.1)).collect();
    for (agent, screen) in &agents {
        std::hint::black_box(parse(agent, *screen));
    }
    let start = std::time::Instant::now();
    for _ in 0..ROUNDS {
        for (agent, screen) in &agents {
            std::hint::black_box(parse(std::hint::black_box(agent), *screen));
        }
    }
    let calls = ROUNDS * agents.len();
    let per_call = start.elapsed().as_nanos() as f64 / calls as f64;
    println!(
        "user_agent::parse: {per_call:.0} ns/call over {calls} calls ({} agents)",
        agents.len()
    );
}
