//! The session state a plan depends on: current database, prepared-statement parameter
//! values, the home node for statements without tables, and the sources of values the
//! planner computes itself (the clock and random numbers for NOW()/RAND()/UUID() in writes
//! to several copies, the global AUTO_INCREMENT sequence). Tests pass fixed values, so
//! plans are deterministic.

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::AtomicBool;

use strata_catalog::sharding::KeyLiteral;
use strata_catalog::DataNodeId;

/// Allocates values of global AUTO_INCREMENT sequences (implemented by the server over
/// its persisted, batched sequences).
///
/// Contract: `allocate` returns `count` consecutive values never returned before (also
/// across restarts); the planner writes them into the rows in row order and reports the
/// first one as [`crate::Planned::insert_id`]. `observe` is called with the largest
/// explicit value a statement writes, so later values exceed it.
pub trait IdAllocator: Sync {
    /// Reserves `count` consecutive values for `db.table`.
    fn allocate(&self, db: &str, table: &str, count: u64) -> Result<Range<u64>, String>;

    /// An explicit value was written into `db.table`'s AUTO_INCREMENT column.
    fn observe(&self, db: &str, table: &str, value: u64);
}

/// Everything besides the statement and the catalog that a plan depends on.
#[derive(Clone, Copy)]
pub struct PlanContext<'a> {
    /// Current logical database (`USE`), if any.
    pub db: Option<&'a str>,
    /// Values of the `?` placeholders, in order (COM_STMT_EXECUTE); None when planning
    /// at PREPARE time or for plain text. With values, the planned SQL has them inlined
    /// as literals and contains no placeholder.
    pub params: Option<&'a [KeyLiteral]>,
    /// Data node for statements that read no table (`SELECT 1`, `SELECT NOW()`).
    pub home_node: Option<DataNodeId>,
    /// The statement's time, microseconds since the Unix epoch (UTC): the session's
    /// `timestamp` when one was set, else the clock.
    pub now_micros: i64,
    /// The clock, ignoring the session's `timestamp` (SYSDATE()), microseconds since the
    /// Unix epoch.
    pub sysdate_micros: i64,
    /// The session's local time (NOW(), CURDATE(), CURTIME(), SYSDATE()).
    pub local_time: LocalTime,
    /// Set when planning needed the local time while it was [`LocalTime::Unknown`] (the
    /// plan is then refused): the server fetches it from a data node and plans again.
    pub wants_local_time: Option<&'a AtomicBool>,
    /// Seed for the values of RAND() and UUID() the planner writes into statements sent
    /// to several copies; the server passes a fresh random seed per statement.
    pub seed: u64,
    /// The global AUTO_INCREMENT sequence; None: such inserts are refused.
    pub ids: Option<&'a dyn IdAllocator>,
    /// sql_mode has NO_AUTO_VALUE_ON_ZERO (then 0 is an explicit value, only NULL asks
    /// for a generated one).
    pub no_auto_value_on_zero: bool,
    /// Values of INSERT sharding-key expressions the home data node evaluated for this
    /// statement, and where planning asks for more; None: such inserts are refused.
    pub key_values: Option<&'a crate::insert_key::KeyValues>,
    /// The routines of databases a data node gave for this statement (CALL), and where
    /// planning asks for them; None: CALL without a routing hint is refused.
    pub routines: Option<&'a crate::call::RoutineBodies>,
}

impl<'a> PlanContext<'a> {
    /// A context with current database `db` and fixed time and seed (Unix epoch, 0):
    /// set the fields the statement needs.
    pub fn new(db: Option<&'a str>) -> PlanContext<'a> {
        PlanContext {
            db,
            params: None,
            home_node: None,
            now_micros: 0,
            sysdate_micros: 0,
            local_time: LocalTime::Offset(0),
            wants_local_time: None,
            seed: 0,
            ids: None,
            no_auto_value_on_zero: false,
            key_values: None,
            routines: None,
        }
    }
}

impl std::fmt::Debug for PlanContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanContext")
            .field("db", &self.db)
            .field("params", &self.params)
            .field("home_node", &self.home_node)
            .field("now_micros", &self.now_micros)
            .field("sysdate_micros", &self.sysdate_micros)
            .field("local_time", &self.local_time)
            .field("seed", &self.seed)
            .field("ids", &self.ids.is_some())
            .field("no_auto_value_on_zero", &self.no_auto_value_on_zero)
            .finish()
    }
}

/// How the planner knows the session's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTime {
    /// The session's time zone is this fixed offset from UTC, in seconds east: local
    /// times are computed from `now_micros` and `sysdate_micros`.
    Offset(i32),
    /// The zone is not a fixed offset (a named zone, or SYSTEM that is not UTC): the
    /// statement's NOW(6) and SYSDATE(6) as the session's home data node gave them.
    Fetched {
        /// NOW(6) there.
        now: DateTime,
        /// SYSDATE(6) there.
        sysdate: DateTime,
        /// NOW() names its instant: false in the second pass of the hour repeated when
        /// daylight saving time ends, where its text reads back as the first pass (a
        /// TIMESTAMP column would store another instant than MariaDB's NOW() does).
        now_exact: bool,
    },
    /// Not a fixed offset and not fetched: a statement that needs it is refused (and
    /// `wants_local_time` set).
    Unknown,
}

