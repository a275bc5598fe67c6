//! The job registry: work that runs longer than one quick statement — DDL fanned out
//! over several data nodes today; failover, rebuilds, backups and resharding later —
//! registers a job here and reports its progress, so an operator can follow it with
//! `SHOW @@JOB` on the admin port or `GET /api/v1/jobs`.
//!
//! A job has an id, a kind, a description, a state (running, finished, failed), its
//! progress in steps (shown as a percentage), when it started, an estimate of when it
//! ends, and its last error. The code doing the work holds a `JobHandle`; dropping a
//! handle without finishing the job (the session closed, the statement was cancelled)
//! marks the job failed, so no job stays "running" forever. Running jobs are all kept;
//! of the finished ones only the latest `KEEP_FINISHED`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Finished (or failed) jobs kept for `SHOW @@JOB`; older ones are forgotten.
pub const KEEP_FINISHED: usize = 100;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// A DDL statement run on several data nodes.
    Ddl,
}

impl JobKind {
    /// The kind as `SHOW @@JOB` and the API name it.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Ddl => "ddl",
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Still working.
    Running,
    /// Done: every step completed.
    Finished,
    /// Ended with an error (`last_error` says which).
    Failed,
}

impl JobState {
    /// The state as `SHOW @@JOB` and the API name it.
    pub fn name(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Failed => "failed",
        }
    }
}

/// What the registry knows about one job (a copy: it does not change under you).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Unique within this compute node's life, increasing.
    pub id: u64,
    /// What the job does.
    pub kind: JobKind,
    /// The work in words (a DDL job: its statement, shortened).
    pub description: String,
    /// Running, finished or failed.
    pub state: JobState,
    /// Steps completed (a DDL job: data nodes that applied the statement).
    pub done: u64,
    /// Steps in all.
    pub total: u64,
    /// Start, milliseconds since the Unix epoch.
    pub started_ms: u64,
    /// End, milliseconds since the Unix epoch; None while running.
    pub finished_ms: Option<u64>,
    /// Time spent so far (running) or in all (ended).
    pub elapsed: Duration,
    /// The latest error a step reported, or why the job failed.
    pub last_error: Option<String>,
}

impl JobRecord {
    /// Progress in percent: 100 for a finished job, else the share of steps done.
    pub fn progress_pct(&self) -> f64 {
        if self.state == JobState::Finished {
            return 100.0;
        }
        if self.total == 0 {
            return 0.0;
        }
        (self.done.min(self.total) as f64 * 100.0) / self.total as f64
    }

    /// Estimated time left for a running job, from its pace so far; None before its
    /// first step completed and for ended jobs.
    pub fn eta(&self) -> Option<Duration> {
        if self.state != JobState::Running || self.done == 0 {
            return None;
        }
        let left = self.total.saturating_sub(self.done);
        let per_step = self.elapsed.as_secs_f64() / self.done as f64;
        Some(Duration::from_secs_f64(per_step * left as f64))
    }
}

/// A running job's record and the instant it started (for elapsed time).
#[derive(Debug)]
struct Running {
    record: JobRecord,
    started: Instant,
}

#[derive(Debug, Default)]
struct Jobs {
    next_id: u64,
    running: BTreeMap<u64, Running>,
    /// Ended jobs, oldest first, at most `KEEP_FINISHED`.
    finished: VecDeque<JobRecord>,
}

/// The registry of one compute node's jobs; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct JobRegistry {
    jobs: Arc<Mutex<Jobs>>,
}

impl JobRegistry {
    /// An empty registry.
    pub fn new() -> JobRegistry {
        JobRegistry::default()
    }

    fn lock(&self) -> MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a running job of `total` steps; the handle reports its progress.
    pub fn start(&self, kind: JobKind, description: &str, total: u64) -> JobHandle {
        let mut jobs = self.lock();
        jobs.next_id += 1;
        let id = jobs.next_id;
        let record = JobRecord {
            id,
            kind,
            description: shorten(description),
            state: JobState::Running,
            done: 0,
            total,
            started_ms: now_ms(),
            finished_ms: None,
            elapsed: Duration::ZERO,
            last_error: None,
        };
        jobs.running.insert(
            id,
            Running {
                record,
                started: Instant::now(),
            },
        );
        tracing::debug!(job = id, kind = kind.name(), total, "job started");
        JobHandle {
            registry: self.clone(),
            id,
            ended: false,
        }
    }

    /// Every job: running ones first (oldest first), then ended ones, newest first.
    pub fn list(&self) -> Vec<JobRecord> {
        let jobs = self.lock();
        let mut out: Vec<JobRecord> = jobs
            .running
            .values()
            .map(|r| JobRecord {
                elapsed: r.started.elapsed(),
                ..r.record.clone()
            })
            .collect();
        out.extend(jobs.finished.iter().rev().cloned());
        out
    }

