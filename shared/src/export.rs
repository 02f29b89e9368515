//! `GET /api/events/:site_id/export`: CSV downloads of a period's daily figures, of one
//! ranking (every key), or of the raw events (in parts of [`EVENTS_PER_PART`], newest
//! first, the next part linked with the event list's cursor).
//!
//! The file starts with a UTF-8 BOM so spreadsheet programs read Chinese text right, is
//! quoted per RFC 4180 (the `csv` crate), and a text cell that starts with `=`, `+`, `-`
//! or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.

use chrono::{Days, NaiveDate};
use serde::Deserialize;

use crate::error::ApiError;
use crate::events::id;
use crate::events::model::Event;
use crate::model::{Site, User};
use crate::state::AppState;
use crate::stats::query::{self, DayFigures, avg_duration, bounce_rate};
use crate::stats::rankings;
use crate::stats::service::{Period, ranking_of};
use crate::store::{EventFilter, EventRange};

/// Raw events per answer of `kind=events`.
pub const EVENTS_PER_PART: usize = 10_000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// One day: `YYYY-MM-DD` or `YYYYMMDD`, in the site's time zone (default today).
    pub date: Option<String>,
    /// A range's first day (`YYYY-MM-DD` or `YYYYMMDD`), with `end_date`; at most 366 days.
    pub start_date: Option<String>,
    /// A range's last day, with `start_date`.
    pub end_date: Option<String>,
    /// `daily`, `ranking` or `events`.
    pub kind: Option<String>,
    /// `kind=ranking`: which ranking (as `GET /api/events/{site_id}/stats`).
    pub stat_type: Option<String>,
    /// `kind=ranking`: `page_view` (default) or `custom` (as the stats' `event_type`).
    pub event_type: Option<String>,
    /// `kind=events`: where the previous part ended.
    pub cursor: Option<String>,
    /// `kind=events`: rows per part (1 to [`EVENTS_PER_PART`], the default).
    #[param(minimum = 1, maximum = 10000)]
    pub page_size: Option<usize>,
}

/// A CSV answer: its file name, its bytes (BOM included), and the query of the next part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csv {
    pub filename: String,
    pub body: Vec<u8>,
    /// `kind=events` with more to come: the `cursor` value of the next part.
    pub next_cursor: Option<String>,
}

/// The HTTP answer: the file as an attachment, and a `Link` to the next part (the same
/// request with the next `cursor`).
pub fn response(csv: Csv, uri: &axum::http::Uri) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut response = csv.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", csv.filename)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cursor) = csv.next_cursor {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .filter(|(k, _)| k != "cursor")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .chain([("cursor".to_owned(), cursor)])
                .collect();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if let Ok(v) = HeaderValue::from_str(&format!("<{}?{query}>; rel=\"next\"", uri.path())) {
            headers.insert(header::LINK, v);
        }
    }
    response
}

/// A cell as written: formula-looking text is defused with a leading `'`.
pub fn cell(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

fn writer() -> csv::Writer<Vec<u8>> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice("\u{feff}".as_bytes());
    csv::WriterBuilder::new().from_writer(out)
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ApiError> {
    w.into_inner().map_err(|e| ApiError::Internal(Box::new(e)))
}

fn write<I, T>(w: &mut csv::Writer<Vec<u8>>, row: I) -> Result<(), ApiError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    w.write_record(row)
        .map_err(|e| ApiError::Internal(Box::new(e)))
}

/// A file-name-safe form of the site's domain.
fn slug(site: &Site) -> String {
    let host = site
        .domain
        .split("://")
        .last()
        .unwrap_or_default()
        .trim_end_matches('/');
    let s: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        format!("site-{}", site.id)
    } else {
        s
    }
}

/// `<site>-<kind>-<from>-<to>.csv`.
pub fn filename(site: &Site, kind: &str, from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "{}-{kind}-{}-{}.csv",
        slug(site),
        from.format("%Y%m%d"),
        to.format("%Y%m%d")
    )
}

