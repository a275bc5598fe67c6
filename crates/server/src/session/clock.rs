//! The session's clock as the planner needs it to write NOW() and friends as literals
//! that every data node agrees on: the session's `timestamp` when one was set (SET
//! timestamp = ...), and its local time. When the session's `time_zone` is a fixed
//! offset (or SYSTEM / the storage default on a UTC server) the compute node computes
//! the local time itself; otherwise (a named zone, a non-UTC system zone) the statement
//! that needs it asks the session's home data node once, with the session's
//! `time_zone` and `timestamp` applied there, and is planned again with its answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strata_backend::SessionVars;
use strata_catalog::DataNodeId;
use strata_planner::{DateTime, LocalTime};
use strata_protocol::{codes, MysqlError};

use super::{backend_error, Session};

/// How long a data node's time zone settings are trusted before they are read again
/// (a restarted storage server may run in another system zone).
const ZONE_TTL: Duration = Duration::from_secs(60);

/// What the running statement knows of the session's local time.
#[derive(Debug, Clone, Default)]
pub(super) struct StatementClock {
    /// Planning needed the local time and did not have it.
    pub(super) wanted: Wanted,
    /// The local time the home data node gave for this statement.
    pub(super) fetched: Option<FetchedClock>,
}

/// A flag planning sets through `&Session` (an atomic: the session is shared across
/// awaits).
#[derive(Debug, Default)]
pub(super) struct Wanted(AtomicBool);

impl Wanted {
    /// Raises the flag.
    pub(super) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Lowers the flag; whether it was raised.
    pub(super) fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

impl Clone for Wanted {
    fn clone(&self) -> Wanted {
        Wanted(AtomicBool::new(self.0.load(Ordering::Relaxed)))
    }
}

/// One statement's times as a data node gave them in the session's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FetchedClock {
    /// NOW(6).
    pub(super) now: DateTime,
    /// SYSDATE(6).
    pub(super) sysdate: DateTime,
    /// UTC_TIMESTAMP(6) as microseconds since the Unix epoch (the same instant as NOW).
    pub(super) utc_micros: i64,
    /// NOW(6)'s text reads back as that instant (`UNIX_TIMESTAMP(NOW(6))`): not in the
    /// second pass of an hour repeated when daylight saving time ends.
    pub(super) now_exact: bool,
}

/// A data node's time zone settings: what a session that never set `time_zone`
/// starts with, and the server's system zone.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NodeZones {
    global: String,
    system: String,
}

/// Per data node, its time zone settings as last read (on the first statement that
/// needed them), so sessions on a UTC server keep computing local times themselves.
#[derive(Debug, Default)]
pub struct SystemZones {
    nodes: Mutex<HashMap<DataNodeId, (Instant, NodeZones)>>,
}

impl SystemZones {
    fn get(&self, dnid: DataNodeId) -> Option<NodeZones> {
        let nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
        nodes
            .get(&dnid)
            .filter(|(at, _)| at.elapsed() < ZONE_TTL)
            .map(|(_, z)| z.clone())
    }

    fn put(&self, dnid: DataNodeId, zones: NodeZones) {
        let mut nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
        nodes.insert(dnid, (Instant::now(), zones));
    }
}

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

/// The session's `time_zone` as written in its assignment, unquoted; None when it was
/// never set or set back to DEFAULT (the storage server's global value).
fn session_zone(vars: &SessionVars) -> Option<&str> {
    let zone = vars
        .value("time_zone")?
        .trim_matches(|c| c == '\'' || c == '"');
    (!zone.eq_ignore_ascii_case("DEFAULT")).then_some(zone)
}

