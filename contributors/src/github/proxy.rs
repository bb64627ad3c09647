//! The outbound proxy settings: `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`.
//!
//! Many company and venue networks let HTTPS out only through a proxy. Most
//! HTTP clients (curl, Go, Python) read the same environment variables for
//! it, so users expect this app to read them too:
//!
//! - `HTTPS_PROXY` (or `https_proxy`, else `ALL_PROXY` / `all_proxy`): an
//!   `http://[user:password@]host[:port]` proxy. Our connections go through
//!   it as `CONNECT` tunnels, so TLS still runs end to end with GitHub.
//! - `NO_PROXY` (or `no_proxy`): hosts reached directly. A comma-separated
//!   list of names (`example.com` and `.example.com` both cover the name and
//!   its subdomains), IP addresses, CIDRs such as `10.0.0.0/8`, and `*` for
//!   everything; any entry but a CIDR or `*` may carry a `:port`. Loopback is
//!   not special (as in curl): `NO_PROXY` alone decides.
//!
//! Everything is checked at start-up: a proxy URL or `NO_PROXY` entry that
//! does not parse stops the process (exit 2) instead of being ignored.
//!
//! Why our own parser when hyper-util has a matcher: its `NO_PROXY` rules
//! have no ports, and it drops a proxy URL it cannot parse without a word.
//! The tunnel itself is opened in `connector.rs`.
//!
//! The password is a secret: it is kept only inside the `Proxy-Authorization`
//! header value, and every way of printing a [`ProxyServer`] masks it.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::HeaderValue;
use http::uri::{Authority, Uri};
use ipnet::IpNet;

use crate::http::query::percent_decode;

/// The variables naming the proxy, in the order they are looked at.
pub const PROXY_VARIABLES: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
/// The variables listing the hosts that skip the proxy.
pub const NO_PROXY_VARIABLES: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// A proxy variable that does not parse: which one, its value (masked when
/// it holds credentials) and why. `config.rs` reports it like any setting.
#[derive(Debug, PartialEq, Eq)]
pub struct ProxyError {
    pub setting: &'static str,
    pub value: String,
    pub reason: String,
}

/// The proxy to use, if any, and which hosts skip it.
#[derive(Clone, Debug, Default)]
pub struct Proxy {
    server: Option<ProxyServer>,
    no_proxy: NoProxy,
}

impl Proxy {
    /// Reads the variables through `env` (a lookup, so tests need not touch
    /// the process environment). An empty variable counts as unset.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Proxy, ProxyError> {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                env(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (name, v))
            })
        };
        let server = match first(&PROXY_VARIABLES) {
            None => None,
            Some((name, value)) => Some(ProxyServer::parse(&value).map_err(|reason| {
                ProxyError {
                    setting: name,
                    // The value may hold a password: show it only without one.
                    value: if value.contains('@') {
                        "(hidden: it has credentials)".into()
                    } else {
                        value
                    },
                    reason,
                }
            })?),
        };
        let no_proxy = match first(&NO_PROXY_VARIABLES) {
            None => NoProxy::default(),
            Some((name, value)) => NoProxy::parse(&value).map_err(|reason| ProxyError {
                setting: name,
                value,
                reason,
            })?,
        };
        Ok(Proxy { server, no_proxy })
    }

    /// The proxy server, whichever hosts it applies to.
    pub fn server(&self) -> Option<&ProxyServer> {
        self.server.as_ref()
    }

    /// The proxy to reach `host:port` through, or `None` to go direct.
    pub fn for_host(&self, host: &str, port: u16) -> Option<&ProxyServer> {
        self.server
            .as_ref()
            .filter(|_| !self.no_proxy.matches(host, port))
    }

    /// In words, for `doctor` and the start-up log: how `host:port` is
    /// reached.
    pub fn describe_route(&self, host: &str, port: u16) -> String {
        match (&self.server, self.for_host(host, port)) {
            (None, _) => format!("{host}:{port} direct (no HTTPS_PROXY or ALL_PROXY)"),
            (Some(_), None) => format!("{host}:{port} direct (NO_PROXY)"),
            (Some(_), Some(server)) => format!("{host}:{port} via proxy {server}"),
        }
    }
}

