//! Palaver's project commands, run with `cargo xtask <command>` from anywhere in the
//! repository (the alias lives in `.cargo/config.toml`):
//!
//! - `demo`: install the missing tools, build the widget and the agent console, run the server
//!   with its demo page.
//! - `test`: the same tools plus Chromium, then formatting, lints and every test; what CI runs.
//! - `build`: install the missing tools, build the widget into `dist/` and the console into
//!   `crates/console/dist/`.
//! - `build-widget`: the same for the widget alone.
//! - `size`: build both, then report the size of each file a browser downloads, raw, gzipped
//!   and brotli-compressed: the widget's and, apart, the console's.
//! - `bench [SCENARIO…]`: build the server and the load generator in release, then measure
//!   the server against a bare WebSocket relay (`crates/bench`) and print one table.
//!
//! Tools come only from crates.io, rustup and Debian packages, at pinned versions, and a
//! tool that is already there at the right version is left alone.

use std::env;
use std::ffi::OsString;
use std::fmt::Display;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::size::{Sizes, WIDGET_FILES, console_files};

mod bench;
mod install;
mod layers;
mod size;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The two apps Trunk builds to WebAssembly; neither builds for the host.
const WIDGET: &str = "palaver-widget";
const CONSOLE: &str = "palaver-console";
/// What both apps share in the browser; its tests run only there.
const CLIENT: &str = "palaver-client";
/// The source folders whose modules must import one way (`layers`).
const ONE_WAY_CRATES: &[&str] = &[
    "crates/server/src",
    "src",
    "crates/client/src",
    "crates/console/src",
    "crates/protocol/src",
];
/// Where the console's crate lives, from the repository root; Trunk builds it there.
const CONSOLE_DIR: &str = "crates/console";

const USAGE: &str = "usage: cargo xtask <command>

commands:
  demo          install what is missing, build the widget and the console, run the server
                with its demo page
  test          install what is missing (Chromium included), then fmt, clippy and every test
  build         install what is missing, build the widget into dist/ and the agent console
                into crates/console/dist/
  build-widget  install what is missing and build the widget alone into dist/
  size          build both, then print each file's bytes: raw, gzip -9 and brotli -q 11
  bench [SCENARIO...]
                build the server and the load generator in release, then run the scenarios
                (idle, chat, sessions, history, flood; all when none is named) against the
                server and a bare relay, and print one table";

fn main() -> ExitCode {
    let run = match env::args().nth(1).as_deref() {
        Some("demo") => Xtask::demo,
        Some("test") => Xtask::test,
        Some("build") => Xtask::build,
        Some("build-widget") => Xtask::build_widget,
        Some("size") => Xtask::size,
        Some("bench") => Xtask::bench,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut tally = Tally::default();
    let result = Xtask::new().and_then(|mut xtask| {
        let result = run(&mut xtask);
        tally = xtask.tally;
        result
    });
    let total = seconds(started.elapsed());
    let code = match result {
        Ok(()) => {
            println!("xtask: done, {total} in total");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            eprintln!("xtask: failed after {total} in total");
            ExitCode::FAILURE
        }
    };
    // The last line sums every test binary's result, so a reader of the log's end (CI
    // included) sees the whole run, not the last binary's doc-tests.
    if tally.passed + tally.failed > 0 {
        println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    }
    code
}

/// Tests counted across every `cargo test` run of a command.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Adds a libtest summary line: `test result: ok. 12 passed; 0 failed; …`.
    fn add_line(&mut self, line: &str) {
        let Some(summary) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in summary.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(kind), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => {}
            }
        }
    }
}

/// The repository and the environment every child process runs in.
struct Xtask {
    root: PathBuf,
    /// `PATH` with Cargo's bin directory first, where `cargo install` puts trunk and
    /// wasm-bindgen; CI's `PATH` may lack it.
    path: OsString,
    tally: Tally,
}

