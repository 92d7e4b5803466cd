//! systemd notification protocol (sd_notify): READY, WATCHDOG, STOPPING, STATUS.
//!
//! Writes datagrams to `$NOTIFY_SOCKET` (a path, or an abstract socket when it
//! starts with `@`). Without the variable every call is a no-op, so the daemon
//! runs the same under systemd, another supervisor, or a terminal.

use std::os::unix::net::UnixDatagram;

/// Sends one notification; errors are ignored (systemd may not be listening).
pub fn notify(state: &str) {
    let Ok(path) = std::env::var("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    // Never block the daemon on a receiver that does not read (a full queue drops the ping).
    let _ = sock.set_nonblocking(true);
    if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()) {
            let _ = sock.send_to_addr(state.as_bytes(), &addr);
        }
    } else {
        let _ = sock.send_to(state.as_bytes(), &path);
    }
}

/// The watchdog interval systemd asked for (half of WATCHDOG_USEC), if any.
pub fn watchdog_interval() -> Option<std::time::Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    Some(std::time::Duration::from_micros(usec / 2))
}
