//! The properties of `SocketIOClient` as views of the core's settings ([`ClientConfig`]), in GDScript's units:
//! seconds as a float (a [`Duration`] in the core), `0` for "no limit" (`None`), counts and sizes as `int`.
//!
//! Nothing is stored here. Each property has a getter that reads the setting and a setter that checks a value and
//! writes it, or says why it refuses it (the setting then stays as it was). So the value GDScript reads is the one
//! the core uses, and the defaults GDScript sees are the core's ([`ClientConfig::default`]). The ranges a setting
//! may take are the core's too ([`check`]); the setters add only what GDScript's types allow and the core's do not
//! (a negative count, a NaN duration).

use std::time::Duration;

use godot::builtin::{GString, StringName, VarDictionary, Variant, VariantType};
use godot::meta::ToGodot;
use godot::obj::EngineEnum;
use socketio_core::check;
use socketio_core::endpoint::Proxy;
use socketio_core::ClientConfig;

/// Why a value is refused by a property's setter.
pub type Refusal = String;

/// `reconnection`: `reconnect.enabled`.
pub fn reconnection(config: &ClientConfig) -> bool {
    config.reconnect.enabled
}

/// Sets `reconnection`.
pub fn set_reconnection(config: &mut ClientConfig, value: bool) -> Result<(), Refusal> {
    config.reconnect.enabled = value;
    Ok(())
}

/// `reconnection_attempts`: `reconnect.max_attempts`, `0` for `None` (never give up).
pub fn reconnection_attempts(config: &ClientConfig) -> i64 {
    config.reconnect.max_attempts.map_or(0, i64::from)
}

/// Sets `reconnection_attempts`. More attempts than a `u32` holds is as good as unlimited: they are kept as
/// `u32::MAX`.
pub fn set_reconnection_attempts(config: &mut ClientConfig, value: i64) -> Result<(), Refusal> {
    if value < 0 {
        return Err(format!(
            "reconnection_attempts must be 0 (unlimited) or more, not {value}"
        ));
    }
    let max = u32::try_from(value).unwrap_or(u32::MAX);
    config.reconnect.max_attempts = (max > 0).then_some(max);
    Ok(())
}

/// `reconnection_delay`: `reconnect.delay`, in seconds.
pub fn reconnection_delay(config: &ClientConfig) -> f64 {
    config.reconnect.delay.as_secs_f64()
}

/// Sets `reconnection_delay`.
pub fn set_reconnection_delay(config: &mut ClientConfig, value: f64) -> Result<(), Refusal> {
    config.reconnect.delay = seconds("reconnection_delay", value)?;
    Ok(())
}

/// `reconnection_delay_max`: `reconnect.delay_max`, in seconds.
pub fn reconnection_delay_max(config: &ClientConfig) -> f64 {
    config.reconnect.delay_max.as_secs_f64()
}

/// Sets `reconnection_delay_max`.
pub fn set_reconnection_delay_max(config: &mut ClientConfig, value: f64) -> Result<(), Refusal> {
    config.reconnect.delay_max = seconds("reconnection_delay_max", value)?;
    Ok(())
}

/// `randomization_factor`: `reconnect.randomization`.
pub fn randomization_factor(config: &ClientConfig) -> f64 {
    config.reconnect.randomization
}

/// Sets `randomization_factor`.
pub fn set_randomization_factor(config: &mut ClientConfig, value: f64) -> Result<(), Refusal> {
    let range = check::RANDOMIZATION_RANGE;
    if !range.contains(&value) {
        return Err(format!(
            "randomization_factor must be between {:?} and {:?}, not {value}",
            range.start(),
            range.end()
        ));
    }
    config.reconnect.randomization = value;
    Ok(())
}

/// `path`: `path`, as given (the core normalises it when it connects).
pub fn path(config: &ClientConfig) -> &str {
    &config.path
}

/// Sets `path`.
pub fn set_path(config: &mut ClientConfig, value: String) -> Result<(), Refusal> {
    if !value.starts_with('/') {
        return Err(format!("path must start with \"/\", not \"{value}\""));
    }
    config.path = value;
    Ok(())
}

/// `max_message_size`: `limits.max_message_bytes`.
pub fn max_message_size(config: &ClientConfig) -> i64 {
    int(config.limits.max_message_bytes)
}

