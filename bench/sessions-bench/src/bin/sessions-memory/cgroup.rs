//! One cgroup v1 group per function process, in the cpu, cpuacct and memory controllers: the
//! cpu controller's CFS quota emulates the CPU share of a Lambda memory size, cpuacct counts
//! the process's CPU time, and memory records its peak (`memory.max_usage_in_bytes`). The
//! process joins the group before it runs a line of its own: it is started through a small
//! shell script that writes its pid into each group and then `exec`s the function binary.

use std::io;
use std::path::{Path, PathBuf};

use sessions_bench::cpu_share::{CFS_PERIOD_US, cfs_quota_us};

const ROOT: &str = "/sys/fs/cgroup";
const CONTROLLERS: [&str; 3] = ["cpu", "cpuacct", "memory"];
/// The parent of every group this tool makes, in each controller.
const PARENT: &str = "sessions-memory";

/// The script a function starts through: joins `$CGROUP_DIRS`, then becomes `$FUNCTION_BINARY`
/// (same pid) with neither variable left in its environment.
const WRAPPER: &str = r#"#!/bin/sh
# Written by sessions-memory: joins the cgroups, then becomes the function binary.
for dir in $CGROUP_DIRS; do echo $$ > "$dir/cgroup.procs" || exit 97; done
binary=$FUNCTION_BINARY
unset CGROUP_DIRS FUNCTION_BINARY
exec "$binary"
"#;

/// A group in each controller; removed by [`Group::remove`] once its process has exited.
pub struct Group {
    dirs: Vec<PathBuf>,
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    std::fs::write(path, value).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn read_number(path: &Path) -> u64 {
    std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// Fails with the reason when this machine has no writable cgroup v1 controllers (root only).
pub fn check() -> Result<(), String> {
    let group = Group::create("probe", Some(128)).map_err(|e| {
        format!(
            "sessions-memory needs writable cgroup v1 cpu, cpuacct and memory controllers under {ROOT} (as root): {e}"
        )
    })?;
    group.remove();
    Ok(())
}

/// Writes the wrapper script into `dir`; its path.
pub fn wrapper(dir: &Path) -> io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("in-cgroup.sh");
    std::fs::write(&path, WRAPPER)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

impl Group {
    /// A fresh group named `name`; with `memory_mb`, the CPU quota of that Lambda size.
    pub fn create(name: &str, memory_mb: Option<u32>) -> io::Result<Group> {
        let dirs: Vec<PathBuf> = CONTROLLERS.iter().map(|c| Path::new(ROOT).join(c).join(PARENT).join(name)).collect();
        for dir in &dirs {
            if dir.exists() {
                let _ = std::fs::remove_dir(dir);
            }
            std::fs::create_dir_all(dir).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        }
        let group = Group { dirs };
        write(&group.cpu().join("cpu.cfs_period_us"), &CFS_PERIOD_US.to_string())?;
        let quota = memory_mb.map_or("-1".to_string(), |mb| cfs_quota_us(mb).to_string());
        write(&group.cpu().join("cpu.cfs_quota_us"), &quota)?;
        Ok(group)
    }

    fn cpu(&self) -> &Path {
        &self.dirs[0]
    }

    /// `CGROUP_DIRS` for the wrapper: every controller's directory of this group.
    pub fn dirs_variable(&self) -> String {
        self.dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(" ")
    }

    /// The pid of the process in the group, once it has joined.
    pub fn pid(&self) -> Option<u32> {
        let procs = std::fs::read_to_string(self.dirs[2].join("cgroup.procs")).ok()?;
        procs.lines().next().and_then(|l| l.trim().parse().ok())
    }

    /// CPU time the group's processes have used, ns.
    pub fn cpu_ns(&self) -> u64 {
        read_number(&self.dirs[1].join("cpuacct.usage"))
    }

    /// CFS periods in which the quota stopped the group (`nr_throttled`).
    pub fn throttled(&self) -> u64 {
        let stat = std::fs::read_to_string(self.cpu().join("cpu.stat")).unwrap_or_default();
        stat.lines().find_map(|l| l.strip_prefix("nr_throttled ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
    }

    /// The group's peak memory charge (pages and page cache), KB.
    pub fn max_usage_kb(&self) -> u64 {
        read_number(&self.dirs[2].join("memory.max_usage_in_bytes")) / 1024
    }

    /// Removes the group (its process must have exited; retried briefly while it exits).
    pub fn remove(self) {
        for dir in &self.dirs {
            for _ in 0..50 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// Removes this tool's parent group in each controller, once its groups are gone.
pub fn remove_parents() {
    for controller in CONTROLLERS {
        let _ = std::fs::remove_dir(Path::new(ROOT).join(controller).join(PARENT));
    }
}

/// The peak resident set of process `pid` (VmHWM in /proc/<pid>/status), KB.
pub fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
