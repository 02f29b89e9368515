//! The statistics endpoints: parameters, ownership, then a read of the counters.

use chrono::{Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::facts::StatType;
use super::query::{self, Summary};
use super::rankings::{self, Breakdown, MAX_PAGE_SIZE, PAGE_SIZE, Ranking};
use crate::error::ApiError;
use crate::model::{Site, User};
use crate::state::AppState;

/// Longest range a summary covers.
pub const MAX_RANGE_DAYS: u64 = 366;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// One day: `YYYY-MM-DD` or `YYYYMMDD`, in the site's time zone (default today).
    pub date: Option<String>,
    /// A range's first day (`YYYY-MM-DD` or `YYYYMMDD`), with `end_date`; at most 366 days.
    pub start_date: Option<String>,
    /// A range's last day, with `start_date`.
    pub end_date: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<usize>,
    /// Keys per page, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<usize>,
    /// The ranking: url (default), referrer, browser, os, device, country, city, isp,
    /// screen, event_type or bot.
    pub stat_type: Option<String>,
    /// `page_view` (default: the ranking of page views) or `custom` (custom events,
    /// ranked by their value).
    pub event_type: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// One day: `YYYY-MM-DD` or `YYYYMMDD`, in the site's time zone (default today).
    pub date: Option<String>,
    /// A range's first day (`YYYY-MM-DD` or `YYYYMMDD`), with `end_date`; at most 366 days.
    pub start_date: Option<String>,
    /// A range's last day, with `start_date`.
    pub end_date: Option<String>,
    /// `previous` or `year`.
    pub compare: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownQuery {
    /// One day: `YYYY-MM-DD` or `YYYYMMDD`, in the site's time zone (default today).
    pub date: Option<String>,
    /// A range's first day (`YYYY-MM-DD` or `YYYYMMDD`), with `end_date`; at most 366 days.
    pub start_date: Option<String>,
    /// A range's last day, with `start_date`.
    pub end_date: Option<String>,
    /// Comma-separated stat types; all when absent.
    pub stat_types: Option<String>,
    /// Top keys per ranking, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// What a summary is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The period of equal length that ends the day before.
    Previous,
    /// The same days one year earlier.
    Year,
}

impl Compare {
    pub fn parse(raw: Option<&str>) -> Result<Option<Compare>, ApiError> {
        match raw.map(str::trim).filter(|r| !r.is_empty()) {
            None => Ok(None),
            Some("previous") => Ok(Some(Compare::Previous)),
            Some("year") => Ok(Some(Compare::Year)),
            Some(other) => Err(ApiError::bad_request(format!(
                "compare {other:?} is not one of: previous, year"
            ))),
        }
    }

    /// The period compared with `from..=to`.
    pub fn period(self, from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Compare::Previous => {
                let len = (to - from).num_days().unsigned_abs() + 1;
                let end = from.pred_opt().unwrap_or(from);
                let start = end.checked_sub_days(Days::new(len - 1)).unwrap_or(end);
                (start, end)
            }
            Compare::Year => {
                let back = |d: NaiveDate| d.checked_sub_months(Months::new(12)).unwrap_or(d);
                (back(from), back(to))
            }
        }
    }
}

