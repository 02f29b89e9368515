//! The deployed binary refuses to start without its production secret.

use std::process::Command;

#[test]
fn production_start_without_jwt_secret_fails_loudly() {
    let output = Command::new(env!("CARGO_BIN_EXE_auth"))
        .env_clear()
        .env("PINGOO_ENV", "production")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("the auth binary runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let log = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("refusing to start"), "{log}");
    assert!(log.contains("JWT_SECRET is missing"), "{log}");
}

#[test]
fn production_start_with_a_short_secret_fails_loudly() {
    let output = Command::new(env!("CARGO_BIN_EXE_auth"))
        .env_clear()
        .env("PINGOO_ENV", "production")
        .env("JWT_SECRET", "short")
        .output()
        .expect("the auth binary runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("JWT_SECRET is too short"), "{log}");
}