/// Sets `max_message_size`.
pub fn set_max_message_size(config: &mut ClientConfig, value: i64) -> Result<(), Refusal> {
    config.limits.max_message_bytes = at_least("max_message_size", value, 1)?;
    Ok(())
}

/// `max_attachments`: `limits.max_attachments`.
pub fn max_attachments(config: &ClientConfig) -> i64 {
    int(config.limits.max_attachments)
}

/// Sets `max_attachments`.
pub fn set_max_attachments(config: &mut ClientConfig, value: i64) -> Result<(), Refusal> {
    config.limits.max_attachments = at_least("max_attachments", value, 0)?;
    Ok(())
}

/// `max_nesting_depth`: `limits.max_depth`, in [`check::MAX_DEPTH_RANGE`].
pub fn max_nesting_depth(config: &ClientConfig) -> i64 {
    int(config.limits.max_depth)
}

/// Sets `max_nesting_depth`.
pub fn set_max_nesting_depth(config: &mut ClientConfig, value: i64) -> Result<(), Refusal> {
    let range = check::MAX_DEPTH_RANGE;
    let Some(depth) = usize::try_from(value).ok().filter(|depth| range.contains(depth)) else {
        return Err(format!(
            "max_nesting_depth must be between {} and {}, not {value}",
            range.start(),
            range.end()
        ));
    };
    config.limits.max_depth = depth;
    Ok(())
}

/// `send_buffer_max_packets`: `limits.send_buffer_packets`.
pub fn send_buffer_max_packets(config: &ClientConfig) -> i64 {
    int(config.limits.send_buffer_packets)
}

/// Sets `send_buffer_max_packets`.
pub fn set_send_buffer_max_packets(config: &mut ClientConfig, value: i64) -> Result<(), Refusal> {
    config.limits.send_buffer_packets = at_least("send_buffer_max_packets", value, 0)?;
    Ok(())
}

/// `send_buffer_max_bytes`: `limits.send_buffer_bytes`.
pub fn send_buffer_max_bytes(config: &ClientConfig) -> i64 {
    int(config.limits.send_buffer_bytes)
}

/// Sets `send_buffer_max_bytes`.
pub fn set_send_buffer_max_bytes(config: &mut ClientConfig, value: i64) -> Result<(), Refusal> {
    config.limits.send_buffer_bytes = at_least("send_buffer_max_bytes", value, 0)?;
    Ok(())
}

/// `connect_timeout`: `connect_timeout`, in seconds; never zero.
pub fn connect_timeout(config: &ClientConfig) -> f64 {
    config.connect_timeout.as_secs_f64()
}

/// Sets `connect_timeout`.
pub fn set_connect_timeout(config: &mut ClientConfig, value: f64) -> Result<(), Refusal> {
    let timeout = seconds("connect_timeout", value)?;
    if timeout.is_zero() {
        return Err(format!("connect_timeout must be more than 0 seconds, not {value}"));
    }
    config.connect_timeout = timeout;
    Ok(())
}

/// `transports`: `transports`, by name (`"websocket"`, `"polling"`), in order.
pub fn transports(config: &ClientConfig) -> Vec<&'static str> {
    config.transports.iter().map(|kind| kind.name()).collect()
}

/// Sets `transports`: names checked by [`check::transports`] (at least one, each known, none twice).
pub fn set_transports(config: &mut ClientConfig, names: Vec<String>) -> Result<(), Refusal> {
    match check::transports(&names) {
        Ok(kinds) => {
            config.transports = kinds;
            Ok(())
        }
        Err(why) => Err(format!("transports {names:?} refused: {why}")),
    }
}

/// `extra_headers`: `extra_headers`, in order.
pub fn extra_headers(config: &ClientConfig) -> &[(String, String)] {
    &config.extra_headers
}

/// Sets `extra_headers`, each header checked by [`check::header`]; one bad header refuses them all. The refusal
/// names the header, not its value (which may be a secret, such as a token).
pub fn set_extra_headers(config: &mut ClientConfig, headers: Vec<(String, String)>) -> Result<(), Refusal> {
    for (name, value) in &headers {
        check::header(name, value).map_err(|why| format!("extra_headers refused: header {name:?}: {why}"))?;
    }
    config.extra_headers = headers;
    Ok(())
}