pub async fn export(
    state: &AppState,
    user: &User,
    site_id: u64,
    q: ExportQuery,
) -> Result<Csv, ApiError> {
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("") => "daily",
        Some(k @ ("daily" | "ranking" | "events")) => k,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "kind {other:?} is not one of: daily, ranking, events"
            )));
        }
    };
    let part_size = match q.page_size {
        None => EVENTS_PER_PART,
        Some(n) if (1..=EVENTS_PER_PART).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "page_size must be between 1 and {EVENTS_PER_PART}; got {n}"
            )));
        }
    };
    let stat = match kind {
        "ranking" => Some(ranking_of(q.stat_type.as_deref(), q.event_type.as_deref())?),
        _ => None,
    };
    let site = crate::sites::service::owned(state, user, site_id).await?;
    let tz = crate::time::site_tz(&site.timezone);
    let (from, to) = q.period_in(tz)?;
    let name = match stat {
        Some(stat) => format!("{kind}-{}", stat.as_str()),
        None => kind.to_owned(),
    };
    let filename = filename(&site, &name, from, to);
    let mut w = writer();
    let mut next_cursor = None;
    match (kind, stat) {
        ("ranking", Some(stat)) => {
            let (mut all, _) =
                rankings::rankings(&state.db, site.id, site.generation, from, to, &[stat]).await?;
            write(&mut w, ["key", "count"])?;
            for row in all.remove(&stat).unwrap_or_default() {
                write(&mut w, [cell(&row.key).as_ref(), &row.count.to_string()])?;
            }
        }
        ("events", _) => {
            let range = EventRange {
                site_id: site.id,
                generation: site.generation,
                first_id: id::first_id_at(crate::time::day_start(from, tz)),
                last_id: id::first_id_at(crate::time::day_start(
                    to.checked_add_days(Days::new(1)).unwrap_or(to),
                    tz,
                ))
                .saturating_sub(1),
                filter: EventFilter::default(),
            };
            let (range, part) = match q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                None => (range, 1),
                Some(raw) => {
                    let cursor = crate::events::service::decode_cursor(raw)
                        .ok_or_else(|| ApiError::bad_request("cursor is invalid"))?;
                    let mut range = range;
                    range.last_id = range.last_id.min(cursor.last_id.saturating_sub(1));
                    (range, cursor.page + 1)
                }
            };
            let mut events = state.db.newest_events(&range, part_size + 1).await?;
            let more = events.len() > part_size;
            events.truncate(part_size);
            write(&mut w, EVENT_COLUMNS)?;
            for e in &events {
                write_event(&mut w, e)?;
            }
            if more && let Some(last) = events.last() {
                next_cursor = Some(crate::events::service::encode_cursor(
                    crate::events::service::Cursor {
                        last_id: last.id,
                        total: 0,
                        total_exact: true,
                        page: part,
                    },
                ));
            }
        }
        _ => {
            let days = query::day_figures(&state.db, site.id, site.generation, from, to).await?;
            write(
                &mut w,
                [
                    "date",
                    "pv",
                    "uv",
                    "ip_count",
                    "event_count",
                    "bounce_rate",
                    "avg_duration",
                ],
            )?;
            for (d, f) in days {
                write(&mut w, daily_row(d, &f))?;
            }
        }
    }
    Ok(Csv {
        filename,
        body: finish(w)?,
        next_cursor,
    })
}

fn daily_row(day: NaiveDate, f: &DayFigures) -> [String; 7] {
    [
        day.format("%Y-%m-%d").to_string(),
        f.pv.to_string(),
        f.uv.to_string(),
        f.ip_count.to_string(),
        f.event_count.to_string(),
        serde_json::Value::from(bounce_rate(&f.sessions)).to_string(),
        avg_duration(&f.sessions).to_string(),
    ]
}

/// Every stored field of an event.
pub const EVENT_COLUMNS: [&str; 20] = [
    "id",
    "created_at",
    "session_id",
    "user_id",
    "ip",
    "url",
    "referrer",
    "user_agent",
    "device",
    "browser",
    "os",
    "screen",
    "is_bot",
    "bot_name",
    "country",
    "subdivision",
    "city",
    "isp",
    "event_type",
    "event_value",
];

fn write_event(w: &mut csv::Writer<Vec<u8>>, e: &Event) -> Result<(), ApiError> {
    let id = e.id.to_string();
    let is_bot = e.is_bot.to_string();
    write(
        w,
        [
            id.as_str(),
            &e.created_at,
            &cell(&e.session_id),
            &cell(&e.user_id),
            &e.ip,
            &cell(&e.url),
            &cell(&e.referrer),
            &cell(&e.user_agent),
            &e.device,
            &e.browser,
            &e.os,
            &cell(&e.screen),
            &is_bot,
            &cell(&e.bot_name),
            &e.country,
            &e.subdivision,
            &e.city,
            &e.isp,
            &cell(&e.event_type),
            &cell(&e.event_value),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_others_kept() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("/pricing"), "/pricing");
        assert_eq!(cell("长春"), "长春");
    }

    #[test]
    fn quoting_follows_rfc_4180_and_starts_with_a_bom() {
        let mut w = writer();
        write(&mut w, ["a,b", "say \"hi\"", "line\nbreak", "plain"]).unwrap_or_default();
        let body = finish(w).unwrap_or_default();
        let text = String::from_utf8(body).unwrap_or_default();
        assert_eq!(
            text,
            "\u{feff}\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",plain\n"
        );
    }
}
