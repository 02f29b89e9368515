//! Accounts: registration, login, tokens, profile and password changes.

pub mod password;
pub mod service;
pub mod token;

pub use service::{AuthResponse, UserView};
