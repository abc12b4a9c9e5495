//! The cookie jar: what is stored, what is sent back for which request, what replaces and deletes, and the caps.

use super::*;

const HOST: &str = "example.com";
/// The wall clock the tests stand at: 2026-12-01 00:00:00 UTC.
const UNIX_NOW: i64 = 1_796_083_200;

fn jar_with(set_cookies: &[&str], now: Instant) -> CookieJar {
    let mut jar = CookieJar::new();
    for set_cookie in set_cookies {
        jar.store_at(set_cookie, HOST, "/socket.io/?EIO=4&transport=polling", now, UNIX_NOW);
    }
    jar
}

fn header(jar: &CookieJar, path: &str, now: Instant) -> Option<String> {
    jar.header(HOST, path, false, now)
}

#[test]
fn haproxy_and_socket_io_cookies_come_back() {
    let now = Instant::now();
    let jar = jar_with(
        &[
            "SERVERID=s1; path=/",
            "io=Xk9aB-c_12345; Path=/; HttpOnly; SameSite=Lax",
        ],
        now,
    );
    assert_eq!(jar.len(), 2);
    assert_eq!(
        header(&jar, "/socket.io/?EIO=4&transport=polling&sid=Xk9aB-c_12345", now).as_deref(),
        Some("SERVERID=s1; io=Xk9aB-c_12345")
    );
    // Secure or not, any path of the host, the host in any case.
    assert_eq!(
        jar.header("EXAMPLE.com", "/", true, now).as_deref(),
        Some("SERVERID=s1; io=Xk9aB-c_12345")
    );
    assert_eq!(jar.header("other.com", "/", false, now), None);
    assert_eq!(jar.header("www.example.com", "/", false, now), None, "host-only");
}

#[test]
fn an_empty_jar_sends_nothing() {
    let jar = CookieJar::new();
    assert!(jar.is_empty());
    assert_eq!(header(&jar, "/", Instant::now()), None);
}

#[test]
fn a_string_without_a_name_value_pair_is_ignored() {
    let now = Instant::now();
    let jar = jar_with(
        &["justaname", "=novalue", " ; Path=/", "", "a\r\nb=c", "n=v\u{7f}"],
        now,
    );
    assert!(jar.is_empty(), "{jar:?}");
    // An empty value is a cookie; spaces around name and value are not part of them. (`empty` has the longer
    // default path, /socket.io, so it goes first.)
    let jar = jar_with(&["empty=", " spaced = out ; Path=/"], now);
    assert_eq!(header(&jar, "/socket.io/", now).as_deref(), Some("empty=; spaced=out"));
}

#[test]
fn the_default_path_is_the_request_directory() {
    let now = Instant::now();
    let mut jar = CookieJar::new();
    jar.store_at("a=1", HOST, "/socket.io/?EIO=4", now, UNIX_NOW);
    jar.store_at("b=2", HOST, "/app/socket.io/x", now, UNIX_NOW);
    jar.store_at("c=3", HOST, "/top", now, UNIX_NOW);
    jar.store_at("d=4; Path=relative", HOST, "", now, UNIX_NOW);
    // a: /socket.io  b: /app/socket.io  c, d: /
    assert_eq!(header(&jar, "/socket.io/?EIO=4", now).as_deref(), Some("a=1; c=3; d=4"));
    assert_eq!(header(&jar, "/socket.io", now).as_deref(), Some("a=1; c=3; d=4"));
    assert_eq!(header(&jar, "/socket.iox/", now).as_deref(), Some("c=3; d=4"));
    assert_eq!(header(&jar, "/app/socket.io/", now).as_deref(), Some("b=2; c=3; d=4"));
    assert_eq!(header(&jar, "/", now).as_deref(), Some("c=3; d=4"));
}

#[test]
fn path_matching_and_order_longest_path_first_then_oldest() {
    let now = Instant::now();
    let jar = jar_with(
        &[
            "root=1; Path=/",
            "sio=2; Path=/socket.io/",
            "deep=3; Path=/socket.io/x",
            "root2=4; Path=/",
        ],
        now,
    );
    assert_eq!(
        header(&jar, "/socket.io/x/y", now).as_deref(),
        Some("deep=3; sio=2; root=1; root2=4")
    );
    assert_eq!(
        header(&jar, "/socket.io/xy", now).as_deref(),
        Some("sio=2; root=1; root2=4")
    );
    assert_eq!(header(&jar, "/socket.io", now).as_deref(), Some("root=1; root2=4"));
}

