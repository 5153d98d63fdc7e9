//! Gold over real HTTP on port 0, on every backend: imported with explanations and
//! several accepted answers (and refused as `FILE:LINE:` when it does not fit), never on
//! the wire before the worker answered (checked in the decoded reply BYTES, not the
//! structs), and scored with feedback in the reply to the sync that carried the answer,
//! which the real client stores for the feedback screen.

#[path = "support/server_harness.rs"]
mod harness;

use harness::{PROJECT_TOML, answer, every_backend, want};
use kazi::model::{Project, Role};
use kazi::protocol::{self, Encoding, SyncRequest, SyncResponse};
use kazi::server::admin;

/// 40 production tasks, then 10 gold tasks imported apart, as a centre does.
const GOLD_JSONL: &str = concat!(
    r#"{"id":"g1","text":"hammer 1","gold":"tools","explanation":"SECRET-EXPLANATION hammers are tools"}"#,
    "\n",
    r#"{"id":"g2","text":"hammer 2","gold":{"any":["tools","toys"]},"explanation":"SECRET-EXPLANATION a toy hammer is fine"}"#,
    "\n",
    r#"{"id":"g3","text":"hammer 3","gold":"tools"}"#,
    "\n",
    r#"{"id":"g4","text":"hammer 4","gold":"tools"}"#,
    "\n",
    r#"{"id":"g5","text":"hammer 5","gold":"tools"}"#,
    "\n",
    r#"{"id":"g6","text":"hammer 6","gold":"tools"}"#,
    "\n",
    r#"{"id":"g7","text":"hammer 7","gold":"tools"}"#,
    "\n",
    r#"{"id":"g8","text":"hammer 8","gold":"tools"}"#,
    "\n",
    r#"{"id":"g9","text":"hammer 9","gold":"tools"}"#,
    "\n",
    r#"{"id":"g10","text":"hammer 10","gold":"tools"}"#,
    "\n",
);

fn gold_project() -> Project {
    let text = PROJECT_TOML.replace("lease = \"1h\"\n", "lease = \"1h\"\ngold_rate = 0.2\n");
    Project::from_toml("shop.toml", &text).expect("gold project parses")
}

#[tokio::test(flavor = "multi_thread")]
async fn gold_never_travels_before_the_answer_and_feedback_comes_in_the_same_reply() {
    for server in every_backend("gold over HTTP", |_| {}).await {
        let project = gold_project();
        assert!((project.gold_rate - 0.2).abs() < 1e-12);
        server.add_project(&project);
        server.import_numbered("shop", 40);
        let gold_file = server.write_file("gold.jsonl", GOLD_JSONL);
        server
            .blocking(|| admin::import_tasks(&*server.store, "shop", &gold_file, &mut |_, _| {}))
            .expect("gold imports");
        let token = server.enrol("amina", Role::Worker).await;

        let mut ask = want("shop", 50);
        ask.feedback_seen = Some(0);
        let reply = server.sync_raw(&token, &ask).await;
        assert_eq!(reply.status, 200);
        let bytes = zstd::decode_all(&reply.body[..]).expect("zstd body");
        let text = String::from_utf8(bytes.clone()).expect("JSON is UTF-8");
        for secret in ["SECRET-EXPLANATION", "\"any\"", "explanation"] {
            assert!(
                !text.contains(secret),
                "{}: '{secret}' on the wire before any answer: {text}",
                server.backend()
            );
        }
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let leases = json["leases"].as_array().expect("leases");
        // The schema names the labels and the project's rate; the leases name no answer.
        let leases_text = serde_json::to_string(leases).unwrap();
        for secret in ["gold", "tools", "food", "toys"] {
            assert!(
                !leases_text.contains(secret),
                "'{secret}' in leases: {leases_text}"
            );
        }
        assert_eq!(leases.len(), 50, "{}", server.backend());
        // Every lease has the same fields, gold or not.
        let keys = |l: &serde_json::Value| {
            let mut k: Vec<String> = l.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let first = keys(&leases[0]);
        assert!(leases.iter().all(|l| keys(l) == first), "{first:?}");
        let gold: Vec<&serde_json::Value> = leases
            .iter()
            .filter(|l| l["text"].as_str().unwrap().starts_with("hammer"))
            .collect();
        assert_eq!(gold.len(), 10, "20% of 50 is every gold task");

        // Answer two gold tasks: one wrong, one right by its second accepted answer.
        let task_of = |text: &str| {
            leases
                .iter()
                .find(|l| l["text"] == text)
                .and_then(|l| l["task"].as_i64())
                .unwrap()
        };
        let mut send = SyncRequest {
            answers: vec![
                answer(1, task_of("hammer 1"), "food"),
                answer(2, task_of("hammer 2"), "toys"),
            ],
            feedback_seen: Some(0),
            ..SyncRequest::default()
        };
        send.known = [(project.name.clone(), project.version())].into();
        let reply: SyncResponse = server.sync(&token, &send).await;
        assert_eq!(reply.feedback.len(), 2, "{}", server.backend());
        assert!(!reply.feedback[0].correct);
        assert_eq!(
            reply.feedback[0].note,
            "SECRET-EXPLANATION hammers are tools"
        );
        assert!(reply.feedback[1].correct, "toys is accepted too");
        assert_eq!(reply.accuracy[0].all_total, 2);

        // A client from before feedback gets the same leases and none of it.
        let old = server.sync(&token, &want("shop", 0)).await;
        assert!(old.feedback.is_empty() && old.accuracy.is_empty());
        let raw = server.sync_raw(&token, &want("shop", 0)).await;
        let decoded = protocol::decode::<serde_json::Value>(
            &raw.body,
            Encoding::Zstd,
            protocol::MAX_DECODED_BYTES,
        )
        .unwrap();
        assert!(decoded.get("feedback").is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gold_that_does_not_fit_is_refused_at_its_line_and_nothing_is_imported() {
    for server in every_backend("gold import over HTTP", |_| {}).await {
        server.add_project(&gold_project());
        let cases = [
            (
                r#"{"id":"a","text":"x","gold":{"any":["tools","nope"]}}"#,
                "unknown label 'nope' in gold",
            ),
            (
                r#"{"id":"a","text":"x","gold":{"all":["tools"]}}"#,
                "gold must be a label id",
            ),
            (
                r#"{"id":"a","text":"x","explanation":"why"}"#,
                "explanation without gold",
            ),
            (
                r#"{"id":"a","text":"x","gold":["tools","toys"]}"#,
                "takes one label",
            ),
        ];
        for (line, want) in cases {
            let file = server.write_file(
                "bad.jsonl",
                &format!("{{\"id\":\"ok\",\"text\":\"fine\"}}\n{line}\n"),
            );
            let err = server
                .blocking(|| admin::import_tasks(&*server.store, "shop", &file, &mut |_, _| {}))
                .unwrap_err()
                .to_string();
            assert!(err.contains("bad.jsonl:2:") && err.contains(want), "{err}");
        }
        let csv = server.write_file(
            "gold.csv",
            "id,text,gold,explanation\nc1,hammer,tools,Hammers are tools\nc2,doll,\"{\"\"any\"\": [\"\"toys\"\", \"\"food\"\"]}\",\n",
        );
        let done = server
            .blocking(|| admin::import_tasks(&*server.store, "shop", &csv, &mut |_, _| {}))
            .expect("CSV gold imports");
        assert_eq!(done.added, 2);
        let export = server.export("shop", admin::ExportFormat::Jsonl);
        assert_eq!(
            export.lines().count(),
            2,
            "the bad files stored nothing: {export}"
        );
    }
}
