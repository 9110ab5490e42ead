//! The tools the build and the tests need, installed when missing: the wasm32 target,
//! Trunk and wasm-bindgen-cli from crates.io at pinned versions, Chromium and its driver from
//! Debian. A tool already there at the right version is left alone, and nothing comes from
//! GitHub (these machines reach only the package registries).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, ensure};

use crate::{WASM_TARGET, Xtask};

/// Trunk 0.22 needs a newer rustc than the workspace's.
const TRUNK_VERSION: &str = "0.21.14";

impl Xtask {
    pub(crate) fn install_wasm_target(&mut self) -> Result<()> {
        let installed =
            self.output(
                self.command("rustup")
                    .args(["target", "list", "--installed"]),
            )?;
        if installed.lines().any(|target| target.trim() == WASM_TARGET) {
            return Ok(());
        }
        self.run(self.command("rustup").args(["target", "add", WASM_TARGET]))
    }

    pub(crate) fn install_trunk(&mut self) -> Result<()> {
        if self.installed_version("trunk").as_deref() == Some(TRUNK_VERSION) {
            return Ok(());
        }
        self.run(
            self.cargo()
                .args(["install", "--locked", "trunk", "--version", TRUNK_VERSION]),
        )
    }

    /// wasm-bindgen's CLI must match the library exactly, so its version comes from
    /// Cargo.lock. No `--locked`: the registry mirror lacks one of its locked dependencies.
    pub(crate) fn install_wasm_bindgen(&mut self) -> Result<()> {
        let version = self.locked_wasm_bindgen()?;
        if self.installed_version("wasm-bindgen").as_deref() == Some(version.as_str()) {
            return Ok(());
        }
        self.run(
            self.cargo()
                .args(["install", "wasm-bindgen-cli", "--version", &version]),
        )
    }

    /// Installs Debian's Chromium and its matching driver, which the browser tests use.
    pub(crate) fn install_chromium(&mut self) -> Result<()> {
        if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
            return Ok(());
        }
        self.run(self.command("apt-get").arg("update"))?;
        self.run(
            self.command("apt-get")
                .args(["install", "-y", "chromium", "chromium-driver"]),
        )
    }

    /// The wasm-bindgen version in Cargo.lock, checked against the pins in both Trunk.toml
    /// files (an offline Trunk build fails on a mismatch, with a less helpful message).
    fn locked_wasm_bindgen(&self) -> Result<String> {
        let lock = self.root.join("Cargo.lock");
        if !lock.exists() {
            self.run(self.cargo().arg("generate-lockfile"))?;
        }
        let lock = fs::read_to_string(&lock).context("reading Cargo.lock")?;
        let version = lock
            .split("[[package]]")
            .find_map(|package| {
                let mut lines = package
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty());
                (lines.next()? == "name = \"wasm-bindgen\"")
                    .then(|| {
                        lines
                            .next()?
                            .strip_prefix("version = \"")?
                            .strip_suffix('"')
                    })
                    .flatten()
            })
            .context("Cargo.lock has no wasm-bindgen package")?
            .to_owned();
        for trunk in ["Trunk.toml", "crates/console/Trunk.toml"] {
            let pins = fs::read_to_string(self.root.join(trunk))
                .with_context(|| format!("reading {trunk}"))?;
            ensure!(
                pins.contains(&format!("wasm_bindgen = \"{version}\"")),
                "Cargo.lock has wasm-bindgen {version}, but {trunk}'s [tools] wasm_bindgen \
                 differs; make them equal"
            );
        }
        Ok(version)
    }

    /// The version a tool reports with `--version` ("trunk 0.21.14" gives "0.21.14"), or
    /// `None` when it is not installed.
    fn installed_version(&self, tool: &str) -> Option<String> {
        let output = self.command(tool).arg("--version").output().ok()?;
        let stdout = String::from_utf8(output.stdout).ok()?;
        output
            .status
            .success()
            .then(|| stdout.split_whitespace().nth(1).map(str::to_owned))
            .flatten()
    }
}
