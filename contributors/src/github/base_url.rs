//! The base URLs of GitHub's two hosts (the API and the avatars), checked
//! once at start-up so every request is built from a known-good prefix.

use std::fmt;

use http::Uri;

/// An `https://host[:port][/path]` base URL without a trailing slash.
///
/// Only HTTPS is accepted: the token travels in these requests, and the
/// whole point of the bundled roots is to check who we are talking to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    text: String,
    host: String,
}

impl BaseUrl {
    pub fn parse(text: &str) -> Result<BaseUrl, String> {
        let uri: Uri = text
            .parse()
            .map_err(|_| "not a URL (expected https://host[/path])".to_string())?;
        if uri.scheme_str() != Some("https") {
            return Err("the URL must start with https://".into());
        }
        let Some(authority) = uri.authority() else {
            return Err("the URL has no host".into());
        };
        if authority.as_str().contains('@') {
            return Err("credentials in the URL are not supported".into());
        }
        if uri.query().is_some() {
            return Err("the URL must not have a query (?...)".into());
        }
        let path = uri.path().trim_end_matches('/');
        Ok(BaseUrl {
            text: format!("https://{authority}{path}"),
            host: authority.host().to_string(),
        })
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host name (or IP address), for error messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host and the port connections go to (443 unless the URL says).
    pub fn host_port(&self) -> (&str, u16) {
        (&self.host, self.join("/").port_u16().unwrap_or(443))
    }

    /// `{base}{path_and_query}`; `path_and_query` must start with `/` and be
    /// built from validated parts only.
    pub fn join(&self, path_and_query: &str) -> Uri {
        let text = format!("{}{}", self.text, path_and_query);
        text.parse()
            .expect("a validated base plus a validated path is a valid URI")
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        let u = BaseUrl::parse("https://ghe.example.com/api/v3/").unwrap();
        assert_eq!(u.as_str(), "https://ghe.example.com/api/v3");
        assert_eq!(u.host(), "ghe.example.com");
        assert_eq!(
            u.join("/repos/a/b").to_string(),
            "https://ghe.example.com/api/v3/repos/a/b"
        );
        assert!(BaseUrl::parse("https://user:pw@example.com").is_err());
        assert!(BaseUrl::parse("https://example.com/?x=1").is_err());
        assert!(BaseUrl::parse("ftp://example.com").is_err());
    }
}
