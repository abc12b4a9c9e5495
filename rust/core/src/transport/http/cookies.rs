//! Placeholder cookie jar (name=value only); replaced by the full jar.

use std::time::Instant;

/// Cookies of one connection.
#[derive(Debug, Default, Clone)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Stores the cookie of one `Set-Cookie` value.
    pub fn store(&mut self, set_cookie_value: &str, _request_host: &str, _request_path: &str, _now: Instant) {
        let pair = set_cookie_value.split(';').next().unwrap_or("");
        if let Some((name, value)) = pair.split_once('=') {
            let name = name.trim().to_owned();
            self.cookies.retain(|(n, _)| *n != name);
            if self.cookies.len() < 50 {
                self.cookies.push((name, value.trim().to_owned()));
            }
        }
    }

    /// The `Cookie` header for a request.
    pub fn header(&self, _host: &str, _path: &str, _secure: bool, _now: Instant) -> Option<String> {
        let pairs: Vec<String> = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}