/// A query parameter's value as GDScript gives it; it is sent as text.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// A `String` (or `StringName`), as is.
    Text(String),
    /// An `int`, in decimal.
    Int(i64),
    /// A finite `float`, as JavaScript writes it (`2.0` is `"2"`, `0.5` is `"0.5"`).
    Float(f64),
    /// A `bool`: `"true"` or `"false"`.
    Bool(bool),
}

/// `query`: `query`, in order, each value as the text it is sent as.
pub fn query(config: &ClientConfig) -> &[(String, String)] {
    &config.query
}

/// Sets `query`: keys checked by [`check::query_key`], values turned into text (a NaN or infinite float is
/// refused: it has no agreed spelling). One bad parameter refuses them all.
pub fn set_query(config: &mut ClientConfig, parameters: Vec<(String, QueryValue)>) -> Result<(), Refusal> {
    let mut query = Vec::with_capacity(parameters.len());
    for (key, value) in parameters {
        check::query_key(&key).map_err(|why| format!("query refused: key {key:?}: {why}"))?;
        let text = match value {
            QueryValue::Text(text) => text,
            QueryValue::Int(n) => n.to_string(),
            QueryValue::Float(x) if x.is_finite() => x.to_string(),
            QueryValue::Float(x) => {
                return Err(format!(
                    "query refused: the value of {key:?} is {x}: only finite numbers can be sent"
                ))
            }
            QueryValue::Bool(b) => b.to_string(),
        };
        query.push((key, text));
    }
    config.query = query;
    Ok(())
}

/// `proxy_url`: `proxy_url`, `""` for `None` (no proxy).
pub fn proxy_url(config: &ClientConfig) -> &str {
    config.proxy_url.as_deref().unwrap_or("")
}

/// Sets `proxy_url`: `""` (or blanks) for none, otherwise a URL [`Proxy::parse`] accepts, kept as given.
pub fn set_proxy_url(config: &mut ClientConfig, value: String) -> Result<(), Refusal> {
    if value.trim().is_empty() {
        config.proxy_url = None;
        return Ok(());
    }
    Proxy::parse(&value).map_err(|why| format!("proxy_url refused: {why}"))?;
    config.proxy_url = Some(value);
    Ok(())
}

/// A dictionary of texts for GDScript (`extra_headers`, `query`), in order.
pub fn text_dictionary(pairs: &[(String, String)]) -> VarDictionary {
    let mut dictionary = VarDictionary::new();
    for (key, value) in pairs {
        dictionary.set(
            &GString::from(key.as_str()).to_variant(),
            &GString::from(value.as_str()).to_variant(),
        );
    }
    dictionary
}

/// The `extra_headers` GDScript gives, as names and values, in order; refused when a key or value is not text.
pub fn header_pairs(dictionary: &VarDictionary) -> Result<Vec<(String, String)>, Refusal> {
    dictionary
        .iter_shared()
        .map(|(key, value)| {
            let name = text(&key).ok_or_else(|| {
                format!(
                    "extra_headers refused: a header name is {}, not a String",
                    type_name(&key)
                )
            })?;
            let value = text(&value).ok_or_else(|| {
                format!(
                    "extra_headers refused: the value of header {name:?} is {}, not a String",
                    type_name(&value)
                )
            })?;
            Ok((name, value))
        })
        .collect()
}

/// The `query` GDScript gives, in order; refused when a key is not text or a value not text, a number or a bool.
pub fn query_pairs(dictionary: &VarDictionary) -> Result<Vec<(String, QueryValue)>, Refusal> {
    dictionary
        .iter_shared()
        .map(|(key, value)| {
            let name =
                text(&key).ok_or_else(|| format!("query refused: a key is {}, not a String", type_name(&key)))?;
            let value = match value.get_type() {
                VariantType::INT => QueryValue::Int(value.to::<i64>()),
                VariantType::FLOAT => QueryValue::Float(value.to::<f64>()),
                VariantType::BOOL => QueryValue::Bool(value.to::<bool>()),
                _ => QueryValue::Text(text(&value).ok_or_else(|| {
                    format!(
                        "query refused: the value of {name:?} is {}, not a String, int, float or bool",
                        type_name(&value)
                    )
                })?),
            };
            Ok((name, value))
        })
        .collect()
}

