//! Shared by the tui_* tests: a products project like the fixture, tasks, and an App.
#![allow(dead_code)]

use kazi::model::{Project, Task};
use kazi::tui::screen::{Classify, Current};
use kazi::tui::{App, Effect, Event, Key, Keymap, Theme};

pub const PRODUCTS: &str = r#"
name = "products"
title = "Product categories"
kind = "classify"
instructions = "Pick the one category the product belongs to. If none fits, skip the task."
overlap = 3
lease = "72h"

[[labels]]
id = "food"
name = "Food & groceries"
key = "1"
description = "rice, flour, cooking oil"
examples = ["Pishori Rice 5kg", "Sukari 2kg"]

[[labels]]
id = "drinks"
name = "Drinks"
key = "2"
description = "juice, soda, water, tea"

[[labels]]
id = "beauty"
name = "Beauty & care"
key = "3"
description = "soap, lotion, hair"

[[labels]]
id = "phones"
name = "Phones"
key = "4"
description = "phones, chargers, cases"

[[labels]]
id = "electronics"
name = "Electronics"
key = "5"
description = "TVs, radios, solar kits"

[[labels]]
id = "home"
name = "Home & kitchen"
key = "6"
description = "pots, jerrycans, bedding"

[[labels]]
id = "fashion"
name = "Fashion"
key = "7"
description = "clothes, shoes, bags"

[[labels]]
id = "baby"
name = "Baby"
key = "8"
description = "diapers, baby food"

[[labels]]
id = "farm"
name = "Farm & garden"
key = "9"
description = "seeds, fertiliser, tools"

[[labels]]
id = "other"
name = "Other"
key = "0"
description = "nothing above fits"
"#;

pub fn products() -> Project {
    Project::from_toml("products.toml", PRODUCTS).unwrap()
}

pub fn multi_products() -> Project {
    let mut p = Project::from_toml(
        "tags.toml",
        &PRODUCTS
            .replace("name = \"products\"", "name = \"tags\"")
            .replace(
                "title = \"Product categories\"",
                "title = \"Product tags\"\nmulti_label = true",
            ),
    )
    .unwrap();
    p.instructions = "Choose every tag that fits, then press enter.".into();
    p
}

pub fn task(id: i64, project: &str, text: &str) -> Task {
    Task {
        id,
        project: project.into(),
        text: text.into(),
        suggestion: None,
        clip: None,
    }
}

pub const TITLES: &[&str] = &[
    "Pishori Rice 5kg premium long grain",
    "Coca-Cola 500ml PET bottle x24",
    "Nivea Men deodorant 150ml",
    "Tecno Spark 10 Pro 128GB dual SIM",
    "Solar home kit 3 bulbs + radio",
    "Sufuria aluminium set of 5",
    "Bata school shoes black size 38",
    "Pampers Baby Dry size 3 (52 pcs)",
    "DAP fertiliser 50kg bag",
    "Kiwi shoe polish black 50ml",
    "Brookside fresh milk 500ml",
    "Samsung 32 inch LED TV",
];

pub fn tasks(project: &str, ids: std::ops::Range<i64>) -> Vec<Task> {
    ids.map(|i| task(i, project, TITLES[(i as usize) % TITLES.len()]))
        .collect()
}

pub fn key(s: &str) -> Event {
    Event::Key(Key::parse(s).unwrap())
}

/// An App on `project` with tasks `ids` loaded; the choosing effects are checked.
pub fn app_with(project: Project, ids: std::ops::Range<i64>) -> App {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    let name = project.name.clone();
    let fx = app.handle(Event::Projects(vec![project]));
    assert_eq!(
        fx,
        vec![
            Effect::ChooseProject(name.clone()),
            Effect::WantTasks {
                project: name.clone(),
                queued: 0
            }
        ]
    );
    app.handle(Event::Tasks(tasks(&name, ids)));
    app
}

/// Press keys written as in keymaps, separated by spaces; all effects in order.
pub fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.split(' ').flat_map(|k| app.handle(key(k))).collect()
}

pub fn shown(app: &App) -> Option<i64> {
    current(app).map(|c| c.task.id)
}

/// The classify screen, which must be on top.
pub fn classify(app: &App) -> &Classify {
    app.classify().expect("the classify screen is on top")
}

/// The task on the classify screen, if any.
pub fn current(app: &App) -> Option<&Current> {
    app.classify().and_then(|c| c.current())
}
