//! Long-lived worker threads for CPU work on owned data (classification).
//!
//! This module owns a process-wide pool of threads, one per core, started on first use
//! and living as long as the process. Intake's reading threads are scoped to a batch;
//! the regex engine keeps a cache per thread that uses a pattern, so classifying on
//! threads that come and go built new caches batch after batch (a 5,000-report backlog
//! peaked at 87 MiB, most of it regex caches). On these threads the caches are built
//! once per worker. Jobs own their input; a job that panics costs only its answer (the
//! caller then does the work itself), never the worker.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

static POOL: OnceLock<Option<Sender<Job>>> = OnceLock::new();

fn pool() -> Option<&'static Sender<Job>> {
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..n {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("triaged-work-{i}"))
                .spawn(move || work(&rx));
            if spawned.is_ok() {
                started += 1;
            }
        }
        (started > 0).then_some(tx)
    })
    .as_ref()
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panic is the job's (its answer is dropped, the caller sees it); the worker
        // and its caches stay.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Runs `f(&input)` on a pool thread and waits for the answer; on the calling thread
/// when no pool thread could be started. None when `f` panicked.
pub(crate) fn run<I, T>(input: I, f: fn(&I) -> T) -> Option<T>
where
    I: Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&input)));
        let _ = tx.send(out.ok());
    });
    let unsent = match pool() {
        Some(p) => p.send(job).err().map(|e| e.0),
        None => Some(job),
    };
    if let Some(job) = unsent {
        job();
    }
    rx.recv().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_same_long_lived_threads() {
        let names: std::collections::BTreeSet<String> = (0..50)
            .filter_map(|_| {
                run((), |_| {
                    std::thread::current()
                        .name()
                        .unwrap_or_default()
                        .to_string()
                })
            })
            .collect();
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(
            names.iter().all(|n| n.starts_with("triaged-work-")),
            "{names:?}"
        );
        assert!(!names.is_empty() && names.len() <= n, "{names:?}");
    }

    #[test]
    #[allow(clippy::panic)]
    fn a_panicking_job_answers_none_and_the_pool_survives() {
        assert_eq!(run(3, |_| -> i32 { panic!("a bug in a job") }), None);
        assert_eq!(run(3, |x| x * 2), Some(6));
    }
}
