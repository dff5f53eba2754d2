//! One tracing set-up for every binary: JSON lines for machines or a pretty format
//! for people, filtered by `RUST_LOG` or the configured level.

use serde::{Deserialize, Serialize};
use tracing_subscriber::{fmt, EnvFilter};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `json` (default) or `pretty`.
    pub format: LogFormat,
    /// A filter directive such as `info` or `info,sqlx=warn`; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            format: LogFormat::Json,
            level: "info,sqlx=warn,sea_orm=warn,lapin=warn".to_string(),
        }
    }
}

/// Installs the global subscriber. Calling it twice is harmless (the second call is
/// ignored), so tests and the embedded platform can both call it.
pub fn init(settings: &TelemetrySettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// For tests: logs only when `TEST_LOG` is set, so test output stays readable.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init(&TelemetrySettings {
            format: LogFormat::Pretty,
            level: "debug,sqlx=warn,hyper=info,lapin=info".into(),
        });
    }
}
