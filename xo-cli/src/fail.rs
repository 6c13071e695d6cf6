//! Why `xo` stops, and its exit status (the table is in `xo --help`).

use std::process::ExitCode;

/// The exit statuses of `xo` (see [`crate::args::EXIT_CODES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: the API refused the call, the server could not be reached, or the task failed.
    Api = 1,
    /// 2: usage.
    Usage = 2,
    /// 3: configuration or authentication.
    Config = 3,
    /// 4: a local file.
    Io = 4,
    /// 5: a dangerous operation was not confirmed.
    NotConfirmed = 5,
}

/// A failure: its status and the one-line message printed on stderr.
#[derive(Debug)]
pub struct Failure {
    /// Exit status.
    pub exit: Exit,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A failure with this status and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
        }
    }

    /// The process exit code.
    pub fn code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

/// The SDK's errors never hold the token (it is a sensitive header value
/// there), so their text is shown as it is; the status says whose fault.
impl From<xo_sdk::Error> for Failure {
    fn from(e: xo_sdk::Error) -> Failure {
        let exit = match &e {
            xo_sdk::Error::Config(_) => Exit::Config,
            xo_sdk::Error::Io(_) => Exit::Io,
            xo_sdk::Error::InvalidArgument { .. } => Exit::Usage,
            _ if matches!(e.status(), Some(401 | 403)) => Exit::Config,
            _ => Exit::Api,
        };
        Failure::new(exit, e.to_string())
    }
}
