//! The session's clock as the planner needs it to write NOW() and friends as literals
//! that every data node agrees on: the session's `timestamp` when one was set (SET
//! timestamp = ...), and the offset of its `time_zone` when that is a fixed offset.

use strata_backend::SessionVars;

/// Microseconds since the Unix epoch the session's NOW() stands for: its `timestamp`
/// as read back from the storage node after a SET, else `system_now`.
pub(super) fn session_now_micros(vars: &SessionVars, system_now: i64) -> i64 {
    vars.value("timestamp")
        .map(|v| v.trim_matches('\''))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        // Microsecond precision, as MariaDB keeps it.
        .map_or(system_now, |s| (s * 1_000_000.0).round() as i64)
}

/// Seconds east of UTC of the session's `time_zone` when it is an offset (`'+03:00'`);
/// None for `SYSTEM` or a named zone, and when none was set.
pub(super) fn session_offset_secs(vars: &SessionVars) -> Option<i32> {
    let zone = vars.value("time_zone")?.trim_matches('\'');
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let hours: i32 = h.parse().ok()?;
    let minutes: i32 = m.parse().ok()?;
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_timestamp_and_an_offset_time_zone_are_the_session_clock() {
        let mut vars = SessionVars::default();
        assert_eq!(session_now_micros(&vars, 7), 7);
        assert_eq!(session_offset_secs(&vars), None);
        vars.set("timestamp", "SESSION timestamp = 1293836461.123456".into());
        assert_eq!(session_now_micros(&vars, 7), 1_293_836_461_123_456);
        vars.set("time_zone", "SESSION time_zone = '+03:00'".into());
        assert_eq!(session_offset_secs(&vars), Some(10_800));
        vars.set("time_zone", "SESSION time_zone = '-05:30'".into());
        assert_eq!(session_offset_secs(&vars), Some(-19_800));
        vars.set("time_zone", "SESSION time_zone = 'SYSTEM'".into());
        assert_eq!(session_offset_secs(&vars), None);
    }
}
