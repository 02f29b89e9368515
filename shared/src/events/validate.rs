//! Limits on event fields. Every failure is a 400 that names the field.

use crate::error::ApiError;

pub const MAX_URL: usize = 2048;
pub const MAX_USER_AGENT: usize = 512;
pub const MAX_EVENT_TYPE: usize = 32;
pub const MAX_EVENT_VALUE: usize = 256;
pub const MAX_ID: usize = 64;

/// An event before enrichment: from the JWT API or from a beacon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInput {
    pub session_id: String,
    pub user_id: String,
    pub url: String,
    pub referrer: String,
    pub user_agent: String,
    pub screen: String,
    pub event_type: String,
    pub event_value: String,
}

fn too_long(field: &str, max: usize) -> ApiError {
    ApiError::bad_request(format!("{field} must be at most {max} characters"))
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(too_long(field, max));
    }
    Ok(())
}

fn required(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field} is required")));
    }
    Ok(())
}

/// `1920x1080`: two numbers of 1 to 5 digits.
pub fn is_screen(value: &str) -> bool {
    let Some((w, h)) = value.split_once('x') else {
        return false;
    };
    let number = |s: &str| (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    number(w) && number(h)
}

/// `[a-z0-9_]`, 1 to 32 characters.
pub fn is_event_type(value: &str) -> bool {
    (1..=MAX_EVENT_TYPE).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl EventInput {
    /// Trims and checks every field.
    pub fn validate(mut self) -> Result<EventInput, ApiError> {
        for field in [
            &mut self.session_id,
            &mut self.user_id,
            &mut self.url,
            &mut self.referrer,
            &mut self.screen,
            &mut self.event_type,
        ] {
            *field = field.trim().to_owned();
        }
        required("session_id", &self.session_id)?;
        check_len("session_id", &self.session_id, MAX_ID)?;
        check_len("user_id", &self.user_id, MAX_ID)?;
        required("url", &self.url)?;
        check_len("url", &self.url, MAX_URL)?;
        check_len("referrer", &self.referrer, MAX_URL)?;
        check_len("user_agent", &self.user_agent, MAX_USER_AGENT)?;
        required("event_type", &self.event_type)?;
        if !is_event_type(&self.event_type) {
            return Err(ApiError::bad_request(format!(
                "event_type must be 1 to {MAX_EVENT_TYPE} characters of a-z, 0-9 and _"
            )));
        }
        check_len("event_value", &self.event_value, MAX_EVENT_VALUE)?;
        if !self.screen.is_empty() && !is_screen(&self.screen) {
            return Err(ApiError::bad_request(
                "screen must look like 1920x1080".to_owned(),
            ));
        }
        Ok(self)
    }
}

/// A header value cut to `max` characters (a too-long User-Agent header is truncated,
/// not refused: the visitor did not choose it).
pub fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> EventInput {
        EventInput {
            session_id: "session_123".into(),
            url: "https://example.com/page".into(),
            event_type: "page_view".into(),
            ..EventInput::default()
        }
    }

    fn error(input: EventInput) -> String {
        input.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_minimal_event_is_valid() {
        let input = EventInput {
            screen: "1920x1080".into(),
            ..valid()
        };
        assert_eq!(input.clone().validate().unwrap(), input);
    }

    #[test]
    fn failures_name_the_field() {
        assert_eq!(
            error(EventInput {
                session_id: " ".into(),
                ..valid()
            }),
            "session_id is required"
        );
        assert_eq!(
            error(EventInput {
                url: String::new(),
                ..valid()
            }),
            "url is required"
        );
        assert_eq!(
            error(EventInput {
                event_type: String::new(),
                ..valid()
            }),
            "event_type is required"
        );
        assert!(
            error(EventInput {
                url: "u".repeat(2049),
                ..valid()
            })
            .starts_with("url must be at most 2048")
        );
        assert!(
            error(EventInput {
                referrer: "r".repeat(2049),
                ..valid()
            })
            .starts_with("referrer")
        );
        assert!(
            error(EventInput {
                user_agent: "a".repeat(513),
                ..valid()
            })
            .starts_with("user_agent")
        );
        assert!(
            error(EventInput {
                event_value: "v".repeat(257),
                ..valid()
            })
            .starts_with("event_value")
        );
        assert!(
            error(EventInput {
                session_id: "s".repeat(65),
                ..valid()
            })
            .starts_with("session_id")
        );
        assert!(
            error(EventInput {
                user_id: "u".repeat(65),
                ..valid()
            })
            .starts_with("user_id")
        );
        for bad in ["Page_View", "page-view", "页面", &"a".repeat(33)] {
            assert!(
                error(EventInput {
                    event_type: bad.into(),
                    ..valid()
                })
                .starts_with("event_type must be"),
                "{bad}"
            );
        }
        for bad in ["1920*1080", "x", "1920x", "123456x1", "big"] {
            assert_eq!(
                error(EventInput {
                    screen: bad.into(),
                    ..valid()
                }),
                "screen must look like 1920x1080",
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let input = EventInput {
            event_value: "值".repeat(256),
            ..valid()
        };
        assert!(input.validate().is_ok());
    }
}
