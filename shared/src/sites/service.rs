//! What the `/api/sites*` routes do.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::model::{Site, User, now_rfc3339};
use crate::state::AppState;
use crate::store::SiteChanges;

pub const MAX_NAME_LEN: usize = 100;
pub const DEFAULT_PAGE_SIZE: usize = 10;
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSite {
    pub name: String,
    pub domain: String,
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSite {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<usize>,
    /// Sites per page, default 10; above 100 is read as 100.
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// Keeps sites whose name or domain contains this text (case-insensitive).
    pub search: Option<String>,
    /// `summary`: each site also carries its recent figures.
    pub include: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// `yyyymm`; default the current month in the site's time zone.
    pub month: Option<String>,
}

/// A site as the API shows it.
pub type SiteView = Site;

/// A listed site: the site, and with `include=summary` its recent figures.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedSite {
    #[serde(flatten)]
    pub site: SiteView,
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub summary: Option<crate::stats::usage::RecentFigures>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SiteList {
    pub list: Vec<ListedSite>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

fn validate_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "name must be 1 to {MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// Checks an IANA time zone name (`Europe/Paris`, `Asia/Shanghai`, `UTC`).
pub fn validate_timezone(raw: &str) -> Result<String, ApiError> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            ApiError::bad_request(format!(
                "timezone {raw:?} is not an IANA time zone name (like Europe/Paris or UTC)"
            ))
        })
}

pub async fn create(state: &AppState, user: &User, req: CreateSite) -> Result<SiteView, ApiError> {
    let name = validate_name(&req.name)?;
    let domain = super::domain::normalize(&req.domain)?;
    let timezone = validate_timezone(req.timezone.as_deref().unwrap_or("UTC"))?;
    let now = now_rfc3339();
    let site = Site {
        id: state.db.next_id("site").await?,
        user_id: user.id,
        name,
        domain,
        tracking_id: crate::ids::tracking_id(),
        timezone,
        generation: 0,
        created_at: now.clone(),
        updated_at: now,
    };
    let max = state.config.max_sites_per_user;
    match state.db.create_site(&site, max).await? {
        Ok(()) => {}
        Err(crate::store::SiteRefused::Limit) => {
            return Err(ApiError::Forbidden(format!(
                "a user may have at most {max} sites; delete one first"
            )));
        }
        Err(crate::store::SiteRefused::NoUser) => {
            return Err(ApiError::InvalidToken("user no longer exists".into()));
        }
    }
    tracing::info!(site_id = site.id, user_id = user.id, "site created");
    Ok(site)
}

pub async fn list(state: &AppState, user: &User, query: ListQuery) -> Result<SiteList, ApiError> {
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::bad_request("page must be at least 1"));
    }
    let page_size = match query.limit {
        None => DEFAULT_PAGE_SIZE,
        Some(0) => return Err(ApiError::bad_request("limit must be at least 1")),
        Some(limit) => limit.min(MAX_PAGE_SIZE),
    };
    let with_summary = match query.include.as_deref().map(str::trim) {
        None | Some("") => false,
        Some("summary") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "include {other:?} is not one of: summary"
            )));
        }
    };
    let needle = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let mut sites = state.db.list_sites(user.id).await?;
    if let Some(needle) = &needle {
        sites.retain(|site| {
            site.name.to_lowercase().contains(needle.as_str())
                || site.domain.to_lowercase().contains(needle.as_str())
        });
    }
    // Newest first; ids grow with creation time.
    sites.sort_by_key(|site| std::cmp::Reverse(site.id));
    let total = sites.len();
    let page_sites: Vec<Site> = sites
        .into_iter()
        .skip((page - 1).saturating_mul(page_size))
        .take(page_size)
        .collect();
    let mut figures = if with_summary {
        let wanted: Vec<(u64, u64, chrono::NaiveDate)> = page_sites
            .iter()
            .map(|s| {
                let tz = crate::time::site_tz(&s.timezone);
                (
                    s.id,
                    s.generation,
                    chrono::Utc::now().with_timezone(&tz).date_naive(),
                )
            })
            .collect();
        let (figures, cost) = crate::stats::usage::recent(&state.db, &wanted).await?;
        tracing::debug!(
            sites = wanted.len(),
            read_units = cost.units,
            "site figures read"
        );
        figures
    } else {
        Default::default()
    };
    let list = page_sites
        .into_iter()
        .map(|site| ListedSite {
            summary: with_summary.then(|| figures.remove(&site.id).unwrap_or_default()),
            site,
        })
        .collect();
    Ok(SiteList {
        list,
        total,
        page,
        page_size,
    })
}

/// `GET /api/sites/:id/usage`: a month's events and their estimated cost.
pub async fn usage(
    state: &AppState,
    user: &User,
    id: u64,
    query: UsageQuery,
) -> Result<crate::stats::usage::Usage, ApiError> {
    let site = owned(state, user, id).await?;
    let tz = crate::time::site_tz(&site.timezone);
    let first = match query
        .month
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        None => {
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            today.with_day(1).unwrap_or(today)
        }
        Some(raw) => parse_month(raw).ok_or_else(|| {
            ApiError::bad_request(format!("month must look like 202612; got {raw:?}"))
        })?,
    };
    let (usage, cost) =
        crate::stats::usage::usage(&state.db, site.id, site.generation, first).await?;
    tracing::debug!(site_id = id, read_units = cost.units, "usage read");
    Ok(usage)
}

