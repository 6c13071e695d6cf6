//! Trigger a scheduled backup manually: the DADL example of the same name
//! in Rust.
//!
//! Finds the schedule by name (the argument, `nightly` by default), runs it
//! outside its cron (`run_schedule`, an asynchronous action), waits for the
//! task, and shows the newest log of the schedule's backup job.
//!
//! ```sh
//! cargo run --example run_backup_schedule                  # against xo-sim
//! XO_URL=https://xo.example.com XO_TOKEN=… \
//!     cargo run --example run_backup_schedule -- nightly-backup
//! ```

#[path = "common/mod.rs"]
mod common;

use common::BoxError;
use xo_sdk::prelude::*;
use xo_sdk::types::{BackupLog, Schedule, ScheduleId};

/// What was run.
#[derive(Debug)]
pub struct BackupRun {
    /// The schedule.
    pub schedule: ScheduleId,
    /// Its backup job.
    pub job: BackupJobId,
    /// The run_schedule task.
    pub task_id: TaskId,
    /// The job's newest backup log after the run, if XO shows one.
    pub latest_log: Option<BackupLog>,
}

/// Run the schedule named `name` and wait for it.
pub async fn run(client: &Client, name: &str) -> Result<BackupRun, BoxError> {
    // A complex-matcher `name:…` matches substrings: keep the exact name.
    let schedules = client
        .schedules()
        .list()
        .filter(Filter::eq(Schedule::NAME, name))
        .select([Schedule::ID, Schedule::NAME, Schedule::JOB_ID])
        .send()
        .await?;
    let schedule = schedules
        .into_iter()
        .find(|s| s.name.as_deref() == Some(name))
        .ok_or_else(|| format!("no schedule named {name:?}"))?;
    let (Some(id), Some(job)) = (schedule.id, schedule.job_id) else {
        return Err("the schedule has no id or job".into());
    };
    println!("Running schedule {name:?} ({id}) of backup job {job}");

    let task = client.schedules().run(&id).send().await?;
    println!("run_schedule runs as task {}", task.id());
    task.result().await?;

    let logs = client
        .backup_logs()
        .list()
        .filter(Filter::eq(BackupLog::JOB_ID, job.as_str()))
        .select([
            BackupLog::ID,
            BackupLog::JOB_ID,
            BackupLog::STATUS,
            BackupLog::START,
            BackupLog::END,
        ])
        .send()
        .await?;
    let latest_log = logs
        .into_iter()
        .filter(|l| l.job_id.as_ref() == Some(&job))
        .max_by_key(|l| l.start);
    match &latest_log {
        Some(log) => println!("Newest backup log {:?}: {:?}", log.id, log.status),
        None => println!("XO shows no backup log for the job yet"),
    }
    Ok(BackupRun {
        schedule: id,
        job,
        task_id: task.id(),
        latest_log,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "nightly".to_owned());
    let target = common::connect().await?;
    run(&target.client, &name).await?;
    Ok(())
}
