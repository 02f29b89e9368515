//! Dates in query strings, read in a site's time zone.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::ApiError;

/// Which end of a range a date bounds: a bare end date includes its whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Start,
    End,
}

/// Parses `20250915`, `2025-09-15` (a day in `tz`) or an RFC 3339 instant.
///
/// A day as `Start` is its first instant, as `End` its last millisecond. `field` names the
/// parameter in the error.
pub fn parse_bound(
    field: &str,
    raw: &str,
    tz: Tz,
    bound: Bound,
) -> Result<DateTime<Utc>, ApiError> {
    let raw = raw.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return Ok(instant.with_timezone(&Utc));
    }
    let day = parse_day(raw).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{field} must be a date like 20250915 or 2025-09-15, or an RFC 3339 time; got {raw:?}"
        ))
    })?;
    Ok(match bound {
        Bound::Start => day_start(day, tz),
        Bound::End => {
            day_start(
                day.checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX),
                tz,
            ) - chrono::Duration::milliseconds(1)
        }
    })
}

/// `20250915` or `2025-09-15`.
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    match raw.len() {
        8 => NaiveDate::parse_from_str(raw, "%Y%m%d").ok(),
        10 => NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok(),
        _ => None,
    }
}

/// The first instant of `day` in `tz` (the earliest valid local time if midnight does not
/// exist, as on some DST changes).
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        // Midnight skipped by DST: the day starts an hour later.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(
                || Utc.from_utc_datetime(&midnight),
                |t| t.with_timezone(&Utc),
            ),
    }
}

/// A site's time zone; UTC if the stored name is somehow invalid.
pub fn site_tz(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_are_read_in_the_sites_zone() {
        let shanghai: Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(
            parse_bound("start_time", "20250915", shanghai, Bound::Start).unwrap(),
            utc("2025-09-14T16:00:00Z")
        );
        assert_eq!(
            parse_bound("end_time", "2025-09-15", shanghai, Bound::End).unwrap(),
            utc("2025-09-15T15:59:59.999Z")
        );
        assert_eq!(
            parse_bound("end_time", "2025-09-15", Tz::UTC, Bound::End).unwrap(),
            utc("2025-09-15T23:59:59.999Z")
        );
    }

    #[test]
    fn instants_are_taken_as_given() {
        assert_eq!(
            parse_bound(
                "start_time",
                "2025-09-24T14:58:37+08:00",
                Tz::UTC,
                Bound::Start
            )
            .unwrap(),
            utc("2025-09-24T06:58:37Z")
        );
    }

    #[test]
    fn bad_dates_name_the_field() {
        for bad in ["2025-13-01", "yesterday", "20250231", "2025/09/15", ""] {
            let err = parse_bound("end_time", bad, Tz::UTC, Bound::End).unwrap_err();
            assert!(err.to_string().starts_with("end_time must be"), "{bad}");
        }
    }

    #[test]
    fn dst_gaps_do_not_break_day_starts() {
        // Santiago skips midnight when DST starts (2024-09-08).
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let start = day_start(NaiveDate::from_ymd_opt(2024, 9, 8).unwrap(), santiago);
        assert_eq!(start, utc("2024-09-08T04:00:00Z"));
    }
}