/// The days a request asks for: `date` alone (default today in the site's time zone), or
/// `start_date`/`end_date` (at most [`MAX_RANGE_DAYS`]), never both.
pub fn period(
    date: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
    tz: Tz,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let (start, end) = (given(start), given(end));
    if start.is_none() && end.is_none() {
        let day = parse_date("date", date, tz)?;
        return Ok((day, day));
    }
    if given(date).is_some() {
        return Err(ApiError::bad_request(
            "give either date or start_date/end_date, not both",
        ));
    }
    let to = parse_date("end_date", end, tz)?;
    let from = match start {
        Some(raw) => parse_date("start_date", Some(raw), tz)?,
        None => to,
    };
    if from > to {
        return Err(ApiError::bad_request(
            "start_date must not be after end_date",
        ));
    }
    if from
        .checked_add_days(Days::new(MAX_RANGE_DAYS))
        .is_some_and(|limit| to >= limit)
    {
        return Err(ApiError::bad_request(format!(
            "a period covers at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

/// A request that names its days by `date`, or by `start_date`/`end_date`.
pub trait Period {
    fn days(&self) -> [Option<&str>; 3];

    /// Its days in the site's time zone (see [`period`]).
    fn period_in(&self, tz: Tz) -> Result<(NaiveDate, NaiveDate), ApiError> {
        let [date, start, end] = self.days();
        period(date, start, end, tz)
    }
}

macro_rules! periods_of {
    ($($query:ty),*) => {$(
        impl Period for $query {
            fn days(&self) -> [Option<&str>; 3] {
                [
                    self.date.as_deref(),
                    self.start_date.as_deref(),
                    self.end_date.as_deref(),
                ]
            }
        }
    )*};
}
periods_of!(
    StatsQuery,
    SummaryQuery,
    BreakdownQuery,
    crate::export::ExportQuery
);

fn page_size(raw: Option<usize>, field: &str, default: usize) -> Result<usize, ApiError> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "{field} must be between 1 and {MAX_PAGE_SIZE}; got {n}"
        ))),
    }
}

/// The stat types a breakdown asks for: every one when absent; unknown or repeated
/// names are a 400 naming them.
pub fn stat_types(raw: Option<&str>) -> Result<Vec<StatType>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(StatType::ALL.to_vec());
    };
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    let mut repeated = Vec::new();
    for name in raw.split(',').map(str::trim) {
        match StatType::parse(name) {
            Some(t) if out.contains(&t) => repeated.push(name),
            Some(t) => out.push(t),
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "stat_types has unknown types {unknown:?}; valid: {}",
            valid_stat_types()
        )));
    }
    if !repeated.is_empty() {
        return Err(ApiError::bad_request(format!(
            "stat_types repeats {repeated:?}"
        )));
    }
    Ok(out)
}

fn today(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

fn parse_date(field: &str, raw: Option<&str>, tz: Tz) -> Result<NaiveDate, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(today(tz)),
        Some(raw) => crate::time::parse_day(raw).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{field} must be a date like 20250915 or 2025-09-15; got {raw:?}"
            ))
        }),
    }
}

fn valid_stat_types() -> String {
    StatType::ALL.map(StatType::as_str).join(", ")
}

/// Which ranking a `stat_type` and `event_type` pair asks for.
pub fn ranking_of(stat_type: Option<&str>, event_type: Option<&str>) -> Result<StatType, ApiError> {
    let stat = match stat_type.map(str::trim).filter(|s| !s.is_empty()) {
        None => StatType::Url,
        Some(raw) => StatType::parse(raw).ok_or_else(|| {
            ApiError::bad_request(format!(
                "stat_type {raw:?} is not one of: {}",
                valid_stat_types()
            ))
        })?,
    };
    match event_type.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("page_view") => Ok(stat),
        // Custom events are ranked by their value, as the original product does.
        Some("custom") => Ok(StatType::EventType),
        Some(other) => Err(ApiError::bad_request(format!(
            "event_type {other:?} is not one of: page_view, custom"
        ))),
    }
}

/// A ranking request's parameters that do not depend on the site: checked before the
/// site is, so bad input is a 400 whoever asks.
struct RankingParams {
    stat: StatType,
    page: usize,
    size: usize,
}

impl StatsQuery {
    fn checked(&self) -> Result<RankingParams, ApiError> {
        let stat = ranking_of(self.stat_type.as_deref(), self.event_type.as_deref())?;
        let page = match self.page {
            None => 1,
            Some(0) => return Err(ApiError::bad_request("page must be at least 1")),
            Some(p) => p,
        };
        let size = page_size(self.page_size, "page_size", PAGE_SIZE)?;
        Ok(RankingParams { stat, page, size })
    }
}