/// A `String` or `StringName` variant's text.
fn text(variant: &Variant) -> Option<String> {
    match variant.get_type() {
        VariantType::STRING => Some(variant.to::<GString>().to_string()),
        VariantType::STRING_NAME => Some(variant.to::<StringName>().to_string()),
        _ => None,
    }
}

/// A variant's type, with its article, as Godot names it ("an int", "a Vector2", "null").
fn type_name(variant: &Variant) -> String {
    let ty = variant.get_type();
    if ty == VariantType::NIL {
        return "null".to_owned();
    }
    let name = godot::global::type_string(ty.ord() as i64).to_string();
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// A count or size as GDScript's `int` (one beyond `i64::MAX` cannot have been set from GDScript).
fn int(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A count or size property's value as `usize`, refused when below `min`.
fn at_least(name: &str, value: i64, min: i64) -> Result<usize, Refusal> {
    usize::try_from(value)
        .ok()
        .filter(|_| value >= min)
        .ok_or_else(|| format!("{name} must be {min} or more, not {value}"))
}

/// A duration property's value in seconds, refused when negative or not finite. It is kept to the nanosecond, as
/// the core keeps durations, and read back so.
fn seconds(name: &str, value: f64) -> Result<Duration, Refusal> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("{name} must be a finite number of seconds, 0 or more, not {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each property's value in a configuration, written as GDScript prints it (`var_to_str`): the class reference
    /// states the defaults this way.
    fn shown(config: &ClientConfig) -> Vec<(&'static str, String)> {
        let float = |value: f64| format!("{value:?}");
        vec![
            ("reconnection", reconnection(config).to_string()),
            ("reconnection_attempts", reconnection_attempts(config).to_string()),
            ("reconnection_delay", float(reconnection_delay(config))),
            ("reconnection_delay_max", float(reconnection_delay_max(config))),
            ("randomization_factor", float(randomization_factor(config))),
            ("path", format!("\"{}\"", path(config))),
            ("max_message_size", max_message_size(config).to_string()),
            ("max_attachments", max_attachments(config).to_string()),
            ("max_nesting_depth", max_nesting_depth(config).to_string()),
            ("send_buffer_max_packets", send_buffer_max_packets(config).to_string()),
            ("send_buffer_max_bytes", send_buffer_max_bytes(config).to_string()),
            ("connect_timeout", float(connect_timeout(config))),
            ("transports", packed_strings(&transports(config))),
            ("extra_headers", dictionary(extra_headers(config))),
            ("query", dictionary(query(config))),
            ("proxy_url", format!("\"{}\"", proxy_url(config))),
        ]
    }

    /// A `PackedStringArray` as `var_to_str` writes it.
    fn packed_strings(names: &[&str]) -> String {
        let quoted: Vec<String> = names.iter().map(|name| format!("\"{name}\"")).collect();
        format!("PackedStringArray({})", quoted.join(", "))
    }

    /// A `Dictionary` of strings as `var_to_str` writes it (`{}` when empty).
    fn dictionary(pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return "{}".to_owned();
        }
        let entries: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\": \"{v}\"")).collect();
        format!("{{\n{}\n}}", entries.join(",\n"))
    }

    /// The default each property's description in the class reference states: "Default [code]X[/code]", or
    /// "[code]X[/code] (default)".
    fn documented_defaults() -> Vec<(String, String)> {
        let xml = godot::docs::__gather_xml_docs()
            .find(|xml| xml.contains("<class name=\"SocketIOClient\""))
            .expect("the class reference of SocketIOClient");
        xml.split("<member name=\"")
            .skip(1)
            .map(|member| {
                let (name, rest) = member.split_once('"').unwrap_or_default();
                let text = rest
                    .split("</member>")
                    .next()
                    .unwrap_or_default()
                    .replace("&quot;", "\"");
                let stated = match text.split_once("Default [code]") {
                    Some((_, after)) => after.split("[/code]").next(),
                    None => text
                        .split_once("[/code] (default)")
                        .and_then(|(before, _)| before.rsplit("[code]").next()),
                };
                (name.to_owned(), stated.unwrap_or("(no default stated)").to_owned())
            })
            .collect()
    }

    #[test]
    fn the_class_reference_states_the_cores_defaults() {
        let mut documented = documented_defaults();
        documented.sort();
        let mut defaults: Vec<(String, String)> = shown(&ClientConfig::default())
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        defaults.sort();
        assert_eq!(documented, defaults);
    }

    #[test]
    fn values_are_read_back_as_the_core_holds_them() {
        let mut config = ClientConfig::default();
        set_reconnection_attempts(&mut config, 3).unwrap();
        assert_eq!(config.reconnect.max_attempts, Some(3));
        assert_eq!(reconnection_attempts(&config), 3);
        set_reconnection_attempts(&mut config, 0).unwrap();
        assert_eq!(config.reconnect.max_attempts, None);
        assert_eq!(reconnection_attempts(&config), 0);
        set_reconnection_attempts(&mut config, i64::MAX).unwrap();
        assert_eq!(reconnection_attempts(&config), i64::from(u32::MAX));

        set_reconnection_delay(&mut config, 0.25).unwrap();
        assert_eq!(config.reconnect.delay, Duration::from_millis(250));
        assert_eq!(reconnection_delay(&config), 0.25);
        // Kept to the nanosecond, as the core keeps it.
        set_reconnection_delay_max(&mut config, 1e-10).unwrap();
        assert_eq!(reconnection_delay_max(&config), 0.0);

        set_connect_timeout(&mut config, 0.5).unwrap();
        assert_eq!(config.connect_timeout, Duration::from_millis(500));
        set_path(&mut config, "/elsewhere/".to_owned()).unwrap();
        assert_eq!(path(&config), "/elsewhere/");
        set_max_nesting_depth(&mut config, 127).unwrap();
        assert_eq!(config.limits.max_depth, 127);
        set_max_message_size(&mut config, 1024).unwrap();
        assert_eq!(config.limits.max_message_bytes, 1024);
        set_send_buffer_max_packets(&mut config, 0).unwrap();
        assert_eq!(send_buffer_max_packets(&config), 0);
    }

    #[test]
    fn refused_values_leave_the_setting_as_it_was() {
        type Setter = fn(&mut ClientConfig, f64) -> Result<(), Refusal>;
        let float_cases: [(Setter, f64, &str); 5] = [
            (
                set_reconnection_delay,
                -1.0,
                "reconnection_delay must be a finite number of seconds, 0 or more, not -1",
            ),
            (
                set_reconnection_delay_max,
                f64::NAN,
                "reconnection_delay_max must be a finite number of seconds",
            ),
            (
                set_randomization_factor,
                2.0,
                "randomization_factor must be between 0.0 and 1.0, not 2",
            ),
            (
                set_connect_timeout,
                0.0,
                "connect_timeout must be more than 0 seconds, not 0",
            ),
            (
                set_connect_timeout,
                f64::INFINITY,
                "connect_timeout must be a finite number of seconds",
            ),
        ];
        for (set, value, message) in float_cases {
            let mut config = ClientConfig::default();
            let refusal = set(&mut config, value).unwrap_err();
            assert!(refusal.starts_with(message), "{refusal}");
            assert_eq!(config, ClientConfig::default(), "{message}");
        }
        type IntSetter = fn(&mut ClientConfig, i64) -> Result<(), Refusal>;
        let int_cases: [(IntSetter, i64, &str); 7] = [
            (
                set_reconnection_attempts,
                -1,
                "reconnection_attempts must be 0 (unlimited) or more, not -1",
            ),
            (set_max_message_size, 0, "max_message_size must be 1 or more, not 0"),
            (set_max_attachments, -1, "max_attachments must be 0 or more, not -1"),
            (
                set_max_nesting_depth,
                0,
                "max_nesting_depth must be between 1 and 127, not 0",
            ),
            (
                set_max_nesting_depth,
                128,
                "max_nesting_depth must be between 1 and 127, not 128",
            ),
            (
                set_send_buffer_max_packets,
                -1,
                "send_buffer_max_packets must be 0 or more, not -1",
            ),
            (
                set_send_buffer_max_bytes,
                -1,
                "send_buffer_max_bytes must be 0 or more, not -1",
            ),
        ];
        for (set, value, message) in int_cases {
            let mut config = ClientConfig::default();
            assert_eq!(set(&mut config, value).unwrap_err(), message);
            assert_eq!(config, ClientConfig::default(), "{message}");
        }
        let mut config = ClientConfig::default();
        assert_eq!(
            set_path(&mut config, "socket.io".to_owned()).unwrap_err(),
            "path must start with \"/\", not \"socket.io\""
        );
        assert_eq!(config, ClientConfig::default());
    }

    #[test]
    fn connection_options_go_to_the_core_or_are_refused_whole() {
        use socketio_core::TransportKind::{Polling, WebSocket};
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut config = ClientConfig::default();
        assert_eq!(transports(&config), ["websocket", "polling"]);
        set_transports(&mut config, names(&["polling", "websocket"])).unwrap();
        assert_eq!(config.transports, [Polling, WebSocket]);
        set_transports(&mut config, names(&["websocket"])).unwrap();
        assert_eq!(transports(&config), ["websocket"]);
        for (bad, message) in [
            (names(&[]), "transports [] refused: at least one transport is needed"),
            (names(&["ws"]), "transports [\"ws\"] refused: unknown transport \"ws\""),
            (
                names(&["polling", "polling"]),
                "transports [\"polling\", \"polling\"] refused: \"polling\" is listed twice",
            ),
        ] {
            let refusal = set_transports(&mut config, bad).unwrap_err();
            assert!(refusal.starts_with(message), "{refusal}");
            assert_eq!(config.transports, [WebSocket]);
        }

        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        set_extra_headers(&mut config, vec![pair("X-Token", "abc"), pair("Cookie", "a=1")]).unwrap();
        assert_eq!(extra_headers(&config), [pair("X-Token", "abc"), pair("Cookie", "a=1")]);
        let refusal =
            set_extra_headers(&mut config, vec![pair("X-Ok", "1"), pair("X-Evil", "a\r\nHost: x")]).unwrap_err();
        assert_eq!(
            refusal,
            "extra_headers refused: header \"X-Evil\": the value must not contain CR, LF or other control characters"
        );
        assert!(!refusal.contains("Host: x"), "the value is not repeated");
        assert!(set_extra_headers(&mut config, vec![pair("host", "x")])
            .unwrap_err()
            .contains("Host is written by the client itself"));
        assert!(set_extra_headers(&mut config, vec![pair("X Bad", "x")]).is_err());
        assert_eq!(extra_headers(&config), [pair("X-Token", "abc"), pair("Cookie", "a=1")]);
        set_extra_headers(&mut config, Vec::new()).unwrap();
        assert!(config.extra_headers.is_empty());

        set_query(
            &mut config,
            vec![
                ("s".into(), QueryValue::Text("a b".into())),
                ("i".into(), QueryValue::Int(-3)),
                ("f".into(), QueryValue::Float(2.0)),
                ("h".into(), QueryValue::Float(0.5)),
                ("b".into(), QueryValue::Bool(true)),
            ],
        )
        .unwrap();
        assert_eq!(
            query(&config),
            [
                pair("s", "a b"),
                pair("i", "-3"),
                pair("f", "2"),
                pair("h", "0.5"),
                pair("b", "true")
            ]
        );
        let kept = config.query.clone();
        assert_eq!(
            set_query(&mut config, vec![("EIO".into(), QueryValue::Int(3))]).unwrap_err(),
            "query refused: key \"EIO\": \"EIO\" is set by the Engine.IO protocol itself"
        );
        assert!(set_query(&mut config, vec![("x".into(), QueryValue::Float(f64::NAN))]).is_err());
        assert!(set_query(&mut config, vec![("".into(), QueryValue::Bool(false))]).is_err());
        assert_eq!(config.query, kept);

        set_proxy_url(&mut config, "http://user:pw@127.0.0.1:8080".into()).unwrap();
        assert_eq!(proxy_url(&config), "http://user:pw@127.0.0.1:8080");
        for bad in ["socks5://127.0.0.1:1080", "127.0.0.1:8080", "http://proxy:8080/path"] {
            let refusal = set_proxy_url(&mut config, bad.into()).unwrap_err();
            assert!(
                refusal.starts_with("proxy_url refused: invalid URL: proxy URL"),
                "{refusal}"
            );
            assert_eq!(proxy_url(&config), "http://user:pw@127.0.0.1:8080");
        }
        set_proxy_url(&mut config, String::new()).unwrap();
        assert_eq!(config.proxy_url, None);
    }
}
