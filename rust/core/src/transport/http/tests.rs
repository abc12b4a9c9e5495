//! The HTTP codec: requests written, responses read whole from pieces of any size, every cap and malformed input
//! refused with its error, and no panic on arbitrary bytes.

use super::*;

const MAX_BODY: usize = 1 << 20;

/// Feeds `bytes` one at a time, polling after each; the responses in order, then the first error if any.
fn bytewise(reader: &mut ResponseReader, bytes: &[u8]) -> (Vec<Response>, Option<HttpError>) {
    let mut out = Vec::new();
    for &b in bytes {
        reader.feed(&[b]);
        loop {
            match reader.poll() {
                Ok(Some(r)) => out.push(r),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

/// Feeds `bytes` at once, closes if `close`, then polls until `None` or an error.
fn whole(bytes: &[u8], close: bool) -> Result<Vec<Response>, HttpError> {
    whole_with(ReaderLimits::new(MAX_BODY), bytes, close)
}

fn whole_with(limits: ReaderLimits, bytes: &[u8], close: bool) -> Result<Vec<Response>, HttpError> {
    let mut reader = ResponseReader::with_limits(limits);
    reader.feed(bytes);
    if close {
        reader.close();
    }
    let mut out = Vec::new();
    while let Some(r) = reader.poll()? {
        out.push(r);
    }
    Ok(out)
}

fn one(bytes: &[u8]) -> Response {
    let mut all = whole(bytes, false).expect("a response");
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn err(bytes: &[u8]) -> HttpError {
    whole(bytes, false).expect_err("refused")
}

const LENGTH: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 5\r\n\
Set-Cookie: io=abc; Path=/\r\nset-cookie: lb=1\r\n\r\nhello";

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
5;name=value\r\nhello\r\n7 ; x\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n";

// ---- requests ----

fn request(method: Method, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = b"kept".to_vec();
    let result = write_request(&mut out, method, target, "example.com:3000", headers, body);
    if result.is_err() {
        assert_eq!(out, b"kept", "nothing appended on a refusal");
    }
    result.map(|()| out[4..].to_vec())
}

#[test]
fn get_request() {
    let out = request(
        Method::Get,
        "/socket.io/?EIO=4&transport=polling&t=abc",
        &[("Accept", "*/*"), ("Cookie", "io=abc")],
        b"",
    )
    .unwrap();
    assert_eq!(
        out,
        b"GET /socket.io/?EIO=4&transport=polling&t=abc HTTP/1.1\r\nHost: example.com:3000\r\nAccept: */*\r\n\
Cookie: io=abc\r\nConnection: keep-alive\r\n\r\n"
    );
}

#[test]
fn post_request() {
    let out = request(
        Method::Post,
        "/socket.io/?EIO=4&transport=polling&sid=x",
        &[("Content-Type", "text/plain;charset=UTF-8")],
        b"4hello\x1e2",
    )
    .unwrap();
    assert_eq!(
        out,
        b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: example.com:3000\r\n\
Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 8\r\nConnection: keep-alive\r\n\r\n4hello\x1e2"
    );
    let empty = request(Method::Post, "/", &[], b"").unwrap();
    assert!(empty.windows(19).any(|w| w == b"Content-Length: 0\r\n"));
}

#[test]
fn request_refusals() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], HttpError);
    let cases: &[Case] = &[
        (
            "/",
            &[("X-A", "1\r\nInjected: yes")],
            HttpError::InvalidHeaderValue { name: "X-A".into() },
        ),
        (
            "/",
            &[("X-A", "1\nb")],
            HttpError::InvalidHeaderValue { name: "X-A".into() },
        ),
        (
            "/",
            &[("X-A", "1\0")],
            HttpError::InvalidHeaderValue { name: "X-A".into() },
        ),
        (
            "/",
            &[("X-A\r\nB", "1")],
            HttpError::InvalidHeaderName("X-A\r\nB".into()),
        ),
        ("/", &[("X A", "1")], HttpError::InvalidHeaderName("X A".into())),
        ("/", &[("X:A", "1")], HttpError::InvalidHeaderName("X:A".into())),
        ("/", &[("", "1")], HttpError::InvalidHeaderName(String::new())),
        (
            "/",
            &[("content-length", "1")],
            HttpError::ReservedHeader("content-length".into()),
        ),
        ("/", &[("HOST", "evil")], HttpError::ReservedHeader("HOST".into())),
        (
            "/",
            &[("Transfer-Encoding", "chunked")],
            HttpError::ReservedHeader("Transfer-Encoding".into()),
        ),
        (
            "/",
            &[("Connection", "close")],
            HttpError::ReservedHeader("Connection".into()),
        ),
        ("/a b", &[], HttpError::InvalidTarget("/a b".into())),
        ("/a\r\nX: y", &[], HttpError::InvalidTarget("/a\r\nX: y".into())),
        ("/é", &[], HttpError::InvalidTarget("/é".into())),
        ("a", &[], HttpError::InvalidTarget("a".into())),
        ("", &[], HttpError::InvalidTarget(String::new())),
    ];
    for (target, headers, expected) in cases {
        assert_eq!(
            request(Method::Post, target, headers, b"x").unwrap_err(),
            *expected,
            "{target:?} {headers:?}"
        );
    }
    assert_eq!(request(Method::Get, "/", &[], b"x").unwrap_err(), HttpError::BodyOnGet);
    // A tab is allowed in a value.
    assert!(request(Method::Get, "/", &[("X-A", "a\tb")], b"").is_ok());
    for host in ["", "a b", "a\r\nX: y", "h\0"] {
        let mut out = Vec::new();
        assert_eq!(
            write_request(&mut out, Method::Get, "/", host, &[], b""),
            Err(HttpError::InvalidHost(host.into()))
        );
        assert!(out.is_empty());
    }
}

#[test]
fn written_request_parses_back() {
    let out = request(
        Method::Post,
        "/p?q=1",
        &[("X-One", "1"), ("X-Two", "two words")],
        b"body",
    )
    .unwrap();
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut parsed = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = parsed.parse(&out).unwrap() else {
        panic!("partial");
    };
    assert_eq!(parsed.method, Some("POST"));
    assert_eq!(parsed.path, Some("/p?q=1"));
    assert_eq!(parsed.headers.len(), 5);
    assert_eq!(&out[len..], b"body");
}

// ---- responses ----

#[test]
fn content_length_byte_at_a_time() {
    let mut reader = ResponseReader::new(MAX_BODY);
    let (all, error) = bytewise(&mut reader, LENGTH);
    assert_eq!(error, None);
    assert_eq!(all.len(), 1);
    let r = &all[0];
    assert_eq!((r.status, r.reason.as_str()), (200, "OK"));
    assert_eq!(&r.body[..], b"hello");
    assert!(r.keep_alive);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(r.header("CONTENT-LENGTH"), Some("5"));
    assert_eq!(r.header("x-missing"), None);
    assert_eq!(r.set_cookies().collect::<Vec<_>>(), ["io=abc; Path=/", "lb=1"]);
    assert!(reader.is_idle());
    assert_eq!(one(LENGTH), *r);
}

#[test]
fn chunked_byte_at_a_time() {
    let mut reader = ResponseReader::new(MAX_BODY);
    let (all, error) = bytewise(&mut reader, CHUNKED);
    assert_eq!(error, None);
    assert_eq!(all.len(), 1);
    assert_eq!(&all[0].body[..], b"hello, world");
    assert!(all[0].keep_alive);
    assert!(reader.is_idle());
    assert_eq!(one(CHUNKED), all[0]);
}

#[test]
fn every_split_gives_the_same_response() {
    for input in [LENGTH, CHUNKED] {
        let expected = one(input);
        for cut in 0..=input.len() {
            let mut reader = ResponseReader::new(MAX_BODY);
            reader.feed(&input[..cut]);
            let first = reader.poll().unwrap();
            reader.feed(&input[cut..]);
            let second = reader.poll().unwrap();
            let got = first.or(second).expect("whole after the second piece");
            assert_eq!(got, expected, "cut at {cut}");
            assert_eq!(reader.poll(), Ok(None));
        }
    }
}

#[test]
fn engine_io_error_body() {
    let input = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
28\r\n{\"code\":0,\"message\":\"Transport unknown\"}\r\n0\r\n\r\n";
    let r = one(input);
    assert_eq!((r.status, r.reason.as_str()), (400, "Bad Request"));
    assert_eq!(&r.body[..], br#"{"code":0,"message":"Transport unknown"}"#);
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(json["message"], "Transport unknown");
    assert_eq!(json["code"], 0);
}

#[test]
fn back_to_back_responses() {
    let mut input = LENGTH.to_vec();
    input.extend_from_slice(CHUNKED);
    input.extend_from_slice(b"HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Len");
    let mut reader = ResponseReader::new(MAX_BODY);
    reader.feed(&input);
    assert_eq!(&reader.poll().unwrap().unwrap().body[..], b"hello");
    assert_eq!(&reader.poll().unwrap().unwrap().body[..], b"hello, world");
    let no_content = reader.poll().unwrap().unwrap();
    assert_eq!((no_content.status, no_content.body.len()), (204, 0));
    assert_eq!(reader.poll(), Ok(None));
    assert!(!reader.is_idle());
    reader.feed(b"gth: 2\r\n\r\nok");
    assert_eq!(&reader.poll().unwrap().unwrap().body[..], b"ok");
    assert!(reader.is_idle());
    // Byte by byte too.
    let mut reader = ResponseReader::new(MAX_BODY);
    let (all, error) = bytewise(&mut reader, &input);
    assert_eq!((all.len(), error), (3, None));
}

#[test]
fn interim_responses_are_skipped() {
    let mut input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".to_vec();
    input.extend_from_slice(LENGTH);
    let all = whole(&input, false).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].status, &all[0].body[..]), (200, &b"hello"[..]));
    let mut reader = ResponseReader::new(MAX_BODY);
    let (all, error) = bytewise(&mut reader, &input);
    assert_eq!((all.len(), error), (1, None));
}

#[test]
fn body_until_close() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    let mut reader = ResponseReader::new(MAX_BODY);
    reader.feed(input);
    assert_eq!(reader.poll(), Ok(None));
    reader.close();
    let r = reader.poll().unwrap().unwrap();
    assert_eq!(&r.body[..], b"until the end");
    assert!(!r.keep_alive);
    assert_eq!(reader.poll(), Ok(None));
    assert!(reader.is_idle());
}

