//! Xen Orchestra specifics written by hand on top of the generated client:
//! typed collections, the filter syntax, actions and their tasks, and live
//! events.
//! The generator knows DADL only; what it cannot know about XO lives here.

mod collection;
pub mod events;
mod filter;
mod task;
mod transfer;

pub use collection::{Collection, Href, MarkdownTable, ObjectStream, Typed};
pub use events::{Change, Event, EventStream, EventStreamBuilder, Reconnected};
pub use filter::{Cmp, Filter};
pub use task::{
    Action, CreatedId, FinishedTask, SyncOutcome, Task, TaskChanges, TaskError, TaskEvent,
    TaskFailure, TaskState, WatchTasks,
};
pub use transfer::{
    Compression, ExportCompression, UnknownValue, VdiFormat, VdiImportFormat, VmExportFormat,
};

use crate::runtime::Request;
use collection::collections;
use task::actions;

// Every XO collection tool (a GET with `fields`, `filter`, `limit` and
// `ndjson`) and the type of its items; `tests/collections.rs` checks that
// the table covers every such tool of the generated client.
collections! {
    crate::users::ListUsers => crate::types::User, markdown;
    crate::users::ListUserGroups => crate::types::Group, markdown;
    crate::users::ListUserTasks => crate::types::Task, markdown;
    crate::users::ListUserAclPrivileges => crate::types::AclPrivilege;
    crate::groups::ListGroups => crate::types::Group, markdown;
    crate::groups::ListGroupUsers => crate::types::User, markdown;
    crate::groups::ListGroupTasks => crate::types::Task, markdown;
    crate::groups::ListGroupAclRoles => crate::types::AclRole, markdown;
    crate::acl_roles::ListAclRoles => crate::types::AclRole;
    crate::acl_roles::ListAclRolePrivileges => crate::types::AclPrivilege;
    crate::acl_roles::ListAclRoleUsers => crate::types::User, markdown;
    crate::acl_roles::ListAclRoleGroups => crate::types::Group, markdown;
    crate::acl_privileges::ListAclPrivileges => crate::types::AclPrivilege;
    crate::vms::ListVms => crate::types::Vm, markdown;
    crate::vms::ListVmVdis => crate::types::Vdi, markdown;
    crate::vms::ListVmAlarms => crate::types::Alarm, markdown;
    crate::vms::ListVmMessages => crate::types::Message, markdown;
    crate::vms::ListVmTasks => crate::types::Task, markdown;
    crate::vms::ListVmBackupJobs => crate::types::BackupJob, markdown;
    crate::vm_snapshots::ListVmSnapshots => crate::types::VmSnapshot, markdown;
    crate::vm_snapshots::ListVmSnapshotVdis => crate::types::Vdi, markdown;
    crate::vm_snapshots::ListVmSnapshotAlarms => crate::types::Alarm, markdown;
    crate::vm_snapshots::ListVmSnapshotMessages => crate::types::Message, markdown;
    crate::vm_snapshots::ListVmSnapshotTasks => crate::types::Task, markdown;
    crate::vm_templates::ListVmTemplates => crate::types::VmTemplate, markdown;
    crate::vm_templates::ListVmTemplateVdis => crate::types::Vdi, markdown;
    crate::vm_templates::ListVmTemplateAlarms => crate::types::Alarm, markdown;
    crate::vm_templates::ListVmTemplateMessages => crate::types::Message, markdown;
    crate::vm_templates::ListVmTemplateTasks => crate::types::Task, markdown;
    crate::vm_controllers::ListVmControllers => crate::types::VmController, markdown;
    crate::vm_controllers::ListVmControllerAlarms => crate::types::Alarm, markdown;
    crate::vm_controllers::ListVmControllerVdis => crate::types::Vdi, markdown;
    crate::vm_controllers::ListVmControllerMessages => crate::types::Message, markdown;
    crate::vm_controllers::ListVmControllerTasks => crate::types::Task, markdown;
    crate::hosts::ListHosts => crate::types::Host, markdown;
    crate::hosts::ListHostAlarms => crate::types::Alarm, markdown;
    crate::hosts::ListHostMessages => crate::types::Message, markdown;
    crate::hosts::ListHostTasks => crate::types::Task, markdown;
    crate::pools::ListPools => crate::types::Pool, markdown;
    crate::pools::ListPoolAlarms => crate::types::Alarm, markdown;
    crate::pools::ListPoolMessages => crate::types::Message, markdown;
    crate::pools::ListPoolTasks => crate::types::Task, markdown;
    crate::srs::ListSrs => crate::types::Sr, markdown;
    crate::srs::ListSrAlarms => crate::types::Alarm, markdown;
    crate::srs::ListSrMessages => crate::types::Message, markdown;
    crate::srs::ListSrTasks => crate::types::Task, markdown;
    crate::vdis::ListVdis => crate::types::Vdi, markdown;
    crate::vdis::ListVdiAlarms => crate::types::Alarm, markdown;
    crate::vdis::ListVdiMessages => crate::types::Message, markdown;
    crate::vdis::ListVdiTasks => crate::types::Task, markdown;
    crate::vdi_snapshots::ListVdiSnapshots => crate::types::VdiSnapshot, markdown;
    crate::vdi_snapshots::ListVdiSnapshotAlarms => crate::types::Alarm, markdown;
    crate::vdi_snapshots::ListVdiSnapshotMessages => crate::types::Message, markdown;
    crate::vdi_snapshots::ListVdiSnapshotTasks => crate::types::Task, markdown;
    crate::vbds::ListVbds => crate::types::Vbd, markdown;
    crate::vbds::ListVbdAlarms => crate::types::Alarm, markdown;
    crate::vbds::ListVbdMessages => crate::types::Message, markdown;
    crate::vbds::ListVbdTasks => crate::types::Task, markdown;
    crate::networks::ListNetworks => crate::types::Network, markdown;
    crate::networks::ListNetworkAlarms => crate::types::Alarm, markdown;
    crate::networks::ListNetworkMessages => crate::types::Message, markdown;
    crate::networks::ListNetworkTasks => crate::types::Task, markdown;
    crate::vifs::ListVifs => crate::types::Vif, markdown;
    crate::vifs::ListVifAlarms => crate::types::Alarm, markdown;
    crate::vifs::ListVifMessages => crate::types::Message, markdown;
    crate::vifs::ListVifTasks => crate::types::Task, markdown;
    crate::pifs::ListPifs => crate::types::Pif, markdown;
    crate::pifs::ListPifAlarms => crate::types::Alarm, markdown;
    crate::pifs::ListPifMessages => crate::types::Message, markdown;
    crate::pifs::ListPifTasks => crate::types::Task, markdown;
    crate::pbds::ListPbds => crate::types::Pbd, markdown;
    crate::pcis::ListPcis => crate::types::Pci, markdown;
    crate::pgpus::ListPgpus => crate::types::Pgpu, markdown;
    crate::sms::ListSms => crate::types::Sm, markdown;
    crate::tasks::ListTasks => crate::types::Task, markdown;
    crate::messages::ListMessages => crate::types::Message, markdown;
    crate::alarms::ListAlarms => crate::types::Alarm, markdown;
    crate::backup_archives::ListBackups => crate::types::BackupArchive, markdown;
    crate::backup_jobs::ListBackupJobs => crate::types::BackupJob, markdown;
    crate::backup_logs::ListBackupLogs => crate::types::BackupLog, markdown;
    crate::restore_logs::ListRestoreLogs => crate::types::RestoreLog, markdown;
    crate::backup_repositories::ListBackupRepositories => crate::types::BackupRepository, markdown;
    crate::schedules::ListSchedules => crate::types::Schedule, markdown;
    crate::proxies::ListProxies => crate::types::Proxy, markdown;
    crate::servers::ListServers => crate::types::Server, markdown;
    crate::servers::ListServerTasks => crate::types::Task, markdown;
}

