//! The table a run prints: one row per figure, with the relay's beside it where the relay
//! has one, and their ratio.

use std::fmt::Write;

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub palaver: String,
    pub relay: String,
    pub ratio: String,
}

impl Row {
    /// A figure only the server has.
    pub fn palaver(scenario: impl Into<String>, palaver: impl Into<String>) -> Self {
        Self {
            scenario: scenario.into(),
            palaver: palaver.into(),
            relay: String::new(),
            ratio: String::new(),
        }
    }

    /// A figure of both targets.
    pub fn both(
        scenario: impl Into<String>,
        palaver: impl Into<String>,
        relay: impl Into<String>,
        ratio: impl Into<String>,
    ) -> Self {
        Self {
            scenario: scenario.into(),
            palaver: palaver.into(),
            relay: relay.into(),
            ratio: ratio.into(),
        }
    }

    /// A ratio of two of the server's own figures.
    pub fn ratio(scenario: impl Into<String>, ratio: impl Into<String>) -> Self {
        Self {
            scenario: scenario.into(),
            palaver: String::new(),
            relay: String::new(),
            ratio: ratio.into(),
        }
    }
}

/// `a / b` as `1.23×`, or `n/a` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        "n/a".to_owned()
    } else {
        format!("{:.2}×", a / b)
    }
}

/// The rows as an aligned plain-text table.
pub fn table(rows: &[Row]) -> String {
    let header = Row::both("scenario", "Palaver", "relay", "ratio");
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let width = |cell: fn(&Row) -> &str| {
        all.iter()
            .map(|row| cell(row).chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [
        width(|r| &r.scenario),
        width(|r| &r.palaver),
        width(|r| &r.relay),
        width(|r| &r.ratio),
    ];
    let mut out = String::new();
    for row in all {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
            row.scenario,
            row.palaver,
            row.relay,
            row.ratio,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_its_columns_and_leaves_missing_figures_blank() {
        let rows = [
            Row::both("chat", "10", "200", ratio(10.0, 200.0)),
            Row::palaver("inbox", "1.00 ms"),
        ];
        assert_eq!(
            table(&rows),
            "scenario  Palaver  relay  ratio\n\
             chat           10    200  0.05×\n\
             inbox     1.00 ms\n"
        );
    }
}
