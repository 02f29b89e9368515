//! Random identifiers.

use base64::Engine;

/// Fills `dest` from the operating system's CSPRNG.
///
/// The OS generator failing is not something a request can recover from (and does not
/// happen on Linux once booted), so this panics rather than hand out predictable bytes.
pub fn fill_random(dest: &mut [u8]) {
    #[allow(clippy::expect_used)]
    getrandom::fill(dest).expect("the operating system's random number generator failed");
}

/// An unguessable, URL-safe public id for a site's tracker: 128 random bits, 22 characters.
pub fn tracking_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `raw` could be a tracking id (ours are 22 characters; up to 128 of the same
/// URL-safe alphabet are accepted): checked before a lookup, so that no input reaches
/// DynamoDB as a key it refuses (over 2,048 bytes).
pub fn is_plausible_tracking_id(raw: &str) -> bool {
    (1..=128).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implausible_tracking_ids_are_refused_before_any_lookup() {
        assert!(is_plausible_tracking_id(&tracking_id()));
        assert!(!is_plausible_tracking_id(""));
        assert!(!is_plausible_tracking_id(&"a".repeat(129)));
        assert!(!is_plausible_tracking_id("abc def"));
        assert!(!is_plausible_tracking_id("长"));
    }

    #[test]
    fn tracking_ids_are_url_safe_and_distinct() {
        let a = tracking_id();
        let b = tracking_id();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
