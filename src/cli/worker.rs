//! Worker-side commands: login, the work screen, headless sync and status.

use std::path::Path;

use anyhow::{Context, Result};

use kazi::client::{self, LocalStore, PlanConfig, Profile, Remote, SyncOutcome};
use kazi::model::{format_utc, sanitize_line};

pub fn login(server: &str, user: &str, code: &str, profile: &str) -> Result<()> {
    let home = client::kazi_home()?;
    let p = client::login(&home, profile, server, user, code)?;
    say!(
        "Logged in as {} ({}) on {}. Profile '{}' saved in {}.",
        sanitize_line(&p.user),
        p.role,
        sanitize_line(&p.server),
        p.name,
        p.dir.display()
    )?;
    if p.role == kazi::model::Role::Trainer {
        say!(
            "Next: kazi train --profile {} (lessons and classes)",
            p.name
        )?;
    } else if p.role.takes_tasks() {
        say!("Next: kazi work --profile {}", p.name)?;
    } else {
        say!(
            "The {} role does not take tasks; review with: kazi review --profile {}",
            p.role,
            p.name
        )?;
    }
    Ok(())
}

pub fn logout(profile: &str) -> Result<()> {
    let home = client::kazi_home()?;
    let p = client::logout(&home, profile)?;
    say!(
        "Logged {} out of profile '{}' on this computer. Your admin can sign this device \
         out on the server too: kazi admin --db URL user revoke {}",
        sanitize_line(&p.user),
        p.name,
        sanitize_line(&p.user)
    )?;
    Ok(())
}

pub fn load_profile(name: &str) -> Result<Profile> {
    let home = client::kazi_home()?;
    Ok(Profile::load(&home, name)?)
}

/// Read a keymap file over the default, or the default alone.
pub fn keymap(file: Option<&Path>) -> Result<kazi::tui::Keymap> {
    Ok(match file {
        Some(path) => kazi::tui::Keymap::load(path)?,
        None => kazi::tui::Keymap::default(),
    })
}

pub fn work(profile: &str, project: Option<String>, keymap_file: Option<&Path>) -> Result<()> {
    // The keymap first: a bad file is refused before anything else happens.
    let keymap = keymap(keymap_file)?;
    let profile = load_profile(profile)?;
    if !profile.role.takes_tasks() {
        anyhow::bail!(
            "{} is a {}: that role does not take tasks, so kazi work has none; \
             ask your admin for a worker account to answer tasks",
            sanitize_line(&profile.user),
            profile.role
        );
    }
    kazi::tui::local::work(&profile, project, keymap)
}

/// The trainer's screens for `profile` (role trainer or admin).
pub fn train(profile: &str, project: Option<String>, keymap_file: Option<&Path>) -> Result<()> {
    let keymap = keymap(keymap_file)?;
    let profile = load_profile(profile)?;
    check_trainer(&profile)?;
    kazi::tui::local::train(&profile, project, keymap)
}

/// Only trainers and admins present lessons and run classes.
pub fn check_trainer(profile: &Profile) -> Result<()> {
    if !matches!(
        profile.role,
        kazi::model::Role::Trainer | kazi::model::Role::Admin
    ) {
        anyhow::bail!(
            "{} is a {}: only trainers and admins present lessons and run classes; \
             ask your admin for the trainer role (kazi work trains you at your own pace)",
            sanitize_line(&profile.user),
            profile.role
        );
    }
    Ok(())
}

/// The reviewer's screen for `profile` (role reviewer or admin; the server enforces it).
pub fn review(profile: &str, project: Option<String>) -> Result<()> {
    let profile = load_profile(profile)?;
    if !matches!(
        profile.role,
        kazi::model::Role::Reviewer | kazi::model::Role::Admin
    ) {
        anyhow::bail!(
            "{} is a {}: only reviewers and admins review; ask your admin for the reviewer role",
            sanitize_line(&profile.user),
            profile.role
        );
    }
    kazi::tui::local::review::review(&profile, project, kazi::tui::Keymap::default())
}

