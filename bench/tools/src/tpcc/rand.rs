//! TPC-C's input generation (spec 2.1.6, 4.3.2): uniform numbers, NURand with the run's
//! constants C, customer last names from the ten syllables, and the random strings of
//! the initial population. A small SplitMix64 generator keeps the driver free of
//! dependencies and each terminal reproducible from its seed.

/// The ten syllables customer last names are made of (spec 4.3.2.3).
const SYLLABLES: [&str; 10] = [
    "BAR", "OUGHT", "ABLE", "PRI", "PRES", "ESE", "ANTI", "CALLY", "ATION", "EING",
];

/// A SplitMix64 pseudo-random generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// The constants C of NURand(A, x, y) for A = 255, 1023 and 8191 (spec 2.1.6).
#[derive(Debug, Clone, Copy)]
pub struct NuConstants {
    /// C for A = 255 (customer last names).
    pub c_last: u64,
    /// C for A = 1023 (customer ids).
    pub c_id: u64,
    /// C for A = 8191 (item ids).
    pub ol_i_id: u64,
}

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `[lo, hi]`.
    pub fn uniform(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// NURand(A, x, y) = (((random(0, A) | random(x, y)) + C) % (y - x + 1)) + x.
    pub fn nurand(&mut self, a: u64, c: u64, x: u64, y: u64) -> u64 {
        (((self.uniform(0, a) | self.uniform(x, y)) + c) % (y - x + 1)) + x
    }

    /// A random alphanumeric string with a length in `[lo, hi]` (spec's a-string).
    pub fn astring(&mut self, lo: u64, hi: u64) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let len = self.uniform(lo, hi);
        (0..len)
            .map(|_| CHARS[self.uniform(0, CHARS.len() as u64 - 1) as usize] as char)
            .collect()
    }

    /// A random numeric string with a length in `[lo, hi]` (spec's n-string).
    pub fn nstring(&mut self, lo: u64, hi: u64) -> String {
        let len = self.uniform(lo, hi);
        (0..len)
            .map(|_| char::from(b'0' + self.uniform(0, 9) as u8))
            .collect()
    }

    /// A zip code: 4 random digits and "11111" (spec 4.3.2.7).
    pub fn zip(&mut self) -> String {
        format!("{}11111", self.nstring(4, 4))
    }

    /// I_DATA / S_DATA: 26..50 characters, 10 % of them holding "ORIGINAL" (4.3.3.1).
    pub fn data_with_original(&mut self) -> String {
        let mut data = self.astring(26, 50);
        if self.uniform(1, 10) == 1 {
            let at = self.uniform(0, data.len() as u64 - 8) as usize;
            data.replace_range(at..at + 8, "ORIGINAL");
        }
        data
    }

    /// A fixed-point amount in `[lo, hi]` hundredths, as text with two decimals.
    pub fn money(&mut self, lo: u64, hi: u64) -> String {
        let cents = self.uniform(lo, hi);
        format!("{}.{:02}", cents / 100, cents % 100)
    }

    /// The run-time NURand constants: C_LAST differs from the load's as spec 2.1.6.1 asks.
    pub fn run_constants(&mut self, load: NuConstants) -> NuConstants {
        loop {
            let c_last = self.uniform(0, 255);
            let delta = c_last.abs_diff(load.c_last);
            if (65..=119).contains(&delta) && delta != 96 && delta != 112 {
                return NuConstants {
                    c_last,
                    c_id: self.uniform(0, 1023),
                    ol_i_id: self.uniform(0, 8191),
                };
            }
        }
    }
}

/// The fixed constants used when loading (run constants are derived from these).
pub const LOAD_CONSTANTS: NuConstants = NuConstants {
    c_last: 157,
    c_id: 259,
    ol_i_id: 7911,
};

/// The last name for a number 0..=999: the syllables of its three digits (4.3.2.3).
pub fn last_name(n: u64) -> String {
    let n = n as usize;
    format!(
        "{}{}{}",
        SYLLABLES[n / 100 % 10],
        SYLLABLES[n / 10 % 10],
        SYLLABLES[n % 10]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_names_follow_the_spec_examples() {
        assert_eq!(last_name(371), "PRICALLYOUGHT");
        assert_eq!(last_name(0), "BARBARBAR");
        assert_eq!(last_name(999), "EINGEINGEING");
    }

    #[test]
    fn nurand_stays_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            let v = rng.nurand(1023, 259, 1, 3000);
            assert!((1..=3000).contains(&v));
        }
    }

    #[test]
    fn run_constant_for_last_names_keeps_its_distance_from_the_load() {
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            let run = rng.run_constants(LOAD_CONSTANTS);
            let d = run.c_last.abs_diff(LOAD_CONSTANTS.c_last);
            assert!((65..=119).contains(&d) && d != 96 && d != 112);
        }
    }
}
