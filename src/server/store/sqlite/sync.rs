//! One sync round on SQLite, run inside the writer's transaction: expire old leases,
//! store answers (idempotent per device and client id), release skipped tasks, grant
//! new leases without over-assigning, and list the schemas the client lacks.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use super::catalogue::parse_schema;
use crate::model::{AnswerValue, Project};
use crate::protocol::{Ack, AckStatus, AnswerUpload, Lease, SyncRequest, SyncResponse};
use crate::quality::majority;
use crate::server::store::{Principal, StoreError};

/// The oldest an answer may claim to be: clients that were offline longer are dated by
/// their lease instead.
const MAX_AGO_SECS: i64 = 30 * 86_400;

pub(super) fn sync(
    conn: &Connection,
    who: &Principal,
    request: &SyncRequest,
    now: i64,
) -> Result<SyncResponse, StoreError> {
    expire_leases(conn, now)?;
    let mut projects = ProjectCache::default();
    let mut acks = Vec::with_capacity(request.answers.len());
    for answer in &request.answers {
        let status = store_answer(conn, &mut projects, who, answer, now)?;
        acks.push(Ack {
            id: answer.id,
            status,
        });
    }
    for &task in &request.released {
        release(conn, who, task)?;
    }

    let catalogue = list_projects(conn)?;
    let mut removed: Vec<String> = request
        .known
        .keys()
        .filter(|name| !catalogue.contains_key(name.as_str()))
        .cloned()
        .collect();
    // Leases of replies this device never applied come first, and count as granted.
    let mut leases = match request.seen {
        Some(seen) => unseen_leases(conn, who, seen)?,
        None => Vec::new(),
    };
    let reply = if leases.is_empty() && request.want.iter().all(|w| w.count == 0) {
        0
    } else {
        next_reply(conn, who)?
    };
    let mut retag =
        conn.prepare_cached("UPDATE leases SET reply = ?1 WHERE task_id = ?2 AND user_id = ?3")?;
    for lease in &leases {
        retag.execute(params![reply as i64, lease.task, who.user_id])?;
    }
    let mut budget = (crate::protocol::MAX_WANT_PER_SYNC as usize).saturating_sub(leases.len());
    for want in &request.want {
        let Some(entry) = catalogue.get(want.project.as_str()) else {
            if !removed.contains(&want.project) {
                removed.push(want.project.clone());
            }
            continue;
        };
        let resent = leases.iter().filter(|l| l.project == want.project).count();
        let count = (want.count as usize).saturating_sub(resent).min(budget);
        let granted = grant_leases(conn, who, &want.project, entry, count, now, reply)?;
        budget -= granted.len();
        leases.extend(granted);
    }
    let mut schemas = Vec::new();
    for (name, entry) in &catalogue {
        if request.known.get(name.as_str()) != Some(&entry.version) {
            schemas.push(projects.get_by_id(conn, entry.id)?.clone());
        }
    }

    Ok(SyncResponse {
        now,
        done_today: done_today(conn, who, now)?,
        acks,
        leases,
        projects: schemas,
        removed,
        reply,
    })
}

/// Live leases granted to this device in replies after `seen`, the last it applied: the
/// link lost those replies, so the device never had these tasks.
fn unseen_leases(conn: &Connection, who: &Principal, seen: u64) -> Result<Vec<Lease>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.task_id, p.name, t.text, t.suggestion, l.expires FROM leases l \
         JOIN tasks t ON t.id = l.task_id JOIN projects p ON p.id = t.project_id \
         WHERE l.device_id = ?1 AND l.live = 1 AND l.reply > ?2 ORDER BY l.task_id",
    )?;
    let rows = stmt.query_map(params![who.device_id, seen as i64], |r| {
        Ok(Lease {
            task: r.get(0)?,
            project: r.get(1)?,
            text: r.get(2)?,
            suggestion: r.get(3)?,
            expires: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The next reply number of this device.
fn next_reply(conn: &Connection, who: &Principal) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached("UPDATE devices SET replies = replies + 1 WHERE id = ?1 RETURNING replies")?
        .query_row([who.device_id], |r| r.get(0))?;
    Ok(n as u64)
}

/// Return expired leases' slots to the pool.
fn expire_leases(conn: &Connection, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE tasks SET open_slots = open_slots + \
           (SELECT COUNT(*) FROM leases l WHERE l.task_id = tasks.id AND l.live = 1 AND l.expires <= ?1) \
         WHERE id IN (SELECT task_id FROM leases WHERE live = 1 AND expires <= ?1)",
    )?
    .execute([now])?;
    conn.prepare_cached("UPDATE leases SET live = 0 WHERE live = 1 AND expires <= ?1")?
        .execute([now])?;
    Ok(())
}

struct CatalogueEntry {
    id: i64,
    version: String,
    lease_secs: i64,
}

fn list_projects(conn: &Connection) -> Result<BTreeMap<String, CatalogueEntry>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, name, version, lease_secs FROM projects")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(1)?,
            CatalogueEntry {
                id: r.get(0)?,
                version: r.get(2)?,
                lease_secs: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Parsed project schemas, loaded at most once per sync.
#[derive(Default)]
struct ProjectCache {
    by_id: HashMap<i64, Project>,
}

impl ProjectCache {
    fn get_by_id(&mut self, conn: &Connection, id: i64) -> Result<&Project, StoreError> {
        use std::collections::hash_map::Entry;
        match self.by_id.entry(id) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                let schema: String = conn
                    .prepare_cached("SELECT schema FROM projects WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))?;
                Ok(entry.insert(parse_schema(&schema)?))
            }
        }
    }
}

fn value_json(value: &AnswerValue) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Database(format!("answer does not serialise: {e}")))
}