/// Headless: send everything unsent, top up the cache (for `project` if given), print a summary.
pub fn sync(profile: &str, project: Option<&str>) -> Result<()> {
    let profile = load_profile(profile)?;
    let mut store = LocalStore::open(&profile.db_path())?;
    let remote = Remote::new(&profile.server, &profile.token)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let plan = PlanConfig {
        prefetch: profile.prefetch,
        ..PlanConfig::default()
    };
    let (mut sent, mut refused, mut fetched, mut rounds) = (0, Vec::new(), 0, 0);
    // Several rounds only when there is more than one sync's worth to send. The first
    // always reaches the server: "Synced" must mean the server answered.
    while rounds < 100 {
        rounds += 1;
        let outcome = rt
            .block_on(async {
                if rounds == 1 {
                    client::sync_asked(&remote, &mut store, project, plan).await
                } else {
                    client::sync_once(&remote, &mut store, project, plan).await
                }
            })
            .with_context(|| match store.counts(None) {
                Ok(c) => format!(
                    "sync failed ({} answers saved here, will send later)",
                    c.unsent
                ),
                Err(e) => format!("sync failed (unsent answers unknown: {e})"),
            })?;
        match outcome {
            SyncOutcome::Idle => break,
            SyncOutcome::Synced { applied, .. } => {
                sent += applied.stored;
                fetched += applied.new_tasks;
                refused.extend(applied.refused);
            }
        }
        if store.counts(None)?.unsent == 0 {
            break;
        }
    }
    if let Some(name) = project
        && !store.projects()?.iter().any(|p| p.name == name)
    {
        let names: Vec<String> = store
            .projects()?
            .iter()
            .map(|p| sanitize_line(&p.name).into_owned())
            .collect();
        anyhow::bail!(
            "the server has no project '{}' (projects: {}); check the name and run kazi sync --profile {} --project NAME",
            sanitize_line(name),
            if names.is_empty() {
                "none yet".to_string()
            } else {
                names.join(", ")
            },
            profile.name
        );
    }
    let counts = store.counts(project)?;
    say!(
        "Synced: {sent} answers sent, {} refused, {fetched} new tasks; {} unsent, {} tasks cached.",
        refused.len(),
        counts.unsent,
        counts.queued
    )?;
    for why in refused.iter().take(5) {
        say!("  refused: {}", sanitize_line(why))?;
    }
    Ok(())
}

pub fn status(profile: &str) -> Result<()> {
    let profile = load_profile(profile)?;
    let store = LocalStore::open(&profile.db_path())?;
    let counts = store.counts(None)?;
    say!(
        "Profile {} — {} ({}) on {}",
        profile.name,
        sanitize_line(&profile.user),
        profile.role,
        sanitize_line(&profile.server)
    )?;
    for p in store.projects()? {
        let c = store.counts(Some(&p.name))?;
        say!(
            "  project {}: {} tasks cached",
            sanitize_line(&p.name),
            c.queued
        )?;
    }
    for p in store.unreadable_projects()? {
        say!(
            "  project {}: cannot be read by this Kazi ({}); update Kazi or sync again",
            sanitize_line(&p.name),
            sanitize_line(&p.reason)
        )?;
    }
    say!("Unsent answers: {}", counts.unsent)?;
    if counts.refused > 0 {
        // Refused by the server, or set aside here as unreadable: each line says which.
        say!("Refused answers: {}", counts.refused)?;
        for (id, task, why) in store.refused(5)? {
            say!("  answer {id} (task {task}): {}", sanitize_line(&why))?;
        }
    }
    say!("Done today: {}", counts.done_today)?;
    match counts.last_sync {
        Some(t) => say!("Last sync: {} (server time)", format_utc(t))?,
        None => say!("Last sync: never")?,
    }
    Ok(())
}
