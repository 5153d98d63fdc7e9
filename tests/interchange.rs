//! Label Studio and Prodigy files in and out, on a real SQLite store behind real HTTP:
//! the sample files under fixtures/interchange (written from the tools' published
//! format descriptions) import with their earlier answers, suggestions and gold; those
//! answers count towards overlap but are nobody's Kazi work; bad and unsupported files
//! are refused with their line and nothing stored; Kazi -> file -> Kazi keeps every
//! task and answer, into SQLite and, when `KAZI_TEST_PG` is set, into PostgreSQL.

#[path = "support/server_harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::{TestServer, answer, answers, every_backend, start};
use kazi::model::{Project, Role};
use kazi::server::admin::{self, ExportFormat, ImportError, ImportFormat, ImportReport};
use serde_json::Value;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn fixture_project(file: &str) -> Project {
    let path = fixture(&format!("projects/{file}"));
    let text = std::fs::read_to_string(&path).expect("fixture project");
    Project::from_toml(file, &text).expect("fixture project parses")
}

async fn with_project(project: &Project) -> TestServer {
    let s = start().await;
    s.add_project(project);
    s
}

fn import(
    s: &TestServer,
    project: &str,
    path: &Path,
    format: Option<ImportFormat>,
) -> Result<ImportReport, ImportError> {
    s.blocking(|| admin::import_tasks_as(&*s.store, project, path, format, &mut |_, _| {}))
}

/// The Kazi JSONL export as one JSON value per task.
fn exported(s: &TestServer, project: &str) -> Vec<Value> {
    s.export(project, ExportFormat::Jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).expect("export line is JSON"))
        .collect()
}

fn task<'a>(tasks: &'a [Value], id: &str) -> &'a Value {
    tasks
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("task {id} exported"))
}

