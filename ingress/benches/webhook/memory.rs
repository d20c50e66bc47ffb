//! The resident memory of each service process, sampled while the benchmark runs, and its
//! rows in the table against the targets.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use shared::config::Service;

use crate::{report::Row, services::Process};

/// The memory targets, in MiB.
pub const INGRESS_RSS_TARGET_MIB: u64 = 64;
pub const EXECUTOR_RSS_TARGET_MIB: u64 = 128;

/// How often the resident memory of the children is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Resident memory of one service.
pub struct Rss {
    pub service: Service,
    /// `VmRSS` once it was ready, KiB.
    pub at_start_kib: u64,
    /// Largest `VmRSS` sampled every [`SAMPLE_EVERY`] since, KiB.
    pub peak_kib: u64,
    /// `VmHWM` (the kernel's peak of `VmRSS`) when asked, KiB.
    pub high_water_kib: Option<u64>,
}

/// A thread that reads each child's `VmRSS` every [`SAMPLE_EVERY`] and keeps the largest.
pub struct Memory {
    children: Vec<(Service, u32, u64)>,
    peaks: Arc<Vec<AtomicU64>>,
    done: Arc<AtomicBool>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

impl Memory {
    pub fn sample(processes: &[&Process]) -> Memory {
        let children: Vec<(Service, u32, u64)> = processes
            .iter()
            .map(|process| {
                let rss = status_kib(process.pid(), "VmRSS:").unwrap_or(0);
                (process.service, process.pid(), rss)
            })
            .collect();
        let peaks: Arc<Vec<AtomicU64>> = Arc::new(
            children
                .iter()
                .map(|(_, _, rss)| AtomicU64::new(*rss))
                .collect(),
        );
        let done = Arc::new(AtomicBool::new(false));
        let pids: Vec<u32> = children.iter().map(|(_, pid, _)| *pid).collect();
        let sampler = {
            let (peaks, done) = (Arc::clone(&peaks), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    for (pid, peak) in pids.iter().zip(peaks.iter()) {
                        if let Some(rss) = status_kib(*pid, "VmRSS:") {
                            peak.fetch_max(rss, Ordering::Relaxed);
                        }
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
        };
        Memory {
            children,
            peaks,
            done,
            sampler: Some(sampler),
        }
    }

    pub fn report(&self) -> Vec<Rss> {
        self.children
            .iter()
            .zip(self.peaks.iter())
            .map(|((service, pid, at_start), peak)| Rss {
                service: *service,
                at_start_kib: *at_start,
                peak_kib: peak.load(Ordering::Relaxed),
                high_water_kib: status_kib(*pid, "VmHWM:"),
            })
            .collect()
    }

    pub fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(sampler) = self.sampler.take() {
            let _ = sampler.join();
        }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `kB` field of `/proc/<pid>/status` (`"VmRSS:"`, `"VmHWM:"`), in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// One row per service: its peak resident memory under load, against the target.
pub fn rows(memory: &[Rss]) -> Vec<Row> {
    memory
        .iter()
        .map(|rss| {
            let (name, target) = match rss.service {
                Service::Ingress => ("RSS, ingress peak under load", Some(INGRESS_RSS_TARGET_MIB)),
                Service::Executor => (
                    "RSS, executor peak under load",
                    Some(EXECUTOR_RSS_TARGET_MIB),
                ),
                Service::ConfigApi => ("RSS, config-api peak under load", None),
            };
            let high_water = rss.high_water_kib.map_or_else(|| "unknown".to_owned(), mib);
            Row::memory(name, rss.peak_kib, target.map(|target| target * 1024)).note(format!(
                "VmHWM {high_water}, {} when ready",
                mib(rss.at_start_kib)
            ))
        })
        .collect()
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
