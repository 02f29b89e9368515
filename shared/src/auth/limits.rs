//! Who is limited how: the attempt counters of login, registration, password changes and
//! share unlocks, and their keys.
//!
//! A counter's key is a keyed SHA-256 of what it counts (kind, e-mail, user or share id,
//! client network) under the JWT secret: the app table holds neither addresses nor
//! networks, and a reader of the table cannot test guesses against the keys.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::config::AttemptLimit;
use crate::error::{ApiError, Limited};
use crate::state::AppState;
use crate::store::LoginAttempt;

/// What one counter counts.
#[derive(Debug, Clone, Copy)]
pub enum Counter<'a> {
    /// Failed logins of one e-mail from one client network.
    Login { email: &'a str, network: Network },
    /// Failed logins of one e-mail from every network (the distributed-guessing ceiling).
    LoginPerEmail { email: &'a str },
    /// Registrations from one client network.
    Register { network: Network },
    /// Wrong `old_password`s of one user from one client network.
    Password { user_id: u64, network: Network },
    /// Failed unlocks of one share from one client network.
    ShareUnlock { share_id: u64, network: Network },
}

/// A client's network: the /24 of an IPv4 and the /48 of an IPv6 address. Requests whose
/// address is unknown (never on API Gateway, which always reports `sourceIp`) share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network(Option<IpAddr>);

impl Network {
    pub fn of(client: Option<IpAddr>) -> Network {
        Network(client.map(crate::enrich::ip::anonymize))
    }

    fn text(self) -> String {
        self.0.map(|net| net.to_string()).unwrap_or_default()
    }
}

impl Counter<'_> {
    /// The counter's key: 64 hex digits.
    pub fn key(&self, secret: &[u8]) -> String {
        let parts: Vec<String> = match *self {
            Counter::Login { email, network } => vec!["login".into(), email.into(), network.text()],
            Counter::LoginPerEmail { email } => vec!["login-email".into(), email.into()],
            Counter::Register { network } => vec!["register".into(), network.text()],
            Counter::Password { user_id, network } => {
                vec!["password".into(), user_id.to_string(), network.text()]
            }
            Counter::ShareUnlock { share_id, network } => {
                vec!["share".into(), share_id.to_string(), network.text()]
            }
        };
        let mut hash = Sha256::new();
        // Length-prefixed, so no two different part lists hash the same input.
        for part in std::iter::once(secret).chain(parts.iter().map(String::as_bytes)) {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// The key of `counter` in this deployment.
pub fn key(state: &AppState, counter: Counter<'_>) -> String {
    counter.key(&state.config.jwt_secret)
}

/// Counts one attempt under `key`, or answers 429 naming `what` when the limit is reached.
pub async fn reserve(
    state: &AppState,
    key: &str,
    limit: AttemptLimit,
    what: Limited,
) -> Result<(), ApiError> {
    let now = state.clock.now().timestamp();
    match state.db.reserve_attempt(key, now, limit).await? {
        LoginAttempt::Allowed => Ok(()),
        LoginAttempt::Blocked { retry_after_secs } => Err(ApiError::TooManyRequests {
            what,
            retry_after_secs,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(ip: &str) -> Network {
        Network::of(Some(ip.parse().unwrap()))
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        assert_eq!(net("81.2.69.142"), net("81.2.69.7"));
        assert_ne!(net("81.2.69.142"), net("81.2.70.142"));
        assert_eq!(net("2001:db8:1:2::1"), net("2001:db8:1:ffff::9"));
        assert_ne!(net("2001:db8:1::1"), net("2001:db8:2::1"));
        assert_eq!(net("::ffff:81.2.69.1"), net("81.2.69.200"));
    }

    #[test]
    fn keys_are_keyed_hashes_that_name_nothing() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let email = "ada@example.com";
        let here = Counter::Login {
            email,
            network: net("81.2.69.142"),
        };
        let key = here.key(secret);
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!key.contains("ada"));
        // Same network, same counter; another network, another kind or another secret:
        // another counter.
        let same = Counter::Login {
            email,
            network: net("81.2.69.1"),
        };
        assert_eq!(same.key(secret), key);
        let elsewhere = Counter::Login {
            email,
            network: net("203.0.113.9"),
        };
        assert_ne!(elsewhere.key(secret), key);
        assert_ne!(Counter::LoginPerEmail { email }.key(secret), key);
        assert_ne!(here.key(b"another secret of at least 32 bytes"), key);
        // Length prefixes keep parts apart.
        let a = Counter::Password {
            user_id: 12,
            network: Network::of(None),
        };
        let b = Counter::ShareUnlock {
            share_id: 12,
            network: Network::of(None),
        };
        assert_ne!(a.key(secret), b.key(secret));
    }
}
