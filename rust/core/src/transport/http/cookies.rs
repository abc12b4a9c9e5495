//! The cookies of one connection: [`CookieJar`] keeps what the server sets (`Set-Cookie`) and gives back the
//! `Cookie` header a browser would send with each later request. Sticky load balancers need it: haproxy's
//! `SERVERID=s1; path=/`, or socket.io's own `io=<sid>; Path=/; HttpOnly; SameSite=Lax` (the `cookie` server
//! option), route every request of a session to the same server by it.
//!
//! RFC 6265, simplified for a client that talks to one server:
//!
//! - `name=value` (a string without `=` is ignored); `Path` (else the default path of the request: its directory);
//!   `Domain` (else the cookie is host-only; a `Domain` the request host does not domain-match, or one without a
//!   dot that is not the host itself, refuses the cookie: there is no public suffix list here);
//!   `Secure` (sent only over TLS); `Max-Age` (`<= 0` deletes; it wins over `Expires`); `Expires` (the IMF-fixdate
//!   `Thu, 01 Jan 1970 00:00:00 GMT`, or with dashes `01-Jan-1970`; a date in the past deletes; another form is
//!   ignored); `HttpOnly`, `SameSite` and the rest are accepted and ignored.
//! - A cookie with the same name, domain and path replaces the one stored (keeping its place in the order).
//! - Sent in the order of RFC 6265 §5.4: longer paths first, then older cookies first.
//!
//! Bounded, so that a `Set-Cookie` flood cannot grow memory: at most [`MAX_COOKIES`] cookies (a new one over the
//! cap is dropped; replacing one is always allowed), each at most [`MAX_COOKIE_BYTES`] of name and value (a larger
//! one is dropped), and a `Cookie` header of at most [`MAX_COOKIE_HEADER_BYTES`] (the cookies that do not fit are
//! left out of it).
//!
//! Sans-I/O and deterministic: time is the caller's `now`. Only `Expires`, an absolute date, needs the wall clock:
//! [`CookieJar::store`] reads it (once, and only for a cookie with `Expires` and no `Max-Age`), and
//! [`CookieJar::store_at`] takes it from the caller instead.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Most cookies a jar keeps.
pub const MAX_COOKIES: usize = 50;

/// Most bytes of one cookie's name and value together.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// Most bytes of the `Cookie` header's value.
pub const MAX_COOKIE_HEADER_BYTES: usize = 8 << 10;

/// The cookies of one connection. See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
    /// Creation order: the next cookie's number.
    next: u64,
}

#[derive(Debug, Clone)]
struct Cookie {
    name: String,
    value: String,
    /// Lower case, without a leading dot.
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    /// `None`: kept as long as the jar.
    expires: Option<Instant>,
    /// Creation order (older first).
    created: u64,
}

impl Cookie {
    fn is_expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// What a `Set-Cookie` says about the cookie's life.
enum Life {
    Session,
    Until(Instant),
    /// Deletes the cookie (a `Max-Age` of 0 or less, an `Expires` in the past).
    Expired,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many cookies it holds (expired ones included until the next [`store`](Self::store)).
    pub fn len(&self) -> usize {
        self.cookies.len()
    }

    /// Whether it holds no cookie.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Forgets every cookie.
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Takes the value of one `Set-Cookie` header of the answer to a request to `request_host` (as in a URL, lower or
    /// upper case; an IPv6 address in brackets) for `request_path` (the request target; a query is ignored). What is
    /// malformed, refused or over a cap is dropped without a word. Reads the wall clock for `Expires` only; see
    /// [`store_at`](Self::store_at).
    pub fn store(&mut self, set_cookie_value: &str, request_host: &str, request_path: &str, now: Instant) {
        self.store_with(set_cookie_value, request_host, request_path, now, || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        });
    }

    /// [`store`](Self::store), with the wall clock given: `unix_now` is the time `now` stands for, in seconds since
    /// the UNIX epoch (for `Expires`).
    pub fn store_at(
        &mut self,
        set_cookie_value: &str,
        request_host: &str,
        request_path: &str,
        now: Instant,
        unix_now: i64,
    ) {
        self.store_with(set_cookie_value, request_host, request_path, now, || unix_now);
    }

    fn store_with(
        &mut self,
        set_cookie_value: &str,
        request_host: &str,
        request_path: &str,
        now: Instant,
        unix_now: impl FnOnce() -> i64,
    ) {
        let Some(cookie) = parse(set_cookie_value, request_host, request_path, now, unix_now) else {
            return;
        };
        let (mut cookie, life) = cookie;
        self.cookies.retain(|c| !c.is_expired(now));
        let same = self
            .cookies
            .iter()
            .position(|c| c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path);
        match (same, life) {
            (Some(i), Life::Expired) => {
                self.cookies.remove(i);
            }
            (None, Life::Expired) => {}
            (Some(i), _) => {
                cookie.created = self.cookies[i].created;
                self.cookies[i] = cookie;
            }
            (None, _) if self.cookies.len() >= MAX_COOKIES => {}
            (None, _) => {
                cookie.created = self.next;
                self.next += 1;
                self.cookies.push(cookie);
            }
        }
    }

