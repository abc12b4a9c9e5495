//! Reconnection delays: exponential backoff with jitter, as socket.io-client's `backo2`.

use std::time::Duration;

use crate::config::ReconnectConfig;

/// A small, seedable random source (xorshift64*), so tests can replay a schedule exactly.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A source seeded with `seed` (any value; 0 is remapped).
    pub fn new(seed: u64) -> Self {
        Jitter {
            state: seed.max(1) ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let x = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One reconnection episode: the attempts made since the connection was lost (none when not reconnecting), and the
/// jitter of their delays.
#[derive(Debug, Clone)]
pub(super) struct Reconnection {
    attempt: u32,
    jitter: Jitter,
}

impl Reconnection {
    /// No episode; delays jittered from `seed`.
    pub(super) fn new(seed: u64) -> Self {
        Reconnection {
            attempt: 0,
            jitter: Jitter::new(seed),
        }
    }

    /// Schedules the next attempt: its number and delay; or, when `config` allows no more, `Err` with the number of
    /// attempts made, and the episode ends.
    pub(super) fn next(&mut self, config: &ReconnectConfig) -> Result<(u32, Duration), u32> {
        let attempt = self.attempt + 1;
        if config.max_attempts.is_some_and(|max| attempt > max) {
            return Err(self.end());
        }
        self.attempt = attempt;
        Ok((attempt, delay(config, attempt, &mut self.jitter)))
    }

    /// Ends the episode (a connection opened, or the user opened or closed one). Returns the attempts it made.
    pub(super) fn end(&mut self) -> u32 {
        std::mem::take(&mut self.attempt)
    }
}

/// Delay before reconnection attempt `attempt` (1 for the first).
///
/// `delay * 2^(attempt-1)`, moved up or down by at most `randomization` of itself, capped at `delay_max`.
pub fn delay(config: &ReconnectConfig, attempt: u32, jitter: &mut Jitter) -> Duration {
    let base_ms = config.delay.as_secs_f64() * 1000.0;
    let exponent = attempt.saturating_sub(1).min(62) as i32;
    let mut ms = base_ms * 2f64.powi(exponent);
    let randomization = config.randomization.clamp(0.0, 1.0);
    if randomization > 0.0 {
        let r = jitter.next_f64();
        let deviation = (r * randomization * ms).floor();
        if ((r * 10.0).floor() as u64) & 1 == 0 {
            ms -= deviation;
        } else {
            ms += deviation;
        }
    }
    let max_ms = config.delay_max.as_secs_f64() * 1000.0;
    Duration::from_millis(ms.min(max_ms).max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_jitter_delays_double_up_to_the_cap() {
        let config = ReconnectConfig {
            randomization: 0.0,
            ..ReconnectConfig::default()
        };
        let mut j = Jitter::new(1);
        let delays: Vec<u64> = (1..=6).map(|a| delay(&config, a, &mut j).as_millis() as u64).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(delay(&config, u32::MAX, &mut j), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_within_the_randomization_factor() {
        let config = ReconnectConfig::default();
        let mut j = Jitter::new(42);
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..1000 {
            let d = delay(&config, 1, &mut j).as_millis();
            assert!((500..=1500).contains(&d), "{d}");
            seen_low |= d < 1000;
            seen_high |= d > 1000;
        }
        assert!(seen_low && seen_high);
        for _ in 0..100 {
            assert!(delay(&config, 10, &mut j) <= Duration::from_secs(5));
        }
    }
}
