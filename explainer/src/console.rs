//! What the binaries print, and how they end.
//!
//! - [`Console`] prints result lines to stdout; once stdout is closed (`explain … | head -1`)
//!   it stops printing and the work goes on, so every output file is still written.
//! - [`finish`] turns a binary's result into its exit code and prints an error's chain of
//!   causes once each: a cause whose text its parent's message already contains (an OS error
//!   behind `path: error`) is not repeated.

use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

/// Lines for stdout that never panic: a closed or failing stdout silences the rest.
#[derive(Debug, Default)]
pub struct Console {
    closed: bool,
}

impl Console {
    /// A console printing to stdout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Prints `text` and a newline, unless stdout was closed (then nothing happens).
    pub fn line(&mut self, text: impl Display) {
        if self.closed {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{text}").and_then(|()| stdout.flush()).is_err() {
            self.closed = true;
        }
    }

    /// Whether stdout was found closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

/// The messages of `error` and its causes, each cause left out when the message before it
/// already contains it.
pub fn error_lines(error: &anyhow::Error) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if lines.last().is_some_and(|previous| previous.contains(&text)) {
            continue;
        }
        lines.push(text);
    }
    lines
}

/// The exit code of a binary's `result` (`Ok(false)`: finished, but some items failed), with
/// an error printed to stderr as `error: …` and one `caused by: …` line per new cause.
pub fn finish(result: anyhow::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            let lines = error_lines(&error);
            let mut stderr = std::io::stderr().lock();
            for (depth, line) in lines.iter().enumerate() {
                let prefix = if depth == 0 { "error" } else { "  caused by" };
                let _ = writeln!(stderr, "{prefix}: {line}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let inner = crate::Error::Io { path: "/missing/file.png".into(), source: io };
        let error = anyhow::Error::new(inner).context("--image /missing/file.png");
        let lines = error_lines(&error);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], "--image /missing/file.png");
        assert!(lines[1].starts_with("/missing/file.png: "), "{lines:?}");
    }
}
