//! `cargo xtask size`: what the built widget weighs, file by file, as it leaves `dist/` and
//! as a server would send it compressed (gzip at level 9, brotli at quality 11, each the
//! format's best).

use std::fmt::Write as _;
use std::io::Write as _;
use std::iter::Sum;
use std::ops::Add;

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::write::GzEncoder;

/// The files a visitor's browser downloads, in the order it needs them, each with what it is.
pub const WIDGET_FILES: [(&str, &str); 4] = [
    ("loader", "widget.js"),
    ("wasm", "palaver-widget_bg.wasm"),
    ("JS glue", "palaver-widget.js"),
    ("CSS", "widget.css"),
];

/// Brotli's window: 4 MiB, its library default, far more than any widget file.
const BROTLI_WINDOW_BITS: i32 = 22;

/// One file's size in bytes, as is and compressed each way.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

impl Sizes {
    /// Compresses `bytes` both ways and counts.
    pub fn measure(bytes: &[u8]) -> Result<Self> {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
        gzip.write_all(bytes).context("gzip")?;
        let gzip = gzip.finish().context("gzip")?;
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: BROTLI_WINDOW_BITS,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params).context("brotli")?;
        Ok(Self {
            raw: len(bytes),
            gzip: len(&gzip),
            brotli: len(&brotli),
        })
    }
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

impl Add for Sizes {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            raw: self.raw + other.raw,
            gzip: self.gzip + other.gzip,
            brotli: self.brotli + other.brotli,
        }
    }
}

impl Sum for Sizes {
    fn sum<I: Iterator<Item = Self>>(sizes: I) -> Self {
        sizes.fold(Self::default(), Add::add)
    }
}

/// The report: a header, one line per file (what it is, its name, its three sizes in
/// bytes) and a total line. Names align left and numbers right, each column as wide as its
/// widest cell, two spaces apart.
pub fn table(files: &[(&str, &str, Sizes)]) -> String {
    let total = files.iter().map(|&(_, _, sizes)| sizes).sum::<Sizes>();
    let row = |part: &str, file: &str, sizes: Sizes| {
        [
            part.to_owned(),
            file.to_owned(),
            sizes.raw.to_string(),
            sizes.gzip.to_string(),
            sizes.brotli.to_string(),
        ]
    };
    let mut rows = vec![["", "file", "raw", "gzip", "brotli"].map(str::to_owned)];
    rows.extend(
        files
            .iter()
            .map(|&(part, file, sizes)| row(part, file, sizes)),
    );
    rows.push(row("total", "", total));

    let mut widths = [0; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for [part, file, raw, gzip, brotli] in &rows {
        let [w0, w1, w2, w3, w4] = widths;
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{part:<w0$}  {file:<w1$}  {raw:>w2$}  {gzip:>w3$}  {brotli:>w4$}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Sizes, table};

    #[test]
    fn the_table_aligns_its_columns_and_sums_every_file() {
        let files = [
            (
                "loader",
                "widget.js",
                Sizes {
                    raw: 9_000,
                    gzip: 3_000,
                    brotli: 2_500,
                },
            ),
            (
                "wasm",
                "palaver-widget_bg.wasm",
                Sizes {
                    raw: 112_393,
                    gzip: 45_000,
                    brotli: 38_000,
                },
            ),
        ];
        let expected = [
            "        file                       raw   gzip  brotli",
            "loader  widget.js                 9000   3000    2500",
            "wasm    palaver-widget_bg.wasm  112393  45000   38000",
            "total                           121393  48000   40500",
        ];
        assert_eq!(
            table(&files),
            expected.map(|line| format!("{line}\n")).concat()
        );
    }

    #[test]
    fn repetitive_bytes_compress_to_a_fraction_either_way() {
        let sizes = Sizes::measure(&[b'a'; 10_000]).expect("compress");
        assert_eq!(sizes.raw, 10_000);
        assert!(sizes.gzip < 100, "gzip: {}", sizes.gzip);
        assert!(sizes.brotli < 100, "brotli: {}", sizes.brotli);
    }
}
