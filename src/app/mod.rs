//! App: the running service. [`daemon`] (tasks per mailbox, Maildir scans, the
//! sender, schedules, signals, watchdog), [`doctor`] (everything a service needs,
//! each check with its fix) and [`notify`] (sd_notify).

pub mod daemon;
pub mod doctor;
pub mod notify;