/// `GET /api/events/:site_id/stats`.
pub async fn stats(
    state: &AppState,
    user: &User,
    site_id: u64,
    q: StatsQuery,
) -> Result<Ranking, ApiError> {
    let params = q.checked()?;
    let site = crate::sites::service::owned(state, user, site_id).await?;
    stats_of(state, &site, params, &q).await
}

/// [`stats`] of a site already checked (by its owner or a share).
pub async fn stats_for(state: &AppState, site: &Site, q: StatsQuery) -> Result<Ranking, ApiError> {
    stats_of(state, site, q.checked()?, &q).await
}

async fn stats_of(
    state: &AppState,
    site: &Site,
    p: RankingParams,
    q: &StatsQuery,
) -> Result<Ranking, ApiError> {
    let (from, to) = q.period_in(crate::time::site_tz(&site.timezone))?;
    let (ranking, cost) = rankings::ranking_range(
        &state.db,
        site.id,
        site.generation,
        from,
        to,
        p.stat,
        p.page,
        p.size,
    )
    .await?;
    tracing::debug!(site_id = site.id, read_units = cost.units, "stats read");
    Ok(ranking)
}

impl BreakdownQuery {
    fn checked(&self) -> Result<(Vec<StatType>, usize), ApiError> {
        Ok((
            stat_types(self.stat_types.as_deref())?,
            page_size(self.limit, "limit", PAGE_SIZE)?,
        ))
    }
}

/// `GET /api/events/:site_id/breakdown`.
pub async fn breakdown(
    state: &AppState,
    user: &User,
    site_id: u64,
    q: BreakdownQuery,
) -> Result<Breakdown, ApiError> {
    let params = q.checked()?;
    let site = crate::sites::service::owned(state, user, site_id).await?;
    breakdown_of(state, &site, params, &q).await
}

/// [`breakdown`] of a site already checked (by its owner or a share).
pub async fn breakdown_for(
    state: &AppState,
    site: &Site,
    q: BreakdownQuery,
) -> Result<Breakdown, ApiError> {
    breakdown_of(state, site, q.checked()?, &q).await
}

async fn breakdown_of(
    state: &AppState,
    site: &Site,
    (types, limit): (Vec<StatType>, usize),
    q: &BreakdownQuery,
) -> Result<Breakdown, ApiError> {
    let (from, to) = q.period_in(crate::time::site_tz(&site.timezone))?;
    let (out, cost) =
        rankings::breakdown(&state.db, site.id, site.generation, from, to, &types, limit).await?;
    tracing::debug!(site_id = site.id, read_units = cost.units, "breakdown read");
    Ok(out)
}

/// The clock the endpoints read (tests pass their own instant to the functions below).
pub fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

/// `GET /api/events/:site_id/realtime`, at `now`.
pub async fn realtime(
    state: &AppState,
    user: &User,
    site_id: u64,
    now: chrono::DateTime<Utc>,
) -> Result<super::realtime::Realtime, ApiError> {
    let site = crate::sites::service::owned(state, user, site_id).await?;
    realtime_for(state, &site, now).await
}

/// [`realtime`] of a site already checked (by its owner or a share).
pub async fn realtime_for(
    state: &AppState,
    site: &Site,
    now: chrono::DateTime<Utc>,
) -> Result<super::realtime::Realtime, ApiError> {
    let (out, cost) = super::realtime::realtime(&state.db, site.id, site.generation, now).await?;
    tracing::debug!(site_id = site.id, read_units = cost.units, "realtime read");
    Ok(out)
}