/// `yyyymm` (or `yyyy-mm`) → the month's first day.
fn parse_month(raw: &str) -> Option<chrono::NaiveDate> {
    let digits: String = raw.chars().filter(|c| *c != '-').collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[..4].parse().ok()?;
    let month: u32 = digits[4..].parse().ok()?;
    if !(2000..=9999).contains(&year) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
}

/// The site if `user` owns it: 404 if it does not exist, 403 if it is someone else's.
pub async fn owned(state: &AppState, user: &User, id: u64) -> Result<Site, ApiError> {
    let site = state
        .db
        .get_site(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site {id} not found")))?;
    crate::http::record_site(id);
    if site.user_id != user.id {
        return Err(ApiError::Forbidden(format!(
            "site {id} belongs to another user"
        )));
    }
    Ok(site)
}

pub async fn update(
    state: &AppState,
    user: &User,
    id: u64,
    req: UpdateSite,
) -> Result<SiteView, ApiError> {
    let changes = SiteChanges {
        name: req.name.as_deref().map(validate_name).transpose()?,
        domain: req
            .domain
            .as_deref()
            .map(super::domain::normalize)
            .transpose()?,
        timezone: req.timezone.as_deref().map(validate_timezone).transpose()?,
    };
    if changes.name.is_none() && changes.domain.is_none() && changes.timezone.is_none() {
        return Err(ApiError::bad_request(
            "nothing to update: give name, domain and/or timezone",
        ));
    }
    owned(state, user, id).await?;
    state
        .db
        .update_site(id, user.id, &changes, &now_rfc3339())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site {id} not found")))
}

/// Attempts at a write conditional on the site's generation (delete, clear) before the
/// request gives up with a 409.
const GENERATION_ATTEMPTS: u32 = 5;

/// A short jittered pause before re-reading a site whose generation moved under a write,
/// so that racing requests spread out instead of colliding again.
async fn generation_backoff(attempt: u32) {
    let mut jitter = [0u8; 1];
    crate::ids::fill_random(&mut jitter);
    let millis = (5u64 << attempt.min(4)) + u64::from(jitter[0] % 16);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// What a request answers when the site kept moving under it (409).
fn kept_changing(id: u64, while_: &str) -> ApiError {
    ApiError::Conflict(format!("site {id} kept changing while {while_}; try again"))
}

/// `DELETE /api/sites/:id`: the site, its tracking-id guard and a purge job for its current
/// generation go in one transaction, conditional on the generation read here. If a
/// concurrent clear moved the generation first, the site is read again, so the purge job
/// always names the last generation (the clear queued the ones before).
pub async fn delete(state: &AppState, user: &User, id: u64) -> Result<(), ApiError> {
    for attempt in 0..GENERATION_ATTEMPTS {
        if attempt > 0 {
            generation_backoff(attempt).await;
        }
        let site = owned(state, user, id).await?;
        if state.db.delete_site(&site).await? {
            crate::shares::delete_all(state, id).await?;
            tracing::info!(
                site_id = id,
                user_id = user.id,
                generation = site.generation,
                "site deleted"
            );
            return Ok(());
        }
    }
    Err(kept_changing(id, "being deleted"))
}

/// `DELETE /api/sites/:id/stats`: the site moves to a new generation, so its counters and
/// events read as empty at once and new events count from zero; the old generation is
/// purged in the background. Retries if a concurrent clear moved the generation first.
pub async fn clear_stats(state: &AppState, user: &User, id: u64) -> Result<(), ApiError> {
    for attempt in 0..GENERATION_ATTEMPTS {
        if attempt > 0 {
            generation_backoff(attempt).await;
        }
        let site = owned(state, user, id).await?;
        if state.db.clear_site_stats(&site).await? {
            tracing::info!(site_id = id, user_id = user.id, "statistics cleared");
            return Ok(());
        }
    }
    Err(kept_changing(id, "its statistics were cleared"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezones_are_iana_names() {
        assert_eq!(validate_timezone("Europe/Paris").unwrap(), "Europe/Paris");
        assert_eq!(validate_timezone(" UTC ").unwrap(), "UTC");
        assert_eq!(validate_timezone("Asia/Shanghai").unwrap(), "Asia/Shanghai");
        assert!(validate_timezone("Mars/Olympus").is_err());
        assert!(validate_timezone("").is_err());
        assert!(
            validate_timezone("+08:00")
                .unwrap_err()
                .to_string()
                .starts_with("timezone")
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name(" 我的网站 ").unwrap(), "我的网站");
        assert!(validate_name("").is_err());
        assert!(validate_name(&"n".repeat(101)).is_err());
    }
}
