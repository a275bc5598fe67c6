//! Panics in the compute node's tasks, and the hang watchdog.

use super::*;

// ---------------------------------------------------------------------------------------
// Panics in the compute node's tasks, and the hang watchdog.

pub(super) mod panics {
    use std::sync::{Mutex, Once};

    /// Name of the runtime threads whose panics count as the compute node's.
    pub(in crate::fuzzing) const WORKER_THREAD: &str = "strata-fuzz-worker";

    pub(in crate::fuzzing) static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    pub(in crate::fuzzing) static HOOK: Once = Once::new();

    /// Records panics on the runtime's threads (tokio would swallow them), then runs the
    /// previous hook (libFuzzer's aborts, which is what it should do).
    pub(in crate::fuzzing) fn install() {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let thread = std::thread::current();
                if thread.name() == Some(WORKER_THREAD) {
                    let trace = std::backtrace::Backtrace::force_capture();
                    let mut list = PANICS.lock().unwrap_or_else(|p| p.into_inner());
                    list.push(format!("{info}\n{trace}"));
                }
                previous(info);
            }));
        });
    }

    /// Panics (on the caller's thread) when a compute-node task panicked.
    pub(in crate::fuzzing) fn check(when: &str) {
        let found: Vec<String> =
            std::mem::take(&mut *PANICS.lock().unwrap_or_else(|p| p.into_inner()));
        if !found.is_empty() {
            panic!(
                "the compute node panicked {when} ({} panic(s)):\n{}",
                found.len(),
                found.join("\n---\n")
            );
        }
    }
}

pub(super) mod watchdog {
    use std::fmt::Write as _;
    use std::sync::{Mutex, Once};
    use std::time::{Duration, Instant};

    use super::HANG_LIMIT;

    pub(in crate::fuzzing) static CURRENT: Mutex<Option<(Instant, String)>> = Mutex::new(None);
    pub(in crate::fuzzing) static START: Once = Once::new();

    /// Starts the thread that aborts the process when one input runs too long.
    pub(in crate::fuzzing) fn start() {
        START.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("strata-fuzz-watchdog".into())
                .spawn(|| loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some((deadline, input)) = current.as_ref() {
                        if Instant::now() > *deadline {
                            eprintln!(
                                "fuzz harness: one input ran for over {HANG_LIMIT:?}; the compute \
                                 node hangs. Input (hex, first 4 KiB): {input}"
                            );
                            std::process::abort();
                        }
                    }
                });
        });
    }

    /// Watches the current input until the guard drops.
    pub(in crate::fuzzing) fn arm(input: &[u8]) -> Guard {
        let mut hex = String::new();
        for b in input.iter().take(4096) {
            let _ = write!(hex, "{b:02x}");
        }
        *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now() + HANG_LIMIT, hex));
        Guard
    }

    pub(in crate::fuzzing) struct Guard;

    impl Drop for Guard {
        fn drop(&mut self) {
            *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

// ---------------------------------------------------------------------------------------
// From fuzz bytes to a session.
