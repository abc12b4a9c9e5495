//! The properties of `SocketIOClient` as views of the core's settings ([`ClientConfig`]), in GDScript's units:
//! seconds as a float (a [`Duration`] in the core), `0` for "no limit" (`None`), counts and sizes as `int`.
//!
//! Nothing is stored here. Each property has a getter that reads the setting and a setter that checks a value and
//! writes it, or says why it refuses it (the setting then stays as it was). So the value GDScript reads is the one
//! the core uses, and the defaults GDScript sees are the core's ([`ClientConfig::default`]). The ranges a setting
//! may take are the core's too ([`check`]); the setters add only what GDScript's types allow and the core's do not
//! (a negative count, a NaN duration).

use std::time::Duration;

use socketio_core::check;
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
        ]
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
}
