//! Accounts: registration, login, tokens, profile and password changes, API keys,
//! account deletion.

pub mod account;
pub mod keys;
pub mod limits;
pub mod password;
pub mod service;
pub mod sessions;
pub mod token;

pub use service::{AuthResponse, UserView};
