//! The command line's definitions: every subcommand and flag with its help and an
//! example, read by clap for parsing, `--help`, completions and the man page.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "kazi",
    version,
    about = "Keyboard-driven terminal workstation for microwork",
    after_help = "Start with: kazi demo   ·   Set up a centre: kazi admin --db sqlite:centre.db init"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a whole centre in one process: a queue server on loopback, the fixture
    /// projects, demo users, and the worker screen.
    ///
    /// Example: kazi demo --data-dir ~/kazi-demo --project products
    Demo {
        /// Keep the server database and client profiles here (default: a fresh temp dir).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Who to log in as.
        #[arg(long = "as", value_enum, default_value = "worker")]
        as_role: DemoRole,
        /// Go straight to this project.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// A keymap file overriding parts of the default.
        #[arg(long, value_name = "FILE")]
        keymap: Option<PathBuf>,
    },
    /// Run the queue server (creates the database if it does not exist).
    ///
    /// Example: kazi serve --db sqlite:/srv/kazi/centre.db --listen 0.0.0.0:8470
    ///
    /// With SSH: kazi serve --db sqlite:/srv/kazi/centre.db --ssh-listen 0.0.0.0:2222
    /// --ssh-host-key /srv/kazi/ssh_host_key --ssh-idle-minutes 15 --ssh-sessions-per-user 2
    Serve {
        /// The centre's database: sqlite:PATH or postgres://USER@HOST/DB (several
        /// instances may share one PostgreSQL database).
        #[arg(long, value_name = "URL")]
        db: String,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8470", value_name = "ADDR")]
        listen: String,
        /// Also serve the screens over SSH on this address (keys from `user key add`).
        #[arg(long, value_name = "ADDR", requires = "ssh_host_key")]
        ssh_listen: Option<String>,
        /// The SSH server's host key (OpenSSH format); made on first start when missing.
        #[arg(long, value_name = "FILE", requires = "ssh_listen")]
        ssh_host_key: Option<PathBuf>,
        /// An SSH session without a key for this many minutes ends (its tasks stay held
        /// for the next one). Example: --ssh-idle-minutes 15
        #[arg(long, value_name = "MINUTES", default_value_t = 30,
              value_parser = clap::value_parser!(u64).range(1..=1440), requires = "ssh_listen")]
        ssh_idle_minutes: u64,
        /// SSH sessions one user may have open at once. Example: --ssh-sessions-per-user 2
        #[arg(long, value_name = "N", default_value_t = 3,
              value_parser = clap::value_parser!(u64).range(1..=100), requires = "ssh_listen")]
        ssh_sessions_per_user: u64,
        /// SSH sessions open at once in all. Example: --ssh-sessions 200
        #[arg(long, value_name = "N", default_value_t = 64,
              value_parser = clap::value_parser!(u64).range(1..=10000), requires = "ssh_listen")]
        ssh_sessions: u64,
    },
    /// Manage users, projects and tasks on the server database.
    ///
    /// Example: kazi admin --db sqlite:centre.db user add amina --role worker
    Admin {
        /// The centre's database: sqlite:PATH (create it first with `init`) or
        /// postgres://... (`migrate` takes --from and --to instead).
        #[arg(long, value_name = "URL", global = true)]
        db: Option<String>,
        #[command(subcommand)]
        what: AdminCommand,
    },
    /// Export a project's tasks with their answers and final labels.
    ///
    /// Example: kazi export --db sqlite:centre.db products --format csv --out products.csv
    Export {
        /// The centre's database: sqlite:PATH.
        #[arg(long, value_name = "URL")]
        db: String,
        /// The project's name.
        project: String,
        /// jsonl, csv, ls (Label Studio) or prodigy.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Name workers by user name instead of their per-project pseudonym (for the
        /// centre's admins only: never send such a file to a client).
        #[arg(long)]
        with_names: bool,
    },
    /// Final answers from crowd answers in a CSV file: `task,worker,label` rows (or
    /// `task,worker,text` with --kind transcript) -> `task,label,confidence` per task.
    ///
    /// Example: kazi aggregate --method ds answers.csv --gold gold.csv
    Aggregate {
        /// Labels: mv (majority), wmv (weighted by gold accuracy), ds (Dawid-Skene;
        /// default mv). Transcripts: rover (default) or medoid.
        #[arg(long)]
        method: Option<String>,
        /// What the answers are: labels or transcripts.
        #[arg(long, value_enum, default_value = "label")]
        kind: AggregateKind,
        /// Known answers: `task,label` rows with a header.
        #[arg(long, value_name = "FILE")]
        gold: Option<PathBuf>,
        /// The crowd answers: a CSV file with a header row.
        file: PathBuf,
    },
    /// Log this device in with a one-time enrolment code from your admin.
    ///
    /// Example: kazi login --server http://centre-server:8470 --user amina --code ABCD-EFGH-JKMN-PQRS
    Login {
        /// The centre's server, as your admin gave it.
        #[arg(long, value_name = "URL")]
        server: String,
        /// Your user name.
        #[arg(long, value_name = "NAME")]
        user: String,
        /// The one-time enrolment code.
        #[arg(long)]
        code: String,
        /// Keep this login under this profile name (several people on one computer).
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
    },
    /// The worker screen: training and production tasks.
    ///
    /// Example: kazi work --project products
    Work {
        /// Which login to use.
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
        /// Go straight to this project.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// A keymap file overriding parts of the default.
        #[arg(long, value_name = "FILE")]
        keymap: Option<PathBuf>,
    },
    /// The trainer's screens: present a project's lessons on a projector, run a class.
    ///
    /// Example: kazi train --project products
    Train {
        /// Which login to use (a trainer or an admin).
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
        /// Go straight to this project's lessons.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// A keymap file overriding parts of the default.
        #[arg(long, value_name = "FILE")]
        keymap: Option<PathBuf>,
    },
    /// The reviewer screen: disputes, spot checks, flags and contests of your projects.
    /// A transcript's audio plays with ctrl-p (KAZI_PLAYER, else a player on PATH).
    ///
    /// Example: kazi review --project products
    Review {
        /// Which login to use.
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
        /// Start on this project's items (f3 steps to the other projects, then all).
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
    },
    /// Send unsent answers and fetch tasks now, without a screen; print a summary.
    ///
    /// Example: kazi sync --project products
    Sync {
        /// Which login to use.
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
        /// Fetch tasks for this project too.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
    },
    /// Show local state: cached tasks, unsent answers, last sync.
    ///
    /// Example: kazi status --profile default
    Status {
        /// Which login to use.
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
    },
    /// Log this computer's profile out: its login, cached tasks and history go.
    /// Refused while answers are unsent.
    ///
    /// Example: kazi logout --profile default
    Logout {
        /// Which login to remove.
        #[arg(long, default_value = "default", value_name = "NAME")]
        profile: String,
    },
    /// The centre's impact figures per group and week: output, accuracy on gold, speed,
    /// hours, retention, accuracy on review, qualifications gained. Groups of fewer than
    /// 5 people are shown as suppressed.
    ///
    /// Example: kazi report --db sqlite:centre.db --from 2026-09-01 --by cohort --format html --out report.html
    Report {
        /// The centre's database: sqlite:PATH or postgres://...
        #[arg(long, value_name = "URL")]
        db: String,
        /// First day included (YYYY-MM-DD, UTC; default: the first answer).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day included (YYYY-MM-DD, UTC; default: today).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Rows per: week (the whole centre), worker, project, cohort, or an intake
        /// field the centre set (gender, age_band, ...).
        #[arg(long, default_value = "week", value_name = "BY")]
        by: String,
        /// table, csv or html (one self-contained file with charts; needs --out).
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormatArg,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a signed work record (text or JSON) offline against the centre's public key;
    /// says what was altered if it does not hold.
    ///
    /// Example: kazi verify amina-record.json --key centre.key.pub
    Verify {
        /// The record file (NAME-record.txt or NAME-record.json).
        file: PathBuf,
        /// The centre's public key file (centre.key.pub).
        #[arg(long, value_name = "CENTRE.pub")]
        key: PathBuf,
    },
    /// Print a shell completion script.
    ///
    /// Example: kazi completions bash > /etc/bash_completion.d/kazi
    Completions {
        /// bash, zsh or fish.
        #[arg(value_enum)]
        shell: ShellArg,
    },
    /// Print the manual page (roff), made from the same definitions as --help.
    ///
    /// Example: kazi man > /usr/local/share/man/man1/kazi.1
    Man,
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Create the centre's database (the first step; every other admin command needs it).
    ///
    /// Example: kazi admin --db sqlite:/srv/kazi/centre.db init
    Init,
    /// Users: add (prints a one-time enrolment code), list, revoke devices, disable, enable, remove.
    ///
    /// Example: kazi admin --db sqlite:centre.db user list
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Projects: add or update one from a TOML file, list them with their tasks by state,
    /// or show how much each pair of workers agrees.
    ///
    /// Example: kazi admin --db sqlite:centre.db project add products.toml
    Project {
        #[command(subcommand)]
        what: ProjectCommand,
    },
    /// Tasks: import a JSONL, CSV, Label Studio or Prodigy file into a project, or list them.
    ///
    /// Example: kazi admin --db sqlite:centre.db tasks import products products.jsonl
    Tasks {
        #[command(subcommand)]
        what: TasksCommand,
    },
    /// The review queue: disputes, field disputes, spot checks, flags and contests.
    ///
    /// Example: kazi admin --db sqlite:centre.db review list --project products
    Review {
        #[command(subcommand)]
        what: ReviewCommand,
    },
    /// Lessons and exam tasks: import a project's training set from a JSONL file.
    ///
    /// Example: kazi admin --db sqlite:centre.db lessons import products products.lessons.jsonl
    Lessons {
        #[command(subcommand)]
        what: LessonsCommand,
    },
    /// Class sessions: the report of a class after it (answers per step, accuracy, time,
    /// who passed the exam).
    ///
    /// Example: kazi admin --db sqlite:centre.db class report KX7M4P --format csv
    Class {
        #[command(subcommand)]
        what: ClassCommand,
    },
    /// Write a worker's work record (text and JSON: projects, tasks, hours, accuracy on
    /// gold and on review, qualifications with dates) signed with the centre's key, made on
    /// first use beside a SQLite database (centre.key, mode 0600; centre.key.pub to share).
    ///
    /// Example: kazi admin --db sqlite:centre.db record amina --out-dir records
    Record {
        /// The worker's user name.
        name: String,
        /// Folder to write NAME-record.txt and NAME-record.json in (default: here).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// The centre's signing key file (needed for PostgreSQL; default beside the
        /// SQLite file).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
    /// Intake: the self-reported fields the centre asks (from a TOML file), and the records.
    ///
    /// Example: kazi admin --db sqlite:centre.db intake form intake.toml
    Intake {
        #[command(subcommand)]
        what: IntakeCommand,
    },
    /// Move a centre from its SQLite file to PostgreSQL, verified by counts and checksums
    /// (stop kazi serve first).
    ///
    /// Example: kazi admin migrate --from sqlite:/srv/kazi/centre.db --to postgres://kazi@db/kazi
    Migrate {
        /// sqlite:PATH of the centre (default: --db).
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// postgres://... of the new database.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Empty a target that already holds a centre, instead of refusing it.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user, or give an existing one a fresh code and role; prints the code.
    ///
    /// Example: kazi admin --db sqlite:centre.db user add amina --role worker
    Add {
        /// The user's name: letters, digits, '.', '-' or '_'.
        name: String,
        /// What the user may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Intake record settings, ID=VALUE, repeatable: date=2026-09-01, cohort=2026-sep,
        /// or a field of the centre's intake form (gender=prefer_not_to_say).
        #[arg(long, value_name = "ID=VALUE")]
        intake: Vec<String>,
    },
    /// Set a user's intake record: date, cohort and the centre's self-reported fields.
    ///
    /// Example: kazi admin --db sqlite:centre.db user intake amina date=2026-09-01 cohort=2026-sep gender=woman
    Intake {
        /// The user's name.
        name: String,
        /// ID=VALUE settings; each field also takes prefer_not_to_say.
        #[arg(value_name = "ID=VALUE")]
        settings: Vec<String>,
    },
    /// Every user with role, devices and last sync.
    ///
    /// Example: kazi admin --db sqlite:centre.db user list
    List,
    /// Sign out a user's devices (all, or one with --device): their tokens stop working.
    ///
    /// Example: kazi admin --db sqlite:centre.db user revoke amina --device 3
    Revoke {
        /// The user's name.
        name: String,
        /// The device id `user list` shows.
        #[arg(long, value_name = "ID")]
        device: Option<i64>,
    },
    /// Stop a user for now: no device works and no code logs in until `user enable`.
    ///
    /// Example: kazi admin --db sqlite:centre.db user disable amina
    Disable {
        /// The user's name.
        name: String,
    },
    /// Let a disabled user in again: the same devices work, no new code needed.
    ///
    /// Example: kazi admin --db sqlite:centre.db user enable amina
    Enable {
        /// The user's name.
        name: String,
    },
    /// Remove a user for good (answers given stay, under the name).
    ///
    /// Example: kazi admin --db sqlite:centre.db user remove amina
    Remove {
        /// The user's name.
        name: String,
    },
    /// Let a reviewer review a project; the server refuses them in every other one.
    ///
    /// Example: kazi admin --db sqlite:centre.db user assign zawadi products
    Assign {
        /// The reviewer's name.
        name: String,
        /// The project's name.
        project: String,
    },
    /// SSH public keys a user signs in with over `kazi serve --ssh-listen`.
    ///
    /// Example: kazi admin --db sqlite:centre.db user key add rehema rehema.pub
    Key {
        #[command(subcommand)]
        what: KeyCommand,
    },
}

#[derive(Subcommand)]
pub(crate) enum ReviewCommand {
    /// Open items, oldest first, with reason, project, task, age and state.
    ///
    /// Example: kazi admin --db sqlite:centre.db review list --reason dispute
    List {
        /// Only this project's items.
        #[arg(long, value_name = "NAME")]
        project: Option<String>,
        /// Only items queued for this reason: dispute, field_dispute, spot_check, flag,
        /// contest.
        #[arg(long, value_name = "REASON")]
        reason: Option<String>,
        /// Decided items too, with their verdict.
        #[arg(long)]
        all: bool,
    },
    /// Correct a task's gold answer (a contest upheld): every worker scored on it is
    /// scored again and told, and their accuracy follows.
    ///
    /// Example: kazi admin --db sqlite:centre.db review correct products prod-0008 computers --explanation 'A mouse is a computer accessory'
    Correct {
        /// The project.
        project: String,
        /// The task's id as imported.
        task: String,
        /// The new gold: label ids joined by '|' (several labels of a multi-label
        /// answer), or JSON as in an import file ({"any": ["a", "b"]}, a form's object).
        gold: String,
        /// Why the new gold is right, shown to workers who miss it.
        #[arg(long, default_value = "")]
        explanation: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum KeyCommand {
    /// Register every public key of an OpenSSH .pub (or authorized_keys) file.
    ///
    /// Example: kazi admin --db sqlite:centre.db user key add rehema rehema.pub
    Add {
        /// The user's name.
        name: String,
        /// The public key file, e.g. a copy of the user's ~/.ssh/id_ed25519.pub.
        file: PathBuf,
    },
    /// The user's keys with their fingerprints.
    ///
    /// Example: kazi admin --db sqlite:centre.db user key list rehema
    List {
        /// The user's name.
        name: String,
    },
    /// Remove a key by its fingerprint: a session signed in with it ends.
    ///
    /// Example: kazi admin --db sqlite:centre.db user key remove rehema SHA256:r1gwU7jXoqYnuQhCvHDdw+5OKDp5bPctoXGd95qbpro
    Remove {
        /// The user's name.
        name: String,
        /// The fingerprint `key list` shows (SHA256:...).
        fingerprint: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum IntakeCommand {
    /// Set the self-reported fields asked at intake, from a TOML file.
    ///
    /// Example: kazi admin --db sqlite:centre.db intake form intake.toml
    Form {
        /// The intake form (TOML: [[fields]] with id, label, options).
        file: PathBuf,
    },
    /// Every user's intake record.
    ///
    /// Example: kazi admin --db sqlite:centre.db intake list
    List,
}

#[derive(Subcommand)]
pub(crate) enum ProjectCommand {
    /// Add a project from its TOML file, or update the one with the same name.
    ///
    /// Example: kazi admin --db sqlite:centre.db project add products.toml
    Add {
        /// The project file (TOML).
        file: PathBuf,
        /// Apply an update that changes what given answers mean (removes a label they
        /// use, or switches between one and several labels per answer).
        #[arg(long)]
        force: bool,
    },
    /// Every project: tasks total, waiting, leased, done, decided, and agreement.
    ///
    /// Example: kazi admin --db sqlite:centre.db project list
    List,
    /// Agreement per pair of workers: share of shared tasks with the same label, mean
    /// word error rate for transcripts, per field for forms.
    ///
    /// Example: kazi admin --db sqlite:centre.db project agreement products --format csv
    Agreement {
        /// The project's name.
        project: String,
        /// table (aligned, for reading) or csv.
        #[arg(long, value_enum, default_value = "table")]
        format: AgreementFormatArg,
        /// Name workers by user name instead of their per-project pseudonym (for the
        /// centre's admins only).
        #[arg(long)]
        with_names: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum AgreementFormatArg {
    Table,
    Csv,
}

#[derive(Subcommand)]
pub(crate) enum TasksCommand {
    /// Import tasks; the whole file is checked first and a bad line stops it all.
    ///
    /// Example: kazi admin --db sqlite:centre.db tasks import products products.csv
    Import {
        /// The project's name.
        project: String,
        /// The tasks file.
        file: PathBuf,
        /// The file's format (default: from its name and, for .jsonl, its first record).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// A project's tasks in import order, one line each, at most --limit of them.
    ///
    /// Example: kazi admin --db sqlite:centre.db tasks list products --state waiting
    List {
        /// The project's name.
        project: String,
        /// Only tasks that are waiting (a free slot), leased (held now), done (all
        /// answers in) or decided (a final answer).
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// Show at most this many (1-1000).
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum StateArg {
    Waiting,
    Leased,
    Done,
    Decided,
}

#[derive(Subcommand)]
pub(crate) enum LessonsCommand {
    /// Replace the project's lessons and exam pool; the whole file is checked first.
    ///
    /// Example: kazi admin --db sqlite:centre.db lessons import products products.lessons.jsonl
    Import {
        /// The project's name.
        project: String,
        /// The training file: one JSON task row with gold and explanation per line. Its
        /// lessons travel whole in one sync reply: a set over 512 KB is refused.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum ClassCommand {
    /// Each student's answers per step, accuracy, time per task and exam, by join code.
    ///
    /// Example: kazi admin --db sqlite:centre.db class report KX7M4P
    Report {
        /// The class's join code, as the trainer's screen showed it.
        class: String,
        /// table (to read) or csv (one row per student and step).
        #[arg(long, value_enum, default_value = "table")]
        format: ClassFormatArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ClassFormatArg {
    Table,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum DemoRole {
    Worker,
    Trainer,
    Reviewer,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Worker,
    Trainer,
    Reviewer,
    Admin,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormatArg {
    Table,
    Csv,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum AggregateKind {
    Label,
    Transcript,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Jsonl,
    Csv,
    /// Label Studio's JSON task list.
    Ls,
    /// Prodigy's JSONL.
    Prodigy,
}