impl Xtask {
    fn new() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .context("finding the repository root")?;
        let cargo_home = match env::var_os("CARGO_HOME") {
            Some(home) => PathBuf::from(home),
            None => {
                PathBuf::from(env::var_os("HOME").context("neither CARGO_HOME nor HOME is set")?)
                    .join(".cargo")
            }
        };
        let old_path = env::var_os("PATH").unwrap_or_default();
        let path = env::join_paths(
            std::iter::once(cargo_home.join("bin")).chain(env::split_paths(&old_path)),
        )
        .context("building PATH")?;
        Ok(Self {
            root,
            path,
            tally: Tally::default(),
        })
    }

    fn demo(&mut self) -> Result<()> {
        self.build()?;
        self.step("run the server with the demo page (Ctrl-C stops it)", |x| {
            x.run(
                x.cargo()
                    .args(["run", "--release", "-p", "palaver-server", "--", "--demo"]),
            )
        })?;
        Ok(())
    }

    fn test(&mut self) -> Result<()> {
        self.step("install Chromium and chromedriver", Self::install_chromium)?;
        self.build()?;
        self.step("cargo fmt --check", |x| {
            x.run(x.cargo().args(["fmt", "--all", "--", "--check"]))
        })?;
        self.step("modules import one way (no circles)", Self::check_layers)?;
        self.step("clippy (server and tools)", |x| {
            x.run(
                x.cargo()
                    .args(["clippy", "--workspace", "--all-targets"])
                    .args(["--exclude", WIDGET, "--exclude", CONSOLE])
                    .args(["--", "-D", "warnings"]),
            )
        })?;
        for (name, package) in [
            ("clippy (widget)", WIDGET),
            ("clippy (console)", CONSOLE),
            ("clippy (client, for the browser)", CLIENT),
        ] {
            self.step(name, |x| {
                x.run(
                    x.cargo()
                        .args(["clippy", "-p", package, "--target", WASM_TARGET])
                        .args(["--all-targets", "--", "-D", "warnings"]),
                )
            })?;
        }
        let widget_dist = self.root.join("dist");
        let console_dist = self.root.join(CONSOLE_DIR).join("dist");
        self.step(
            "tests (server and tools, browser end-to-end included)",
            |x| {
                let mut tests = x.cargo();
                tests
                    .args([
                        "test",
                        "--workspace",
                        "--exclude",
                        WIDGET,
                        "--exclude",
                        CONSOLE,
                        "--exclude",
                        CLIENT,
                    ])
                    .env("PALAVER_WIDGET_DIR", &widget_dist)
                    .env("PALAVER_CONSOLE_DIR", &console_dist);
                x.run_tests(&mut tests)
            },
        )?;
        for (name, package) in [
            ("client tests (headless Chromium)", CLIENT),
            ("widget tests (headless Chromium)", WIDGET),
            ("console tests (headless Chromium)", CONSOLE),
        ] {
            self.step(name, |x| {
                let mut tests = x.cargo();
                // The runner gives a whole suite 20 s by default; each finishes in a few, but
                // a busy machine must not turn slowness into a failure.
                tests
                    .args(["test", "-p", package, "--target", WASM_TARGET])
                    .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
                x.run_tests(&mut tests)
            })?;
        }
        Ok(())
    }

    /// Fails when any of the crates' modules import each other in a circle, naming the
    /// files and the imports that tie them.
    fn check_layers(&mut self) -> Result<()> {
        let mut found = Vec::new();
        for src in ONE_WAY_CRATES {
            for circle in layers::circles(&self.root.join(src))? {
                found.push(format!("{src}: {circle}"));
            }
        }
        ensure!(
            found.is_empty(),
            "modules import each other in a circle:\n{}",
            found.join("\n")
        );
        Ok(())
    }

    /// Builds the widget, then the console.
    fn build(&mut self) -> Result<()> {
        self.build_widget()?;
        self.step("build the console into crates/console/dist/", |x| {
            x.run(
                x.command("trunk")
                    .current_dir(x.root.join(CONSOLE_DIR))
                    .args(["build", "--release", "--offline"]),
            )
        })?;
        Ok(())
    }

    fn build_widget(&mut self) -> Result<()> {
        self.step("install the wasm32 target", Self::install_wasm_target)?;
        self.step("install trunk", Self::install_trunk)?;
        self.step("install wasm-bindgen-cli", Self::install_wasm_bindgen)?;
        self.step("build the widget into dist/", |x| {
            x.run(x.command("trunk").args(["build", "--release", "--offline"]))
        })?;
        Ok(())
    }

    fn size(&mut self) -> Result<()> {
        self.build()?;
        let dist = self.root.join("dist");
        let widget = WIDGET_FILES
            .iter()
            .map(|&(part, file)| Ok((part, file.to_owned(), measure(&dist.join(file))?)))
            .collect::<Result<Vec<_>>>()?;
        let dist = self.root.join(CONSOLE_DIR).join("dist");
        let console = console_files(&dist)?
            .into_iter()
            .map(|(part, file)| {
                let sizes = measure(&dist.join(&file))?;
                Ok((part, file, sizes))
            })
            .collect::<Result<Vec<_>>>()?;
        for (what, files) in [
            ("The widget's files", widget),
            ("The agent console's files", console),
        ] {
            let files: Vec<_> = files
                .iter()
                .map(|(part, file, sizes)| (*part, file.as_str(), *sizes))
                .collect();
            println!("\n{what} in bytes (gzip -9, brotli -q 11):\n");
            print!("{}", size::table(&files));
        }
        Ok(())
    }

    /// Runs `cargo test …`, echoing its output and counting its results into the tally.
    fn run_tests(&mut self, command: &mut Command) -> Result<()> {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", show(command)))?;
        let stdout = child.stdout.take().context("capturing the test output")?;
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading the test output")?;
            println!("{line}");
            self.tally.add_line(&line);
        }
        let status = child.wait().context("waiting for the tests")?;
        if !status.success() {
            bail!("{} exited with {status}", show(command));
        }
        Ok(())
    }

    /// Runs one step, printing its name, then its outcome and duration.
    fn step(&mut self, name: &str, run: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        println!("xtask: {name} ...");
        let started = Instant::now();
        let result = run(self).with_context(|| format!("step failed: {name}"));
        let outcome = if result.is_ok() { "ok" } else { "FAILED" };
        println!("xtask: {outcome}: {name} ({})", seconds(started.elapsed()));
        result
    }

    /// A command that runs at the repository root with the extended `PATH`.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.root).env("PATH", &self.path);
        command
    }

    fn cargo(&self) -> Command {
        self.command(&env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
    }

    fn run(&self, command: &mut Command) -> Result<()> {
        let status = command
            .status()
            .with_context(|| format!("starting {}", show(command)))?;
        if !status.success() {
            bail!("{} exited with {status}", show(command));
        }
        Ok(())
    }

    fn output(&self, command: &mut Command) -> Result<String> {
        let output = command
            .output()
            .with_context(|| format!("starting {}", show(command)))?;
        if !output.status.success() {
            bail!("{} exited with {}", show(command), output.status);
        }
        String::from_utf8(output.stdout)
            .with_context(|| format!("reading the output of {}", show(command)))
    }
}

/// One built file's sizes.
fn measure(path: &Path) -> Result<Sizes> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Sizes::measure(&bytes).with_context(|| format!("compressing {}", path.display()))
}

/// A command as a shell line, for messages.
fn show(command: &Command) -> impl Display {
    let mut line = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn the_tally_sums_libtest_summaries_and_ignores_other_lines() {
        let mut tally = Tally::default();
        tally.add_line("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.5s");
        tally.add_line(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 filtered out; finished in 0.03s",
        );
        tally.add_line("test passed_and_failed ... ok");
        tally.add_line("running 5 tests");
        assert_eq!((tally.passed, tally.failed), (15, 2));
    }
}
