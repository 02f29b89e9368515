//! The statistics endpoints: parameters, ownership, then a read of the counters.

use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::facts::StatType;
use super::query::{self, Ranking, Summary};
use crate::error::ApiError;
use crate::model::User;
use crate::state::AppState;

/// Longest range a summary covers.
pub const MAX_RANGE_DAYS: u64 = 366;

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    pub date: Option<String>,
    pub page: Option<usize>,
    pub stat_type: Option<String>,
    pub event_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SummaryQuery {
    pub date: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
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

/// `GET /api/events/:site_id/stats`.
pub async fn stats(
    state: &AppState,
    user: &User,
    site_id: u64,
    q: StatsQuery,
) -> Result<Ranking, ApiError> {
    let stat = ranking_of(q.stat_type.as_deref(), q.event_type.as_deref())?;
    let page = match q.page {
        None => 1,
        Some(0) => return Err(ApiError::bad_request("page must be at least 1")),
        Some(p) => p,
    };
    let site = crate::sites::service::owned(state, user, site_id).await?;
    let tz = crate::time::site_tz(&site.timezone);
    let day = parse_date("date", q.date.as_deref(), tz)?;
    let (ranking, cost) =
        query::ranking(&state.db, site.id, site.generation, day, stat, page).await?;
    tracing::debug!(site_id, read_units = cost.units, "stats read");
    Ok(ranking)
}

/// `GET /api/events/:site_id/summary`.
pub async fn summary(
    state: &AppState,
    user: &User,
    site_id: u64,
    q: SummaryQuery,
) -> Result<Summary, ApiError> {
    let site = crate::sites::service::owned(state, user, site_id).await?;
    let tz = crate::time::site_tz(&site.timezone);
    let (from, to) = match (&q.start_date, &q.end_date) {
        (None, None) => {
            let day = parse_date("date", q.date.as_deref(), tz)?;
            (day, day)
        }
        (start, end) => {
            if q.date.is_some() {
                return Err(ApiError::bad_request(
                    "give either date or start_date/end_date, not both",
                ));
            }
            let to = parse_date("end_date", end.as_deref(), tz)?;
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
                    "a summary covers at most {MAX_RANGE_DAYS} days"
                )));
            }
            (from, to)
        }
    };
    let (summary, cost) = query::summary(&state.db, site.id, site.generation, from, to).await?;
    tracing::debug!(site_id, read_units = cost.units, "summary read");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

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
