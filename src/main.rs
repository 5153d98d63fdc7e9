//! `kazi`: parse the command line and dispatch. The work is done in the library parts
//! and in `cli`, which wires them together.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::args::{
    AdminCommand, AggregateKind, AgreementFormatArg, ClassCommand, ClassFormatArg, Cli, Command,
    DemoRole, Format, IntakeCommand, KeyCommand, LessonsCommand, ProjectCommand, ReportFormatArg,
    ReviewCommand, RoleArg, ShellArg, StateArg, TasksCommand, UserCommand,
};

fn main() -> ExitCode {
    // A bug must never show a user a backtrace, in any command.
    kazi::tui::terminal::install_panic_hook();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo {
            data_dir,
            as_role,
            project,
            keymap,
        } => {
            let role = match as_role {
                DemoRole::Worker => kazi::model::Role::Worker,
                DemoRole::Trainer => kazi::model::Role::Trainer,
                DemoRole::Reviewer => kazi::model::Role::Reviewer,
            };
            cli::demo::run(data_dir, role, project, keymap)
        }
        Command::Serve {
            db,
            listen,
            ssh_listen,
            ssh_host_key,
            ssh_idle_minutes,
            ssh_sessions_per_user,
            ssh_sessions,
        } => {
            let ssh = ssh_listen
                .zip(ssh_host_key)
                .map(|(listen, key)| cli::admin::SshArgs {
                    listen,
                    host_key: key,
                    idle: std::time::Duration::from_secs(ssh_idle_minutes * 60),
                    per_user: ssh_sessions_per_user as usize,
                    in_all: ssh_sessions as usize,
                });
            cli::admin::serve(&db, &listen, ssh)
        }
        Command::Admin {
            db: None,
            what: AdminCommand::Migrate { from, to, replace },
        } => cli::admin::migrate(from.as_deref(), &to, replace),
        Command::Admin { db: None, .. } => Err(anyhow::anyhow!(
            "--db URL is needed: kazi admin --db sqlite:PATH|postgres://... COMMAND"
        )),
        Command::Admin { db: Some(db), what } => match what {
            AdminCommand::Init => cli::admin::init(&db),
            AdminCommand::User {
                what: UserCommand::Add { name, role, intake },
            } => {
                let role = match role {
                    RoleArg::Worker => kazi::model::Role::Worker,
                    RoleArg::Trainer => kazi::model::Role::Trainer,
                    RoleArg::Reviewer => kazi::model::Role::Reviewer,
                    RoleArg::Admin => kazi::model::Role::Admin,
                };
                cli::admin::user_add(&db, &name, role, &intake)
            }
            AdminCommand::User {
                what: UserCommand::Intake { name, settings },
            } => cli::impact::user_intake(&db, &name, &settings),
            AdminCommand::Intake {
                what: IntakeCommand::Form { file },
            } => cli::impact::intake_form(&db, &file),
            AdminCommand::Intake {
                what: IntakeCommand::List,
            } => cli::impact::intake_list(&db),
            AdminCommand::Record { name, out_dir, key } => {
                cli::impact::record(&db, &name, out_dir.as_deref(), key.as_deref())
            }
            AdminCommand::User {
                what: UserCommand::List,
            } => cli::admin::user_list(&db),
            AdminCommand::User {
                what: UserCommand::Revoke { name, device },
            } => cli::admin::user_revoke(&db, &name, device),
            AdminCommand::User {
                what: UserCommand::Disable { name },
            } => cli::admin::user_disable(&db, &name, true),
            AdminCommand::User {
                what: UserCommand::Enable { name },
            } => cli::admin::user_disable(&db, &name, false),
            AdminCommand::User {
                what: UserCommand::Remove { name },
            } => cli::admin::user_remove(&db, &name),
            AdminCommand::Project {
                what: ProjectCommand::List,
            } => cli::admin::project_list(&db),
            AdminCommand::Project {
                what:
                    ProjectCommand::Agreement {
                        project,
                        format,
                        with_names,
                    },
            } => {
                use kazi::server::admin::{AgreementFormat, Naming};
                let format = match format {
                    AgreementFormatArg::Table => AgreementFormat::Table,
                    AgreementFormatArg::Csv => AgreementFormat::Csv,
                };
                let naming = if with_names {
                    Naming::UserNames
                } else {
                    Naming::Pseudonyms
                };
                cli::admin::project_agreement(&db, &project, format, naming)
            }
            AdminCommand::Tasks {
                what:
                    TasksCommand::List {
                        project,
                        state,
                        limit,
                    },
            } => {
                use kazi::server::admin::TaskState;
                let state = state.map(|s| match s {
                    StateArg::Waiting => TaskState::Waiting,
                    StateArg::Leased => TaskState::Leased,
                    StateArg::Done => TaskState::Done,
                    StateArg::Decided => TaskState::Decided,
                });
                cli::admin::tasks_list(&db, &project, state, limit)
            }
            AdminCommand::User {
                what: UserCommand::Assign { name, project },
            } => cli::admin::user_assign(&db, &name, &project),
            AdminCommand::Review {
                what:
                    ReviewCommand::List {
                        project,
                        reason,
                        all,
                    },
            } => cli::admin::review_list(&db, project.as_deref(), reason.as_deref(), all),
            AdminCommand::Review {
                what:
                    ReviewCommand::Correct {
                        project,
                        task,
                        gold,
                        explanation,
                    },
            } => cli::admin::review_correct(&db, &project, &task, &gold, &explanation),
            AdminCommand::User {
                what: UserCommand::Key { what },
            } => match what {
                KeyCommand::Add { name, file } => cli::admin::key_add(&db, &name, &file),
                KeyCommand::List { name } => cli::admin::key_list(&db, &name),
                KeyCommand::Remove { name, fingerprint } => {
                    cli::admin::key_remove(&db, &name, &fingerprint)
                }
            },
            AdminCommand::Project {
                what: ProjectCommand::Add { file, force },
            } => cli::admin::project_add(&db, &file, force),
            AdminCommand::Tasks {
                what:
                    TasksCommand::Import {
                        project,
                        file,
                        format,
                    },
            } => {
                use kazi::server::admin::ImportFormat;
                let format = format.map(|f| match f {
                    Format::Jsonl => ImportFormat::Jsonl,
                    Format::Csv => ImportFormat::Csv,
                    Format::Ls => ImportFormat::LabelStudio,
                    Format::Prodigy => ImportFormat::Prodigy,
                });
                cli::admin::tasks_import(&db, &project, &file, format)
            }
            AdminCommand::Lessons {
                what: LessonsCommand::Import { project, file },
            } => cli::admin::lessons_import(&db, &project, &file),
            AdminCommand::Class {
                what: ClassCommand::Report { class, format },
            } => cli::admin::class_report(&db, &class, matches!(format, ClassFormatArg::Csv)),
            AdminCommand::Migrate { from, to, replace } => {
                cli::admin::migrate(Some(from.as_deref().unwrap_or(&db)), &to, replace)
            }
        },
        Command::Export {
            db,
            project,
            format,
            out,
            with_names,
        } => {
            let format = match format {
                Format::Jsonl => kazi::server::admin::ExportFormat::Jsonl,
                Format::Csv => kazi::server::admin::ExportFormat::Csv,
                Format::Ls => kazi::server::admin::ExportFormat::LabelStudio,
                Format::Prodigy => kazi::server::admin::ExportFormat::Prodigy,
            };
            let naming = if with_names {
                kazi::server::admin::Naming::UserNames
            } else {
                kazi::server::admin::Naming::Pseudonyms
            };
            cli::admin::export(&db, &project, format, naming, out.as_deref())
        }
        Command::Aggregate {
            method,
            kind,
            gold,
            file,
        } => {
            let kind = match kind {
                AggregateKind::Label => cli::aggregate::Kind::Label,
                AggregateKind::Transcript => cli::aggregate::Kind::Transcript,
            };
            cli::aggregate::run(kind, method.as_deref(), &file, gold.as_deref())
        }
        Command::Report {
            db,
            from,
            to,
            by,
            format,
            out,
        } => {
            let format = match format {
                ReportFormatArg::Table => cli::impact::ReportFormat::Table,
                ReportFormatArg::Csv => cli::impact::ReportFormat::Csv,
                ReportFormatArg::Html => cli::impact::ReportFormat::Html,
            };
            cli::impact::report(
                &db,
                from.as_deref(),
                to.as_deref(),
                &by,
                format,
                out.as_deref(),
            )
        }
        Command::Verify { file, key } => cli::impact::verify(&file, &key),
        Command::Login {
            server,
            user,
            code,
            profile,
        } => cli::worker::login(&server, &user, &code, &profile),
        Command::Work {
            profile,
            project,
            keymap,
        } => cli::worker::work(&profile, project, keymap.as_deref()),
        Command::Train {
            profile,
            project,
            keymap,
        } => cli::worker::train(&profile, project, keymap.as_deref()),
        Command::Review { profile, project } => cli::worker::review(&profile, project),
        Command::Sync { profile, project } => cli::worker::sync(&profile, project.as_deref()),
        Command::Status { profile } => cli::worker::status(&profile),
        Command::Logout { profile } => cli::worker::logout(&profile),
        Command::Completions { shell } => {
            let shell = match shell {
                ShellArg::Bash => clap_complete::Shell::Bash,
                ShellArg::Zsh => clap_complete::Shell::Zsh,
                ShellArg::Fish => clap_complete::Shell::Fish,
            };
            cli::help::completions(Cli::command(), shell)
        }
        Command::Man => cli::help::man(Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on; never a backtrace. Causes already quoted by
            // their parent's message are not repeated.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !msg.contains(&cause) {
                    msg.push_str(": ");
                    msg.push_str(&cause);
                }
            }
            // `kazi export ... | head` closing the pipe early is not an error to report.
            if closed_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("kazi: {}", kazi::model::sanitize_line(&msg));
            ExitCode::FAILURE
        }
    }
}

/// The reader of our standard output went away (`kazi status | head -1`): judged by the
/// error's kind anywhere in its chain, never by its text.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command (subcommands of subcommands too) says what it does in a line and
    /// gives an example; every argument says what it is.
    #[test]
    fn every_command_and_argument_is_described_with_an_example() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            let has_subcommands = cmd.get_subcommands().next().is_some();
            if cmd.get_about().is_none() {
                missing.push(format!("{path}: no description"));
            }
            let long = cmd
                .get_long_about()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let after = cmd
                .get_after_help()
                .map(|s| s.to_string())
                .unwrap_or_default();
            if !long.contains("Example: kazi") && !after.contains("kazi ") {
                missing.push(format!("{path}: no example"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}: no description"));
                }
            }
            if has_subcommands {
                for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                    walk(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
        Cli::command().debug_assert();
    }
}
