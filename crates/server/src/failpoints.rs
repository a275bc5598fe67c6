//! Test-only pauses in the commit protocol, so a test can act (kill a storage node)
//! at an exact point between two steps. Compiled only with the `failpoints` feature,
//! which this crate's tests enable and a server build never does; even then a pause
//! does nothing until a test arms it.

use std::sync::Mutex;

use tokio::sync::oneshot;

/// What a paused session does once the test releases it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Go on as if nothing had happened.
    Continue,
    /// Act as if the commit decision could not be recorded (presumed abort).
    FailDecisionLog,
}

/// A point a session may be stopped at: the next session to reach it after a test
/// armed it waits there until the test releases it.
#[derive(Default)]
pub struct Pause {
    armed: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<Resume>)>>,
}

/// The test's side of an armed [`Pause`].
pub struct Paused {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<Resume>,
}

impl Pause {
    /// Arms the pause for the next session that reaches it.
    pub fn arm(&self) -> Paused {
        let (reached_tx, reached) = oneshot::channel();
        let (release, release_rx) = oneshot::channel();
        *self.armed.lock().unwrap_or_else(|p| p.into_inner()) = Some((reached_tx, release_rx));
        Paused { reached, release }
    }

    /// Called by a session at the point: returns at once unless armed; armed, it tells
    /// the test and waits for its word (a test that went away means continue).
    pub(crate) async fn at(&self) -> Resume {
        let armed = self.armed.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some((reached, release)) = armed else {
            return Resume::Continue;
        };
        let _ = reached.send(());
        release.await.unwrap_or(Resume::Continue)
    }
}

impl Paused {
    /// Waits until a session stopped at the point; false if none can any more.
    pub async fn reached(&mut self) -> bool {
        (&mut self.reached).await.is_ok()
    }

    /// Lets the stopped session go on, as `resume` says.
    pub fn release(self, resume: Resume) {
        let _ = self.release.send(resume);
    }
}
