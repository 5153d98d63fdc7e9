//! Key sequences on the App state machine: what answers come out, what shows next.

mod tui_common;

use kazi::model::AnswerValue;
use kazi::tui::screen::classify::{LOW_WATER, Preselect};
use kazi::tui::{App, Effect, Event, Keymap, Link, ScreenId, Status, Tally, Theme};
use tui_common::*;

fn labels(ids: &[&str]) -> AnswerValue {
    AnswerValue::Labels(ids.iter().map(|s| s.to_string()).collect())
}

fn saved(fx: &[Effect]) -> Vec<(i64, AnswerValue)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Save { task, value } => Some((task.id, value.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn one_key_answers_and_the_next_task_shows() {
    let mut app = app_with(products(), 1..31);
    assert_eq!(app.screen(), ScreenId::Classify);
    assert_eq!(shown(&app), Some(1));
    let fx = press(&mut app, "1 1 2");
    assert_eq!(
        saved(&fx),
        vec![
            (1, labels(&["food"])),
            (2, labels(&["food"])),
            (3, labels(&["drinks"]))
        ]
    );
    assert_eq!(shown(&app), Some(4));
    assert_eq!(classify(&app).queue().len(), 26);
    assert!(app.take_redraw());
    assert!(!app.take_redraw(), "redraw is reported once");
}

#[test]
fn undo_asks_the_runtime_and_restores_the_previous_labels() {
    let mut app = app_with(products(), 1..31);
    let fx = press(&mut app, "1 1 2 backspace");
    assert_eq!(saved(&fx).len(), 3);
    assert_eq!(
        fx.last(),
        Some(&Effect::Undo {
            project: "products".into()
        })
    );
    // Nothing changes until the runtime has taken the answer back.
    assert_eq!(shown(&app), Some(4));
    let back = task(3, "products", TITLES[3]);
    app.handle(Event::Undone(Some((back, labels(&["drinks"])))));
    let current = current(&app).unwrap();
    assert_eq!(current.task.id, 3);
    assert_eq!(current.preselect, Some(Preselect::Previous));
    assert!(current.selected[1], "drinks preselected");
    assert_eq!(current.selected.iter().filter(|s| **s).count(), 1);
    assert_eq!(
        classify(&app).queue().front().map(|t| t.id),
        Some(4),
        "task 4 waits in front"
    );
    // Enter accepts the previous answer again; another key changes it.
    let fx = press(&mut app, "enter");
    assert_eq!(saved(&fx), vec![(3, labels(&["drinks"]))]);
    assert_eq!(shown(&app), Some(4));
}

#[test]
fn undo_with_nothing_to_undo_says_so() {
    let mut app = app_with(products(), 1..31);
    app.handle(Event::Undone(None));
    assert_eq!(app.message(), Some("nothing to undo"));
    assert_eq!(shown(&app), Some(1));
}

#[test]
fn undone_task_already_reloaded_is_not_held_twice() {
    let mut app = app_with(products(), 1..31);
    press(&mut app, "1");
    // The store put task 1 back and a reload sent it before the Undone event.
    app.handle(Event::Tasks(vec![task(1, "products", "again")]));
    app.handle(Event::Undone(Some((
        task(1, "products", "x"),
        labels(&["food"]),
    ))));
    assert_eq!(shown(&app), Some(1));
    let ids: Vec<i64> = classify(&app).queue().iter().map(|t| t.id).collect();
    assert_eq!(ids.iter().filter(|&&i| i == 1).count(), 0, "{ids:?}");
    assert_eq!(ids[0], 2);
}

#[test]
fn skip_moves_on_without_an_answer() {
    let mut app = app_with(products(), 1..31);
    let fx = press(&mut app, "tab");
    assert!(matches!(&fx[..], [Effect::Skip { task }] if task.id == 1));
    assert_eq!(shown(&app), Some(2));
}

#[test]
fn quit_is_an_effect() {
    let mut app = app_with(products(), 1..31);
    assert_eq!(press(&mut app, "ctrl-q"), vec![Effect::Quit]);
    assert_eq!(press(&mut app, "ctrl-c"), vec![Effect::Quit]);
}

#[test]
fn tasks_are_never_held_twice_and_other_projects_are_ignored() {
    let mut app = app_with(products(), 1..21);
    app.handle(Event::Tasks(tasks("products", 15..25)));
    app.handle(Event::Tasks(tasks("elsewhere", 100..105)));
    let mut ids: Vec<i64> = classify(&app).queue().iter().map(|t| t.id).collect();
    ids.insert(0, shown(&app).unwrap());
    assert_eq!(ids, (1..25).collect::<Vec<_>>());
}

#[test]
fn a_short_queue_asks_for_more_once() {
    let mut app = app_with(products(), 1..16);
    // 15 loaded: one shown, 14 queued. Answering 5 leaves 9 queued: ask once.
    let fx = press(&mut app, "1 1 1 1");
    assert!(!fx.iter().any(|e| matches!(e, Effect::WantTasks { .. })));
    let fx = press(&mut app, "1");
    assert_eq!(classify(&app).queue().len(), LOW_WATER - 1);
    assert!(fx.contains(&Effect::WantTasks {
        project: "products".into(),
        queued: LOW_WATER
    }));
    let fx = press(&mut app, "1 1");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::WantTasks { .. })),
        "still waiting"
    );
    // The answer came (possibly empty): the next short queue asks again.
    app.handle(Event::Tasks(vec![]));
    let fx = press(&mut app, "1");
    assert!(fx.iter().any(|e| matches!(e, Effect::WantTasks { .. })));
}

