//! Configuration: every setting the server reads, where it comes from, and
//! how it is checked.
//!
//! Each setting can be given as a command-line flag or as an environment
//! variable (the flag wins). Environment variables are how containers are
//! configured (`docker run -e PORT=9000`), flags are handier on a laptop.
//!
//! Everything is validated here, once, at start-up: a bad URL or a missing CA
//! file stops the process with a clear message and a non-zero exit, instead
//! of surfacing later as a confusing error on the first page view.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;

use crate::github::proxy::{Proxy, ProxyError};
use crate::github::{BaseUrl, Token};
use crate::guards::trusted_proxies::TrustedProxies;

/// All settings of a running server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the server listens. The address defaults to 0.0.0.0 so that a
    /// container's published port reaches it.
    pub listen: SocketAddr,
    /// GitHub's REST API, or a GitHub Enterprise Server's `/api/v3`.
    pub api_url: BaseUrl,
    /// Where avatars come from: `{avatar_url}/u/{id}?s=SIZE&v=4`.
    pub avatar_url: BaseUrl,
    /// Optional API token, sent as `Authorization: Bearer ...`.
    pub token: Option<Token>,
    /// A PEM file of extra roots, trusted in addition to the bundled ones.
    pub extra_ca_file: Option<PathBuf>,
    /// The outbound proxy, from `HTTPS_PROXY`/`ALL_PROXY` and `NO_PROXY`:
    /// environment only, the convention every HTTP client shares.
    pub proxy: Proxy,
    /// How long a contributor list is served without asking GitHub again.
    pub cache_ttl: Duration,
    /// How many contributor lists the cache holds at most.
    pub cache_entries: usize,
    /// How many bytes of contributor lists the cache holds at most.
    pub cache_bytes: usize,
    /// How many bytes of avatar images the cache holds at most.
    pub avatar_cache_bytes: usize,
    /// Time allowed to open a TCP connection upstream.
    pub connect_timeout: Duration,
    /// Time allowed for a whole upstream exchange, body included.
    pub upstream_timeout: Duration,
    /// Client connections served at once; more are turned away with a 503.
    pub max_connections: usize,
    /// Time allowed for in-flight requests to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// Where visitors reach this app (`https://host[/path]`, no trailing
    /// slash), for the snippets of the page's Embed box; `None`: unknown.
    pub public_url: Option<String>,
    /// Time a client gets, from connecting (or from the first byte after
    /// an idle spell), to send a complete request head.
    pub header_timeout: Duration,
    /// Time a kept-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// Time a client may go without reading while we have bytes to send.
    pub write_timeout: Duration,
    /// How long a "no such repository" (404, 410, 451) is remembered.
    pub negative_cache_ttl: Duration,
    /// Lookups that reach GitHub, per client per minute; 0: no limit.
    pub client_lookups: u32,
    /// Avatars fetched from the avatar host, per client per minute; 0: no
    /// limit.
    pub client_avatars: u32,
    /// Connections one client (address, or IPv6 /64) may hold; 0: no cap.
    pub client_connections: usize,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// One setting: its flag, its environment variable, its default and its
