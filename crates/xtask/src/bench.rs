//! `cargo xtask bench [SCENARIO…]`: builds the server and the load generator in release, then
//! runs the generator (`crates/bench`) against the server and the bare relay on loopback.
//! Scenarios: idle, chat, sessions, history, flood; all when none is named.

use std::path::PathBuf;

use anyhow::Result;

use crate::Xtask;

const SERVER: &str = "palaver-server";
const BENCH: &str = "palaver-bench";

impl Xtask {
    pub(crate) fn bench(&mut self) -> Result<()> {
        // `cargo xtask bench -- chat` passes its `--` through; it separates nothing here.
        let scenarios: Vec<String> = std::env::args().skip(2).filter(|arg| arg != "--").collect();
        self.step("build the server and the load generator (release)", |x| {
            x.run(
                x.cargo()
                    .args(["build", "--release", "-p", SERVER, "-p", BENCH]),
            )
        })?;
        let release = self.target_dir().join("release");
        self.step("run the benchmark", |x| {
            x.run(
                x.command(&release.join(BENCH).display().to_string())
                    .arg("run")
                    .arg("--server")
                    .arg(release.join(SERVER))
                    .args(&scenarios),
            )
        })
    }

    /// Where Cargo puts what it builds: `CARGO_TARGET_DIR`, or `target/` at the root.
    fn target_dir(&self) -> PathBuf {
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => self.root.join(dir),
            None => self.root.join("target"),
        }
    }
}