/// Store one answer and say what became of it. SQL errors fail the whole sync (the
/// client resends); everything about the answer itself is a per-item status.
fn store_answer(
    conn: &Connection,
    projects: &mut ProjectCache,
    who: &Principal,
    answer: &AnswerUpload,
    now: i64,
) -> Result<AckStatus, StoreError> {
    // Client ids are u64 sequence numbers; stored bit for bit in SQLite's i64.
    let client_id = answer.id as i64;
    let value = value_json(&answer.value)?;
    let earlier: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT task_id, value FROM answers WHERE device_id = ?1 AND client_id = ?2",
        )?
        .query_row(params![who.device_id, client_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((task, stored)) = earlier {
        return Ok(if task == answer.task && stored == value {
            AckStatus::Dup
        } else {
            AckStatus::Conflict(format!(
                "answer id {} was already used for a different answer; the first one stands",
                answer.id
            ))
        });
    }

    let task: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT t.project_id, p.overlap FROM tasks t JOIN projects p ON p.id = t.project_id \
             WHERE t.id = ?1",
        )?
        .query_row([answer.task], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((project_id, overlap)) = task else {
        return Ok(AckStatus::Rejected(format!(
            "task {} does not exist",
            answer.task
        )));
    };
    if let Err(e) = projects
        .get_by_id(conn, project_id)?
        .validate(&answer.value)
    {
        return Ok(AckStatus::Rejected(e.to_string()));
    }
    let lease: Option<(i64, bool)> = conn
        .prepare_cached("SELECT granted, live FROM leases WHERE task_id = ?1 AND user_id = ?2")?
        .query_row(params![answer.task, who.user_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((granted, live)) = lease else {
        return Ok(AckStatus::Rejected(format!(
            "task {} was never given to you",
            answer.task
        )));
    };

    // A correction replaces this device's earlier answer to the same task.
    let mut replaced = None;
    if let Some(old) = answer.replaces {
        let old_answer: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT id, task_id FROM answers \
                 WHERE device_id = ?1 AND client_id = ?2 AND superseded_by IS NULL",
            )?
            .query_row(params![who.device_id, old as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match old_answer {
            Some((id, task)) if task == answer.task => replaced = Some(id),
            Some(_) => {
                return Ok(AckStatus::Rejected(format!(
                    "answer {old} that this corrects is for another task"
                )));
            }
            // The earlier answer never got stored (or was replaced already): this one
            // simply stands as the worker's answer.
            None => {}
        }
    }
    if replaced.is_none() {
        let answered: bool = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM answers \
                 WHERE task_id = ?1 AND user_id = ?2 AND superseded_by IS NULL)",
            )?
            .query_row(params![answer.task, who.user_id], |r| r.get(0))?;
        if answered {
            return Ok(AckStatus::Rejected(format!(
                "you already answered task {}; send a correction to change it",
                answer.task
            )));
        }
    }

    let ago = i64::from(answer.ago).min(MAX_AGO_SECS);
    let at = (now - ago).max(granted).min(now);
    conn.prepare_cached(
        "INSERT INTO answers (device_id, client_id, task_id, user_id, value, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        who.device_id,
        client_id,
        answer.task,
        who.user_id,
        value,
        at
    ])?;
    let answer_id = conn.last_insert_rowid();
    match replaced {
        Some(old_id) => {
            conn.prepare_cached("UPDATE answers SET superseded_by = ?1 WHERE id = ?2")?
                .execute(params![answer_id, old_id])?;
        }
        None => {
            // A live lease hands its slot to the answer; a late answer (lease expired or
            // released) takes a slot of its own: it is credited even past the overlap.
            let slot_taken = if live { 0 } else { 1 };
            conn.prepare_cached(
                "UPDATE tasks SET counted = counted + 1, open_slots = open_slots - ?1 WHERE id = ?2",
            )?
            .execute(params![slot_taken, answer.task])?;
            if live {
                conn.prepare_cached(
                    "UPDATE leases SET live = 0 WHERE task_id = ?1 AND user_id = ?2",
                )?
                .execute(params![answer.task, who.user_id])?;
            }
        }
    }
    decide(conn, answer.task, overlap)?;
    Ok(AckStatus::Ok)
}

/// Once a task has all its answers, store the majority's value and agreement.
pub(super) fn decide(conn: &Connection, task: i64, overlap: i64) -> Result<(), StoreError> {
    let counted: i64 = conn
        .prepare_cached("SELECT counted FROM tasks WHERE id = ?1")?
        .query_row([task], |r| r.get(0))?;
    if counted < overlap {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT value FROM answers WHERE task_id = ?1 AND superseded_by IS NULL ORDER BY id",
    )?;
    let values = stmt
        .query_map([task], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let compact = values
        .iter()
        .map(|v| {
            serde_json::from_str::<AnswerValue>(v)
                .map(|a| a.to_compact())
                .map_err(|e| StoreError::Database(format!("stored answer does not parse: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let decision = majority(compact.iter().map(String::as_str));
    conn.prepare_cached("UPDATE tasks SET decided = ?1, agreement = ?2 WHERE id = ?3")?
        .execute(params![decision.value, decision.agreement, task])?;
    Ok(())
}

/// The worker skipped the task: its slot goes back and it is not offered to them again.
fn release(conn: &Connection, who: &Principal, task: i64) -> Result<(), StoreError> {
    let live: Option<bool> = conn
        .prepare_cached("SELECT live FROM leases WHERE task_id = ?1 AND user_id = ?2")?
        .query_row(params![task, who.user_id], |r| r.get(0))
        .optional()?;
    let Some(live) = live else {
        // Never leased to this worker: nothing to give back.
        return Ok(());
    };
    conn.prepare_cached(
        "UPDATE leases SET live = 0, released = 1 WHERE task_id = ?1 AND user_id = ?2",
    )?
    .execute(params![task, who.user_id])?;
    if live {
        conn.prepare_cached("UPDATE tasks SET open_slots = open_slots + 1 WHERE id = ?1")?
            .execute([task])?;
    }
    Ok(())
}

/// Tasks of project ?1 that user ?2 may lease, in import order, at most ?3. Walks the
/// partial index of tasks with open slots, so leased and finished tasks cost nothing.
const PICK_TASKS: &str = "SELECT t.id, t.text, t.suggestion FROM tasks t \
     WHERE t.project_id = ?1 AND t.open_slots > 0 \
       AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = ?2) \
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = ?2 \
                       AND (l.live = 1 OR l.released = 1)) \
     ORDER BY t.id LIMIT ?3";

/// Lease up to `count` tasks in import order that this worker has not answered, holds,
/// or skipped, and that still have an open slot.
fn grant_leases(
    conn: &Connection,
    who: &Principal,
    project: &str,
    entry: &CatalogueEntry,
    count: usize,
    now: i64,
    reply: u64,
) -> Result<Vec<Lease>, StoreError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let expires = now.saturating_add(entry.lease_secs);
    let mut pick = conn.prepare_cached(PICK_TASKS)?;
    let picked = pick
        .query_map(params![entry.id, who.user_id, count as i64], |r| {
            Ok(Lease {
                task: r.get(0)?,
                project: project.to_string(),
                text: r.get(1)?,
                suggestion: r.get(2)?,
                expires,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut hold = conn.prepare_cached(
        "INSERT INTO leases (task_id, user_id, granted, expires, live, device_id, reply) \
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6) \
         ON CONFLICT (task_id, user_id) DO UPDATE SET granted = excluded.granted, \
           expires = excluded.expires, live = 1, device_id = excluded.device_id, \
           reply = excluded.reply",
    )?;
    let mut take_slot =
        conn.prepare_cached("UPDATE tasks SET open_slots = open_slots - 1 WHERE id = ?1")?;
    for lease in &picked {
        hold.execute(params![
            lease.task,
            who.user_id,
            now,
            expires,
            who.device_id,
            reply as i64
        ])?;
        take_slot.execute([lease.task])?;
    }
    Ok(picked)
}

fn done_today(conn: &Connection, who: &Principal, now: i64) -> Result<u32, StoreError> {
    let day_start = now - now.rem_euclid(86_400);
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM answers WHERE user_id = ?1 AND at >= ?2 AND superseded_by IS NULL",
        )?
        .query_row(params![who.user_id, day_start], |r| r.get(0))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::protocol::Want;
    use crate::server::store::{NewTask, SqliteStore, Store};

    fn principal(store: &SqliteStore, name: &str) -> Principal {
        let code = [1u8; 32];
        let token = crate::server::secret::hash_token(name);
        store
            .put_user(name, Role::Worker, &code, i64::MAX, 0)
            .unwrap();
        store.redeem_enrolment(name, &code, "d", &token, 0).unwrap();
        store.authenticate(&token).unwrap().unwrap()
    }

    fn want(n: u32) -> SyncRequest {
        SyncRequest {
            want: vec![Want {
                project: "p".into(),
                count: n,
            }],
            ..SyncRequest::default()
        }
    }

    fn answer(id: u64, task: i64) -> AnswerUpload {
        AnswerUpload {
            id,
            task,
            value: AnswerValue::Labels(vec!["a".into()]),
            ago: 0,
            replaces: None,
        }
    }

    /// open_slots must always equal overlap - counted answers - live leases.
    fn assert_slots_consistent(store: &SqliteStore) {
        let bad: i64 = store
            .read(|conn| {
                Ok(conn.query_row(
                    "SELECT COUNT(*) FROM tasks t JOIN projects p ON p.id = t.project_id \
                     WHERE t.open_slots != p.overlap - t.counted \
                       - (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.live = 1)",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(bad, 0, "open_slots drifted");
    }

    #[test]
    fn lease_selection_keeps_its_books() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let project = Project::from_toml(
            "p.toml",
            "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\noverlap = 2\nlease = \"1h\"\n\
             [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n",
        )
        .unwrap();
        store.put_project(&project, 0).unwrap();
        let mut tasks = (1..=4).map(|i| {
            Ok(NewTask {
                id: format!("t{i}"),
                text: format!("task {i}"),
                suggestion: None,
                gold: None,
            })
        });
        store.import_tasks("p", &mut tasks).unwrap();
        let (x, y, z) = (
            principal(&store, "x"),
            principal(&store, "y"),
            principal(&store, "z"),
        );
        let now = 1_000_000;

        let xs = store.sync(&x, want(3), now).unwrap().leases;
        let ids: Vec<i64> = xs.iter().map(|l| l.task).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "import order");
        assert_slots_consistent(&store);

        // x answers one, releases one, keeps one.
        let mut req = want(0);
        req.answers = vec![answer(1, ids[0])];
        req.released = vec![ids[1]];
        store.sync(&x, req, now).unwrap();
        assert_slots_consistent(&store);
        let again = store.sync(&x, want(10), now).unwrap().leases;
        assert_eq!(again.len(), 1, "only the fourth task is new to x");
        assert_slots_consistent(&store);

        // y and z fill the remaining slots: 8 slots - x's answer - x's 2 live leases.
        let ys = store.sync(&y, want(10), now).unwrap().leases.len();
        let zs = store.sync(&z, want(10), now).unwrap().leases.len();
        assert_eq!(ys + zs, 5);
        assert_slots_consistent(&store);

        // Everything expires; late answers and releases keep the books right.
        let later = now + 3601;
        let mut late = want(0);
        late.answers = vec![answer(2, ids[2])];
        store.sync(&x, late, later).unwrap();
        assert_slots_consistent(&store);
        let fresh = store.sync(&z, want(10), later).unwrap();
        assert!(!fresh.leases.is_empty(), "expired leases went back");
        assert_slots_consistent(&store);
    }

    #[test]
    fn lease_query_walks_the_open_task_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let plan: Vec<String> = store
            .read(|conn| {
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {PICK_TASKS}"))?;
                let rows = stmt.query_map(params![1, 1, 5], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap();
        assert!(
            plan.iter().any(|p| p.contains("tasks_open")),
            "plan: {plan:?}"
        );
        assert!(
            !plan.iter().any(|p| p.contains("TEMP B-TREE")),
            "plan: {plan:?}"
        );
    }
}