/// (worker, value, imported) of each answer of a task.
fn answer_list(task: &Value) -> Vec<(String, String, bool)> {
    task["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| {
            (
                a["worker"].as_str().unwrap_or_default().to_string(),
                a["value"].as_str().unwrap_or_default().to_string(),
                a["imported"] == true,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_studio_tasks_bring_annotations_gold_and_the_best_prediction() {
    // Gold leased like any task here (no gold mix), so the lease order is the file's.
    let mut products = fixture_project("products.toml");
    products.gold_rate = 0.0;
    let s = with_project(&products).await;
    let path = fixture("interchange/products.ls.json");
    let report = import(&s, "products", &path, None).unwrap();
    assert_eq!(report.format, ImportFormat::LabelStudio, "told by its name");
    assert_eq!(
        (report.summary.added, report.summary.already_present),
        (3, 0)
    );
    let notes = report.notes.join("\n");
    for left_out in [
        "data.source (1x)",
        "meta.batch (1x)",
        "annotations[].lead_time (1x)",
    ] {
        assert!(notes.contains(left_out), "{left_out} reported in: {notes}");
    }
    assert!(
        notes.contains("1 cancelled (skipped) in Label Studio"),
        "{notes}"
    );
    assert!(notes.contains("1 task had several predictions"), "{notes}");
    assert_eq!(report.notes.len(), 3, "one line per kind: {notes}");

    let tasks = exported(&s, "products");
    let phone = task(&tasks, "shop-0001");
    assert_eq!(
        answer_list(phone),
        [
            (
                "wanjiru@client.example, 3".into(),
                "electronics".into(),
                true
            ),
            ("otieno@client.example".into(), "electronics".into(), true),
        ],
        "a label's name and its id both map to the id"
    );
    assert_eq!(phone["answers"][0]["time"], "2026-10-02T08:15:30Z");
    assert_eq!(
        phone["final"],
        Value::Null,
        "2 of 3 answers: not decided yet"
    );
    let rice = task(&tasks, "shop-0002");
    assert_eq!(rice["gold"], "food", "the ground-truth annotation is gold");
    assert_eq!(
        answer_list(rice),
        [],
        "gold and a cancelled annotation are no answers"
    );

    // The imported answers hold two of the phone's three slots: one worker gets it, with
    // the suggestion of the prediction; the rice task's best prediction is its suggestion.
    let amina = s.enrol("amina", Role::Worker).await;
    let reply = s.want(&amina, "products", 10).await;
    assert_eq!(
        reply.done_today, 0,
        "imported answers are nobody's work today"
    );
    let leased: Vec<_> = reply.leases.iter().map(|l| l.suggestion.clone()).collect();
    assert_eq!(
        leased,
        [Some("electronics".into()), Some("food".into()), None]
    );
    let phone_task = reply.leases[0].task;
    let reply = s
        .sync(&amina, &answers(vec![answer(1, phone_task, "electronics")]))
        .await;
    assert_eq!(
        reply.done_today, 1,
        "only the worker's own answer counts for them"
    );
    let baraka = s.enrol("baraka", Role::Worker).await;
    let offered = s.want(&baraka, "products", 10).await.leases;
    assert!(
        offered.iter().all(|l| l.task != phone_task),
        "the phone has all three answers now"
    );
    let tasks = exported(&s, "products");
    let phone = task(&tasks, "shop-0001");
    assert_eq!(
        phone["final"], "electronics",
        "prior answers vote with Kazi's"
    );
    assert_eq!(phone["agreement"], 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_studio_multiple_choice_and_prodigy_binary_answers_fill_multi_label_tasks() {
    let reviews = fixture_project("sentiment.toml");
    let s = with_project(&reviews).await;
    let report = import(&s, "reviews", &fixture("interchange/reviews.ls.json"), None).unwrap();
    assert_eq!(report.summary.added, 2);
    assert_eq!(report.notes, Vec::<String>::new(), "nothing left out");
    let path = fixture("interchange/reviews-binary.prodigy.jsonl");
    let report = import(&s, "reviews", &path, None).unwrap();
    assert_eq!(report.format, ImportFormat::Prodigy, "told by its fields");
    assert_eq!(
        report.summary.added, 2,
        "four lines of one input are one task"
    );
    assert_eq!(
        report.notes,
        [
            "fields Kazi does not use, not imported: score (1x)",
            "answers not kept: 1 answered reject"
        ]
    );

    let tasks = exported(&s, "reviews");
    assert_eq!(
        answer_list(task(&tasks, "rev-ls-01")),
        [
            (
                "achieng@client.example".into(),
                "negative|delivery|quality".into(),
                true
            ),
            (
                "baraka@client.example".into(),
                "delivery|quality".into(),
                true
            ),
        ],
        "choices in the project's label order, from one or several results"
    );
    let rb = task(&tasks, "rb-01");
    assert_eq!(
        answer_list(rb),
        [
            ("tags-achieng".into(), "positive|delivery".into(), true),
            ("tags-baraka".into(), "delivery".into(), true),
        ],
        "an annotator's accepted binary labels make one answer"
    );
    assert_eq!(
        rb["answers"][0]["time"], "2026-09-22T18:00:05Z",
        "latest line"
    );
    assert_eq!(
        rb["agreement"], 0.5,
        "two answers of overlap 2: decided at import"
    );
    assert_eq!(rb["final"], Value::Null, "a tie");

    let worker = s.enrol("amina", Role::Worker).await;
    let leases = s.want(&worker, "reviews", 10).await.leases;
    let suggestions: Vec<_> = leases.iter().map(|l| l.suggestion.clone()).collect();
    assert_eq!(
        suggestions,
        [Some("positive".into()), Some("price".into())],
        "tasks with all their answers are not leased; predictions are suggestions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prodigy_choice_lines_group_by_input_with_ids_from_meta_hash_or_text() {
    let mut products = fixture_project("products.toml");
    products.overlap = 2;
    let s = with_project(&products).await;
    let path = fixture("interchange/products.prodigy.jsonl");
    let report = import(&s, "products", &path, Some(ImportFormat::Prodigy)).unwrap();
    assert_eq!(report.summary.added, 4);
    assert_eq!(
        report.notes,
        [
            "fields Kazi does not use, not imported: meta.source (2x), score (1x)",
            "answers not kept: 1 answered ignore",
        ]
    );
    let tasks = exported(&s, "products");
    let ids: Vec<_> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids[..3], ["pg-0001", "-55512345", "40404040"]);
    assert!(
        ids[3].starts_with("text-"),
        "a bare text gets an id from its text"
    );
    assert_eq!(
        answer_list(&tasks[0]),
        [
            ("shop-wanjiru".into(), "electronics".into(), true),
            ("shop-otieno".into(), "computers".into(), true),
        ]
    );
    assert_eq!(
        answer_list(&tasks[1]),
        [("shop-wanjiru".into(), "food".into(), true)],
        "an option's id, else its text, names the label"
    );

    // The same file again is already there, text ids included.
    let again = import(&s, "products", &path, None).unwrap();
    assert_eq!((again.summary.added, again.summary.already_present), (0, 4));

    let worker = s.enrol("amina", Role::Worker).await;
    let leases = s.want(&worker, "products", 10).await.leases;
    let texts: Vec<_> = leases
        .iter()
        .map(|l| (l.text.as_str(), l.suggestion.as_deref()))
        .collect();
    assert_eq!(
        texts,
        [
            ("Unga wa ngano 2kg", None),
            ("Kids football size 4", Some("sports-outdoors")),
            ("Shea butter lotion 400ml", None),
        ],
        "the charger has both its answers; a pre-selected option is a suggestion"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_unsupported_files_are_refused_with_their_line_and_store_nothing() {
    let products = fixture_project("products.toml");
    let s = with_project(&products).await;
    let cases: [(&str, Option<ImportFormat>, &str); 5] = [
        (
            "broken.ls.json",
            None,
            ":4: not valid JSON: key must be a string",
        ),
        (
            "broken.prodigy.jsonl",
            Some(ImportFormat::Prodigy),
            ":2: not valid JSON",
        ),
        (
            "textarea.ls.json",
            None,
            ":2: Label Studio text areas (textarea) cannot be imported yet: Kazi has \
             classify projects today",
        ),
        (
            "audio.ls.json",
            None,
            ":2: Label Studio audio tasks (data.audio) cannot",
        ),
        (
            "transcript.prodigy.jsonl",
            None,
            ":1: Prodigy transcripts and audio ('audio') cannot be imported yet",
        ),
    ];
    for (file, format, expected) in cases {
        let path = fixture(&format!("interchange/{file}"));
        let e = import(&s, "products", &path, format).unwrap_err();
        let message = e.to_string();
        assert!(
            matches!(e, ImportError::Line { .. }) && message.contains(expected),
            "{file}: {message}"
        );
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
    }
    assert_eq!(exported(&s, "products").len(), 0, "nothing was imported");

    // A label the project does not have, on the task's own line; the good task before it
    // is not stored either.
    let path = s.write_file(
        "wrong.json",
        "[{\"data\": {\"id\": \"a\", \"text\": \"Rice\"}},\n {\"data\": {\"id\": \"b\", \"text\": \"Soap\"},\n  \
         \"annotations\": [{\"result\": [{\"type\": \"choices\", \"value\": {\"choices\": [\"Soap\"]}}]}]}]",
    );
    let e = import(&s, "products", &path, None).unwrap_err().to_string();
    assert!(
        e.ends_with(":2: unknown label 'Soap' in annotation; labels are: electronics, computers, home-kitchen, fashion, beauty, food, baby-kids-toys, health, sports-outdoors, auto-tools"),
        "{e}"
    );
    // Two choice controls cannot be one label set.
    let path = s.write_file(
        "two.json",
        "[{\"data\": {\"id\": \"a\", \"text\": \"Rice\"}, \"annotations\": [{\"result\": [\
         {\"type\": \"choices\", \"from_name\": \"kind\", \"value\": {\"choices\": [\"food\"]}},\
         {\"type\": \"choices\", \"from_name\": \"mood\", \"value\": {\"choices\": [\"food\"]}}]}]}]",
    );
    let e = import(&s, "products", &path, None).unwrap_err().to_string();
    assert!(e.contains("two choice controls ('kind' and 'mood')"), "{e}");
    // One annotator twice on a task; a list that is never closed.
    let path = s.write_file(
        "dup.json",
        "[{\"data\": {\"id\": \"a\", \"text\": \"Rice\"}, \"annotations\": [\
         {\"completed_by\": 7, \"result\": [{\"type\": \"choices\", \"value\": {\"choices\": [\"food\"]}}]},\
         {\"completed_by\": 7, \"result\": [{\"type\": \"choices\", \"value\": {\"choices\": [\"health\"]}}]}]}]",
    );
    let e = import(&s, "products", &path, None).unwrap_err().to_string();
    assert!(
        e.ends_with(":1: annotator 'label-studio-user-7' has two annotations on task 'a': Kazi keeps one answer per annotator"),
        "{e}"
    );
    let path = s.write_file(
        "open.json",
        "[\n{\"data\": {\"id\": \"a\", \"text\": \"Rice\"}},\n",
    );
    let e = import(&s, "products", &path, None).unwrap_err().to_string();
    assert!(e.ends_with(":3: the task list is not closed"), "{e}");
    // Two labels for a single-label project.
    let path = s.write_file(
        "twice.jsonl",
        "{\"text\": \"Rice\", \"options\": [], \"accept\": [\"food\", \"health\"], \"answer\": \"accept\", \"meta\": {\"id\": \"r\"}}\n",
    );
    let e = import(&s, "products", &path, None).unwrap_err().to_string();
    assert!(e.ends_with(":1: the answer of 'prodigy' to task 'r' does not fit the project: this project takes one label, got 2"), "{e}");
    assert_eq!(exported(&s, "products").len(), 0);
}

/// A project with answers, a correction, gold and suggestions; Kazi workers answer.
async fn worked_project(multi_label: bool) -> TestServer {
    let toml = format!(
        "name = \"shop\"\ntitle = \"Shop\"\nkind = \"classify\"\nmulti_label = {multi_label}\n\
         overlap = 2\nlease = \"1h\"\n\
         [[labels]]\nid = \"food\"\nname = \"Food\"\nkey = \"1\"\n\
         [[labels]]\nid = \"toys\"\nname = \"Toys\"\nkey = \"2\"\n\
         [[labels]]\nid = \"tools\"\nname = \"Tools\"\nkey = \"3\"\n"
    );
    let s = with_project(&Project::from_toml("shop.toml", &toml).unwrap()).await;
    let gold = if multi_label {
        r#"["toys","tools"]"#
    } else {
        r#""tools""#
    };
    let tasks = format!(
        "{{\"id\":\"s1\",\"text\":\"Plastic hammer for kids\",\"gold\":{gold}}}\n\
         {{\"id\":\"s2\",\"text\":\"Rice 2kg \\\"pishori\\\"\",\"suggestion\":\"food\"}}\n\
         {{\"id\":\"s3\",\"text\":\"Spanner set\"}}\n"
    );
    let path = s.write_file("tasks.jsonl", &tasks);
    admin::import_tasks(&*s.store, "shop", &path, &mut |_, _| {}).unwrap();
    let labels = |ids: &[&str]| {
        kazi::model::AnswerValue::Labels(ids.iter().map(|s| s.to_string()).collect())
    };
    for (name, first) in [("amina", "toys"), ("baraka", "food")] {
        let token = s.enrol(name, Role::Worker).await;
        let leases = s.want(&token, "shop", 2).await.leases;
        let mut up = vec![
            answer(1, leases[0].task, first),
            answer(2, leases[1].task, "food"),
        ];
        if multi_label {
            up[0].value = labels(&["tools", first]);
        }
        s.sync(&token, &answers(up)).await;
        if name == "amina" {
            // A correction: the first answer is superseded and not exported by the tools.
            let mut fix = answer(3, leases[1].task, "toys");
            fix.replaces = Some(2);
            s.sync(&token, &answers(vec![fix])).await;
        }
    }
    s
}

/// Kazi's JSONL export without the marks an import adds.
fn comparable(s: &TestServer) -> Vec<Value> {
    let mut tasks = exported(s, "shop");
    for task in &mut tasks {
        let kept: Vec<Value> = task["answers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["superseded"] != true)
            .map(|a| {
                let mut a = a.clone();
                a.as_object_mut().unwrap().remove("imported");
                a
            })
            .collect();
        task["answers"] = Value::from(kept);
    }
    tasks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazi_to_label_studio_or_prodigy_and_back_keeps_tasks_and_answers() {
    for multi_label in [false, true] {
        let first = worked_project(multi_label).await;
        for (format, name) in [
            // A task list in a .jsonl is told apart by its opening '['.
            (ExportFormat::LabelStudio, "round-ls.jsonl"),
            (ExportFormat::Prodigy, "round.jsonl"),
        ] {
            let file = first.export("shop", format);
            for second in every_backend("an interchange round trip", |_| {}).await {
                second.add_project(&first.store.project("shop").unwrap().unwrap());
                let path = second.write_file(name, &file);
                let report = import(&second, "shop", &path, None).unwrap();
                assert_eq!(report.summary.added, 3, "{format:?}");
                assert_eq!(
                    report.notes,
                    Vec::<String>::new(),
                    "{format:?}: nothing left out"
                );
                assert_eq!(
                    comparable(&second),
                    comparable(&first),
                    "{format:?} multi_label={multi_label} into {}: same tasks, gold, answers, decisions",
                    second.backend()
                );
                assert_eq!(
                    second.export("shop", format),
                    file,
                    "{format:?}: suggestions and everything else come back"
                );
                let imported = exported(&second, "shop");
                assert!(imported[0]["answers"][0]["imported"] == true);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_have_the_shapes_the_tools_document() {
    let s = worked_project(false).await;
    let ls: Value = serde_json::from_str(&s.export("shop", ExportFormat::LabelStudio)).unwrap();
    let tasks = ls.as_array().expect("a JSON list of tasks");
    assert_eq!(tasks.len(), 3);
    let hammer = &tasks[0];
    assert_eq!(hammer["data"]["text"], "Plastic hammer for kids");
    let annotations = hammer["annotations"].as_array().unwrap();
    assert_eq!(annotations.len(), 3, "two answers and the gold");
    let result = &annotations[0]["result"][0];
    assert_eq!(result["type"], "choices");
    assert_eq!(result["from_name"], "label");
    assert_eq!(result["to_name"], "text");
    assert_eq!(annotations[0]["created_username"], "amina");
    assert!(
        annotations[0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(annotations[2]["ground_truth"], true);
    assert_eq!(
        tasks[1]["predictions"][0]["result"][0]["value"]["choices"][0],
        "food"
    );
    assert_eq!(
        tasks[1]["annotations"][0]["result"][0]["value"]["choices"][0], "toys",
        "the correction, not the answer it replaced"
    );

    let lines: Vec<Value> = s
        .export("shop", ExportFormat::Prodigy)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "one line per answer, one for the unanswered task"
    );
    let first = &lines[0];
    assert_eq!(first["answer"], "accept");
    assert_eq!(first["accept"][0], "toys");
    assert_eq!(first["_annotator_id"], "amina");
    assert_eq!(first["_session_id"], "shop-amina");
    assert!(first["_timestamp"].is_i64() && first["_input_hash"].is_i64());
    assert_eq!(
        first["options"][0],
        serde_json::json!({"id": "food", "text": "Food"})
    );
    assert_eq!(
        first["_input_hash"], lines[1]["_input_hash"],
        "one input, one hash"
    );
    assert_ne!(first["_input_hash"], lines[2]["_input_hash"]);
    assert_eq!(
        lines[4]["answer"],
        Value::Null,
        "the unanswered task has no answer"
    );
    assert_eq!(lines[4]["meta"]["id"], "s3");
}

fn kazi(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("kazi runs")
}

#[test]
fn the_command_line_imports_reports_and_exports_the_formats() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("c.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let project = fixture("projects/products.toml");
    let out = kazi(&[
        "admin",
        "--db",
        &db,
        "project",
        "add",
        project.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let file = fixture("interchange/products.ls.json");
    let out = kazi(&[
        "admin",
        "--db",
        &db,
        "tasks",
        "import",
        "products",
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("as a Label Studio task list."), "{stdout}");
    assert!(
        stdout.contains("fields Kazi does not use, not imported: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("Imported 3 new tasks into products (0 were already there)."),
        "{stdout}"
    );

    // A Prodigy file named .json is Prodigy's when --format says so; a bad one is one line.
    let broken = fixture("interchange/broken.prodigy.jsonl");
    let out = kazi(&[
        "admin",
        "--db",
        &db,
        "tasks",
        "import",
        "products",
        broken.to_str().unwrap(),
        "--format",
        "prodigy",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("kazi: ") && stderr.contains("broken.prodigy.jsonl:2: not valid JSON"),
        "{stderr}"
    );

    for (format, first) in [("ls", "["), ("prodigy", "{")] {
        let out = kazi(&["export", "--db", &db, "products", "--format", format]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.starts_with(first),
            "{format}: {text}"
        );
        assert!(
            text.contains("wanjiru@client.example, 3"),
            "{format}: the annotator travels"
        );
    }
}