/// Seconds east of UTC of a `time_zone` value that is an offset (`+03:00`).
fn offset_secs(zone: &str) -> Option<i32> {
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

/// The offset of `zone` (a `time_zone` value) on a server with settings `node`: its
/// own offset, UTC for SYSTEM on a server whose system zone is UTC; None for a named
/// zone or another system zone (whose offset depends on the date).
fn fixed_offset(zone: &str, node: Option<&NodeZones>) -> Option<i32> {
    if let Some(secs) = offset_secs(zone) {
        return Some(secs);
    }
    // Only UTC is known to have no daylight saving time: an abbreviation such as GMT
    // or CET names the server's zone at start-up, not its rules.
    let system_utc = node.is_some_and(|n| n.system == "UTC");
    (zone.eq_ignore_ascii_case("SYSTEM") && system_utc).then_some(0)
}

/// The session's local time as far as the compute node knows it without asking:
/// an offset, or Unknown (which a statement needing it fetches).
pub(super) fn local_time(
    vars: &SessionVars,
    zones: &SystemZones,
    home: impl FnOnce() -> Option<DataNodeId>,
) -> LocalTime {
    let zone = session_zone(vars);
    if let Some(secs) = zone.and_then(offset_secs) {
        return LocalTime::Offset(secs);
    }
    let node = home().and_then(|dnid| zones.get(dnid));
    let zone = match (zone, &node) {
        (Some(zone), _) => zone,
        (None, Some(node)) => node.global.as_str(),
        (None, None) => return LocalTime::Unknown,
    };
    fixed_offset(zone, node.as_ref()).map_or(LocalTime::Unknown, LocalTime::Offset)
}

/// The statement's times and the server's zone settings, read in one round trip on a
/// connection with the session's `time_zone` and `timestamp`.
const CLOCK_QUERY: &str = "SELECT NOW(6), SYSDATE(6), UTC_TIMESTAMP(6), @@global.time_zone, \
     @@system_time_zone, UNIX_TIMESTAMP(NOW(6))";

/// Microseconds of a decimal number of seconds (`1762061400.000000`).
fn decimal_micros(text: &str) -> Option<i64> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: i64 = format!("{frac:0<6}").parse().ok()?;
    secs.parse::<i64>()
        .ok()?
        .checked_mul(1_000_000)?
        .checked_add(frac)
}

/// Reads [`CLOCK_QUERY`]'s row.
fn parse_clock_row(row: &[Option<String>]) -> Option<(FetchedClock, NodeZones)> {
    let text = |i: usize| row.get(i).and_then(|v| v.as_deref());
    let now = DateTime::parse(text(0)?)?;
    let sysdate = DateTime::parse(text(1)?)?;
    let utc_micros = DateTime::parse(text(2)?)?.unix_micros();
    let zones = NodeZones {
        global: text(3)?.to_string(),
        system: text(4)?.to_string(),
    };
    // NULL (out of TIMESTAMP's range) counts as not exact.
    let now_exact = text(5).and_then(decimal_micros) == Some(utc_micros);
    Some((
        FetchedClock {
            now,
            sysdate,
            utc_micros,
            now_exact,
        },
        zones,
    ))
}

impl Session {
    /// The clock fields of the planner's context for this statement: the statement's
    /// time (UTC microseconds) and the local time.
    pub(super) fn plan_clock(&self, system_now: i64) -> (i64, LocalTime) {
        if let Some(f) = self.statement.clock.fetched {
            let local = LocalTime::Fetched {
                now: f.now,
                sysdate: f.sysdate,
                now_exact: f.now_exact,
            };
            return (f.utc_micros, local);
        }
        let now = session_now_micros(&self.state.vars, system_now);
        let local = local_time(&self.state.vars, &self.ctx.system_zones, || {
            self.home_node().ok().map(|(dnid, _)| dnid)
        });
        (now, local)
    }

