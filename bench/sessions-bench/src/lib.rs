//! What sessions-bench's binaries share: the sessions-bench benchmark (`src/main.rs`),
//! sessions-memory (peak memory and duration of every function binary under the CPU share
//! Lambda gives a memory size, docs/memory.md) and sessions-cost (docs/cost.md). Pure logic
//! only, each part with its unit tests: the CPU share of a memory size, the memory sizes in
//! template.yaml, the prices and the cost arithmetic, the usage profile, and the
//! machine-readable figures the binaries hand each other.

pub mod cpu_share;
pub mod figures;
pub mod pricing;
pub mod profile;
pub mod stats;
pub mod template_sizes;
