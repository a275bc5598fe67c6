//! The session state a plan depends on: current database, prepared-statement parameter
//! values, the home node for statements without tables, and the sources of values the
//! planner computes itself (the clock and random numbers for NOW()/RAND()/UUID() in writes
//! to several copies, the global AUTO_INCREMENT sequence). Tests pass fixed values, so
//! plans are deterministic.

use std::cell::Cell;
use std::ops::Range;

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
    /// Current time, microseconds since the Unix epoch (UTC).
    pub now_micros: i64,
    /// Session time zone as an offset from UTC, in seconds (for NOW(), CURDATE()).
    pub time_zone_offset_secs: i32,
    /// Seed for the values of RAND() and UUID() the planner writes into statements sent
    /// to several copies; the server passes a fresh random seed per statement.
    pub seed: u64,
    /// The global AUTO_INCREMENT sequence; None: such inserts are refused.
    pub ids: Option<&'a dyn IdAllocator>,
    /// sql_mode has NO_AUTO_VALUE_ON_ZERO (then 0 is an explicit value, only NULL asks
    /// for a generated one).
    pub no_auto_value_on_zero: bool,
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
            time_zone_offset_secs: 0,
            seed: 0,
            ids: None,
            no_auto_value_on_zero: false,
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
            .field("time_zone_offset_secs", &self.time_zone_offset_secs)
            .field("seed", &self.seed)
            .field("ids", &self.ids.is_some())
            .field("no_auto_value_on_zero", &self.no_auto_value_on_zero)
            .finish()
    }
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