/// help text. Each is a named constant below, and `Config::from_sources`
/// reads them by name, so a misspelt setting is a compile error.
pub struct Setting {
    pub flag: &'static str,
    pub env: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const PORT: Setting = Setting {
    flag: "port",
    env: "PORT",
    default: "8080",
    help: "TCP port to listen on",
};

pub const BIND: Setting = Setting {
    flag: "bind",
    env: "CONTRIBUTORS_BIND",
    default: "0.0.0.0",
    help: "IP address to listen on",
};

pub const API_URL: Setting = Setting {
    flag: "api-url",
    env: "GITHUB_API_URL",
    default: "https://api.github.com",
    help: "GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3)",
};

pub const AVATAR_URL: Setting = Setting {
    flag: "avatar-url",
    env: "CONTRIBUTORS_AVATAR_URL",
    default: "https://avatars.githubusercontent.com",
    help: "avatar server base URL",
};

pub const TOKEN: Setting = Setting {
    flag: "token",
    env: "GITHUB_TOKEN",
    default: "",
    help: "GitHub token (prefer the environment variable: flags show in `ps`)",
};

pub const EXTRA_CA_FILE: Setting = Setting {
    flag: "extra-ca-file",
    env: "CONTRIBUTORS_EXTRA_CA_FILE",
    default: "",
    help: "PEM file of extra CA roots to trust besides the bundled ones",
};

pub const CACHE_TTL: Setting = Setting {
    flag: "cache-ttl",
    env: "CONTRIBUTORS_CACHE_TTL",
    default: "600",
    help: "seconds a contributor list is served from the cache",
};

pub const CACHE_ENTRIES: Setting = Setting {
    flag: "cache-entries",
    env: "CONTRIBUTORS_CACHE_ENTRIES",
    default: "1000",
    help: "contributor lists kept in the cache at most",
};

pub const CACHE_BYTES: Setting = Setting {
    flag: "cache-bytes",
    env: "CONTRIBUTORS_CACHE_BYTES",
    default: "16777216",
    help: "bytes of contributor lists kept in the cache at most",
};

pub const AVATAR_CACHE_BYTES: Setting = Setting {
    flag: "avatar-cache-bytes",
    env: "CONTRIBUTORS_AVATAR_CACHE_BYTES",
    default: "33554432",
    help: "bytes of avatar images kept in the cache at most",
};

pub const CONNECT_TIMEOUT: Setting = Setting {
    flag: "connect-timeout",
    env: "CONTRIBUTORS_CONNECT_TIMEOUT",
    default: "3",
    help: "seconds allowed to connect to GitHub",
};

pub const UPSTREAM_TIMEOUT: Setting = Setting {
    flag: "upstream-timeout",
    env: "CONTRIBUTORS_UPSTREAM_TIMEOUT",
    default: "10",
    help: "seconds allowed for a whole request to GitHub",
};

pub const MAX_CONNECTIONS: Setting = Setting {
    flag: "max-connections",
    env: "CONTRIBUTORS_MAX_CONNECTIONS",
    default: "1024",
    help: "client connections served at once",
};

pub const SHUTDOWN_GRACE: Setting = Setting {
    flag: "shutdown-grace",
    env: "CONTRIBUTORS_SHUTDOWN_GRACE",
    default: "5",
    help: "seconds in-flight requests get to finish after SIGTERM",
};

pub const HEADER_TIMEOUT: Setting = Setting {
    flag: "header-timeout",
    env: "CONTRIBUTORS_HEADER_TIMEOUT",
    default: "5",
    help: "seconds a client gets to send its request headers, from connecting",
};

// Above the 60 s that nginx and cloud load balancers keep idle connections
// to a backend open: the proxy, not this server, should close them first.
pub const IDLE_TIMEOUT: Setting = Setting {
    flag: "idle-timeout",
    env: "CONTRIBUTORS_IDLE_TIMEOUT",
    default: "75",
    help: "seconds a keep-alive connection may idle between requests",
};

pub const WRITE_TIMEOUT: Setting = Setting {
    flag: "write-timeout",
    env: "CONTRIBUTORS_WRITE_TIMEOUT",
    default: "10",
    help: "seconds a client may stop reading a response before it is dropped",
};

pub const NEGATIVE_CACHE_TTL: Setting = Setting {
    flag: "negative-cache-ttl",
    env: "CONTRIBUTORS_NEGATIVE_CACHE_TTL",
    default: "60",
    help: "seconds a missing repository (404, 410, 451) is remembered",
};

pub const CLIENT_LOOKUPS: Setting = Setting {
    flag: "client-lookups",
    env: "CONTRIBUTORS_CLIENT_LOOKUPS",
    default: "30",
    help: "calls to GitHub's API a client may cause per minute, one per page of 100 contributors (0: no limit)",
};

pub const CLIENT_AVATARS: Setting = Setting {
    flag: "client-avatars",
    env: "CONTRIBUTORS_CLIENT_AVATARS",
    default: "1000",
    help: "avatars a client may have fetched from the avatar host per minute (0: no limit)",
};

pub const CLIENT_CONNECTIONS: Setting = Setting {
    flag: "client-connections",
    env: "CONTRIBUTORS_CLIENT_CONNECTIONS",
    default: "64",
    help: "connections one client address may hold at once (0: no cap; trusted proxies are exempt)",
};

pub const TRUSTED_PROXIES: Setting = Setting {
    flag: "trusted-proxies",
    env: "CONTRIBUTORS_TRUSTED_PROXIES",
    default: "",
    help: "comma-separated CIDRs of proxies whose X-Forwarded-For names the client",
};

pub const PUBLIC_URL: Setting = Setting {
    flag: "public-url",
    env: "CONTRIBUTORS_PUBLIC_URL",
    default: "",
    help: "the address visitors reach this app at, for the page's Embed snippets",
};

/// Every setting, in the order `--help` and the README show them.
pub const SETTINGS: &[&Setting] = &[
    &PORT,
    &BIND,
    &API_URL,
    &AVATAR_URL,
    &TOKEN,
    &EXTRA_CA_FILE,
    &CACHE_TTL,
    &CACHE_ENTRIES,
    &CACHE_BYTES,
    &AVATAR_CACHE_BYTES,
    &CONNECT_TIMEOUT,
    &UPSTREAM_TIMEOUT,
    &MAX_CONNECTIONS,
    &SHUTDOWN_GRACE,
    &HEADER_TIMEOUT,
    &IDLE_TIMEOUT,
    &WRITE_TIMEOUT,
    &NEGATIVE_CACHE_TTL,
    &CLIENT_LOOKUPS,
    &CLIENT_AVATARS,
    &CLIENT_CONNECTIONS,
    &TRUSTED_PROXIES,
    &PUBLIC_URL,
];

/// A configuration mistake, reported once at start-up.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A value that does not parse, with the setting it belongs to.
    Invalid {
        setting: String,
        value: String,
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid {
                setting,
                value,
                reason,
            } => write!(f, "invalid {setting} {value:?}: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ProxyError> for ConfigError {
    fn from(error: ProxyError) -> ConfigError {
        ConfigError::Invalid {
            setting: error.setting.into(),
            value: error.value,
            reason: error.reason,
        }
    }
}

impl Config {
    /// Builds the configuration from flags (`--api-url X` → `"api-url"`) and
    /// an environment lookup. Flags take precedence over the environment.
    ///
    /// The environment is passed in rather than read here so that tests can
    /// build configurations without touching the process environment.
    pub fn from_sources(
        flags: &HashMap<String, String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        // Look a setting up: the flag, else the variable, else the default.
        // An empty variable counts as unset, as `docker run -e X=` intends.
        let value = |setting: &Setting| -> (String, String) {
            if let Some(v) = flags.get(setting.flag) {
                return (format!("--{}", setting.flag), v.clone());
            }
            match env(setting.env) {
                Some(v) if !v.is_empty() => (setting.env.to_string(), v),
                _ => (setting.env.to_string(), setting.default.to_string()),
            }
        };

        let port: u16 = parse(value(&PORT), "expected a port number 0-65535")?;
        let bind: IpAddr = parse(value(&BIND), "expected an IP address")?;
        let (token_name, token) = value(&TOKEN);
        let token = if token.is_empty() {
            None
        } else {
            Some(Token::new(token).map_err(|reason| ConfigError::Invalid {
                setting: token_name,
                value: "(hidden)".into(),
                reason,
            })?)
        };
        let (_, extra_ca) = value(&EXTRA_CA_FILE);
        let (proxies_name, proxies) = value(&TRUSTED_PROXIES);
        let trusted_proxies =
            TrustedProxies::parse(&proxies).map_err(|reason| ConfigError::Invalid {
                setting: proxies_name,
                value: proxies,
                reason,
            })?;

        Ok(Config {
            listen: SocketAddr::new(bind, port),
            api_url: base_url(value(&API_URL))?,
            avatar_url: base_url(value(&AVATAR_URL))?,
            token,
            extra_ca_file: (!extra_ca.is_empty()).then(|| PathBuf::from(extra_ca)),
            proxy: Proxy::from_env(&env)?,
            cache_ttl: seconds(value(&CACHE_TTL), 0)?,
            cache_entries: positive(value(&CACHE_ENTRIES))?,
            cache_bytes: positive(value(&CACHE_BYTES))?,
            avatar_cache_bytes: positive(value(&AVATAR_CACHE_BYTES))?,
            connect_timeout: seconds(value(&CONNECT_TIMEOUT), 1)?,
            upstream_timeout: seconds(value(&UPSTREAM_TIMEOUT), 1)?,
            max_connections: positive(value(&MAX_CONNECTIONS))?,
            shutdown_grace: seconds(value(&SHUTDOWN_GRACE), 0)?,
            public_url: public_url(value(&PUBLIC_URL))?,
            header_timeout: seconds(value(&HEADER_TIMEOUT), 1)?,
            idle_timeout: seconds(value(&IDLE_TIMEOUT), 1)?,
            write_timeout: seconds(value(&WRITE_TIMEOUT), 1)?,
            negative_cache_ttl: seconds(value(&NEGATIVE_CACHE_TTL), 0)?,
            client_lookups: parse(
                value(&CLIENT_LOOKUPS),
                "expected a whole number of lookups a minute (0: no limit)",
            )?,
            client_avatars: parse(
                value(&CLIENT_AVATARS),
                "expected a whole number of avatars a minute (0: no limit)",
            )?,
            client_connections: parse(
                value(&CLIENT_CONNECTIONS),
                "expected a whole number of connections (0: no cap)",
            )?,
            trusted_proxies,
        })
    }

    /// Defaults only, listening on an ephemeral loopback port: a starting
    /// point for tests.
    pub fn for_loopback() -> Config {
        let mut config =
            Config::from_sources(&HashMap::new(), |_| None).expect("the defaults are valid");
        config.listen = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        config
    }
}

fn parse<T: std::str::FromStr>(
    (setting, value): (String, String),
    reason: &str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid {
        setting,
        value,
        reason: reason.into(),
    })
}

fn positive((setting, value): (String, String)) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ConfigError::Invalid {
            setting,
            value,
            reason: "expected a whole number above 0".into(),
        }),
    }
}

