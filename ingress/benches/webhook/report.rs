//! The table the benchmark prints.

use std::time::Duration;

use crate::{Settings, load::Summary};

/// One line of the table.
pub struct Row {
    name: &'static str,
    is_baseline: bool,
    summary: Summary,
    /// This rate over its baseline's, and what the baseline was.
    ratio: Option<(f64, &'static str)>,
    note: Option<String>,
}

impl Row {
    /// A measurement of Hookflow.
    pub fn measured(name: &'static str, summary: Summary) -> Row {
        Row {
            name,
            is_baseline: false,
            summary,
            ratio: None,
            note: None,
        }
    }

    /// A baseline, printed indented under its measurement.
    pub fn baseline(name: &'static str, summary: Summary) -> Row {
        Row {
            is_baseline: true,
            ..Row::measured(name, summary)
        }
    }

    /// Adds the ratio of this rate to `baseline`'s.
    pub fn against(self, baseline: &Summary, what: &'static str) -> Row {
        let ratio = self.summary.rate / baseline.rate.max(f64::EPSILON);
        Row {
            ratio: Some((ratio, what)),
            ..self
        }
    }

    /// Adds a remark after the ratio.
    pub fn note(self, note: String) -> Row {
        Row {
            note: Some(note),
            ..self
        }
    }
}

/// The whole table.
pub struct Report {
    /// In print order.
    pub rows: Vec<Row>,
}

impl Report {
    /// Prints the table to stdout.
    pub fn print(&self, settings: &Settings) {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!();
        println!(
            "Hookflow webhook benchmark: {} calls x {} rounds, {} concurrent clients; \
             engine {} runs x {} rounds; {cores} cores; medians",
            settings.requests,
            settings.rounds,
            settings.concurrency,
            settings.engine_iterations,
            settings.rounds,
        );
        println!(
            "{:<48} {:>12} {:>10} {:>10}   ratio",
            "", "per second", "p50", "p99"
        );
        for row in &self.rows {
            let name = if row.is_baseline {
                format!("  baseline: {}", row.name)
            } else {
                row.name.to_owned()
            };
            let mut line = format!(
                "{name:<48} {:>12.1} {:>10} {:>10}",
                row.summary.rate,
                millis(row.summary.p50),
                millis(row.summary.p99),
            );
            if let Some((ratio, what)) = row.ratio {
                line.push_str(&format!("   {ratio:.3} {what}"));
            }
            if let Some(note) = &row.note {
                line.push_str(&format!(" ({note})"));
            }
            if !row.summary.failures.is_empty() {
                let failures: Vec<String> = row
                    .summary
                    .failures
                    .iter()
                    .map(|(reason, count)| format!("{count} x {reason}"))
                    .collect();
                line.push_str(&format!(" [failed: {}]", failures.join(", ")));
            }
            println!("{}", line.trim_end());
        }
    }
}

fn millis(latency: Option<Duration>) -> String {
    latency.map_or_else(String::new, |latency| {
        format!("{:.2} ms", latency.as_secs_f64() * 1000.0)
    })
}