    /// The `Cookie` header's value for a request to `host` (as for [`store`](Self::store)) for `path` (the request
    /// target), over TLS when `secure`; `None` when no cookie goes with it.
    pub fn header(&self, host: &str, path: &str, secure: bool, now: Instant) -> Option<String> {
        let host = host.to_ascii_lowercase();
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut chosen: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| {
                !c.is_expired(now)
                    && (!c.secure || secure)
                    && (if c.host_only {
                        host == c.domain
                    } else {
                        domain_matches(&host, &c.domain)
                    })
                    && path_matches(path, &c.path)
            })
            .collect();
        chosen.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.created.cmp(&b.created)));
        let mut header = String::new();
        for c in chosen {
            let separator = if header.is_empty() { 0 } else { 2 };
            if header.len() + separator + c.name.len() + 1 + c.value.len() > MAX_COOKIE_HEADER_BYTES {
                continue;
            }
            if separator > 0 {
                header.push_str("; ");
            }
            header.push_str(&c.name);
            header.push('=');
            header.push_str(&c.value);
        }
        (!header.is_empty()).then_some(header)
    }
}

/// The cookie a `Set-Cookie` value sets, and its life; `None` when it is malformed or refused.
fn parse(
    set_cookie: &str,
    request_host: &str,
    request_path: &str,
    now: Instant,
    unix_now: impl FnOnce() -> i64,
) -> Option<(Cookie, Life)> {
    let mut parts = set_cookie.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    let control = |s: &str| s.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
    if name.is_empty() || name.len() + value.len() > MAX_COOKIE_BYTES || control(name) || control(value) {
        return None;
    }
    let host = request_host.to_ascii_lowercase();
    let mut domain: Option<String> = None;
    let mut path: Option<&str> = None;
    let mut secure = false;
    let mut max_age: Option<i64> = None;
    let mut expires: Option<i64> = None;
    for attribute in parts {
        let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
        let (key, val) = (key.trim(), val.trim());
        if key.eq_ignore_ascii_case("domain") {
            let d = val.trim_start_matches('.').to_ascii_lowercase();
            // An empty Domain is as if there were none; the last one counts.
            domain = (!d.is_empty()).then_some(d);
        } else if key.eq_ignore_ascii_case("path") {
            path = val.starts_with('/').then_some(val);
        } else if key.eq_ignore_ascii_case("secure") {
            secure = true;
        } else if key.eq_ignore_ascii_case("max-age") {
            let digits = val.strip_prefix('-').unwrap_or(val);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                // Too many digits to fit: as far in either direction as it goes.
                let n = digits.parse::<i64>().unwrap_or(i64::MAX);
                max_age = Some(if val.starts_with('-') { -n } else { n });
            }
        } else if key.eq_ignore_ascii_case("expires") {
            if let Some(at) = parse_http_date(val) {
                expires = Some(at);
            }
        }
        // HttpOnly, SameSite, Partitioned, Priority, …: nothing for this client to do.
    }
    let (domain, host_only) = match domain {
        None => (host, true),
        // An IP address has no subdomain: its cookies are host-only whatever they say.
        Some(d) if d == host => (d, is_ip(&host)),
        Some(d) if d.contains('.') && domain_matches(&host, &d) => (d, false),
        Some(_) => return None,
    };
    let life = match (max_age, expires) {
        (Some(secs), _) if secs <= 0 => Life::Expired,
        (Some(secs), _) => after(now, secs),
        (None, Some(at)) => {
            let left = at.saturating_sub(unix_now());
            if left <= 0 {
                Life::Expired
            } else {
                after(now, left)
            }
        }
        (None, None) => Life::Session,
    };
    let cookie = Cookie {
        name: name.to_owned(),
        value: value.to_owned(),
        domain,
        host_only,
        path: path.map_or_else(|| default_path(request_path), str::to_owned),
        secure,
        expires: match life {
            Life::Until(at) => Some(at),
            _ => None,
        },
        created: 0,
    };
    Some((cookie, life))
}

/// `secs` seconds from `now` (positive); a time too far to represent lives as long as the jar.
fn after(now: Instant, secs: i64) -> Life {
    let secs = u64::try_from(secs).unwrap_or(0);
    match now.checked_add(Duration::from_secs(secs)) {
        Some(at) => Life::Until(at),
        None => Life::Session,
    }
}

/// RFC 6265 §5.1.3: `host` is `domain`, or ends with `.domain` and is not an IP address.
fn domain_matches(host: &str, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    !is_ip(host)
        && host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// Whether `host` is an IP address (IPv6 in brackets).
fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// RFC 6265 §5.1.4: the cookie's `path` is the request's, or a prefix of it that ends at a `/`.
fn path_matches(request: &str, path: &str) -> bool {
    let request = if request.is_empty() { "/" } else { request };
    request == path
        || (request.starts_with(path) && (path.ends_with('/') || request.as_bytes().get(path.len()) == Some(&b'/')))
}

/// RFC 6265 §5.1.4: the directory of the request's path (`/socket.io/?EIO=4` → `/socket.io`), `/` at most.
fn default_path(request_path: &str) -> String {
    let path = request_path.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return "/".to_owned();
    }
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => path[..i].to_owned(),
    }
}

/// An IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`), also with dashes in the date (`Thu, 01-Jan-1970 …`), as
/// seconds since the UNIX epoch; `None` for any other form.
fn parse_http_date(s: &str) -> Option<i64> {
    let (_weekday, rest) = s.split_once(',')?;
    let rest = rest.replace('-', " ");
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let [day, month, year, time, zone] = fields.as_slice() else {
        return None;
    };
    if !zone.eq_ignore_ascii_case("GMT") && *zone != "UTC" {
        return None;
    }
    let number = |s: &str, max_len: usize| -> Option<i64> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let day = number(day, 2)?;
    let year = number(year, 4)?;
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let mut hms = time.split(':');
    let (h, m, sec) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let (h, m, sec) = (number(h, 2)?, number(m, 2)?, number(sec, 2)?);
    if !(1..=31).contains(&day) || year < 1601 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