    /// After planning failed: when it failed for want of the session's local time,
    /// reads it from the home data node and returns true (plan again); false when
    /// planning failed for another reason.
    pub(super) async fn fetch_wanted_local_time(&mut self) -> Result<bool, MysqlError> {
        if !self.statement.clock.wanted.take() || self.statement.clock.fetched.is_some() {
            return Ok(false);
        }
        let (dnid, _) = self.home_node()?;
        let mut lease = self.scratch_lease(dnid, &[]).await?;
        let rows = lease
            .query(CLOCK_QUERY)
            .await
            .map_err(|e| backend_error(dnid, &e))?;
        drop(lease);
        let (clock, zones) = rows
            .first()
            .and_then(|row| parse_clock_row(row))
            .ok_or_else(|| {
                MysqlError::new(
                    codes::UNKNOWN,
                    format!("data node {dnid} gave no local time for the session's time zone"),
                )
            })?;
        tracing::debug!(%dnid, ?clock, ?zones, "session local time from the home data node");
        self.ctx.system_zones.put(dnid, zones);
        self.statement.clock.fetched = Some(clock);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars_with(zone: Option<&str>) -> SessionVars {
        let mut vars = SessionVars::default();
        if let Some(zone) = zone {
            vars.set("time_zone", format!("SESSION time_zone = {zone}"));
        }
        vars
    }

    #[test]
    fn a_set_timestamp_is_the_session_clock() {
        let mut vars = SessionVars::default();
        assert_eq!(session_now_micros(&vars, 7), 7);
        vars.set("timestamp", "SESSION timestamp = 1293836461.123456".into());
        assert_eq!(session_now_micros(&vars, 7), 1_293_836_461_123_456);
        vars.set("timestamp", "SESSION timestamp = DEFAULT".into());
        assert_eq!(session_now_micros(&vars, 7), 7);
    }

    #[test]
    fn only_fixed_offsets_are_computed_here() {
        let zones = SystemZones::default();
        let home = || Some(DataNodeId::new(1));
        let time = |zone: Option<&str>| local_time(&vars_with(zone), &zones, home);
        assert_eq!(time(Some("'+03:00'")), LocalTime::Offset(10_800));
        assert_eq!(time(Some("\"-05:30\"")), LocalTime::Offset(-19_800));
        // Not known before the data node was asked.
        assert_eq!(time(None), LocalTime::Unknown);
        assert_eq!(time(Some("'SYSTEM'")), LocalTime::Unknown);
        assert_eq!(time(Some("'Europe/Moscow'")), LocalTime::Unknown);
        zones.put(
            DataNodeId::new(1),
            NodeZones {
                global: "SYSTEM".into(),
                system: "UTC".into(),
            },
        );
        assert_eq!(time(None), LocalTime::Offset(0));
        assert_eq!(time(Some("DEFAULT")), LocalTime::Offset(0));
        assert_eq!(time(Some("'system'")), LocalTime::Offset(0));
        assert_eq!(time(Some("'Europe/Moscow'")), LocalTime::Unknown);
        zones.put(
            DataNodeId::new(1),
            NodeZones {
                global: "SYSTEM".into(),
                system: "GMT".into(),
            },
        );
        // GMT at start-up may be London in winter.
        assert_eq!(time(Some("'SYSTEM'")), LocalTime::Unknown);
        zones.put(
            DataNodeId::new(1),
            NodeZones {
                global: "+02:00".into(),
                system: "CET".into(),
            },
        );
        assert_eq!(time(None), LocalTime::Offset(7_200));
        assert_eq!(time(Some("'SYSTEM'")), LocalTime::Unknown);
    }

    #[test]
    fn the_clock_row_is_read() {
        let row: Vec<Option<String>> = [
            "2001-09-09 05:46:40.500000",
            "2026-12-07 09:00:00.000001",
            "2001-09-09 01:46:40.500000",
            "SYSTEM",
            "MSK",
            "1000000000.500000",
        ]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
        let (clock, zones) = parse_clock_row(&row).expect("parses");
        assert_eq!(clock.utc_micros, 1_000_000_000_500_000);
        assert_eq!(clock.now.time_text(1), "05:46:40.5");
        assert!(clock.now_exact);
        assert_eq!(zones.system, "MSK");
        assert_eq!(parse_clock_row(&row[..3]), None);
        // The second 01:30 of 2025-11-02 in New York reads back as the first.
        let mut row = row;
        row[2] = Some("2025-11-02 06:30:00.000000".into());
        row[5] = Some("1762061400.000000".into());
        let (clock, _) = parse_clock_row(&row).expect("parses");
        assert!(!clock.now_exact);
        row[5] = None;
        assert!(!parse_clock_row(&row).expect("parses").0.now_exact);
        assert_eq!(decimal_micros("1762065000.5"), Some(1_762_065_000_500_000));
    }
}