#[test]
fn domain_cookies_reach_subdomains_and_foreign_domains_are_refused() {
    let now = Instant::now();
    let mut jar = CookieJar::new();
    jar.store_at("lb=1; Domain=.Example.COM", "api.example.com", "/", now, UNIX_NOW);
    jar.store_at("own=2; Domain=api.example.com", "api.example.com", "/", now, UNIX_NOW);
    // Refused: not a parent of the host, a mere suffix, a child of the host, a top-level domain.
    jar.store_at("evil=3; Domain=other.com", "api.example.com", "/", now, UNIX_NOW);
    jar.store_at("evil=4; Domain=ample.com", "api.example.com", "/", now, UNIX_NOW);
    jar.store_at(
        "evil=5; Domain=x.api.example.com",
        "api.example.com",
        "/",
        now,
        UNIX_NOW,
    );
    jar.store_at("evil=6; Domain=com", "api.example.com", "/", now, UNIX_NOW);
    assert_eq!(jar.len(), 2, "{jar:?}");
    assert_eq!(jar.header("example.com", "/", false, now).as_deref(), Some("lb=1"));
    assert_eq!(
        jar.header("api.example.com", "/", false, now).as_deref(),
        Some("lb=1; own=2")
    );
    assert_eq!(
        jar.header("x.api.example.com", "/", false, now).as_deref(),
        Some("lb=1; own=2")
    );
    assert_eq!(jar.header("badexample.com", "/", false, now), None);
}

#[test]
fn ip_hosts_and_localhost() {
    let now = Instant::now();
    let mut jar = CookieJar::new();
    jar.store_at("a=1", "127.0.0.1", "/", now, UNIX_NOW);
    jar.store_at("b=2; Domain=127.0.0.1", "127.0.0.1", "/", now, UNIX_NOW);
    jar.store_at("c=3; Domain=0.0.1", "127.0.0.1", "/", now, UNIX_NOW);
    jar.store_at("d=4; Domain=localhost", "localhost", "/", now, UNIX_NOW);
    jar.store_at("e=5", "[::1]", "/", now, UNIX_NOW);
    assert_eq!(jar.header("127.0.0.1", "/", false, now).as_deref(), Some("a=1; b=2"));
    assert_eq!(jar.header("localhost", "/", false, now).as_deref(), Some("d=4"));
    assert_eq!(jar.header("[::1]", "/", false, now).as_deref(), Some("e=5"));
    assert_eq!(jar.header("2.127.0.0.1", "/", false, now), None);
}

#[test]
fn secure_cookies_go_over_tls_only() {
    let now = Instant::now();
    let jar = jar_with(&["s=1; Secure; Path=/", "p=2; Path=/"], now);
    assert_eq!(jar.header(HOST, "/", true, now).as_deref(), Some("s=1; p=2"));
    assert_eq!(jar.header(HOST, "/", false, now).as_deref(), Some("p=2"));
}

#[test]
fn same_name_domain_and_path_replaces_in_place() {
    let now = Instant::now();
    let jar = jar_with(
        &[
            "io=old; Path=/",
            "other=x; Path=/",
            "io=new; Path=/",
            "io=elsewhere; Path=/socket.io",
        ],
        now,
    );
    assert_eq!(jar.len(), 3);
    // `io=new` keeps the old one's place (before `other`).
    assert_eq!(
        header(&jar, "/socket.io/", now).as_deref(),
        Some("io=elsewhere; io=new; other=x")
    );
}

#[test]
fn max_age_expires_and_deletes() {
    let now = Instant::now();
    let mut jar = jar_with(
        &[
            "short=1; Max-Age=10; Path=/",
            "keep=2; Path=/",
            "bad=3; Max-Age=soon; Path=/",
        ],
        now,
    );
    assert_eq!(header(&jar, "/", now).as_deref(), Some("short=1; keep=2; bad=3"));
    let later = now + Duration::from_secs(10);
    assert_eq!(header(&jar, "/", later).as_deref(), Some("keep=2; bad=3"));
    // Expired cookies go at the next store.
    jar.store_at("new=4; Path=/", HOST, "/", later, UNIX_NOW);
    assert_eq!(jar.len(), 3);
    for delete in ["keep=; Max-Age=0; Path=/", "bad=x; Max-Age=-1; Path=/"] {
        jar.store_at(delete, HOST, "/", later, UNIX_NOW);
    }
    assert_eq!(header(&jar, "/", later).as_deref(), Some("new=4"));
    // Deleting what is not there stores nothing; a huge Max-Age is "for as long as the jar".
    jar.store_at("ghost=1; Max-Age=0", HOST, "/", later, UNIX_NOW);
    jar.store_at(
        "long=1; Max-Age=99999999999999999999999; Path=/",
        HOST,
        "/",
        later,
        UNIX_NOW,
    );
    assert_eq!(header(&jar, "/", later).as_deref(), Some("new=4; long=1"));
}

