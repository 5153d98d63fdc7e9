//! `kazi`: parse the command line and dispatch. The work is done in the library parts
//! and in `cli`, which wires them together.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "kazi",
    version,
    about = "Keyboard-driven terminal workstation for microwork"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole centre in one process: a queue server on loopback, the fixture
    /// projects, demo users, and the worker screen.
    Demo {
        /// Keep the server database and client profiles here (default: a fresh temp dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Who to log in as.
        #[arg(long = "as", value_enum, default_value = "worker")]
        as_role: DemoRole,
        /// Go straight to this project.
        #[arg(long)]
        project: Option<String>,
        /// A keymap file overriding parts of the default.
        #[arg(long)]
        keymap: Option<PathBuf>,
    },
    /// Run the queue server.
    Serve {
        /// sqlite:PATH or postgres://USER@HOST/DB (several instances may share one).
        #[arg(long)]
        db: String,
        #[arg(long, default_value = "127.0.0.1:8470")]
        listen: String,
    },
    /// Manage users, projects and tasks on the server database.
    Admin {
        /// sqlite:PATH or postgres://... (migrate takes --from and --to instead).
        #[arg(long)]
        db: Option<String>,
        #[command(subcommand)]
        what: AdminCommand,
    },
    /// Export a project's tasks with their answers and final labels.
    Export {
        #[arg(long)]
        db: String,
        project: String,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Final answers from crowd answers in a CSV file: `task,worker,label` rows (or
    /// `task,worker,text` with --kind transcript) -> `task,label,confidence` per task.
    Aggregate {
        /// Labels: mv (majority), wmv (weighted by gold accuracy), ds (Dawid-Skene;
        /// default mv). Transcripts: rover (default) or medoid.
        #[arg(long)]
        method: Option<String>,
        #[arg(long, value_enum, default_value = "label")]
        kind: AggregateKind,
        /// Known answers: `task,label` rows with a header.
        #[arg(long)]
        gold: Option<PathBuf>,
        file: PathBuf,
    },
    /// Log this device in with a one-time enrolment code from your admin.
    Login {
        #[arg(long)]
        server: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "default")]
        profile: String,
    },
    /// The worker screen: training and production tasks.
    Work {
        #[arg(long, default_value = "default")]
        profile: String,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        keymap: Option<PathBuf>,
    },
    /// Send unsent answers and fetch tasks now, without a screen; print a summary.
    Sync {
        #[arg(long, default_value = "default")]
        profile: String,
        /// Fetch tasks for this project too.
        #[arg(long)]
        project: Option<String>,
    },
    /// Show local state: cached tasks, unsent answers, last sync.
    Status {
        #[arg(long, default_value = "default")]
        profile: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Users: add one (prints a one-time enrolment code), list them, revoke devices.
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Projects: add or update one from a TOML file.
    Project {
        #[command(subcommand)]
        what: ProjectCommand,
    },
    /// Tasks: import a JSONL, CSV, Label Studio or Prodigy file into a project.
    Tasks {
        #[command(subcommand)]
        what: TasksCommand,
    },
    /// Move a centre from its SQLite file to PostgreSQL, verified by counts and checksums.
    Migrate {
        /// sqlite:PATH of the centre (default: --db).
        #[arg(long)]
        from: Option<String>,
        /// postgres://... of the new database.
        #[arg(long)]
        to: String,
        /// Empty a target that already holds a centre, instead of refusing it.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Every user with role, devices and last sync.
    List,
    /// Sign out a user's devices (all, or one with --device): their tokens stop working.
    Revoke {
        name: String,
        /// The device id `user list` shows.
        #[arg(long)]
        device: Option<i64>,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    Add { file: PathBuf },
}

#[derive(Subcommand)]
enum TasksCommand {
    Import {
        project: String,
        file: PathBuf,
        /// The file's format (default: from its name and, for .jsonl, its first record).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DemoRole {
    Worker,
    Trainer,
    Reviewer,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Worker,
    Trainer,
    Reviewer,
    Admin,
}

#[derive(Clone, Copy, ValueEnum)]
enum AggregateKind {
    Label,
    Transcript,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
    Csv,
    /// Label Studio's JSON task list.
    Ls,
    /// Prodigy's JSONL.
    Prodigy,
}

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
        Command::Serve { db, listen } => cli::admin::serve(&db, &listen),
        Command::Admin {
            db: None,
            what: AdminCommand::Migrate { from, to, replace },
        } => cli::admin::migrate(from.as_deref(), &to, replace),
        Command::Admin { db: None, .. } => Err(anyhow::anyhow!(
            "--db URL is needed: kazi admin --db sqlite:PATH|postgres://... COMMAND"
        )),
        Command::Admin { db: Some(db), what } => match what {
            AdminCommand::User {
                what: UserCommand::Add { name, role },
            } => {
                let role = match role {
                    RoleArg::Worker => kazi::model::Role::Worker,
                    RoleArg::Trainer => kazi::model::Role::Trainer,
                    RoleArg::Reviewer => kazi::model::Role::Reviewer,
                    RoleArg::Admin => kazi::model::Role::Admin,
                };
                cli::admin::user_add(&db, &name, role)
            }
            AdminCommand::User {
                what: UserCommand::List,
            } => cli::admin::user_list(&db),
            AdminCommand::User {
                what: UserCommand::Revoke { name, device },
            } => cli::admin::user_revoke(&db, &name, device),
            AdminCommand::Project {
                what: ProjectCommand::Add { file },
            } => cli::admin::project_add(&db, &file),
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
            AdminCommand::Migrate { from, to, replace } => {
                cli::admin::migrate(Some(from.as_deref().unwrap_or(&db)), &to, replace)
            }
        },
        Command::Export {
            db,
            project,
            format,
            out,
        } => {
            let format = match format {
                Format::Jsonl => kazi::server::admin::ExportFormat::Jsonl,
                Format::Csv => kazi::server::admin::ExportFormat::Csv,
                Format::Ls => kazi::server::admin::ExportFormat::LabelStudio,
                Format::Prodigy => kazi::server::admin::ExportFormat::Prodigy,
            };
            cli::admin::export(&db, &project, format, out.as_deref())
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
        Command::Sync { profile, project } => cli::worker::sync(&profile, project.as_deref()),
        Command::Status { profile } => cli::worker::status(&profile),
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