/// An HTTP proxy that tunnels with `CONNECT`.
#[derive(Clone)]
pub struct ProxyServer {
    /// `http://host:port/`, what the TCP connector dials.
    uri: Uri,
    /// The credentials as shown: `alice:***`, or `alice` without a password.
    shown_credentials: Option<String>,
    /// `Basic base64(user:password)`, marked sensitive so hyper never logs it.
    authorization: Option<HeaderValue>,
}

impl ProxyServer {
    /// Parses `[http://][user[:password]@]host[:port][/]`. Without a port,
    /// HTTP's own 80. User and password may be percent-encoded (`%40` for
    /// `@`), as in any URL.
    pub fn parse(text: &str) -> Result<ProxyServer, String> {
        let text = text.trim();
        let rest = match text.split_once("://") {
            None => text,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "{scheme}:// proxies are not supported; use an http:// proxy (it tunnels TLS with CONNECT)"
                ));
            }
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err("a proxy URL is http://[user:password@]host[:port], with no path".into());
        }
        // The last '@' ends the credentials; a password may hold a raw '@'.
        let (credentials, host_port) = match rest.rsplit_once('@') {
            Some((credentials, host_port)) => (Some(credentials), host_port),
            None => (None, rest),
        };
        let authority: Authority = host_port
            .parse()
            .map_err(|_| "not a proxy address (expected http://host:port)".to_string())?;
        if authority.host().is_empty() {
            return Err("the proxy URL has no host".into());
        }
        let port = match authority.as_str().strip_prefix(authority.host()) {
            Some("") => 80,
            _ => authority
                .port_u16()
                .filter(|&p| p != 0)
                .ok_or_else(|| "the proxy's port must be a number from 1 to 65535".to_string())?,
        };
        let uri = format!("http://{}:{port}/", authority.host())
            .parse()
            .map_err(|_| "not a proxy address (expected http://host:port)".to_string())?;

        let (shown_credentials, authorization) = match credentials {
            None => (None, None),
            Some(credentials) => {
                let (user, password) = match credentials.split_once(':') {
                    Some((user, password)) => (user, Some(password)),
                    None => (credentials, None),
                };
                let decode = |text: &str| {
                    percent_decode(text).ok_or_else(|| {
                        "the proxy credentials have a bad %-escape or are not UTF-8".to_string()
                    })
                };
                let user = decode(user)?;
                let password = password.map(decode).transpose()?;
                let basic = format!("{user}:{}", password.as_deref().unwrap_or(""));
                let mut value = HeaderValue::try_from(format!("Basic {}", BASE64.encode(basic)))
                    .expect("base64 text is a valid header value");
                value.set_sensitive(true);
                let shown = match password {
                    Some(_) => format!("{user}:***"),
                    None => user,
                };
                (Some(shown), Some(value))
            }
        };
        Ok(ProxyServer {
            uri,
            shown_credentials,
            authorization,
        })
    }

    /// `http://host:port/`, for the connector.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The `Proxy-Authorization` value, when the URL had credentials.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    /// `http://host:port`, with no credentials at all: how error pages name
    /// the proxy.
    pub fn address(&self) -> String {
        let authority = self.uri.authority().map(|a| a.as_str()).unwrap_or_default();
        format!("http://{authority}")
    }
}

/// The URL with the password masked: `http://alice:***@proxy:3128`.
impl fmt::Display for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let authority = self.uri.authority().map(|a| a.as_str()).unwrap_or_default();
        match &self.shown_credentials {
            Some(shown) => write!(f, "http://{shown}@{authority}"),
            None => write!(f, "http://{authority}"),
        }
    }
}

impl fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyServer({self})")
    }
}

/// The `NO_PROXY` rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    /// `*`: no host uses the proxy.
    Everything,
    /// A name and its subdomains, lower case, without a leading dot.
    Domain { name: String, port: Option<u16> },
    /// An address (a network of one) or a CIDR.
    Network { net: IpNet, port: Option<u16> },
}

impl NoProxy {
    /// Parses a comma-separated list; blank entries are skipped, and an
    /// entry that is none of the forms in the module docs is an error.
    pub fn parse(list: &str) -> Result<NoProxy, String> {
        let rules = list
            .split(',')
            .map(|entry| entry.trim().to_ascii_lowercase())
            .filter(|entry| !entry.is_empty())
            .map(|entry| Rule::parse(&entry).map_err(|why| format!("entry {entry:?}: {why}")))
            .collect::<Result<_, _>>()?;
        Ok(NoProxy { rules })
    }