// Every XO action tool (`POST …/actions/*`, answered `202 Accepted` with a
// task, or synchronously with `sync=true`); `tests/tasks_events.rs` checks
// that the table covers every such tool, and every tool with a `sync`
// parameter, of the generated client.
actions! {
    crate::acl_roles::CopyAclRole;
    crate::vms::StartVm;
    crate::vms::CleanShutdownVm;
    crate::vms::HardShutdownVm;
    crate::vms::CleanRebootVm;
    crate::vms::HardRebootVm;
    crate::vms::PauseVm;
    crate::vms::UnpauseVm;
    crate::vms::SuspendVm;
    crate::vms::ResumeVm;
    crate::vms::SnapshotVm;
    crate::vms::RevertVmToSnapshot;
    crate::vms::CloneVm;
    crate::vms::CopyVm;
    crate::vms::MigrateVm;
    crate::hosts::ManagementReconfigureHost;
    crate::hosts::DisableHost;
    crate::hosts::EnableHost;
    crate::hosts::StartHost;
    crate::hosts::CleanShutdownHost;
    crate::hosts::CleanRebootHost;
    crate::hosts::SmartRebootHost;
    crate::hosts::RestartToolstackHost;
    crate::hosts::EmergencyShutdownHost;
    crate::hosts::DetachHost;
    crate::hosts::ForgetHost;
    crate::hosts::ScanHostPifs;
    crate::pools::CreateVm;
    crate::pools::EmergencyShutdownPool;
    crate::pools::RollingRebootPool;
    crate::pools::RollingUpdatePool;
    crate::pools::AddHostToPool;
    crate::pools::CreatePoolNetwork;
    crate::pools::CreateBondedNetwork;
    crate::pools::CreateInternalNetwork;
    crate::pools::ManagementReconfigurePool;
    crate::srs::ScanSr;
    crate::srs::ForgetSr;
    crate::srs::ReclaimSpaceSr;
    crate::vdis::MigrateVdi;
    crate::vbds::ConnectVbd;
    crate::vbds::DisconnectVbd;
    crate::vifs::ConnectVif;
    crate::vifs::DisconnectVif;
    crate::plugins::AddNetworkTrafficRule;
    crate::plugins::DeleteNetworkTrafficRule;
    crate::plugins::UpdateNetworkTrafficRule;
    crate::plugins::AddVifTrafficRule;
    crate::plugins::DeleteVifTrafficRule;
    crate::plugins::UpdateVifTrafficRule;
    crate::pbds::PlugPbd;
    crate::pbds::UnplugPbd;
    crate::tasks::AbortTask;
    crate::backup_repositories::ForgetBackupRepository;
    crate::backup_repositories::BenchmarkBackupRepository;
    crate::schedules::RunSchedule;
    crate::servers::ConnectServer;
    crate::servers::DisconnectServer;
}