fn seconds((setting, value): (String, String), min: u64) -> Result<Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n >= min && n <= 86_400 => Ok(Duration::from_secs(n)),
        _ => Err(ConfigError::Invalid {
            setting,
            value,
            reason: format!("expected whole seconds from {min} to 86400"),
        }),
    }
}

/// The public address: empty, or `http(s)://host[:port][/path]` without a
/// query or credentials. It is only ever shown (in the Embed snippets,
/// escaped), never fetched.
fn public_url((setting, value): (String, String)) -> Result<Option<String>, ConfigError> {
    let text = value.trim().trim_end_matches('/');
    if text.is_empty() {
        return Ok(None);
    }
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/[]%".contains(&b));
    let uri = text.parse::<Uri>().ok().filter(|_| plain);
    match uri {
        Some(uri)
            if matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.authority().is_some_and(|a| !a.host().is_empty()) =>
        {
            Ok(Some(text.to_string()))
        }
        _ => Err(ConfigError::Invalid {
            setting,
            value,
            reason: "expected http(s)://host[:port][/path]".into(),
        }),
    }
}

/// A base URL setting, checked (`BaseUrl::parse`).
fn base_url((setting, value): (String, String)) -> Result<BaseUrl, ConfigError> {
    BaseUrl::parse(&value).map_err(|reason| ConfigError::Invalid {
        setting,
        value,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(flags: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let flags = flags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(&flags, |k| env.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[], &[]).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(c.api_url.as_str(), "https://api.github.com");
        assert_eq!(
            c.avatar_url.as_str(),
            "https://avatars.githubusercontent.com"
        );
        assert!(c.token.is_none());
        assert_eq!(c.cache_ttl, Duration::from_secs(600));
        assert!(c.upstream_timeout <= Duration::from_secs(10));
    }

    #[test]
    fn flags_win_over_environment() {
        let c = config(&[("port", "9000")], &[("PORT", "7000")]).unwrap();
        assert_eq!(c.listen.port(), 9000);
        let c = config(&[], &[("PORT", "7000")]).unwrap();
        assert_eq!(c.listen.port(), 7000);
        let c = config(&[], &[("PORT", "")]).unwrap();
        assert_eq!(c.listen.port(), 8080);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = config(&[], &[("PORT", "eighty")]).unwrap_err().to_string();
        assert!(e.contains("PORT") && e.contains("eighty"), "{e}");
        let e = config(&[], &[("GITHUB_API_URL", "http://api.github.com")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("GITHUB_API_URL") && e.contains("https://"),
            "{e}"
        );
        let e = config(&[("api-url", "not a url")], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--api-url"), "{e}");
        assert!(config(&[], &[("CONTRIBUTORS_CACHE_ENTRIES", "0")]).is_err());
        assert!(config(&[], &[("CONTRIBUTORS_UPSTREAM_TIMEOUT", "0")]).is_err());
        let e = config(
            &[],
            &[("CONTRIBUTORS_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.0/40")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("CONTRIBUTORS_TRUSTED_PROXIES") && e.contains("\"40\""),
            "{e}"
        );
    }

    #[test]
    fn the_public_url_is_checked() {
        let public = |v: &str| config(&[], &[("CONTRIBUTORS_PUBLIC_URL", v)]).map(|c| c.public_url);
        assert_eq!(public("").unwrap(), None);
        assert_eq!(
            public("https://walls.example.org/").unwrap().as_deref(),
            Some("https://walls.example.org")
        );
        assert_eq!(
            public("http://localhost:8080/c").unwrap().as_deref(),
            Some("http://localhost:8080/c")
        );
        for bad in [
            "walls.example.org",
            "ftp://x",
            "https://a/b?c",
            "https://u@h",
            "https://a/\"<",
        ] {
            assert!(public(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_readme_documents_every_setting() {
        let readme = include_str!("../../README.md");
        for s in SETTINGS {
            let row = format!("| `{}` | `--{}` | ", s.env, s.flag);
            assert!(readme.contains(&row), "README lacks the row for {}", s.env);
            let default = if s.default.is_empty() {
                "(none)".to_string()
            } else {
                format!("`{}`", s.default)
            };
            assert!(
                readme.contains(&format!("{row}{default} |")),
                "README shows the wrong default for {}",
                s.env
            );
        }
    }

    #[test]
    fn a_proxy_comes_from_the_environment_and_a_bad_one_is_refused() {
        let c = config(&[], &[("HTTPS_PROXY", "http://u:pw@proxy:3128")]).unwrap();
        let server = c.proxy.server().unwrap();
        assert_eq!(server.to_string(), "http://u:***@proxy:3128");
        assert!(!format!("{c:?}").contains("pw@"));
        assert!(config(&[], &[]).unwrap().proxy.server().is_none());
        let e = config(&[], &[("ALL_PROXY", "socks5://proxy:1080")]).unwrap_err();
        assert!(e.to_string().contains("ALL_PROXY"), "{e}");
        let e = config(&[], &[("no_proxy", "example.com:https")]).unwrap_err();
        assert!(e.to_string().contains("no_proxy"), "{e}");
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let c = config(&[], &[("GITHUB_TOKEN", "ghp_secret123")]).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("ghp_secret123"), "{debug}");
        assert_eq!(c.token.unwrap().expose(), "ghp_secret123");
        let e = config(&[], &[("GITHUB_TOKEN", "bad token\n")]).unwrap_err();
        assert!(!e.to_string().contains("bad token"));
    }
}
