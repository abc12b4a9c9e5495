//! The HTTP/1.1 response reader of the long-polling transport on arbitrary bytes.
//!
//! Input: four bytes of caps (header bytes, header count, body bytes, chunk-line bytes), one byte of piece size
//! (1 to 64), then the connection's bytes, fed in pieces of that size and closed at the end.
//!
//! Checks: no panic; fed at once, the reader gives the same responses (or also refuses); a refusal stays: the next
//! poll answers the same error; each response's body is within the cap, and its status is not an interim one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use socketio_core::error::HttpError;
use socketio_core::transport::http::{ReaderLimits, Response, ResponseReader};

fn read(limits: ReaderLimits, data: &[u8], piece: usize) -> Result<Vec<Response>, HttpError> {
    let mut reader = ResponseReader::with_limits(limits);
    let mut out = Vec::new();
    let mut pieces = data.chunks(piece).peekable();
    loop {
        let last = match pieces.next() {
            Some(bytes) => {
                reader.feed(bytes);
                pieces.peek().is_none()
            }
            None => true,
        };
        if last {
            reader.close();
        }
        loop {
            match reader.poll() {
                Ok(Some(response)) => out.push(response),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(reader.poll().as_ref().err(), Some(&e), "a refusal stays");
                    return Err(e);
                }
            }
        }
        if last {
            return Ok(out);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [h, n, b, c, p, data @ ..] = data else {
        return;
    };
    let limits = ReaderLimits {
        max_header_bytes: usize::from(*h) * 64,
        max_headers: usize::from(*n % 32),
        max_body_bytes: usize::from(*b) * 64,
        max_chunk_line: usize::from(*c),
    };
    let in_pieces = read(limits, data, 1 + usize::from(*p % 64));
    let at_once = read(limits, data, data.len().max(1));
    match (&in_pieces, &at_once) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("{in_pieces:?} in pieces, {at_once:?} at once"),
    }
    for response in in_pieces.iter().flatten() {
        assert!(response.body.len() <= limits.max_body_bytes);
        assert!(!(100..200).contains(&response.status) || response.status == 101);
    }
});