/// `GET /api/events/:site_id/summary`.
pub async fn summary(
    state: &AppState,
    user: &User,
    site_id: u64,
    q: SummaryQuery,
) -> Result<Summary, ApiError> {
    let compare = Compare::parse(q.compare.as_deref())?;
    let site = crate::sites::service::owned(state, user, site_id).await?;
    summary_of(state, &site, compare, &q).await
}

/// [`summary`] of a site already checked (by its owner or a share).
pub async fn summary_for(
    state: &AppState,
    site: &Site,
    q: SummaryQuery,
) -> Result<Summary, ApiError> {
    summary_of(state, site, Compare::parse(q.compare.as_deref())?, &q).await
}

async fn summary_of(
    state: &AppState,
    site: &Site,
    compare: Option<Compare>,
    q: &SummaryQuery,
) -> Result<Summary, ApiError> {
    let (from, to) = q.period_in(crate::time::site_tz(&site.timezone))?;
    let current = query::summary(&state.db, site.id, site.generation, from, to);
    let (summary, cost) = match compare {
        None => current.await?,
        Some(compare) => {
            let (pfrom, pto) = compare.period(from, to);
            let previous = query::summary(&state.db, site.id, site.generation, pfrom, pto);
            let (now, before) = futures::try_join!(current, previous)?;
            let (mut summary, mut cost) = now;
            cost += before.1;
            summary.previous = Some(Box::new(before.0.into()));
            (summary, cost)
        }
    };
    tracing::debug!(site_id = site.id, read_units = cost.units, "summary read");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn compared_periods() {
        // A day: the day before.
        assert_eq!(
            Compare::Previous.period(d(2026, 3, 1), d(2026, 3, 1)),
            (d(2026, 2, 28), d(2026, 2, 28))
        );
        // 30 days ending on the 30th: the 30 days before.
        assert_eq!(
            Compare::Previous.period(d(2026, 11, 1), d(2026, 11, 30)),
            (d(2026, 10, 2), d(2026, 10, 31))
        );
        // A year back; 29 February becomes the 28th.
        assert_eq!(
            Compare::Year.period(d(2028, 2, 29), d(2028, 3, 6)),
            (d(2027, 2, 28), d(2027, 3, 6))
        );
        assert!(Compare::parse(Some("week")).is_err());
        assert_eq!(Compare::parse(None).ok(), Some(None));
    }

    #[test]
    fn breakdown_types() {
        assert_eq!(stat_types(None).ok().map(|t| t.len()), Some(11));
        assert_eq!(
            stat_types(Some("url, event_type")).ok(),
            Some(vec![StatType::Url, StatType::EventType])
        );
        let err = |raw| {
            stat_types(Some(raw))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err("url,nope").contains("nope"));
        assert!(err("url,url").contains("repeats"));
    }

    #[test]
    fn periods() {
        let tz = chrono_tz::UTC;
        assert!(period(Some("20260101"), Some("20260101"), None, tz).is_err());
        assert!(period(None, Some("20260105"), Some("20260101"), tz).is_err());
        assert!(period(None, Some("20240101"), Some("20250101"), tz).is_err());
        assert!(period(None, Some("20250101"), Some("20260101"), tz).is_ok());
        assert_eq!(
            period(None, Some("2026-01-01"), Some("20260131"), tz).ok(),
            Some((d(2026, 1, 1), d(2026, 1, 31)))
        );
        assert!(page_size(Some(101), "page_size", 10).is_err());
        assert!(page_size(Some(0), "page_size", 10).is_err());
    }

    #[test]
    fn stat_and_event_types() {
        assert_eq!(ranking_of(None, None).ok(), Some(StatType::Url));
        assert_eq!(
            ranking_of(Some("os"), Some("page_view")).ok(),
            Some(StatType::Os)
        );
        assert_eq!(
            ranking_of(Some("url"), Some("custom")).ok(),
            Some(StatType::EventType)
        );
        let err = ranking_of(Some("nope"), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("url, referrer"), "{err}");
        assert!(ranking_of(None, Some("click")).is_err());
    }
}