    /// Whether `host:port` goes direct. Names are compared as text: nothing
    /// is resolved, so `localhost` does not cover `127.0.0.1`.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        self.rules.iter().any(|rule| match rule {
            Rule::Everything => true,
            Rule::Domain { name, port: p } => {
                ip.is_none()
                    && p.is_none_or(|p| p == port)
                    && (host == *name
                        || host
                            .strip_suffix(name.as_str())
                            .is_some_and(|head| head.ends_with('.')))
            }
            // An IPv4 host may be written as ::ffff:a.b.c.d.
            Rule::Network { net, port: p } => {
                p.is_none_or(|p| p == port) && ip.is_some_and(|ip| net.contains(&ip.to_canonical()))
            }
        })
    }
}

impl Rule {
    fn parse(entry: &str) -> Result<Rule, String> {
        if entry == "*" {
            return Ok(Rule::Everything);
        }
        // A CIDR: address/bits, no port.
        if let Some((addr, bits)) = entry.split_once('/') {
            let addr: IpAddr = unbracket(addr)
                .parse()
                .map_err(|_| "a CIDR needs an IP address before the '/'".to_string())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let net = (bits.parse::<u8>().ok())
                .and_then(|bits| IpNet::new(addr.to_canonical(), bits).ok())
                .ok_or_else(|| format!("a CIDR's prefix length is 0 to {max}"))?;
            return Ok(Rule::Network { net, port: None });
        }
        // A bare IPv6 address has colons of its own, so try addresses first.
        if let Ok(addr) = unbracket(entry).parse::<IpAddr>() {
            return Ok(Rule::Network {
                net: IpNet::from(addr.to_canonical()),
                port: None,
            });
        }
        let (host, port) = match entry.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| "the part after ':' must be a port number".to_string())?;
                (host, Some(port))
            }
            None => (entry, None),
        };
        if let Ok(addr) = unbracket(host).parse::<IpAddr>() {
            return Ok(Rule::Network {
                net: IpNet::from(addr.to_canonical()),
                port,
            });
        }
        // `.example.com` and `*.example.com` mean what `example.com` means.
        let name = host
            .strip_prefix("*.")
            .or_else(|| host.strip_prefix('.'))
            .unwrap_or(host);
        let name = name.strip_suffix('.').unwrap_or(name);
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || !name.chars().all(valid) {
            return Err(
                "expected a host name, .domain, IP address, CIDR or *, with an optional :port"
                    .into(),
            );
        }
        Ok(Rule::Domain {
            name: name.to_string(),
            port,
        })
    }
}

