//! The processes under measurement: the server and the relay run as children on loopback,
//! and `/proc` says how much memory and CPU time each has used.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
};

use anyhow::{Context, Result, bail};

/// A running child process that is killed when dropped.
pub struct Process {
    child: Child,
    pub port: u16,
}

/// The channels file every server runs with: one live channel, always open.
const CHANNELS: &str = r#"
[[channel]]
id = "bench"
name = "Bench"
default_region = "GB"
"#;

/// The live channel the scenarios start sessions on.
pub const CHANNEL: &str = "bench";

/// A server's working directory: its channels file, empty widget and console folders and its
/// database, all deleted with it.
pub struct ServerDir {
    dir: tempfile::TempDir,
}

impl ServerDir {
    pub fn new() -> Result<Self> {
        let dir = tempfile::tempdir().context("creating a directory for the server")?;
        fs::write(dir.path().join("channels.toml"), CHANNELS).context("writing channels")?;
        for folder in ["widget", "console"] {
            fs::create_dir(dir.path().join(folder)).context("creating the static folders")?;
        }
        Ok(Self { dir })
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.path("palaver.db").display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Process {
    /// Starts `palaver-server` on a free port of 127.0.0.1 with the directory's database.
    pub fn server(binary: &Path, dir: &ServerDir) -> Result<Self> {
        let mut command = Command::new(binary);
        command
            .current_dir(dir.dir.path())
            .args(["--listen", "127.0.0.1:0", "--database-url"])
            .arg(dir.database_url())
            .arg("--channels")
            .arg(dir.path("channels.toml"))
            .arg("--widget-dir")
            .arg(dir.path("widget"))
            .arg("--console-dir")
            .arg(dir.path("console"))
            // Requests are logged at debug level; the start-up line at info is all we read.
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1");
        Self::spawn(command, &dir.path("server.log"))
    }

    /// Starts this binary's `relay` role on a free port of 127.0.0.1.
    pub fn relay(log_dir: &Path) -> Result<Self> {
        let mut command =
            Command::new(std::env::current_exe().context("finding the bench binary")?);
        command.args(["relay", "--listen", "127.0.0.1:0"]);
        Self::spawn(command, &log_dir.join("relay.log"))
    }

    /// Spawns the command and reads its standard output until it says where it listens; the
    /// rest of the output goes to `log` so that a full pipe never stalls the child.
    fn spawn(mut command: Command, log: &Path) -> Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {:?}", command.get_program()))?;
        let stdout = child
            .stdout
            .take()
            .context("capturing the child's output")?;
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        let port = loop {
            line.clear();
            let read = lines
                .read_line(&mut line)
                .context("reading the child's output")?;
            if read == 0 {
                let status = child.wait().context("waiting for the child")?;
                bail!(
                    "{:?} exited with {status} before listening",
                    command.get_program()
                );
            }
            if let Some(port) = listening_port(&line) {
                break port;
            }
        };
        let mut log = fs::File::create(log).context("creating the child's log")?;
        thread::spawn(move || std::io::copy(&mut lines, &mut log));
        Ok(Self { child, port })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.pid());
        let status = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no VmRSS in {path}"))
    }

    /// CPU time spent so far, user and system, in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        let path = format!("/proc/{}/stat", self.pid());
        let stat = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        // The command name (field 2) may hold spaces; the fields after its `)` are fixed:
        // utime and stime are fields 14 and 15, the 12th and 13th after it.
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |index: usize| -> Result<u64> {
            fields
                .get(index)
                .and_then(|field| field.parse().ok())
                .with_context(|| format!("reading field {index} of {path}"))
        };
        // Linux reports these in USER_HZ, which is 100 on every architecture it exposes.
        Ok((ticks(11)? + ticks(12)?) as f64 / 100.0)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in a start-up line: the server logs `… listening on http://127.0.0.1:PORT`, the
/// relay prints `listening on 127.0.0.1:PORT`.
fn listening_port(line: &str) -> Option<u16> {
    let (_, after) = line.split_once("listening on ")?;
    let (_, port) = after.trim().rsplit_once(':')?;
    port.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::listening_port;

    #[test]
    fn the_port_is_read_from_either_start_up_line() {
        assert_eq!(
            listening_port(
                "2026-01-01T00:00:00Z  INFO palaver_server: Palaver listening on http://127.0.0.1:4321\n"
            ),
            Some(4321)
        );
        assert_eq!(listening_port("listening on 127.0.0.1:80\n"), Some(80));
        assert_eq!(listening_port("starting\n"), None);
    }
}