    /// The job with this id, if it is still known.
    pub fn get(&self, id: u64) -> Option<JobRecord> {
        self.list().into_iter().find(|j| j.id == id)
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut JobRecord)) {
        if let Some(r) = self.lock().running.get_mut(&id) {
            change(&mut r.record);
        }
    }

    fn end(&self, id: u64, state: JobState, error: Option<String>) {
        let mut jobs = self.lock();
        let Some(Running {
            mut record,
            started,
        }) = jobs.running.remove(&id)
        else {
            return;
        };
        record.state = state;
        record.elapsed = started.elapsed();
        record.finished_ms = Some(now_ms());
        if state == JobState::Finished {
            record.done = record.total;
        }
        if error.is_some() {
            record.last_error = error;
        }
        tracing::debug!(job = id, state = state.name(), "job ended");
        jobs.finished.push_back(record);
        while jobs.finished.len() > KEEP_FINISHED {
            jobs.finished.pop_front();
        }
    }
}

/// The code doing a job holds this to report progress; see the module documentation.
#[derive(Debug)]
pub struct JobHandle {
    registry: JobRegistry,
    id: u64,
    ended: bool,
}

impl JobHandle {
    /// The job's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// One more step completed.
    pub fn step_done(&self) {
        self.registry
            .update(self.id, |r| r.done = (r.done + 1).min(r.total));
    }

    /// A step failed; the job goes on (`fail` ends it).
    pub fn step_failed(&self, error: &str) {
        let error = error.to_string();
        self.registry
            .update(self.id, move |r| r.last_error = Some(error));
    }

    /// The job completed every step.
    pub fn finish(mut self) {
        self.ended = true;
        self.registry.end(self.id, JobState::Finished, None);
    }

    /// The job ended with `error`.
    pub fn fail(mut self, error: &str) {
        self.ended = true;
        self.registry
            .end(self.id, JobState::Failed, Some(error.to_string()));
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.ended {
            self.registry.end(
                self.id,
                JobState::Failed,
                Some("abandoned before it ended (its session closed or it was cancelled)".into()),
            );
        }
    }
}

/// Longest description kept, in characters.
const MAX_DESCRIPTION: usize = 200;

fn shorten(text: &str) -> String {
    let text = text.trim();
    let mut s: String = text.chars().take(MAX_DESCRIPTION).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reports_steps_and_finishes_at_100_percent() {
        let registry = JobRegistry::new();
        let job = registry.start(JobKind::Ddl, "ALTER TABLE t ADD c INT", 4);
        let id = job.id();
        job.step_done();
        let running = registry.get(id).expect("running job listed");
        assert_eq!(running.state, JobState::Running);
        assert_eq!((running.done, running.total), (1, 4));
        assert_eq!(running.progress_pct(), 25.0);
        assert!(running.eta().is_some());
        assert_eq!(running.finished_ms, None);
        job.step_done();
        job.finish();
        let ended = registry.get(id).expect("finished job kept");
        assert_eq!(ended.state, JobState::Finished);
        assert_eq!(ended.progress_pct(), 100.0);
        assert_eq!(ended.eta(), None);
        assert!(ended.finished_ms.is_some());
        assert_eq!(ended.description, "ALTER TABLE t ADD c INT");
    }

    #[test]
    fn a_failed_job_keeps_its_progress_and_error() {
        let registry = JobRegistry::new();
        let job = registry.start(JobKind::Ddl, "DROP TABLE t", 2);
        job.step_done();
        job.step_failed("Unknown table 't' (data node 2)");
        let id = job.id();
        job.fail("Unknown table 't' (data node 2); applied on data node 1");
        let ended = registry.get(id).expect("failed job kept");
        assert_eq!(ended.state, JobState::Failed);
        assert_eq!(ended.progress_pct(), 50.0);
        assert_eq!(
            ended.last_error.as_deref(),
            Some("Unknown table 't' (data node 2); applied on data node 1")
        );
    }

    #[test]
    fn a_dropped_handle_fails_its_job() {
        let registry = JobRegistry::new();
        let id = registry
            .start(JobKind::Ddl, "CREATE TABLE t (a INT)", 3)
            .id();
        let ended = registry.get(id).expect("kept");
        assert_eq!(ended.state, JobState::Failed);
        assert!(ended.last_error.is_some_and(|e| e.starts_with("abandoned")));
    }

    #[test]
    fn only_the_latest_finished_jobs_are_kept_and_running_ones_come_first() {
        let registry = JobRegistry::new();
        let long = registry.start(JobKind::Ddl, "long", 1);
        for i in 0..(KEEP_FINISHED + 20) {
            registry
                .start(JobKind::Ddl, &format!("job {i}"), 1)
                .finish();
        }
        let all = registry.list();
        assert_eq!(all.len(), KEEP_FINISHED + 1);
        assert_eq!(all[0].id, long.id());
        assert_eq!(all[1].description, format!("job {}", KEEP_FINISHED + 19));
        assert_eq!(
            all.last().map(|j| j.description.clone()),
            Some("job 20".to_string())
        );
        long.finish();
    }

    #[test]
    fn long_descriptions_are_shortened() {
        let registry = JobRegistry::new();
        let text = "x".repeat(500);
        let job = registry.start(JobKind::Ddl, &text, 1);
        let record = registry.get(job.id()).expect("listed");
        assert_eq!(record.description.chars().count(), MAX_DESCRIPTION + 3);
        job.finish();
    }
}
