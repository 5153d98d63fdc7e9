//! Keymap files: parsing, overlay on the default, and refusals with file:line.

use kazi::model::Project;
use kazi::tui::{Action, Key, Keymap, Mode};

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn refused(text: &str) -> String {
    Keymap::from_toml("keymaps/x.toml", text)
        .unwrap_err()
        .to_string()
}

#[test]
fn default_keymap_binds_the_basics() {
    let km = Keymap::default();
    assert_eq!(
        km.action(Mode::Classify, key("backspace")),
        Some(Action::Undo)
    );
    assert_eq!(km.action(Mode::Classify, key("ctrl-z")), Some(Action::Undo));
    assert_eq!(
        km.action(Mode::Classify, key("enter")),
        Some(Action::Submit)
    );
    assert_eq!(km.action(Mode::Classify, key("tab")), Some(Action::Skip));
    // Global keys work in every mode.
    assert_eq!(km.action(Mode::Classify, key("ctrl-q")), Some(Action::Quit));
    assert_eq!(km.action(Mode::Train, key("?")), Some(Action::Help));
    assert_eq!(km.action(Mode::Classify, key("1")), None);
}

#[test]
fn default_keymap_leaves_printable_keys_to_labels() {
    // Label keys are printable ASCII; only '?' (help) is taken, in global.
    let km = Keymap::default();
    for mode in [Mode::Global, Mode::Classify] {
        for b in km.bindings(mode) {
            if let Some(c) = b.key.plain_char() {
                assert_eq!(
                    (mode, c),
                    (Mode::Global, '?'),
                    "{} takes a printable key",
                    b.key
                );
            }
        }
    }
}

#[test]
fn shipped_keymaps_parse() {
    let root = env!("CARGO_MANIFEST_DIR");
    for file in ["keymaps/default.toml", "keymaps/vim.toml"] {
        let km = Keymap::load(&std::path::Path::new(root).join(file));
        assert!(km.is_ok(), "{file}: {}", km.unwrap_err());
    }
    let vim = Keymap::load(&std::path::Path::new(root).join("keymaps/vim.toml")).unwrap();
    assert_eq!(vim.action(Mode::Classify, key("u")), Some(Action::Undo));
    // What vim.toml does not name keeps the default.
    assert_eq!(
        vim.action(Mode::Classify, key("ctrl-z")),
        Some(Action::Undo)
    );
}

#[test]
fn a_user_file_overlays_the_default() {
    let km = Keymap::from_toml(
        "mine.toml",
        r#"
[classify]
"ctrl-u" = "undo"
"tab" = "submit"
"backspace" = "none"
"#,
    )
    .unwrap();
    assert_eq!(km.action(Mode::Classify, key("ctrl-u")), Some(Action::Undo));
    assert_eq!(km.action(Mode::Classify, key("tab")), Some(Action::Submit));
    assert_eq!(km.action(Mode::Classify, key("backspace")), None);
    // Not named: default kept.
    assert_eq!(km.action(Mode::Classify, key("ctrl-z")), Some(Action::Undo));
    assert_eq!(km.action(Mode::Global, key("ctrl-q")), Some(Action::Quit));
    // Help lists come from the active keymap.
    let undo_keys = km.keys_for(Mode::Classify, Action::Undo);
    assert_eq!(undo_keys, vec![key("ctrl-u"), key("ctrl-z")]);
    assert!(km.keys_for(Mode::Classify, Action::Skip).is_empty());
}

#[test]
fn a_mode_key_hides_the_same_global_key_in_help() {
    let km = Keymap::from_toml("mine.toml", "[classify]\n\"ctrl-q\" = \"skip\"\n").unwrap();
    assert_eq!(km.action(Mode::Classify, key("ctrl-q")), Some(Action::Skip));
    assert_eq!(
        km.keys_for(Mode::Classify, Action::Quit),
        vec![key("ctrl-c")]
    );
}

#[test]
fn unknown_action_is_refused_with_line_and_key() {
    let e = refused("[global]\n\"f1\" = \"help\"\n\"ctrl-x\" = \"explode\"\n");
    assert!(e.starts_with("keymaps/x.toml:3: "), "{e}");
    assert!(e.contains("\"explode\"") && e.contains("\"ctrl-x\""), "{e}");
}

#[test]
fn unparseable_key_is_refused_with_line() {
    let e = refused("\n[classify]\n\"hyper-q\" = \"quit\"\n");
    assert!(e.starts_with("keymaps/x.toml:3: "), "{e}");
    assert!(e.contains("'hyper-q'"), "{e}");
}

#[test]
fn unknown_mode_is_refused_with_line() {
    let e = refused("[global]\n\"f1\" = \"help\"\n\n[clasify]\n\"f2\" = \"hint\"\n");
    assert!(e.starts_with("keymaps/x.toml:4: "), "{e}");
    assert!(e.contains("[clasify]"), "{e}");
}

#[test]
fn two_spellings_of_one_key_are_refused() {
    let e = refused("[classify]\n\"ctrl-s\" = \"submit\"\n\"C-s\" = \"skip\"\n");
    // The error points at the second binding and names the first.
    assert_eq!(
        e,
        "keymaps/x.toml:3: key \"C-s\" is bound twice in [classify]: \"ctrl-s\" on line 2 is the same key"
    );
}