#[test]
fn keep_alive_by_version_and_connection() {
    let r = one(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    assert!(!r.keep_alive);
    let r = one(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(!r.keep_alive);
    let r = one(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
    assert!(r.keep_alive);
    let r = one(b"HTTP/1.1 200 OK\r\nConnection: upgrade, keep-alive\r\nContent-Length: 0\r\n\r\n");
    assert!(r.keep_alive);
    let r = one(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    assert_eq!((r.status, r.body.len(), r.keep_alive), (101, 0, false));
}

#[test]
fn lenient_forms() {
    // Bare LF line endings, a repeated equal Content-Length, a list of equal lengths, an empty reason.
    assert_eq!(&one(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok").body[..], b"ok");
    assert_eq!(
        &one(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok").body[..],
        b"ok"
    );
    assert_eq!(
        &one(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok").body[..],
        b"ok"
    );
    assert_eq!(one(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").reason, "");
    // Chunked, case-insensitive, with upper-case hex, bare LFs, no trailers.
    let r = one(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\nabcdefghij\n0\n\n");
    assert_eq!(&r.body[..], b"abcdefghij");
}

#[test]
fn malformed_heads() {
    for input in [
        &b"HTTP/2 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 OK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
    ] {
        assert!(
            matches!(err(input), HttpError::MalformedHead(_)),
            "{:?}: {:?}",
            String::from_utf8_lossy(input),
            err(input)
        );
    }
}

#[test]
fn bad_content_lengths() {
    for value in ["-1", "+5", "", "5a", "0x10", "99999999999999999999999", "1 2"] {
        let input = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
        let e = err(input.as_bytes());
        assert!(matches!(e, HttpError::InvalidContentLength(_)), "{value:?}: {e:?}");
    }
    assert_eq!(
        err(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
        HttpError::ConflictingContentLength
    );
    assert_eq!(
        err(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok"),
        HttpError::ConflictingContentLength
    );
    assert_eq!(
        err(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
        HttpError::ContentLengthWithTransferEncoding
    );
    for value in ["gzip", "gzip, chunked", "chunked, chunked", "identity"] {
        let input = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {value}\r\n\r\n");
        assert_eq!(
            err(input.as_bytes()),
            HttpError::UnsupportedTransferEncoding(value.into())
        );
    }
}

#[test]
fn bad_chunks() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let with = |rest: &[u8]| {
        let mut input = head.to_vec();
        input.extend_from_slice(rest);
        err(&input)
    };
    for rest in [
        &b"xyz\r\n"[..],
        b"\r\n",
        b"-1\r\n",
        b"5 x\r\nhello\r\n",
        b"10000000000000000\r\n",
    ] {
        assert_eq!(
            with(rest),
            HttpError::InvalidChunkSize,
            "{:?}",
            String::from_utf8_lossy(rest)
        );
    }
    assert_eq!(with(b"5\r\nhelloXX"), HttpError::MissingChunkEnd);
    assert_eq!(with(b"5\r\nhello\rX"), HttpError::MissingChunkEnd);
}

#[test]
fn caps() {
    // Header block: no end in sight, and a whole head over the cap.
    let limits = ReaderLimits {
        max_header_bytes: 100,
        ..ReaderLimits::new(MAX_BODY)
    };
    let long = format!("HTTP/1.1 200 OK\r\nX-Pad: {}", "a".repeat(200));
    assert_eq!(
        whole_with(limits, long.as_bytes(), false),
        Err(HttpError::HeaderTooLarge { max: 100 })
    );
    let long = format!("HTTP/1.1 200 OK\r\nX-Pad: {}\r\n\r\n", "a".repeat(200));
    assert_eq!(
        whole_with(limits, long.as_bytes(), false),
        Err(HttpError::HeaderTooLarge { max: 100 })
    );
    // A head of exactly the cap is taken, one byte more is not, whatever the pieces.
    for (len, ok) in [(100, true), (101, false)] {
        let start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
        let head = format!("{start}{}\r\n\r\n", "p".repeat(len - start.len() - 4));
        assert_eq!(head.len(), len);
        let expected = if ok {
            Ok(1)
        } else {
            Err(HttpError::HeaderTooLarge { max: 100 })
        };
        assert_eq!(whole_with(limits, head.as_bytes(), false).map(|r| r.len()), expected);
        let mut reader = ResponseReader::with_limits(limits);
        let (all, error) = bytewise(&mut reader, head.as_bytes());
        assert_eq!(error.map_or(Ok(all.len()), Err), expected);
    }
    let endless = vec![b'a'; MAX_HEADER_BYTES + 1];
    assert_eq!(err(&endless), HttpError::HeaderTooLarge { max: MAX_HEADER_BYTES });
    let mut reader = ResponseReader::new(MAX_BODY);
    let (_, error) = bytewise(&mut reader, &endless);
    assert_eq!(error, Some(HttpError::HeaderTooLarge { max: MAX_HEADER_BYTES }));

    // Header count.
    let mut many = "HTTP/1.1 200 OK\r\n".to_owned();
    for i in 0..=MAX_HEADERS {
        many.push_str(&format!("X-{i}: v\r\n"));
    }
    many.push_str("\r\n");
    assert_eq!(err(many.as_bytes()), HttpError::TooManyHeaders { max: MAX_HEADERS });

    // Body: announced, chunked, until close.
    let limits = ReaderLimits::new(4);
    assert_eq!(
        whole_with(limits, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false),
        Err(HttpError::BodyTooLarge { size: 5, max: 4 })
    );
    assert_eq!(
        whole_with(limits, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfour", false)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        whole_with(
            limits,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n",
            false
        ),
        Err(HttpError::BodyTooLarge { size: 5, max: 4 })
    );
    assert_eq!(
        whole_with(
            limits,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            false
        ),
        Err(HttpError::BodyTooLarge { size: u64::MAX, max: 4 })
    );
    assert_eq!(
        whole_with(limits, b"HTTP/1.1 200 OK\r\n\r\nfive!", false),
        Err(HttpError::BodyTooLarge { size: 5, max: 4 })
    );

    // Chunk-size line, and a trailer line.
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let ext = format!("{chunked}1;{}", "e".repeat(MAX_CHUNK_LINE));
    assert_eq!(err(ext.as_bytes()), HttpError::ChunkLineTooLong { max: MAX_CHUNK_LINE });
    let ext = format!("{chunked}1;{}\r\n", "e".repeat(MAX_CHUNK_LINE));
    assert_eq!(err(ext.as_bytes()), HttpError::ChunkLineTooLong { max: MAX_CHUNK_LINE });
    // A line of exactly the cap is taken.
    let ext = format!("{chunked}1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE - 2));
    assert_eq!(&one(ext.as_bytes()).body[..], b"x");
    let trailer = format!("{chunked}0\r\nX-T: {}\r\n\r\n", "t".repeat(MAX_CHUNK_LINE));
    assert_eq!(
        err(trailer.as_bytes()),
        HttpError::ChunkLineTooLong { max: MAX_CHUNK_LINE }
    );
    // Trailers together over the header cap.
    let limits = ReaderLimits {
        max_header_bytes: 100,
        ..ReaderLimits::new(MAX_BODY)
    };
    let trailers = format!("{chunked}0\r\n{}\r\n", "X-T: 0123456789\r\n".repeat(10));
    assert_eq!(
        whole_with(limits, trailers.as_bytes(), false),
        Err(HttpError::HeaderTooLarge { max: 100 })
    );
}

#[test]
fn truncated_and_sticky_errors() {
    for cut in [1, 20, LENGTH.len() - 1] {
        assert_eq!(whole(&LENGTH[..cut], true), Err(HttpError::Truncated), "cut at {cut}");
    }
    assert_eq!(whole(&CHUNKED[..CHUNKED.len() - 2], true), Err(HttpError::Truncated));
    assert_eq!(whole(b"", true), Ok(vec![]));
    let mut reader = ResponseReader::new(MAX_BODY);
    reader.feed(b"HTTP/9 200 OK\r\n\r\n");
    let e = reader.poll().unwrap_err();
    reader.feed(LENGTH);
    assert_eq!(reader.poll(), Err(e));
}

#[test]
fn displays() {
    assert_eq!(
        HttpError::HeaderTooLarge { max: 65536 }.to_string(),
        "HTTP response header block over 65536 bytes"
    );
    assert_eq!(
        HttpError::InvalidHeaderValue { name: "X-A".into() }.to_string(),
        "HTTP request header \"X-A\" has a control character (CR, LF, NUL, ...) in its value"
    );
    assert_eq!(
        HttpError::BodyTooLarge { size: 5, max: 4 }.to_string(),
        "HTTP response body of 5 bytes, larger than the cap (4 bytes)"
    );
    assert_eq!(
        HttpError::UnsupportedTransferEncoding("gzip".into()).to_string(),
        "unsupported HTTP Transfer-Encoding \"gzip\" (only \"chunked\" is)"
    );
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn no_panic_on_arbitrary_bytes() {
    let seeds: [&[u8]; 4] = [
        LENGTH,
        CHUNKED,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody",
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n{\"code\":0,\"message\":\"Transport unknown\"}\r\n0\r\n\r\n",
    ];
    let alphabet = b"\r\n :;0123456789abcdefABCDEF-,HTTP/1.\0\xff";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..4000 {
        let mut input = seeds[round % seeds.len()].to_vec();
        if round % 5 == 4 {
            input = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
        } else {
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(input.len() + 1);
                match rng.below(4) {
                    0 if at < input.len() => input[at] = alphabet[rng.below(alphabet.len())],
                    1 if at < input.len() => {
                        input.remove(at);
                    }
                    2 => input.insert(at, alphabet[rng.below(alphabet.len())]),
                    _ => {
                        let copy = input[at..].to_vec();
                        input.extend_from_slice(&copy[..copy.len().min(40)]);
                    }
                }
            }
        }
        let limits = ReaderLimits {
            max_header_bytes: 1 + rng.below(200),
            max_headers: rng.below(8),
            max_body_bytes: rng.below(100),
            max_chunk_line: rng.below(20),
        };
        // In random pieces, closed at the end; the same result whatever the pieces, for the first response.
        let at_once = whole_with(limits, &input, true);
        let mut reader = ResponseReader::with_limits(limits);
        let mut rest = &input[..];
        let mut got = Vec::new();
        let mut error = None;
        while error.is_none() {
            let n = rng.below(rest.len().min(16) + 1);
            reader.feed(&rest[..n]);
            rest = &rest[n..];
            if rest.is_empty() {
                reader.close();
            }
            loop {
                match reader.poll() {
                    Ok(Some(r)) => got.push(r),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            if rest.is_empty() {
                break;
            }
        }
        let pieces = match error {
            Some(e) => Err(e),
            None => Ok(got),
        };
        // The error may differ with the pieces (a cap met before a malformed line is seen), not the outcome.
        match (&pieces, &at_once) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "round {round}: {:?}", String::from_utf8_lossy(&input)),
            (Err(_), Err(_)) => {}
            _ => panic!(
                "round {round}: {pieces:?} in pieces, {at_once:?} at once: {:?}",
                String::from_utf8_lossy(&input)
            ),
        }
    }
}

#[test]
fn poll_head_reads_the_head_only_and_leaves_the_rest() {
    // A refusal with a body, and a 2xx with no framing at all (the answer to a CONNECT): neither body is read.
    let mut reader = ResponseReader::new(0);
    reader.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n");
    assert_eq!(reader.poll_head(), Ok(None));
    reader.feed(b"\r\nhello");
    let head = reader.poll_head().expect("valid").expect("whole");
    assert_eq!(
        (head.status, head.reason.as_str()),
        (407, "Proxy Authentication Required")
    );
    assert_eq!(head.header("content-length"), Some("5"));
    assert!(head.body.is_empty() && !head.keep_alive);
    assert!(!reader.is_idle(), "the body stays unread");

    let mut reader = ResponseReader::new(0);
    reader.feed(b"HTTP/1.1 200 Connection established\r\n\r\n");
    reader.close();
    let head = reader.poll_head().expect("valid").expect("whole");
    assert_eq!(head.status, 200);
    assert!(reader.is_idle());
}

#[test]
fn poll_head_refuses_like_poll() {
    let mut reader = ResponseReader::new(0);
    reader.feed(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n");
    let refused = reader.poll_head();
    assert!(matches!(refused, Err(HttpError::MalformedHead(_))), "{refused:?}");
    assert_eq!(reader.poll_head(), refused, "sticky");

    let mut reader = ResponseReader::new(0);
    reader.feed(b"HTTP/1.1 200 OK\r\n");
    reader.close();
    assert_eq!(reader.poll_head(), Err(HttpError::Truncated));

    let limits = ReaderLimits {
        max_header_bytes: 32,
        ..ReaderLimits::new(0)
    };
    let mut reader = ResponseReader::with_limits(limits);
    reader.feed(b"HTTP/1.1 200 OK\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(reader.poll_head(), Err(HttpError::HeaderTooLarge { max: 32 }));
}