#[test]
fn the_last_task_answered_leaves_the_empty_state_until_tasks_come() {
    let mut app = app_with(products(), 1..3);
    press(&mut app, "1 2");
    assert_eq!(shown(&app), None);
    let fx = press(&mut app, "1");
    assert!(saved(&fx).is_empty(), "no task, no answer");
    assert_eq!(app.message(), Some("no task to answer yet"));
    app.handle(Event::Tasks(tasks("products", 3..5)));
    assert_eq!(shown(&app), Some(3));
}

#[test]
fn a_suggestion_is_preselected_and_enter_accepts_it() {
    let mut app = app_with(products(), 1..1);
    let mut t = task(7, "products", "Tecno Spark 10");
    t.suggestion = Some("phones".into());
    app.handle(Event::Tasks(vec![t, task(8, "products", "Sukari")]));
    let current = current(&app).unwrap();
    assert_eq!(current.preselect, Some(Preselect::Suggested));
    assert!(current.selected[3]);
    assert_eq!(
        saved(&press(&mut app, "enter")),
        vec![(7, labels(&["phones"]))]
    );
    // Without a suggestion, enter alone does not answer.
    let fx = press(&mut app, "enter");
    assert!(saved(&fx).is_empty());
    assert_eq!(app.message(), Some("press a label key to answer"));
    assert_eq!(shown(&app), Some(8));
}

#[test]
fn a_suggestion_can_be_overridden_with_one_key() {
    let mut app = app_with(products(), 1..1);
    let mut t = task(7, "products", "Tecno Spark 10");
    t.suggestion = Some("phones".into());
    app.handle(Event::Tasks(vec![t]));
    assert_eq!(
        saved(&press(&mut app, "5")),
        vec![(7, labels(&["electronics"]))]
    );
}

