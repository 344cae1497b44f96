//! Experiments in separate processes, a few at a time (`emo-run FILE... --jobs N`). Separate
//! processes, not threads: burn's seed and the allocator are process-wide, so two experiments
//! in one process would not give the numbers each gives alone.

use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

/// The variable through which a child learns its parent's pid (see [`exit_with_parent`]).
pub const PARENT_PID_VAR: &str = "EMO_RUN_PARENT_PID";

/// One experiment's process, and what became of it.
pub struct Job {
    pub label: String,
    pub command: Command,
}

/// Run every job, at most `parallel` at once, in order of the list; `on_done` hears of each as
/// it ends (a process that could not start counts as failed). Returns how many failed.
///
/// Each running job holds one of `parallel` slots; `place` hears the slot of a job just before
/// it starts, so that slot `k` can be given its own device (`--devices`) and no two jobs of
/// one slot ever run at once.
pub fn run_jobs(
    jobs: Vec<Job>,
    parallel: usize,
    mut place: impl FnMut(&mut Job, usize),
    mut on_done: impl FnMut(&str, Result<ExitStatus, std::io::Error>),
) -> usize {
    let slots = parallel.max(1);
    let mut queue = jobs.into_iter();
    let mut running: Vec<(usize, String, Child)> = Vec::new();
    let mut failed = 0;
    loop {
        while running.len() < slots {
            let Some(mut job) = queue.next() else { break };
            let slot = (0..slots)
                .find(|s| running.iter().all(|(taken, _, _)| taken != s))
                .expect("fewer jobs running than slots");
            place(&mut job, slot);
            job.command
                .env(PARENT_PID_VAR, std::process::id().to_string());
            match job.command.spawn() {
                Ok(child) => running.push((slot, job.label, child)),
                Err(e) => {
                    failed += 1;
                    on_done(&job.label, Err(e));
                }
            }
        }
        if running.is_empty() {
            return failed;
        }
        let mut still = Vec::new();
        for (slot, label, mut child) in running {
            match child.try_wait() {
                Ok(Some(status)) => {
                    failed += usize::from(!status.success());
                    on_done(&label, Ok(status));
                }
                Ok(None) => still.push((slot, label, child)),
                Err(e) => {
                    failed += 1;
                    on_done(&label, Err(e));
                }
            }
        }
        running = still;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// In a child started by [`run_jobs`]: end this process when the parent is gone (killed, even
/// with `kill -9`), so that no orphan keeps training and holding its run's lock. The run it
/// leaves behind resumes at its last committed epoch.
pub fn exit_with_parent() {
    let Some(parent) = std::env::var(PARENT_PID_VAR)
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return;
    };
    std::thread::spawn(move || {
        loop {
            if std::os::unix::process::parent_id() != parent {
                eprintln!("emo-run: the process that started this experiment is gone; stopping");
                std::process::exit(130);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    });
}

/// Threads each of `jobs` concurrent processes may use: the cores shared out, at least one.
pub fn threads_per_job(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_every_job_at_most_n_at_once_and_counts_the_failures() {
        let jobs: Vec<Job> = ["true", "false", "true", "false", "true"]
            .iter()
            .enumerate()
            .map(|(i, program)| Job {
                label: format!("{i}"),
                command: Command::new(program),
            })
            .collect();
        let mut seen = Vec::new();
        let mut slots = Vec::new();
        let failed = run_jobs(
            jobs,
            2,
            |job, slot| slots.push((job.label.clone(), slot)),
            |label, status| seen.push((label.to_string(), status.unwrap().success())),
        );
        assert_eq!(&slots[..2], [("0".to_string(), 0), ("1".to_string(), 1)]);
        assert!(slots.iter().all(|(_, slot)| *slot < 2), "{slots:?}");
        assert_eq!(failed, 2);
        seen.sort();
        assert_eq!(
            seen,
            [
                ("0", true),
                ("1", false),
                ("2", true),
                ("3", false),
                ("4", true)
            ]
            .map(|(l, s)| (l.to_string(), s))
        );
        let missing = vec![Job {
            label: "x".into(),
            command: Command::new("/nonexistent/emo-run"),
        }];
        assert_eq!(
            run_jobs(missing, 1, |_, _| {}, |_, status| assert!(status.is_err())),
            1
        );
    }
}
