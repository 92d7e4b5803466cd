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

/// An answer on its way from a pool thread ([`spawn`]).
pub(crate) struct Pending<T>(mpsc::Receiver<Option<T>>);

impl<T> Pending<T> {
    /// Waits for the answer. None when the job panicked.
    pub(crate) fn wait(self) -> Option<T> {
        self.0.recv().ok().flatten()
    }
}

/// Queues `f(&input)` for a pool thread and returns at once: the caller goes on with
/// other work (a reading thread reads its next message while this one is classified)
/// and collects the answer with [`Pending::wait`]. Jobs start in the order queued. With
/// no pool thread the job runs here, before this returns. Dropping the `Pending`
/// discards the answer (the job still runs).
pub(crate) fn spawn<I, T>(input: I, f: fn(&I) -> T) -> Pending<T>
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
    Pending(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_same_long_lived_threads() {
        let names: std::collections::BTreeSet<String> = (0..50)
            .filter_map(|_| {
                spawn((), |_| {
                    std::thread::current()
                        .name()
                        .unwrap_or_default()
                        .to_string()
                })
                .wait()
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
        assert_eq!(
            spawn(3, |_| -> i32 { panic!("a bug in a job") }).wait(),
            None
        );
        assert_eq!(spawn(3, |x| x * 2).wait(), Some(6));
    }

    #[test]
    fn spawned_jobs_run_while_the_caller_goes_on_and_answer_in_their_own_slot() {
        use std::sync::atomic::{AtomicBool, Ordering};
        static GATE: AtomicBool = AtomicBool::new(false);
        // The first job waits for the caller: spawn must have returned for it to finish.
        let first = spawn(7u64, |x| {
            while !GATE.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            x + 1
        });
        let second = spawn(20u64, |x| x * 2);
        GATE.store(true, Ordering::SeqCst);
        assert_eq!(second.wait(), Some(40));
        assert_eq!(first.wait(), Some(8));
        // A dropped answer costs nothing to the pool.
        drop(spawn(1u64, |x| x + 1));
        assert_eq!(spawn(2u64, |x| x + 1).wait(), Some(3));
    }
}
