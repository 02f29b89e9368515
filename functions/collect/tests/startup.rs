//! The public beacon never handles tokens: in production it starts without `JWT_SECRET`
//! (the template does not give it the key) and goes on to ask the Runtime API for work.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn production_start_without_jwt_secret_reaches_the_runtime_api() {
    // A stand-in Runtime API: the first connection proves the function got past its
    // configuration and into the runtime loop.
    let runtime = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    runtime
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let address = runtime.local_addr().expect("the listener's address");

    let mut child = Command::new(env!("CARGO_BIN_EXE_collect"))
        .env_clear()
        .env("PINGOO_ENV", "production")
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "collect")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the collect binary runs");

    let deadline = Instant::now() + Duration::from_secs(20);
    let connected = loop {
        match runtime.accept() {
            Ok(_) => break true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accepting on the stand-in Runtime API: {e}"),
        }
        if child.try_wait().expect("polling the child").is_some() || Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut log);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut log);
    }
    assert!(
        connected,
        "collect never asked the Runtime API for work:\n{log}"
    );
    assert!(!log.contains("refusing to start"), "{log}");
}
