//! The GitHub token, a secret: nothing prints it.

use std::fmt;

/// A GitHub token. It is kept out of `Debug` and `Display` output, so it
/// cannot leak into a log line by accident.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: String) -> Result<Token, String> {
        let token = token.trim().to_string();
        // It goes into an HTTP header: refuse anything a header can't carry.
        if token.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Token(token))
        } else {
            Err("a token holds printable ASCII characters only".into())
        }
    }

    /// The secret itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(redacted)")
    }
}
