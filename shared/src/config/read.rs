//! Reading the settings: the table's defaults under the environment, each value parsed by
//! its setting, one message per setting that does not parse.

use std::{collections::BTreeMap, fmt::Display, str::FromStr};

use figment::{Figment, providers::Serialized};
use url::Url;

use super::{ConfigError, SETTINGS, Service};

/// The defaults of every setting for `service`, under the values `environment` gives.
/// Values stay text as written (figment's `Env` would read `007` as the number 7); each is
/// parsed by its setting.
pub(super) fn layers(service: Service, environment: impl Fn(&str) -> Option<String>) -> Figment {
    let defaults: BTreeMap<&str, &str> = SETTINGS
        .iter()
        .filter_map(|setting| Some((setting.env, (setting.default)(service)?)))
        .collect();
    let set: BTreeMap<&str, String> = SETTINGS
        .iter()
        .filter_map(|setting| Some((setting.env, environment(setting.env)?)))
        .collect();
    Figment::from(Serialized::defaults(defaults)).merge(Serialized::defaults(set))
}

/// A setting that did not parse; its message is in the reader's errors.
#[derive(Debug)]
pub(super) struct Invalid;

impl From<Invalid> for ConfigError {
    fn from(Invalid: Invalid) -> Self {
        ConfigError(Vec::new())
    }
}

/// Reads settings out of the layers, collecting one message per setting that does not parse.
pub(super) struct Reader<'a> {
    pub(super) layers: &'a Figment,
    pub(super) errors: Vec<String>,
}

impl Reader<'_> {
    /// The value of `env`, `None` when it is unset and has no default.
    pub(super) fn optional(&mut self, env: &'static str) -> Result<Option<String>, Invalid> {
        debug_assert!(
            SETTINGS.iter().any(|s| s.env == env),
            "{env} is not in SETTINGS"
        );
        match self.layers.find_value(env) {
            Err(_) => Ok(None),
            Ok(value) => match value.into_string() {
                Some(text) => Ok(Some(text)),
                None => self.invalid(env, "?", "not text"),
            },
        }
    }

    pub(super) fn parse<T>(&mut self, env: &'static str) -> Result<T, Invalid>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.parse_with(env, |text| text.parse::<T>().map_err(|e| e.to_string()))
    }

    pub(super) fn parse_with<T>(
        &mut self,
        env: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, Invalid> {
        let Some(text) = self.optional(env)? else {
            return self.invalid(env, "", "must be set");
        };
        match parse(&text) {
            Ok(value) => Ok(value),
            Err(reason) => self.invalid(env, &text, &reason),
        }
    }

    /// A list setting, empty while it is unset.
    pub(super) fn list_with<T>(
        &mut self,
        env: &'static str,
        parse: impl Fn(&str) -> Result<Vec<T>, String>,
    ) -> Result<Vec<T>, Invalid> {
        match self.optional(env)? {
            None => Ok(Vec::new()),
            Some(text) => match parse(&text) {
                Ok(values) => Ok(values),
                Err(reason) => self.invalid(env, &text, &reason),
            },
        }
    }

    fn invalid<T>(&mut self, env: &str, text: &str, reason: &str) -> Result<T, Invalid> {
        let reason = match reason {
            // `NonZero*` says only "invalid digit" or "number would be zero…".
            "number would be zero for non-zero type" => "must be at least 1",
            other => other,
        };
        self.errors.push(format!("{env}={text:?}: {reason}"));
        Err(Invalid)
    }
}

/// A whole number from `low` to `high`.
pub(super) fn within<T>(low: T, high: T) -> impl Fn(&str) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display + Copy,
    T::Err: Display,
{
    move |text| {
        let value = text.trim().parse::<T>().map_err(|e| e.to_string())?;
        if value < low || value > high {
            return Err(format!("must be from {low} to {high}"));
        }
        Ok(value)
    }
}

/// An absolute `http://` or `https://` URL.
pub(super) fn http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        _ => Err("expected an http:// or https:// URL".into()),
    }
}

/// A boolean setting as operators write it: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
pub(super) fn flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!("expected true/false or 1/0, found {other:?}")),
    }
}

/// A comma-separated list of CIDR ranges or bare addresses (each standing for itself);
/// empty for none.
pub(super) fn networks(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            crate::trigger_settings::parse_ip_range(entry).ok_or_else(|| {
                format!("\"{entry}\" is neither an IP address nor a CIDR range such as 10.0.0.0/8")
            })
        })
        .collect()
}
