//! What the MariaDB servers started here and the Strata processes the test kit starts
//! have in common as child processes: they die with the thread that started them, and
//! a kill always reaps, so a crash test leaves neither orphans nor zombies.

use std::process::ExitStatus;

use tokio::process::{Child, Command};

/// Has the child get SIGKILL when the thread that spawned it exits (Linux
/// `PR_SET_PDEATHSIG`), so a killed parent does not leave it behind.
#[cfg(target_os = "linux")]
pub fn set_parent_death_signal(cmd: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec and only calls prctl,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Has the child get SIGKILL when its parent exits (a no-op off Linux).
#[cfg(not(target_os = "linux"))]
pub fn set_parent_death_signal(_cmd: &mut Command) {}

/// Kills the child with SIGKILL and reaps it.
pub async fn kill_and_reap(child: &mut Child) -> std::io::Result<ExitStatus> {
    // An error here means the process has already exited; wait() reaps it either way.
    let _ = child.start_kill();
    child.wait().await
}
