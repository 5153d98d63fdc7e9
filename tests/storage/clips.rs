//! Audio clips in the store, on every backend: stored once by hash inside the import's
//! transaction, named by the leases of their tasks, served whole, the original kept.

use super::*;
use kazi::media::{self, Clip};
use kazi::protocol::ClipRef;

fn clip(seed: u8) -> Clip {
    let wire = vec![seed; 300 + seed as usize];
    Clip {
        hash: media::clip_hash(&wire),
        wire,
        original: vec![seed ^ 0xff; 900],
        original_ext: "flac".into(),
        duration_ms: 1000 + seed as u64,
    }
}

fn with_clip(i: usize, clip: &Clip) -> NewTask {
    NewTask {
        clip: Some(clip.clone()),
        ..new_task(i, &format!("clip {i}"))
    }
}

#[test]
fn clips_are_stored_once_leased_with_their_task_and_served() {
    on_every_backend(|backend, store| {
        store.put_project(&project(1), NOW).unwrap();
        let (a, b) = (clip(1), clip(2));
        // Two tasks share clip a: it is stored once.
        let mut tasks = vec![with_clip(1, &a), with_clip(2, &a), with_clip(3, &b)]
            .into_iter()
            .map(Ok);
        let counts = store.import_tasks("shop", &mut tasks).unwrap();
        assert_eq!(counts.added, 3, "{}", backend.url);
        let mut again = vec![with_clip(1, &a)].into_iter().map(Ok);
        let counts = store.import_tasks("shop", &mut again).unwrap();
        assert_eq!(counts.already_present, 1);
        // The same task id with another clip is a different task.
        let mut other = vec![with_clip(1, &b)].into_iter().map(Ok);
        let clash = store.import_tasks("shop", &mut other);
        assert!(
            matches!(clash, Err(StoreError::TaskClash { .. })),
            "{clash:?}"
        );

        let who = worker(&*store, "amina");
        let reply = store.sync(&who, want(3), NOW).unwrap();
        let refs: Vec<Option<ClipRef>> = reply.leases.iter().map(|l| l.clip.clone()).collect();
        let expect = |c: &Clip| {
            Some(ClipRef {
                hash: c.hash.clone(),
                bytes: c.wire.len() as u64,
                ms: c.duration_ms,
            })
        };
        assert_eq!(refs, vec![expect(&a), expect(&a), expect(&b)]);

        assert_eq!(store.clip_wire(&a.hash).unwrap(), Some(a.wire.clone()));
        assert_eq!(
            store.clip_original(&b.hash).unwrap(),
            Some((b.original.clone(), "flac".to_string()))
        );
        assert_eq!(store.clip_wire(&clip(9).hash).unwrap(), None);
    });
}

#[test]
fn a_failed_import_stores_none_of_its_clips_and_tasks_without_audio_have_none() {
    on_every_backend(|backend, store| {
        store.put_project(&project(1), NOW).unwrap();
        let a = clip(3);
        let mut tasks =
            vec![Ok(with_clip(1, &a)), Err("line 2: broken file".to_string())].into_iter();
        assert!(store.import_tasks("shop", &mut tasks).is_err());
        assert_eq!(store.clip_wire(&a.hash).unwrap(), None, "{}", backend.url);

        import(&*store, "shop", 1).unwrap();
        let who = worker(&*store, "ben");
        let reply = store.sync(&who, want(1), NOW).unwrap();
        assert_eq!(reply.leases.len(), 1);
        assert_eq!(reply.leases[0].clip, None);
    });
}
