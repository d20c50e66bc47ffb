//! The table the benchmark prints.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{Settings, load::Summary};

/// One line of the table.
pub struct Row {
    name: &'static str,
    is_baseline: bool,
    summary: Summary,
    /// This rate over its baseline's, and what the baseline was.
    ratio: Option<(f64, &'static str)>,
    note: Option<String>,
    /// A memory figure instead of a rate: KiB, and the target in KiB.
    memory: Option<(u64, Option<u64>)>,
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
            memory: None,
        }
    }

    /// A resident memory figure of `kib`, against `target_kib` when there is one.
    pub fn memory(name: &'static str, kib: u64, target_kib: Option<u64>) -> Row {
        Row {
            ratio: target_kib.map(|target| (kib as f64 / target.max(1) as f64, "of the target")),
            memory: Some((kib, target_kib)),
            ..Row::measured(name, Summary::rate_only(0.0))
        }
    }

    /// The figure column: a rate, or MiB.
    fn figure(&self) -> String {
        match self.memory {
            Some((kib, _)) => format!("{:.1} MiB", kib as f64 / 1024.0),
            None => format!("{:.1}", self.summary.rate),
        }
    }

    /// The ratio column's text.
    fn ratio_text(&self) -> String {
        match (self.ratio, self.memory) {
            (Some((ratio, what)), Some((_, Some(target)))) => {
                format!("{ratio:.3} {what} of {} MiB", target / 1024)
            }
            (Some((ratio, what)), _) => format!("{ratio:.3} {what}"),
            (None, _) => String::new(),
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

    /// Adds a remark after the ratio (after the remarks before it).
    pub fn note(self, note: String) -> Row {
        let note = match self.note {
            Some(before) => format!("{before}; {note}"),
            None => note,
        };
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
    /// Figures that are not rates (memory), printed under the table.
    pub facts: Vec<(String, String)>,
}

impl Report {
    /// The table as Markdown: one line per row, ratios to their ceilings.
    pub fn markdown(&self, settings: &Settings) -> String {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let build = if cfg!(debug_assertions) {
            "debug build (figures far below a release build's)"
        } else {
            "release build"
        };
        let mut text = format!(
            "{} calls x {} rounds, {} concurrent clients (unless the row says), {cores} cores, {build}, medians of rounds\n\n\
             | figure | per second (or MiB) | p50 | p99 | p99.9 | ratio |\n|---|---:|---:|---:|---:|---|\n",
            settings.requests, settings.rounds, settings.concurrency,
        );
        for row in &self.rows {
            let name = if row.is_baseline {
                format!("ceiling: {}", row.name)
            } else {
                row.name.to_owned()
            };
            let ratio = row.ratio_text();
            let mut remark = row.note.clone().unwrap_or_default();
            if !row.summary.failures.is_empty() {
                let failures: Vec<String> = (row.summary.failures.iter())
                    .map(|(reason, count)| format!("{count} x {reason}"))
                    .collect();
                remark.push_str(&format!(" failed: {}", failures.join(", ")));
            }
            text.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {ratio}{} |\n",
                row.figure(),
                millis(row.summary.p50),
                millis(row.summary.p99),
                millis(row.summary.p999),
                if remark.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", remark.trim())
                },
            ));
        }
        for (name, value) in &self.facts {
            text.push_str(&format!("\n{name}: {value}"));
        }
        text.push('\n');
        text
    }

    /// The figures as JSON.
    pub fn json(&self, settings: &Settings) -> Value {
        let ms = |latency: Option<Duration>| latency.map(|l| l.as_secs_f64() * 1000.0);
        json!({
            "settings": {
                "requests": settings.requests,
                "rounds": settings.rounds,
                "concurrency": settings.concurrency,
                "workflows": settings.workflows,
                "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
                "release": !cfg!(debug_assertions),
            },
            "rows": self.rows.iter().map(|row| json!({
                "name": row.name,
                "ceiling": row.is_baseline,
                "perSecond": row.memory.is_none().then_some(row.summary.rate),
                "p50Ms": ms(row.summary.p50),
                "p99Ms": ms(row.summary.p99),
                "p999Ms": ms(row.summary.p999),
                "ratio": row.ratio.map(|(ratio, _)| ratio),
                "ratioOf": row.ratio.map(|(_, what)| what),
                "note": row.note,
                "rssKiB": row.memory.map(|(kib, _)| kib),
                "targetKiB": row.memory.and_then(|(_, target)| target),
                "failures": row.summary.failures,
            })).collect::<Vec<_>>(),
            "facts": self.facts.iter().map(|(name, value)| json!({"name": name, "value": value})).collect::<Vec<_>>(),
        })
    }

    /// Writes `bench/results/<time>.json` and `.md` (and `latest.*`) at the workspace root.
    pub fn write(&self, settings: &Settings) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/results");
        if let Err(err) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {err}", dir.display());
            return;
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let json = serde_json::to_string_pretty(&self.json(settings)).expect("JSON");
        let markdown = format!(
            "# Hookflow benchmark, {stamp}\n\n{}",
            self.markdown(settings)
        );
        for name in [stamp.as_str(), "latest"] {
            let written = std::fs::write(dir.join(format!("{name}.json")), &json)
                .and_then(|()| std::fs::write(dir.join(format!("{name}.md")), &markdown));
            if let Err(err) = written {
                eprintln!("cannot write the results to {}: {err}", dir.display());
            }
        }
        eprintln!(
            "results written to {}",
            dir.join(format!("{stamp}.{{json,md}}")).display()
        );
    }

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
            "{:<64} {:>12} {:>10} {:>10} {:>10}   ratio",
            "", "per s | MiB", "p50", "p99", "p99.9"
        );
        for row in &self.rows {
            let name = if row.is_baseline {
                format!("  ceiling: {}", row.name)
            } else {
                row.name.to_owned()
            };
            let mut line = format!(
                "{name:<64} {:>12} {:>10} {:>10} {:>10}",
                row.figure(),
                millis(row.summary.p50),
                millis(row.summary.p99),
                millis(row.summary.p999),
            );
            if row.ratio.is_some() {
                line.push_str(&format!("   {}", row.ratio_text()));
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
        for (name, value) in &self.facts {
            println!("{name}: {value}");
        }
    }
}

fn millis(latency: Option<Duration>) -> String {
    latency.map_or_else(String::new, |latency| {
        format!("{:.2} ms", latency.as_secs_f64() * 1000.0)
    })
}