#[test]
fn multi_label_keys_toggle_and_submit_sends() {
    let mut app = app_with(multi_products(), 1..31);
    let fx = press(&mut app, "1 2 3 2");
    // Toggles only keep a draft; nothing is answered yet.
    assert!(
        fx.iter()
            .all(|e| matches!(e, Effect::SaveDraft { task: 1, .. })),
        "{fx:?}"
    );
    assert_eq!(
        fx.last(),
        Some(&Effect::SaveDraft {
            task: 1,
            value: labels(&["food", "beauty"])
        })
    );
    let selected = &current(&app).unwrap().selected;
    assert_eq!(&selected[..4], &[true, false, true, false]);
    let fx = press(&mut app, "enter");
    assert_eq!(saved(&fx), vec![(1, labels(&["food", "beauty"]))]);
    assert_eq!(shown(&app), Some(2));
    assert!(!current(&app).unwrap().selected.contains(&true));
}

#[test]
fn multi_label_refuses_an_empty_answer() {
    let mut app = app_with(multi_products(), 1..31);
    let fx = press(&mut app, "1 1 enter");
    assert!(saved(&fx).is_empty());
    assert_eq!(app.message(), Some("no label chosen: pick at least one"));
    assert_eq!(shown(&app), Some(1));
}

#[test]
fn multi_label_suggestion_is_pretoggled() {
    let mut app = app_with(multi_products(), 1..1);
    let mut t = task(9, "tags", "Baby food 400g");
    t.suggestion = Some("baby".into());
    app.handle(Event::Tasks(vec![t]));
    assert_eq!(
        saved(&press(&mut app, "1 enter")),
        vec![(9, labels(&["food", "baby"]))]
    );
}

#[test]
fn multi_label_undo_restores_every_label() {
    let mut app = app_with(multi_products(), 1..31);
    app.handle(Event::Undone(Some((
        task(99, "tags", "x"),
        labels(&["food", "farm"]),
    ))));
    let sel = &current(&app).unwrap().selected;
    assert!(sel[0] && sel[8]);
    assert_eq!(sel.iter().filter(|s| **s).count(), 2);
}

#[test]
fn help_toggles_and_blocks_answers_while_open() {
    let mut app = app_with(products(), 1..31);
    app.take_redraw();
    press(&mut app, "?");
    assert!(app.help_open());
    assert!(app.take_redraw());
    let fx = press(&mut app, "1");
    assert!(fx.is_empty(), "no blind answers under the help");
    assert!(!app.take_redraw());
    press(&mut app, "esc");
    assert!(!app.help_open());
    press(&mut app, "f1 f1");
    assert!(!app.help_open());
    press(&mut app, "f1");
    assert_eq!(press(&mut app, "ctrl-q"), vec![Effect::Quit]);
}

#[test]
fn unknown_keys_explain_themselves() {
    let mut app = app_with(products(), 1..31);
    press(&mut app, "x");
    assert_eq!(app.message(), Some("key x does nothing here; ? shows help"));
    press(&mut app, "alt-1");
    assert_eq!(
        app.message(),
        Some("key alt-1 does nothing here; ? shows help")
    );
    assert_eq!(shown(&app), Some(1));
}

#[test]
fn caps_lock_is_suspected_for_a_label_in_the_other_case() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    let p = kazi::model::Project::from_toml(
        "l.toml",
        "name=\"l\"\ntitle=\"L\"\nkind=\"classify\"\n[[labels]]\nid=\"a\"\nname=\"A\"\nkey=\"a\"\n",
    )
    .unwrap();
    app.handle(Event::Projects(vec![p]));
    app.handle(Event::Tasks(tasks("l", 1..3)));
    press(&mut app, "A");
    assert!(
        app.message().unwrap().contains("caps lock"),
        "{:?}",
        app.message()
    );
}

#[test]
fn several_projects_show_the_picker() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    let fx = app.handle(Event::Projects(vec![products(), multi_products()]));
    assert!(fx.is_empty());
    assert_eq!(app.screen(), ScreenId::Picker);
    // Arrows and enter...
    assert!(press(&mut app, "down up up").is_empty());
    assert_eq!(app.picker().cursor(), 0);
    press(&mut app, "down");
    let fx = press(&mut app, "enter");
    assert_eq!(fx[0], Effect::ChooseProject("tags".into()));
    assert_eq!(classify(&app).project().name, "tags");
    // ...or a number.
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![products(), multi_products()]));
    assert!(press(&mut app, "7").is_empty(), "no project 7");
    let fx = press(&mut app, "1");
    assert_eq!(fx[0], Effect::ChooseProject("products".into()));
}