fn unbracket(text: &str) -> &str {
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn no_proxy(list: &str) -> NoProxy {
        NoProxy::parse(list).unwrap()
    }

    #[test]
    fn names_cover_themselves_and_their_subdomains() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let rules = no_proxy(list);
            assert!(rules.matches("example.com", 443), "{list}");
            assert!(rules.matches("api.example.com", 443), "{list}");
            assert!(rules.matches("A.B.Example.COM.", 443), "{list}");
            assert!(!rules.matches("notexample.com", 443), "{list}");
            assert!(!rules.matches("example.com.evil", 443), "{list}");
        }
    }

    #[test]
    fn ports_narrow_a_rule() {
        let rules = no_proxy("example.com:8443, 10.1.2.3:443, [::1]:9000");
        assert!(rules.matches("example.com", 8443));
        assert!(!rules.matches("example.com", 443));
        assert!(rules.matches("10.1.2.3", 443));
        assert!(!rules.matches("10.1.2.3", 8443));
        assert!(rules.matches("[::1]", 9000));
        assert!(!rules.matches("[::1]", 9001));
    }

    #[test]
    fn addresses_and_cidrs() {
        let rules = no_proxy("192.168.0.0/16, 10.0.0.1, ::1, fd00::/8");
        assert!(rules.matches("192.168.44.5", 443));
        assert!(!rules.matches("192.169.0.1", 443));
        assert!(rules.matches("10.0.0.1", 443));
        assert!(!rules.matches("10.0.0.2", 443));
        assert!(rules.matches("[::1]", 443));
        assert!(rules.matches("fd12:3456::1", 443));
        assert!(!rules.matches("fe80::1", 443));
        // Addresses match addresses only: nothing is resolved.
        assert!(!rules.matches("localhost", 443));
        assert!(no_proxy("0.0.0.0/0").matches("8.8.8.8", 443));
        assert!(!no_proxy("0.0.0.0/0").matches("::1", 443));
    }

    #[test]
    fn loopback_is_not_special() {
        // Without an entry for it, 127.0.0.1 goes through the proxy, so a test
        // can reach a loopback fake that way; with one, it goes direct.
        assert!(!no_proxy("").matches("127.0.0.1", 443));
        assert!(!no_proxy("localhost").matches("127.0.0.1", 443));
        assert!(no_proxy("127.0.0.0/8").matches("127.0.0.1", 443));
        assert!(no_proxy("localhost").matches("localhost", 443));
    }

    #[test]
    fn star_covers_everything() {
        let rules = no_proxy(" , *");
        assert!(rules.matches("api.github.com", 443));
        assert!(rules.matches("127.0.0.1", 1));
    }

    #[test]
    fn bad_entries_are_errors() {
        for bad in [
            "example.com:https",
            "10.0.0.0/33",
            "::/129",
            "example.com/24",
            "http://example.com",
            "exa mple.com",
            ":443",
        ] {
            assert!(NoProxy::parse(bad).is_err(), "{bad}");
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn the_variables_and_their_order() {
        let proxy = Proxy::from_env(env(&[])).unwrap();
        assert!(proxy.server().is_none());
        let proxy = Proxy::from_env(env(&[
            ("https_proxy", "http://low:1"),
            ("HTTPS_PROXY", ""),
            ("ALL_PROXY", "http://all:2"),
        ]))
        .unwrap();
        assert_eq!(proxy.server().unwrap().to_string(), "http://low:1");
        let proxy = Proxy::from_env(env(&[("all_proxy", "proxy.corp:3128")])).unwrap();
        assert_eq!(proxy.server().unwrap().address(), "http://proxy.corp:3128");
        let proxy = Proxy::from_env(env(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("no_proxy", "github.com"),
        ]))
        .unwrap();
        assert!(proxy.for_host("api.github.com", 443).is_none());
        assert!(
            proxy
                .for_host("avatars.githubusercontent.com", 443)
                .is_some()
        );
        assert!(
            proxy
                .describe_route("api.github.com", 443)
                .contains("NO_PROXY")
        );
    }

    #[test]
    fn proxy_urls() {
        let p = ProxyServer::parse("http://proxy.corp:3128/").unwrap();
        assert_eq!(p.uri().to_string(), "http://proxy.corp:3128/");
        assert!(p.authorization().is_none());
        assert_eq!(
            ProxyServer::parse("HTTP://[::1]").unwrap().address(),
            "http://[::1]:80"
        );
        for bad in [
            "https://proxy:3128",
            "socks5://proxy:1080",
            "http://proxy:3128/path",
            "http://proxy:port",
            "http://",
            "http://user:pw@",
            "http://u:%zz@proxy:1",
        ] {
            assert!(ProxyServer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_are_encoded_and_never_shown() {
        // RFC 7617's example, with a percent-encoded space.
        let p = ProxyServer::parse("http://Aladdin:open%20sesame@proxy:3128").unwrap();
        assert_eq!(
            p.authorization().unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(p.authorization().unwrap().is_sensitive());
        assert_eq!(p.to_string(), "http://Aladdin:***@proxy:3128");
        assert_eq!(
            format!("{p:?}"),
            "ProxyServer(http://Aladdin:***@proxy:3128)"
        );
        assert_eq!(p.address(), "http://proxy:3128");
        // A raw '@' in the password: the last '@' ends the credentials.
        let p = ProxyServer::parse("http://u:p@ss@proxy:1").unwrap();
        assert_eq!(
            p.authorization().unwrap(),
            "Basic dTpwQHNz" // base64("u:p@ss")
        );

        let e = Proxy::from_env(env(&[("HTTPS_PROXY", "http://u:secret@proxy:x")])).unwrap_err();
        assert!(
            e.setting == "HTTPS_PROXY" && !e.value.contains("secret"),
            "{e:?}"
        );
    }
}
