//! Making sure fixtures leave nothing behind: directories under one root that are swept
//! when their owning test process is gone, and an exit hook for the per-binary shared
//! storage nodes (statics are never dropped).
//!
//! Storage-node processes also die with their parent (`PR_SET_PDEATHSIG`), so a test
//! binary killed by a timeout leaks at most directories, which the next run removes.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::TestkitError;

/// Processes and directories to remove when the test binary exits.
static AT_EXIT: Mutex<Vec<(Vec<u32>, PathBuf)>> = Mutex::new(Vec::new());
static INSTALL_HOOK: Once = Once::new();

/// Root of all fixture directories of all test processes.
fn fixtures_root() -> PathBuf {
    std::env::temp_dir().join("strata-testkit")
}

/// A fresh directory `<root>/<kind>-<pid>-XXXX`, after removing directories left by test
/// processes that no longer run.
pub(crate) fn fixture_dir(kind: &str) -> Result<TempDir, TestkitError> {
    let root = fixtures_root();
    std::fs::create_dir_all(&root)
        .map_err(|e| TestkitError::io(format!("creating {}", root.display()), e))?;
    sweep_stale(&root);
    tempfile::Builder::new()
        .prefix(&format!("{kind}-{}-", std::process::id()))
        .tempdir_in(&root)
        .map_err(|e| TestkitError::io(format!("creating a directory in {}", root.display()), e))
}

/// Removes fixture directories whose owning process has exited.
fn sweep_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        if owner != me && !process_alive(owner) {
            tracing::debug!(dir = %entry.path().display(), "removing stale fixture directory");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in a fixture directory name `<kind>-<pid>-<random>`.
fn owner_pid(name: &str) -> Option<u32> {
    name.split('-').nth(1)?.parse().ok()
}

/// Whether `pid` runs (exists and is not a zombie).
pub(crate) fn process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|close| stat[close + 1..].trim_start().chars().next());
    !matches!(state, Some('Z') | Some('X') | None)
}

/// Waits up to `timeout` for `pid` to stop running.
pub(crate) fn wait_until_dead(pid: u32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while process_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills `pids` and removes `dir` when the process exits normally (also after failed
/// tests: the harness exits through `exit`).
pub(crate) fn remove_at_exit(pids: Vec<u32>, dir: PathBuf) {
    INSTALL_HOOK.call_once(|| {
        // SAFETY: `run_at_exit` is a plain `extern "C" fn()` that does not unwind.
        let rc = unsafe { libc::atexit(run_at_exit) };
        if rc != 0 {
            tracing::warn!(
                "cannot register the exit hook; shared storage nodes will be swept on the next run"
            );
        }
    });
    if let Ok(mut list) = AT_EXIT.lock() {
        list.push((pids, dir));
    }
}

extern "C" fn run_at_exit() {
    // try_lock: never block process exit on a lock held by a thread that is gone.
    let Ok(mut list) = AT_EXIT.try_lock() else {
        return;
    };
    for (pids, dir) in list.drain(..) {
        for &pid in &pids {
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        for &pid in &pids {
            wait_until_dead(pid, Duration::from_secs(5));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_is_read_from_the_directory_name() {
        assert_eq!(owner_pid("nodes-1234-abXY"), Some(1234));
        assert_eq!(owner_pid("shared-77-x-y"), Some(77));
        assert_eq!(owner_pid("something"), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(process_alive(std::process::id()));
    }
}