/// A small deterministic generator (SplitMix64) seeded from the context.
#[derive(Debug)]
pub(crate) struct Random {
    state: Cell<u64>,
}

impl Random {
    /// A generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Random {
        Random {
            state: Cell::new(seed),
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A double in [0, 1) with 53 random bits, as RAND() returns.
    pub(crate) fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random UUID in the 8-4-4-4-12 text form (version 4 bits set).
    pub(crate) fn uuid(&self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let hi = (hi & !0xF000) | 0x4000;
        let lo = (lo & !(0xC000 << 48)) | (0x8000 << 48);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

/// A civil date and time of day with microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year.
    pub year: i64,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31.
    pub day: u32,
    /// Hour, 0-23.
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59.
    pub second: u32,
    /// Microseconds, 0-999999.
    pub micros: u32,
}

impl DateTime {
    /// The civil time `micros` microseconds after the Unix epoch, shifted by `offset_secs`.
    pub fn from_unix_micros(micros: i64, offset_secs: i32) -> DateTime {
        let micros = micros.saturating_add(i64::from(offset_secs) * 1_000_000);
        let secs = micros.div_euclid(1_000_000);
        let frac = micros.rem_euclid(1_000_000) as u32;
        let days = secs.div_euclid(86_400);
        let tod = secs.rem_euclid(86_400) as u32;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        DateTime {
            year,
            month,
            day,
            hour: tod / 3600,
            minute: tod / 60 % 60,
            second: tod % 60,
            micros: frac,
        }
    }

    /// Parses MariaDB's DATETIME text `YYYY-MM-DD HH:MM:SS[.ffffff]`; None for anything
    /// else (zero dates included).
    pub fn parse(text: &str) -> Option<DateTime> {
        let (date, time) = text.trim().split_once(' ')?;
        let mut d = date.splitn(3, '-');
        let (year, month, day) = (d.next()?, d.next()?, d.next()?);
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut t = hms.splitn(3, ':');
        let (hour, minute, second) = (t.next()?, t.next()?, t.next()?);
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let micros = if frac.is_empty() {
            0
        } else {
            frac.parse::<u32>().ok()? * 10u32.pow(6 - frac.len() as u32)
        };
        let dt = DateTime {
            year: i64::from(num(year)?),
            month: num(month)?,
            day: num(day)?,
            hour: num(hour)?,
            minute: num(minute)?,
            second: num(second)?,
            micros,
        };
        let valid = (1..=12).contains(&dt.month)
            && (1..=31).contains(&dt.day)
            && dt.hour < 24
            && dt.minute < 60
            && dt.second < 60;
        valid.then_some(dt)
    }

    /// Microseconds since the Unix epoch of this civil time read as UTC (the inverse of
    /// [`DateTime::from_unix_micros`] with offset 0).
    pub fn unix_micros(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = self.year - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        secs * 1_000_000 + i64::from(self.micros)
    }

    /// `YYYY-MM-DD`.
    pub fn date_text(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `HH:MM:SS[.ffffff]` with `fsp` fractional digits (0..=6).
    pub fn time_text(&self, fsp: u32) -> String {
        let mut s = format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second);
        if fsp > 0 {
            let fsp = fsp.min(6);
            let frac = self.micros / 10u32.pow(6 - fsp);
            s.push_str(&format!(".{:0width$}", frac, width = fsp as usize));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_time_matches_known_instants() {
        let cases = [
            (0, 0, "1970-01-01", "00:00:00.000000"),
            (1_700_000_000_123_456, 0, "2023-11-14", "22:13:20.123456"),
            (
                1_700_000_000_123_456,
                3600 * 8,
                "2023-11-15",
                "06:13:20.123456",
            ),
            (951_782_400_000_000, 0, "2000-02-29", "00:00:00.000000"),
            (-1, 0, "1969-12-31", "23:59:59.999999"),
        ];
        for (micros, offset, date, time) in cases {
            let dt = DateTime::from_unix_micros(micros, offset);
            assert_eq!(dt.unix_micros(), micros + i64::from(offset) * 1_000_000);
            assert_eq!(
                (dt.date_text(), dt.time_text(6)),
                (date.into(), time.into())
            );
        }
        let dt = DateTime::from_unix_micros(1_700_000_000_123_456, 0);
        assert_eq!(dt.time_text(0), "22:13:20");
        assert_eq!(dt.time_text(3), "22:13:20.123");
    }

    #[test]
    fn datetime_text_parses_back() {
        let dt = DateTime::parse("2001-09-09 04:46:40.500000").expect("parses");
        assert_eq!(
            (dt.date_text(), dt.time_text(6)),
            ("2001-09-09".into(), "04:46:40.500000".into())
        );
        let dt = DateTime::parse("2024-02-29 23:59:59").expect("parses");
        assert_eq!(dt.time_text(3), "23:59:59.000");
        for bad in [
            "",
            "2024-02-29",
            "0000-00-00 00:00:00",
            "2024-13-01 00:00:00",
            "x y",
        ] {
            assert_eq!(DateTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn random_values_are_deterministic_per_seed() {
        let (a, b) = (Random::new(7), Random::new(7));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(a.uuid(), b.uuid());
        let f = a.next_f64();
        assert!((0.0..1.0).contains(&f));
        let u = Random::new(1).uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
