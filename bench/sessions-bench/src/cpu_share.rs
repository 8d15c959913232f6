//! The CPU Lambda gives a memory size, and the cgroup v1 quota that emulates it here.
//!
//! Lambda allocates CPU in proportion to memory: one full vCPU at 1 769 MB
//! (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html>), so a function
//! of `mb` megabytes gets `mb / 1769` of one core. sessions-memory emulates that with the CFS
//! bandwidth controller: `cpu.cfs_period_us` 100 000 and `cpu.cfs_quota_us` the share of it.

/// Memory size at which a function has one full vCPU.
pub const FULL_VCPU_MB: u32 = 1769;

/// The CFS period the emulation uses (100 ms, the kernel's default).
pub const CFS_PERIOD_US: u64 = 100_000;

/// Lambda's memory sizes in the CPU-share table: its smallest and three doublings.
pub const TABLE_SIZES_MB: [u32; 4] = [128, 256, 512, 1024];

/// The share of one core a function of `memory_mb` gets (above 1.0 past 1 769 MB).
pub fn share(memory_mb: u32) -> f64 {
    f64::from(memory_mb) / f64::from(FULL_VCPU_MB)
}

/// `cpu.cfs_quota_us` for `memory_mb`: its share of [`CFS_PERIOD_US`], rounded.
pub fn cfs_quota_us(memory_mb: u32) -> u64 {
    (share(memory_mb) * CFS_PERIOD_US as f64).round() as u64
}

/// GB-seconds one call of `duration_ms` bills at `memory_mb` (Lambda's GB is 1 024 MB).
pub fn gb_seconds(memory_mb: u32, duration_ms: f64) -> f64 {
    f64::from(memory_mb) / 1024.0 * duration_ms / 1000.0
}

/// Memory sizes the rule below tries, smallest first: doublings up to one full vCPU.
pub const RULE_SIZES_MB: [u32; 5] = [128, 256, 512, 1024, FULL_VCPU_MB];

/// The smallest size in [`RULE_SIZES_MB`] that holds four times the peak resident set
/// (`peak_kb`) and whose quota for one CFS period is at least twice the CPU time of a call
/// (`cpu_ms`): such a call finishes inside one period without being stopped, with room for what
/// a local run does not show (TLS to DynamoDB, larger answers). `None`: no size up to one vCPU
/// does, and the call is CPU-bound (more memory only makes it faster).
pub fn rule_size(peak_kb: u64, cpu_ms: f64) -> Option<u32> {
    RULE_SIZES_MB.into_iter().find(|&mb| {
        let quota_ms = cfs_quota_us(mb) as f64 / 1000.0;
        peak_kb as f64 / 1024.0 * 4.0 <= f64::from(mb) && cpu_ms * 2.0 <= quota_ms
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_follow_the_memory_size() {
        // 128 / 1769 × 100 000 = 7 235.7; 1024 / 1769 × 100 000 = 57 885.8.
        assert_eq!(cfs_quota_us(128), 7_236);
        assert_eq!(cfs_quota_us(256), 14_471);
        assert_eq!(cfs_quota_us(512), 28_943);
        assert_eq!(cfs_quota_us(1024), 57_886);
        assert_eq!(cfs_quota_us(FULL_VCPU_MB), CFS_PERIOD_US);
        assert!((share(3538) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_rule_takes_the_smallest_size_that_holds_the_peak_and_the_cpu() {
        // 128 MB: 7.236 ms a period, so calls of up to 3.618 ms CPU.
        assert_eq!(rule_size(8 * 1024, 2.0), Some(128));
        assert_eq!(rule_size(8 * 1024, 3.7), Some(256));
        // 256 MB: 14.471 ms a period, up to 7.2355 ms.
        assert_eq!(rule_size(10 * 1024, 7.0), Some(256));
        assert_eq!(rule_size(10 * 1024, 7.3), Some(512));
        // 40 MB × 4 = 160 MB: past 128 whatever the CPU.
        assert_eq!(rule_size(40 * 1024, 1.0), Some(256));
        // bcrypt: no size up to one vCPU gives 2 × 63 ms in a period.
        assert_eq!(rule_size(9 * 1024, 63.0), None);
    }

    #[test]
    fn gb_seconds_use_lambdas_gigabyte() {
        assert!((gb_seconds(1024, 1000.0) - 1.0).abs() < 1e-12);
        assert!((gb_seconds(128, 100.0) - 0.0125).abs() < 1e-12);
    }
}