#[test]
fn the_same_key_twice_is_a_toml_error_with_line() {
    let e = refused("[classify]\n\"u\" = \"undo\"\n\"u\" = \"skip\"\n");
    assert!(e.starts_with("keymaps/x.toml:3: "), "{e}");
}

#[test]
fn syntax_errors_have_a_line() {
    let e = refused("[global]\n\"f1\" = \"help\"\n\"f2\" = help\n");
    assert!(e.starts_with("keymaps/x.toml:3: "), "{e}");
    let e = refused("[global]\n\"f1\" = 5\n");
    assert!(e.starts_with("keymaps/x.toml:2: "), "{e}");
}

#[test]
fn missing_file_is_refused_clearly() {
    let e = Keymap::load(std::path::Path::new("/nonexistent/k.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/k.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn a_bad_file_changes_nothing() {
    // The first table is fine, the second is not: all or nothing.
    let e = Keymap::from_toml(
        "x.toml",
        "[classify]\n\"f9\" = \"skip\"\n[nope]\n\"f8\" = \"skip\"\n",
    );
    assert!(e.is_err());
}

const PROJECT: &str = r#"
name = "kitchen"
title = "Kitchen things"
kind = "classify"

[[labels]]
id = "pots"
name = "Pots"
key = "p"

[[labels]]
id = "utensils"
name = "Utensils"
key = "u"
"#;

#[test]
fn label_keys_must_not_collide_with_bindings() {
    let project = Project::from_toml("kitchen.toml", PROJECT).unwrap();
    assert!(Keymap::default().check_labels(&project).is_ok());
    let km = Keymap::from_toml(
        "keymaps/x.toml",
        "[classify]\n\"f2\" = \"hint\"\n\"u\" = \"undo\"\n",
    )
    .unwrap();
    let e = km.check_labels(&project).unwrap_err().to_string();
    assert!(e.starts_with("keymaps/x.toml:3: "), "{e}");
    assert!(e.contains("key 'u' is label 'Utensils'"), "{e}");
    assert!(e.contains("bound to undo"), "{e}");
    // Global bindings count too.
    let km = Keymap::from_toml("g.toml", "[global]\n\"p\" = \"quit\"\n").unwrap();
    let e = km.check_labels(&project).unwrap_err().to_string();
    assert!(
        e.contains("key 'p' is label 'Pots'") && e.contains("quit"),
        "{e}"
    );
    // Other modes do not.
    let km = Keymap::from_toml("r.toml", "[review]\n\"p\" = \"pick\"\n").unwrap();
    assert!(km.check_labels(&project).is_ok());
}

#[test]
fn shipped_keymaps_leave_digit_and_ab_labels_free() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut toml = String::from("name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\n");
    for (i, k) in "1234567890ab".chars().enumerate() {
        toml.push_str(&format!(
            "[[labels]]\nid = \"l{i}\"\nname = \"L{i}\"\nkey = \"{k}\"\n"
        ));
    }
    let project = Project::from_toml("p.toml", &toml).unwrap();
    for file in ["keymaps/default.toml", "keymaps/vim.toml"] {
        let km = Keymap::load(&std::path::Path::new(root).join(file)).unwrap();
        assert_eq!(km.check_labels(&project), Ok(()), "{file}");
    }
}

#[test]
fn every_action_has_a_name_and_description() {
    for a in Action::ALL {
        assert_eq!(Action::parse(a.name()), Some(a));
        assert!(!a.description().is_empty());
    }
    for name in [
        "quit",
        "help",
        "undo",
        "skip",
        "flag",
        "contest",
        "hint",
        "submit",
        "next_field",
        "prev_field",
        "play_pause",
        "back",
        "forward",
        "slower",
        "faster",
        "loop",
        "reveal",
        "next",
        "prev",
        "pick",
        "edit",
        "note",
        "feedback",
    ] {
        assert!(Action::parse(name).is_some(), "{name}");
    }
}

#[test]
fn a_keymap_that_leaves_no_way_to_quit_is_refused() {
    let e = Keymap::from_toml(
        "mine.toml",
        "[global]\n\"ctrl-q\" = \"none\"\n\"ctrl-c\" = \"none\"\n",
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("mine.toml:"), "{text}");
    assert!(e.line == 2 || e.line == 3, "{text}");
    assert!(text.contains("no key to quit"), "{text}");
    // Taking quit's keys in one mode only leaves that mode without a way out.
    let e = Keymap::from_toml(
        "mode.toml",
        "[classify]\n\"ctrl-q\" = \"undo\"\n\"ctrl-c\" = \"skip\"\n",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("no key to quit in [classify]"),
        "{e}"
    );
    // Moving quit to another key is fine.
    let km = Keymap::from_toml(
        "moved.toml",
        "[global]\n\"ctrl-q\" = \"none\"\n\"ctrl-c\" = \"none\"\n\"f10\" = \"quit\"\n",
    )
    .unwrap();
    for mode in Mode::ALL {
        assert_eq!(
            km.keys_for(mode, Action::Quit),
            vec![Key::parse("f10").unwrap()]
        );
    }
}