#[test]
fn expires_in_the_past_deletes_and_in_the_future_expires() {
    let now = Instant::now();
    let mut jar = jar_with(&["a=1; Path=/", "b=2; Path=/", "c=3; Path=/"], now);
    jar.store_at(
        "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        HOST,
        "/",
        now,
        UNIX_NOW,
    );
    // Netscape's dashes; one second in the future.
    jar.store_at(
        "b=2; expires=Tue, 01-Dec-2026 00:00:01 GMT; Path=/",
        HOST,
        "/",
        now,
        UNIX_NOW,
    );
    // Not a date this parser reads: ignored, the cookie lives for the session.
    jar.store_at("c=3; Expires=yesterday; Path=/", HOST, "/", now, UNIX_NOW);
    assert_eq!(header(&jar, "/", now).as_deref(), Some("b=2; c=3"));
    assert_eq!(header(&jar, "/", now + Duration::from_secs(1)).as_deref(), Some("c=3"));
    // Max-Age wins over Expires.
    jar.store_at(
        "d=4; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
        HOST,
        "/",
        now,
        UNIX_NOW,
    );
    assert_eq!(header(&jar, "/", now).as_deref(), Some("b=2; c=3; d=4"));
    // `store` reads the real clock: 1970 is in the past there too.
    jar.store("d=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/", HOST, "/", now);
    assert_eq!(header(&jar, "/", now).as_deref(), Some("b=2; c=3"));
}

#[test]
fn http_dates() {
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(parse_http_date("Tue, 01 Dec 2026 00:00:00 GMT"), Some(UNIX_NOW));
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(parse_http_date("Sun, 06-Nov-1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
    for bad in [
        "",
        "Sunday",
        "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 99999 08:49:37 GMT",
        "Sun, +6 Nov 1994 08:49:37 GMT",
    ] {
        assert_eq!(parse_http_date(bad), None, "{bad:?}");
    }
}

#[test]
fn a_cookie_over_4096_bytes_is_dropped() {
    let now = Instant::now();
    let fits = format!("n={}", "v".repeat(MAX_COOKIE_BYTES - 1));
    let over = format!("big={}", "v".repeat(MAX_COOKIE_BYTES - 2));
    let jar = jar_with(&[&fits, &over], now);
    assert_eq!(jar.len(), 1);
    assert_eq!(
        header(&jar, "/socket.io/", now).map(|h| h.len()),
        Some(MAX_COOKIE_BYTES + 1)
    );
}

#[test]
fn a_set_cookie_flood_is_capped_at_50_and_the_first_ones_stay() {
    let now = Instant::now();
    let mut jar = jar_with(&["io=sid; Path=/"], now);
    for i in 0..10_000 {
        jar.store_at(&format!("flood{i}=x; Path=/"), HOST, "/", now, UNIX_NOW);
    }
    assert_eq!(jar.len(), MAX_COOKIES);
    let sent = header(&jar, "/", now).expect("cookies");
    assert!(sent.starts_with("io=sid; flood0=x"), "{sent}");
    assert!(!sent.contains("flood49="), "{sent}");
    // Replacing one stays possible at the cap; deleting one makes room.
    jar.store_at("io=sid2; Path=/", HOST, "/", now, UNIX_NOW);
    jar.store_at("flood0=; Max-Age=0; Path=/", HOST, "/", now, UNIX_NOW);
    jar.store_at("late=1; Path=/", HOST, "/", now, UNIX_NOW);
    let sent = header(&jar, "/", now).expect("cookies");
    assert!(sent.starts_with("io=sid2; flood1=x"), "{sent}");
    assert!(sent.ends_with("; late=1"), "{sent}");
    assert_eq!(jar.len(), MAX_COOKIES);
}

#[test]
fn the_header_is_capped_at_8_kib() {
    let now = Instant::now();
    let value = "v".repeat(3000);
    let mut jar = CookieJar::new();
    for name in ["a", "b", "c", "d"] {
        jar.store_at(&format!("{name}={value}; Path=/"), HOST, "/", now, UNIX_NOW);
    }
    jar.store_at("small=1; Path=/", HOST, "/", now, UNIX_NOW);
    let sent = header(&jar, "/", now).expect("cookies");
    assert!(sent.len() <= MAX_COOKIE_HEADER_BYTES, "{}", sent.len());
    // Two big ones fit, the third and fourth do not, the small one still does.
    assert_eq!(sent, format!("a={value}; b={value}; small=1"));
}

#[test]
fn attribute_names_are_case_insensitive_and_unknown_ones_ignored() {
    let now = Instant::now();
    let jar = jar_with(
        &["x=1; PATH=/; SECURE; HTTPONLY; SameSite=None; Partitioned; Priority=High; Foo=bar"],
        now,
    );
    assert_eq!(jar.header(HOST, "/", false, now), None);
    assert_eq!(jar.header(HOST, "/any", true, now).as_deref(), Some("x=1"));
}
