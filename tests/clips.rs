//! Clip delivery end to end over real HTTP on every backend: leases name their clip,
//! the client cache downloads it with Range requests, a download cut by the link resumes
//! where it stopped and is checked by hash, and clips are evicted once answers are
//! acknowledged.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/link.rs"]
mod link;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use harness::pg;
use kazi::client::{ClipCache, ClipError, Remote};
use kazi::media;
use kazi::model::{ClipRef, Role};
use kazi::server::store::NewTask;

fn fixture(name: &str) -> media::Clip {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/audio/clips")
        .join(name);
    media::ingest(&path).unwrap()
}

fn clip_ref(c: &media::Clip) -> ClipRef {
    ClipRef {
        hash: c.hash.clone(),
        bytes: c.wire.len() as u64,
        ms: c.duration_ms,
    }
}

async fn server_with_clips(
    server: &harness::TestServer,
    clips: &[media::Clip],
) -> (String, Vec<ClipRef>) {
    server.add_project(&harness::project(1));
    let tasks: Vec<NewTask> = clips
        .iter()
        .enumerate()
        .map(|(i, c)| NewTask {
            id: format!("a{i}"),
            text: format!("clip {i}"),
            suggestion: None,
            gold: None,
            gold_spec: None,
            prior: Vec::new(),
            clip: Some(c.clone()),
        })
        .collect();
    let mut stream = tasks.into_iter().map(Ok);
    server
        .blocking(|| server.store.import_tasks("shop", &mut stream))
        .unwrap();
    let token = server.enrol("amina", Role::Worker).await;
    let reply = server.want(&token, "shop", clips.len() as u32).await;
    let refs = reply
        .leases
        .iter()
        .map(|l| l.clip.clone().unwrap())
        .collect();
    (token, refs)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_download_resumes_where_it_stopped_and_is_checked() {
    let _ = pg::test_database("clip downloads");
    for server in harness::every_backend("clip downloads", |_| {}).await {
        let clip = fixture("sw-04.flac");
        let (token, refs) = server_with_clips(&server, std::slice::from_ref(&clip)).await;
        assert_eq!(refs, vec![clip_ref(&clip)], "{}", server.backend());
        let upstream = server.base.trim_start_matches("http://").parse().unwrap();
        // 16 kbit/s: the clip takes seconds, so the cut lands in the middle.
        let mut faults = link::Faults::clean();
        faults.bandwidth_bps = Some(16_000);
        let line = link::HostileLink::start(upstream, faults);
        let remote = Remote::new(&line.url(), &token).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = ClipCache::new(dir.path().join("clips"), 1 << 20);
        let part = dir.path().join("clips").join(format!("{}.part", clip.hash));

        let fetching = {
            let remote = remote.clone();
            let r = refs[0].clone();
            let dir = dir.path().join("clips");
            tokio::spawn(async move { ClipCache::new(dir, 1 << 20).fetch(&remote, &r).await })
        };
        let total = clip.wire.len() as u64;
        let mut waited = 0;
        while std::fs::metadata(&part).map_or(0, |m| m.len()) < total / 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += 1;
            assert!(waited < 1500, "no bytes arrived");
        }
        line.cut();
        let cut = fetching.await.unwrap();
        assert!(matches!(cut, Err(ClipError::Remote(_))), "{cut:?}");
        let kept = std::fs::metadata(&part).unwrap().len();
        assert!(kept > 0 && kept < total, "{kept} of {total}");
        assert!(!cache.has(&refs[0]));

        line.restore();
        line.reset_counters();
        cache.fetch(&remote, &refs[0]).await.unwrap();
        assert_eq!(cache.get(&refs[0]), Some(clip.wire.clone()));
        assert!(!part.exists());
        // Only the rest crossed the link (plus headers), not the clip again.
        let resumed = line.bytes_down();
        assert!(
            resumed < total - kept + 1000,
            "{resumed} bytes for {} left",
            total - kept
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_partial_downloads_are_dropped_and_fetched_again() {
    let server = harness::start().await;
    let clip = fixture("en-01.ogg");
    let (token, refs) = server_with_clips(&server, std::slice::from_ref(&clip)).await;
    let remote = Remote::new(&server.base, &token).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = ClipCache::new(dir.path().to_path_buf(), 1 << 20);
    let part = dir.path().join(format!("{}.part", clip.hash));
    std::fs::write(&part, vec![0u8; 100]).unwrap();
    let damaged = cache.fetch(&remote, &refs[0]).await;
    assert!(matches!(damaged, Err(ClipError::Damaged(_))), "{damaged:?}");
    assert!(!part.exists());
    cache.fetch(&remote, &refs[0]).await.unwrap();
    assert_eq!(cache.get(&refs[0]), Some(clip.wire.clone()));

    // Not a clip of this server, and not a clip name at all.
    let unknown = ClipRef {
        hash: media::clip_hash(b"nothing"),
        bytes: 10,
        ms: 1,
    };
    assert!(matches!(
        cache.fetch(&remote, &unknown).await,
        Err(ClipError::Remote(_))
    ));
    let bad = ClipRef {
        hash: "../../etc/passwd".into(),
        bytes: 10,
        ms: 1,
    };
    assert!(matches!(
        cache.fetch(&remote, &bad).await,
        Err(ClipError::BadName(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn prefetch_keeps_within_the_bound_and_retain_evicts() {
    let server = harness::start().await;
    let clips = [
        fixture("en-01.ogg"),
        fixture("fr-01.ogg"),
        fixture("hi-01.ogg"),
    ];
    let (token, refs) = server_with_clips(&server, &clips).await;
    let remote = Remote::new(&server.base, &token).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Room for the first two only.
    let bound = refs[0].bytes + refs[1].bytes + refs[2].bytes / 2;
    let cache = ClipCache::new(dir.path().to_path_buf(), bound);
    assert_eq!(cache.prefetch(&remote, &refs).await.unwrap(), 2);
    assert!(cache.has(&refs[0]) && cache.has(&refs[1]) && !cache.has(&refs[2]));
    assert!(cache.size() <= bound);
    // The first answer is acknowledged: its clip goes, the third now fits.
    let keep: HashSet<String> = refs[1..].iter().map(|r| r.hash.clone()).collect();
    assert_eq!(cache.retain(&keep).unwrap(), 1);
    assert!(!cache.has(&refs[0]));
    assert_eq!(cache.prefetch(&remote, &refs[1..]).await.unwrap(), 1);
    assert!(cache.has(&refs[2]));
}
