//! tracing setup: human-readable by default, JSON lines with `--json-logs`; `RUST_LOG` overrides
//! the level.

use tracing_subscriber::EnvFilter;

pub fn init(quiet: bool, json: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}