#[test]
fn a_preferred_project_is_chosen_or_explained() {
    let mut app = App::new(Keymap::default(), Theme::default(), Some("tags".into()));
    let fx = app.handle(Event::Projects(vec![products(), multi_products()]));
    assert_eq!(fx[0], Effect::ChooseProject("tags".into()));
    let mut app = App::new(Keymap::default(), Theme::default(), Some("nope".into()));
    let fx = app.handle(Event::Projects(vec![products(), multi_products()]));
    assert!(fx.is_empty());
    assert_eq!(app.screen(), ScreenId::Picker);
    assert!(app.message().unwrap().contains("no project named nope"));
}

#[test]
fn a_preferred_project_waits_for_the_first_schemas() {
    // First run: the local store has no schemas until the first sync brings them.
    let mut app = App::new(Keymap::default(), Theme::default(), Some("tags".into()));
    assert!(app.handle(Event::Projects(vec![])).is_empty());
    assert_eq!(
        app.message(),
        None,
        "no complaint while waiting for the server"
    );
    let fx = app.handle(Event::Projects(vec![products(), multi_products()]));
    assert_eq!(fx[0], Effect::ChooseProject("tags".into()));
}

#[test]
fn a_schema_update_keeps_the_worker_in_place() {
    let mut app = app_with(products(), 1..31);
    press(&mut app, "1");
    let fx = app.handle(Event::Projects(vec![multi_products(), products()]));
    assert!(fx.is_empty());
    assert_eq!(classify(&app).project().name, "products");
    assert_eq!(shown(&app), Some(2));
}

#[test]
fn status_changes_redraw_only_when_different() {
    let mut app = app_with(products(), 1..31);
    app.take_redraw();
    let status = Status {
        link: Link::Offline,
        counts: Some(Tally {
            unsent: 3,
            done_today: 12,
            cached: 40,
        }),
    };
    app.handle(Event::Status(status));
    assert!(app.take_redraw());
    app.handle(Event::Status(status));
    assert!(!app.take_redraw());
    assert_eq!(app.status(), status);
}

#[test]
fn a_label_key_bound_to_an_action_is_reported_on_choosing() {
    let km = Keymap::from_toml("mine.toml", "[classify]\n\"1\" = \"skip\"\n").unwrap();
    let mut app = App::new(km, Theme::default(), None);
    app.handle(Event::Projects(vec![products()]));
    let m = app.message().unwrap();
    assert!(
        m.starts_with("mine.toml:2: key '1' is label 'Food & groceries'"),
        "{m}"
    );
}

#[test]
fn esc_clears_the_message_quietly() {
    let mut app = app_with(products(), 1..31);
    press(&mut app, "x");
    assert!(app.message().is_some());
    assert!(press(&mut app, "esc").is_empty());
    assert_eq!(app.message(), None);
    assert_eq!(shown(&app), Some(1));
}

#[test]
fn the_app_can_move_to_an_ssh_session_thread() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<App>();
}

