//! Layered configuration: built-in defaults (the `Default` of the settings type),
//! then an optional TOML file, then environment variables.
//!
//! Environment variables use a prefix and `__` between levels, so that
//! `IDENTITY__TOKEN__LIFETIME_SECS=600` sets `token.lifetime_secs` of the identity
//! service. A few well-known names (`DATABASE_URL`, `AMQP_URL`, ...) are mapped by
//! the caller through [`Layers::alias`].

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
}

/// How to assemble one settings value.
pub struct Layers {
    prefix: String,
    files: Vec<PathBuf>,
    aliases: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
}

impl Layers {
    /// `prefix` is the environment prefix without the trailing `__` (e.g. `GATEWAY`).
    pub fn new(prefix: &str) -> Self {
        Layers {
            prefix: prefix.to_string(),
            files: Vec::new(),
            aliases: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// A TOML file that is read if it exists.
    pub fn file(mut self, path: impl AsRef<Path>) -> Self {
        self.files.push(path.as_ref().to_path_buf());
        self
    }

    /// Maps a plain environment variable (e.g. `DATABASE_URL`) to a settings key
    /// (e.g. `database.url`). Prefixed variables win over aliases.
    pub fn alias(mut self, env_var: &str, key: &str) -> Self {
        self.aliases.push((env_var.to_string(), key.to_string()));
        self
    }

    /// A value set by the program itself (highest precedence), e.g. for tests.
    pub fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        self.overrides.push((key.to_string(), value.into()));
        self
    }

    /// Builds `T`, starting from `T::default()` so every field has its documented default.
    pub fn load<T>(self) -> Result<T, SettingsError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let defaults = Config::try_from(&T::default())?;
        let mut b = Config::builder().add_source(defaults);
        for f in &self.files {
            b = b.add_source(
                File::from(f.as_path())
                    .format(FileFormat::Toml)
                    .required(false),
            );
        }
        for (var, key) in &self.aliases {
            if let Ok(v) = std::env::var(var) {
                b = b.set_override(key.as_str(), v)?;
            }
        }
        b = b.add_source(
            Environment::with_prefix(&self.prefix)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        for (k, v) in &self.overrides {
            b = b.set_override(k.as_str(), v.as_str())?;
        }
        Ok(b.build()?.try_deserialize()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct S {
        name: String,
        port: u16,
        nested: N,
    }
    #[derive(Debug, Serialize, Deserialize, PartialEq, Default)]
    #[serde(default, deny_unknown_fields)]
    struct N {
        flag: bool,
    }
    impl Default for S {
        fn default() -> Self {
            S {
                name: "x".into(),
                port: 1,
                nested: N::default(),
            }
        }
    }

    #[test]
    fn file_then_override_layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, "port = 7\n[nested]\nflag = true\n").unwrap();
        let s: S = Layers::new("SETTINGS_TEST_UNUSED")
            .file(&p)
            .set("name", "y")
            .load()
            .unwrap();
        assert_eq!(
            s,
            S {
                name: "y".into(),
                port: 7,
                nested: N { flag: true }
            }
        );
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq, Default)]
    #[serde(default)]
    struct WithSecret {
        url: crate::Secret<String>,
    }

    #[test]
    fn secret_defaults_survive_layering() {
        let s: WithSecret = Layers::new("SETTINGS_TEST_UNUSED").load().unwrap();
        assert_eq!(s.url.expose(), "");
        let s: WithSecret = Layers::new("SETTINGS_TEST_UNUSED")
            .set("url", "x://y")
            .load()
            .unwrap();
        assert_eq!(s.url.expose(), "x://y");
    }

    #[test]
    fn unknown_keys_in_a_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, "prot = 7\n").unwrap();
        let r: Result<S, _> = Layers::new("SETTINGS_TEST_UNUSED").file(&p).load();
        assert!(r.is_err());
    }
}
