//! `cargo xtask size`: what the built widget and the built agent console weigh, file by file,
//! as they leave their `dist/` and as a server would send them compressed (gzip at level 9,
//! brotli at quality 11, each the format's best).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::iter::Sum;
use std::ops::Add;
use std::path::Path;

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

/// What each kind of file the console's `dist/` holds is, in the order a browser needs
/// them. Trunk puts a hash in every name but `index.html`, so files are told by their ending.
const CONSOLE_KINDS: [(&str, &str); 4] = [
    ("page", "index.html"),
    ("wasm", "_bg.wasm"),
    ("JS glue", ".js"),
    ("CSS", ".css"),
];

/// The console's files in `dist`, each with what it is, in the order a browser needs them.
pub fn console_files(dist: &Path) -> Result<Vec<(&'static str, String)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dist).with_context(|| format!("listing {}", dist.display()))? {
        let name = entry
            .with_context(|| format!("listing {}", dist.display()))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(order) = CONSOLE_KINDS
            .iter()
            .position(|(_, ending)| name.ends_with(ending))
        {
            files.push((order, name));
        }
    }
    files.sort();
    Ok(files
        .into_iter()
        .map(|(order, name)| (CONSOLE_KINDS[order].0, name))
        .collect())
}

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
    use std::fs;

    use super::{Sizes, console_files, table};

    #[test]
    fn the_consoles_files_are_told_by_their_ending_and_listed_in_loading_order() {
        let dist = std::env::temp_dir().join(format!("xtask-console-{}", std::process::id()));
        fs::create_dir_all(&dist).expect("a temporary dist");
        for file in [
            "console-1a2b.css",
            "palaver-console-3c4d.js",
            "palaver-console-3c4d_bg.wasm",
            "index.html",
            "notes.txt",
        ] {
            fs::write(dist.join(file), "x").expect("a file");
        }
        let files = console_files(&dist).expect("listed");
        fs::remove_dir_all(&dist).expect("cleaned up");
        assert_eq!(
            files,
            [
                ("page", "index.html".to_owned()),
                ("wasm", "palaver-console-3c4d_bg.wasm".to_owned()),
                ("JS glue", "palaver-console-3c4d.js".to_owned()),
                ("CSS", "console-1a2b.css".to_owned()),
            ]
        );
    }

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