#[test]
fn multi_label_toggles_are_saved_as_drafts_and_drafts_come_back() {
    let mut app = app_with(multi_products(), 1..31);
    let fx = press(&mut app, "1 3");
    let drafts: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::SaveDraft { task, value } => Some((*task, value.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(drafts.len(), 2, "one draft per toggle: {fx:?}");
    assert_eq!(drafts[1].0, 1);
    let AnswerValue::Labels(ids) = &drafts[1].1 else {
        panic!("a classify draft holds labels");
    };
    assert_eq!(ids.len(), 2, "the second draft holds both choices");

    // A draft for a task further down the queue waits until that task is on screen.
    let labels = vec![multi_products().labels[1].id.clone()];
    app.handle(Event::Draft {
        task: 2,
        value: AnswerValue::Labels(labels),
    });
    assert_eq!(shown(&app), Some(1));
    press(&mut app, "enter");
    assert_eq!(shown(&app), Some(2));
    let selected = &current(&app).unwrap().selected;
    assert!(
        selected[1] && selected.iter().filter(|s| **s).count() == 1,
        "{selected:?}"
    );
}

/// A project whose label key `?` is also the default keymap's help key.
fn question_project() -> kazi::model::Project {
    kazi::model::Project::from_toml(
        "quiz.toml",
        "name=\"quiz\"\ntitle=\"Quiz\"\nkind=\"classify\"\n[[labels]]\nid=\"yes\"\nname=\"Yes\"\nkey=\"y\"\n[[labels]]\nid=\"unsure\"\nname=\"Unsure\"\nkey=\"?\"\n",
    )
    .unwrap()
}

#[test]
fn a_project_whose_label_key_clashes_stays_closed_and_others_keep_working() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![question_project(), products()]));
    assert_eq!(app.screen(), ScreenId::Picker);
    let fx = press(&mut app, "1");
    assert!(fx.is_empty(), "nothing opened: {fx:?}");
    assert_eq!(app.screen(), ScreenId::Picker, "stays on the picker");
    let m = app.message().unwrap().to_string();
    assert!(m.starts_with("keymaps/default.toml:"), "{m}");
    for part in [
        "key '?'",
        "project quiz",
        "bound to help",
        "\"?\" = \"none\"",
    ] {
        assert!(m.contains(part), "{part} in {m}");
    }
    // The other project opens as ever.
    let fx = press(&mut app, "2");
    assert_eq!(fx[0], Effect::ChooseProject("products".into()));
    assert_eq!(app.screen(), ScreenId::Classify);
}

#[test]
fn a_clashing_project_asked_for_or_alone_is_not_opened() {
    let mut app = App::new(Keymap::default(), Theme::default(), Some("quiz".into()));
    assert!(
        app.handle(Event::Projects(vec![question_project(), products()]))
            .is_empty()
    );
    assert_eq!(app.screen(), ScreenId::Picker);
    assert!(app.message().unwrap().contains("project quiz"));
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    assert!(
        app.handle(Event::Projects(vec![question_project()]))
            .is_empty()
    );
    assert_eq!(app.screen(), ScreenId::Picker);
}

#[test]
fn a_schema_update_that_brings_a_clash_closes_the_project_with_a_message() {
    let mut app = app_with(products(), 1..31);
    let mut updated = products();
    updated.labels[0].key = '?';
    app.handle(Event::Projects(vec![updated, multi_products()]));
    assert_eq!(app.screen(), ScreenId::Picker);
    assert!(
        app.message().unwrap().contains("key '?'"),
        "{:?}",
        app.message()
    );
}

#[test]
fn an_overlay_is_a_layer_over_the_screen() {
    let mut app = app_with(products(), 1..31);
    press(&mut app, "?");
    assert_eq!(
        app.overlays(),
        &[kazi::tui::overlay::Overlay::Help { scroll: 0 }]
    );
    assert_eq!(
        app.screen(),
        ScreenId::Classify,
        "the screen stays under it"
    );
    press(&mut app, "esc");
    assert!(app.overlays().is_empty());
}

#[test]
fn a_paste_on_the_label_screen_answers_nothing() {
    let mut app = app_with(products(), 1..31);
    let fx = app.handle(Event::Paste("1 1 2\n".into()));
    assert!(saved(&fx).is_empty(), "{fx:?}");
    assert_eq!(shown(&app), Some(1));
    assert!(
        app.message()
            .is_some_and(|m| m.contains("only in a text field")),
        "{:?}",
        app.message()
    );
}
