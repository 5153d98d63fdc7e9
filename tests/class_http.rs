//! `POST /v1/class` on a real server, on every backend: the status of each refusal (no
//! token, a worker starting or watching a class, an unknown code, presence before a
//! join, too many answers at once), and a long poll of the class view that a student's
//! join ends with the changed view.

#[path = "support/server_harness.rs"]
mod harness;

use harness::{PROJECT_TOML, TestServer, every_backend};
use kazi::model::{Project, Role};
use kazi::protocol::{
    self, CLASS_PATH, ClassAnswer, ClassRequest, ClassResponse, Encoding, MAX_CLASS_ANSWERS,
};
use kazi::server::admin;

async fn post(s: &TestServer, token: Option<&str>, request: &ClassRequest) -> harness::Reply {
    s.post(
        CLASS_PATH,
        token,
        protocol::encode(request, Encoding::Identity),
        &[],
    )
    .await
}

fn reply(r: &harness::Reply) -> ClassResponse {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    protocol::decode(&r.body, Encoding::Identity, protocol::MAX_DECODED_BYTES).expect("reply")
}

async fn setup(s: &TestServer) -> (String, String) {
    let project = Project::from_toml("shop.toml", PROJECT_TOML).unwrap();
    s.add_project(&project);
    let file = s.write_file(
        "shop.lessons.jsonl",
        "{\"id\":\"l1\",\"text\":\"lesson 1\",\"gold\":\"food\",\"explanation\":\"eaten\"}\n",
    );
    s.blocking(|| admin::import_lessons(&*s.store, "shop", &file))
        .expect("lessons import");
    (
        s.enrol("tess", Role::Trainer).await,
        s.enrol("amina", Role::Worker).await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_their_status_and_a_long_poll_ends_on_a_join() {
    for s in every_backend("class over HTTP", |_| {}).await {
        let (tess, amina) = setup(&s).await;
        let start = ClassRequest::Start {
            project: "shop".into(),
        };
        assert_eq!(post(&s, None, &start).await.status, 401, "{}", s.backend());
        let refused = post(&s, Some(&amina), &start).await;
        assert_eq!(refused.status, 403);
        assert!(refused.error().contains("only trainers and admins"));
        let ClassResponse::Start { state, .. } = reply(&post(&s, Some(&tess), &start).await) else {
            panic!("not a start reply");
        };
        let code = state.code;
        let look = |since| ClassRequest::View {
            code: code.clone(),
            since,
            wait: Some(10),
        };
        assert_eq!(post(&s, Some(&amina), &look(0)).await.status, 403);
        let unknown = ClassRequest::View {
            code: "XXXXXX".into(),
            since: 0,
            wait: None,
        };
        assert_eq!(post(&s, Some(&tess), &unknown).await.status, 404);
        let early = ClassRequest::Presence {
            code: code.clone(),
            step: 0,
            answers: vec![],
        };
        assert_eq!(post(&s, Some(&amina), &early).await.status, 409);
        let answer = |id| ClassAnswer {
            id,
            step: 0,
            value: kazi::model::AnswerValue::Labels(vec!["food".into()]),
            took: 1,
            ago: 0,
        };
        let flood = ClassRequest::Presence {
            code: code.clone(),
            step: 0,
            answers: (1..=MAX_CLASS_ANSWERS as u64 + 1).map(answer).collect(),
        };
        assert_eq!(post(&s, Some(&amina), &flood).await.status, 400);

        let ClassResponse::View { view: Some(first) } =
            reply(&post(&s, Some(&tess), &look(0)).await)
        else {
            panic!("a first view");
        };
        assert!(first.students.is_empty());
        // The long poll waits for a change; Amina's join is one.
        let waiting = look(first.version);
        let poll = post(&s, Some(&tess), &waiting);
        let join = async {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            post(&s, Some(&amina), &ClassRequest::Join { code: code.clone() }).await
        };
        let (polled, joined) = tokio::join!(poll, join);
        assert_eq!(joined.status, 200);
        let ClassResponse::View { view: Some(after) } = reply(&polled) else {
            panic!("the poll ended without the change");
        };
        assert_ne!(after.version, first.version);
        assert_eq!(after.students[0].name, "amina");
    }
}
