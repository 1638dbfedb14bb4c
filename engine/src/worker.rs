//! Identity of the process running a job run, so that a run left RUNNING by a
//! process that died can be recognised and closed.

use std::sync::OnceLock;

/// Returns `HOST:PID` for this process.
pub(crate) fn this_worker() -> &'static str {
    static WORKER: OnceLock<String> = OnceLock::new();
    WORKER.get_or_init(|| format!("{}:{}", host_name(), std::process::id()))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// Whether `worker` (`HOST:PID`) names a process on this host that no longer
/// exists. Returns false when that cannot be known: another host, an
/// unreadable worker, or a system without `/proc`.
pub(crate) fn is_dead_local_worker(worker: &str) -> bool {
    let Some((host, pid)) = worker.rsplit_once(':') else {
        return false;
    };
    if host != host_name() || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    match pid.parse::<u32>() {
        Ok(pid) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => false,
    }
}
