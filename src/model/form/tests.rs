//! The form model on the fixture project (receipts, invoices, cards, forms) and on small
//! forms made for one rule each.

use proptest::prelude::*;

use super::*;
use crate::model::{AnswerError, AnswerValue, Project, ProjectError};

const FIXTURE: &str = include_str!("../../../fixtures/projects/receipts.toml");

fn fixture() -> Project {
    Project::from_toml("receipts.toml", FIXTURE).expect("the fixture project parses")
}

fn form_of(p: &Project) -> &Form {
    p.form.as_ref().expect("an entry project has a form")
}

/// A one-field entry project with the given field table body.
fn one_field(body: &str) -> Result<Project, ProjectError> {
    Project::from_toml(
        "f.toml",
        &format!(
            "name = \"f\"\ntitle = \"F\"\nkind = \"entry\"\n[[fields]]\nid = \"v\"\nlabel = \"V\"\n{body}\n"
        ),
    )
}

fn check(body: &str, value: &str) -> Result<String, String> {
    let p = one_field(body).expect("test form parses");
    let form = form_of(&p);
    form.canonical(&form.fields[0], value)
}

fn values(fields: &[(&str, &str)]) -> FormValues {
    let mut v = FormValues::default();
    for (k, val) in fields {
        v.fields.insert(k.to_string(), val.to_string());
    }
    v
}

fn row(cells: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    cells
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn receipt() -> FormValues {
    let mut v = values(&[
        ("doc_kind", "receipt"),
        ("vendor", "Naivas Supermarket"),
        ("date", "14/03/2026"),
        ("total", "KES 1,250.00"),
        ("paid_by", "mpesa"),
        ("mpesa_code", "SGK4H7TQ2P"),
    ]);
    v.groups.insert(
        "items".into(),
        vec![
            row(&[
                ("description", "Unga 2kg"),
                ("qty", "2"),
                ("unit_price", "185.00"),
            ]),
            row(&[
                ("description", "Milk 500ml"),
                ("qty", "4"),
                ("unit_price", "KES 60"),
            ]),
            row(&[
                ("description", "Sugar 1kg"),
                ("qty", "1"),
                ("unit_price", "640"),
            ]),
        ],
    );
    v
}

#[test]
fn fixture_form_parses_with_every_field() {
    let p = fixture();
    let form = form_of(&p);
    assert_eq!(p.kind, crate::model::TaskKind::Entry);
    assert_eq!(form.date_format.to_string(), "dd/mm/yyyy");
    assert!(form.fields.len() >= 15);
    let FieldKind::Group(items) = &form.field("items").unwrap().kind else {
        panic!("items is a group");
    };
    assert_eq!(items.columns.len(), 3);
    assert_eq!(items.total.as_ref().unwrap().sum, vec!["qty", "unit_price"]);
}

#[test]
fn a_good_receipt_validates() {
    let p = fixture();
    assert_eq!(form_of(&p).issues(&receipt()), vec![]);
    assert_eq!(p.validate(&AnswerValue::Form(receipt())), Ok(()));
}

#[test]
fn every_field_type_takes_good_values_and_refuses_bad_ones_in_words() {
    let cases: &[(&str, &str, Result<&str, &str>)] = &[
        ("type = \"text\"", "  Mama  Mboga ", Ok("Mama Mboga")),
        (
            "type = \"text\"\nmax_length = 3",
            "abcd",
            Err("longer than 3 characters"),
        ),
        ("type = \"integer\"", "1,200", Ok("1200")),
        (
            "type = \"integer\"",
            "12.5",
            Err("must be a whole number, like 12"),
        ),
        (
            "type = \"integer\"",
            "l2",
            Err("must be a whole number, like 12"),
        ),
        (
            "type = \"integer\"\nmin = 1\nmax = 40",
            "0",
            Err("must be at least 1"),
        ),
        (
            "type = \"integer\"\nmin = 1\nmax = 40",
            "41",
            Err("must be at most 40"),
        ),
        ("type = \"decimal\"", "0.50", Ok("0.5")),
        (
            "type = \"decimal\"",
            "O.5",
            Err("must be a number, like 12.50"),
        ),
        (
            "type = \"money\"\ncurrency = \"KES\"",
            "Ksh 1,250.00",
            Ok("KES 1250"),
        ),
        (
            "type = \"money\"\ncurrency = \"KES\"",
            "INR 40",
            Err("currency must be KES, not INR"),
        ),
        (
            "type = \"money\"\ncurrency = \"INR\"",
            "₹ 99.50",
            Ok("INR 99.5"),
        ),
        (
            "type = \"money\"\ncurrency = \"KES\"",
            "1.005",
            Err("money has at most 2 digits after the point"),
        ),
        ("type = \"date\"", "01/02/2026", Ok("2026-02-01")),
        (
            "type = \"date\"",
            "2026-02-01",
            Err("date must be dd/mm/yyyy"),
        ),
        (
            "type = \"date\"",
            "30/02/2026",
            Err("30/02/2026 is not a real date"),
        ),
        ("type = \"time\"", "7:45", Ok("07:45")),
        (
            "type = \"time\"",
            "7h45",
            Err("time must be HH:MM (24-hour, like 14:05)"),
        ),
        ("type = \"yes_no\"", "Y", Ok("yes")),
        ("type = \"yes_no\"", "maybe", Err("answer yes or no")),
        (
            "type = \"phone\"\ncountry_code = \"254\"",
            "0722-123 456",
            Ok("254722123456"),
        ),
        ("type = \"phone\"", "+91 98450 12345", Ok("919845012345")),
        (
            "type = \"phone\"",
            "0722 l23 456",
            Err("phone number may hold only digits, spaces, '-', '(' ')' and a leading '+'"),
        ),
        (
            "type = \"email\"",
            "Info@Naivas.CO.KE",
            Ok("info@naivas.co.ke"),
        ),
        (
            "type = \"email\"",
            "info at naivas",
            Err("email must look like name@example.com"),
        ),
        (
            "type = \"text\"\npattern = \"[A-Z]{3}[0-9]{3}\"\nhint = \"like KAA123\"",
            "KAA123",
            Ok("KAA123"),
        ),
        (
            "type = \"text\"\npattern = \"[A-Z]{3}[0-9]{3}\"\nhint = \"like KAA123\"",
            "kaa123x",
            Err("does not have the expected form: like KAA123"),
        ),
    ];
    for (body, value, want) in cases {
        let got = check(body, value);
        assert_eq!(
            got.as_ref().map(String::as_str).map_err(String::as_str),
            *want,
            "{body} with {value:?}"
        );
    }
}

#[test]
fn choice_fields_take_option_ids_and_choices_keep_option_order() {
    let body = "type = \"choices\"\n\
                [[fields.options]]\nid = \"a\"\nlabel = \"A\"\nkey = \"1\"\n\
                [[fields.options]]\nid = \"b\"\nlabel = \"B\"\nkey = \"2\"\n";
    assert_eq!(check(body, "b|a").as_deref(), Ok("a|b"));
    assert_eq!(check(body, "a|a").unwrap_err(), "'a' is picked twice");
    assert_eq!(check(body, "c").unwrap_err(), "pick from: 1 A, 2 B");
    let single = body.replace("\"choices\"", "\"choice\"");
    assert_eq!(check(&single, "b").as_deref(), Ok("b"));
    assert_eq!(check(&single, "a|b").unwrap_err(), "pick one of: 1 A, 2 B");
}

#[test]
fn required_fields_must_be_filled_and_issues_come_in_form_order() {
    let p = fixture();
    let form = form_of(&p);
    let mut v = receipt();
    v.fields.remove("vendor");
    v.fields.insert("date".into(), "14-03-2026".into());
    let issues = form.issues(&v);
    let shown: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "vendor: required: fill it in",
            "date: date must be dd/mm/yyyy",
        ]
    );
    assert_eq!(
        p.validate(&AnswerValue::Form(v)),
        Err(AnswerError::Field(issues[0].clone()))
    );
}

#[test]
fn relevant_if_shows_and_requires_a_field_only_when_its_condition_holds() {
    let p = fixture();
    let form = form_of(&p);
    // Paid in cash: no M-Pesa code is asked for, and one typed is not kept.
    let mut cash = receipt();
    cash.fields.insert("paid_by".into(), "cash".into());
    assert_eq!(form.issues(&cash), vec![]);
    assert!(!form.normalise(&cash).fields.contains_key("mpesa_code"));
    // Paid by M-Pesa: the code is required and checked.
    let mut mpesa = receipt();
    mpesa.fields.remove("mpesa_code");
    assert_eq!(
        form.issues(&mpesa)[0].to_string(),
        "mpesa_code: required: fill it in"
    );
    mpesa.fields.insert("mpesa_code".into(), "SGK4H7TQ2".into());
    assert!(form.issues(&mpesa)[0].message.contains("10 capitals"));
    // A business card asks for none of the receipt's fields.
    let card = values(&[("doc_kind", "card"), ("person", "Wanjiru Kamau")]);
    assert_eq!(form.issues(&card), vec![]);
    let mpesa_code = form.field("mpesa_code").unwrap();
    assert!(!form.is_relevant(mpesa_code, &card, None));
}

#[test]
fn repeating_groups_count_rows_and_check_each_cell() {
    let p = fixture();
    let form = form_of(&p);
    let mut v = receipt();
    v.groups.remove("items");
    assert_eq!(form.issues(&v)[0].to_string(), "items: add at least 1 row");
    let mut v = receipt();
    let rows = v.groups.get_mut("items").unwrap();
    rows[1].insert("qty".into(), "four".into());
    rows[2].remove("description");
    let shown: Vec<String> = form.issues(&v).iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "items[2].qty: must be a number, like 12.50",
            "items[3].description: required: fill it in",
        ]
    );
    rows_too_many(form);
}

fn rows_too_many(form: &Form) {
    let mut v = receipt();
    let one = v.groups["items"][0].clone();
    v.groups.insert("items".into(), vec![one; 31]);
    v.fields.insert("total".into(), "KES 11470".into());
    assert_eq!(form.issues(&v)[0].to_string(), "items: at most 30 rows");
}

#[test]
fn totals_are_checked_across_the_rows_within_the_tolerance() {
    let p = fixture();
    let form = form_of(&p);
    // 2 x 185 + 4 x 60 + 640 = 1250.
    let mut v = receipt();
    v.fields.insert("total".into(), "1250.90".into());
    assert_eq!(form.issues(&v), vec![], "within the 1.00 tolerance");
    v.fields.insert("total".into(), "1150".into());
    assert_eq!(
        form.issues(&v)[0].to_string(),
        "total: line items add up to 1250, more than the total 1150"
    );
    v.fields.insert("total".into(), "1300".into());
    assert!(
        form.issues(&v)[0]
            .message
            .contains("less than the total 1300")
    );
    // A bad cell is reported on its own; the total waits for it.
    v.groups.get_mut("items").unwrap()[0].insert("qty".into(), "x".into());
    let issues = form.issues(&v);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path.to_string(), "items[1].qty");
}

#[test]
fn unknown_fields_and_columns_are_refused() {
    let p = fixture();
    let form = form_of(&p);
    let mut v = receipt();
    v.fields.insert("tip".into(), "10".into());
    v.groups.get_mut("items").unwrap()[0].insert("colour".into(), "red".into());
    let shown: Vec<String> = form.issues(&v).iter().map(ToString::to_string).collect();
    assert!(
        shown.contains(&"tip: this form has no such field".to_string()),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"items[1].colour: this group has no such column".to_string()),
        "{shown:?}"
    );
}

#[test]
fn a_classify_answer_to_an_entry_project_and_back_are_refused() {
    let p = fixture();
    let e = p
        .validate(&AnswerValue::Labels(vec!["a".into()]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "this answer is a label choice, but the project takes a filled-in form"
    );
}

#[test]
fn comparison_keys_normalise_per_type() {
    let p = fixture();
    let form = form_of(&p);
    let mut a = receipt();
    let mut b = receipt();
    a.fields
        .insert("vendor".into(), "NAIVAS  supermarket".into());
    b.fields.insert("total".into(), "Ksh 1250".into());
    b.groups.get_mut("items").unwrap()[0].insert("qty".into(), "2.0".into());
    assert_eq!(form.comparison_keys(&a), form.comparison_keys(&b));
    let keys = form.comparison_keys(&a);
    assert_eq!(keys["date"], "2026-03-14");
    assert_eq!(keys["items[2].unit_price"], "KES 60");
    assert_eq!(keys["vendor"], "naivas supermarket");
    // Export keeps the case of text.
    assert_eq!(form.canonical_values(&a)["vendor"], "NAIVAS supermarket");
    let card1 = values(&[
        ("doc_kind", "card"),
        ("person", "A"),
        ("phone", "0722 123 456"),
    ]);
    let card2 = values(&[
        ("doc_kind", "card"),
        ("person", "a"),
        ("phone", "+254 722-123456"),
    ]);
    assert_eq!(form.comparison_keys(&card1), form.comparison_keys(&card2));
}

#[test]
fn bad_forms_are_refused_with_file_and_line() {
    let bad = |from: &str, to: &str| {
        assert!(FIXTURE.contains(from), "{from}");
        Project::from_toml("receipts.toml", &FIXTURE.replacen(from, to, 1)).unwrap_err()
    };
    let line_of = |needle: &str| FIXTURE.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let e = bad(
        "type = \"text\"\nrequired = true\nmax_length = 80",
        "type = \"txt\"\nrequired = true\nmax_length = 80",
    );
    assert_eq!(e.line, line_of("id = \"vendor\"") + 2, "{e}");
    assert!(e.message.contains("type 'txt' is not known"), "{e}");
    let e = bad("equals = \"mpesa\"", "equals = \"bitcoin\"");
    assert_eq!(e.line, line_of("equals = \"mpesa\""), "{e}");
    assert!(
        e.message.contains("'bitcoin' is not a value of 'paid_by'"),
        "{e}"
    );
    let e = bad("pattern = \"[0-9]{7,8}\"", "pattern = \"[0-9\"");
    assert_eq!(e.line, line_of("pattern = \"[0-9]{7,8}\""), "{e}");
    assert!(e.message.contains("not a valid regular expression"), "{e}");
    let e = bad("sum = \"qty * unit_price\"", "sum = \"qty * price\"");
    assert!(e.message.contains("'price', which is not a column"), "{e}");
    let e = bad("key = \"u\"", "key = \"m\"");
    assert!(
        e.message.contains("already the key of option 'mpesa'"),
        "{e}"
    );
    assert_eq!(e.line, line_of("key = \"u\""), "{e}");
    let e = bad("date_format = \"dd/mm/yyyy\"", "date_format = \"dd/mm/yy\"");
    assert_eq!(e.line, line_of("date_format"), "{e}");
    let e = bad(
        "currency = \"KES\"\ncurrencies = [\"INR\", \"UGX\", \"TZS\", \"USD\"]\nrequired = true\nmin = 0\nhint = \"the",
        "required = true\nmin = 0\nhint = \"the",
    );
    assert!(e.message.contains("needs a currency"), "{e}");
    let e = bad("max = 40", "max = 0");
    assert!(e.message.contains("below its min"), "{e}");
    let e = bad("id = \"email\"", "id = \"phone\"");
    assert!(e.message.contains("'phone' is used twice"), "{e}");
    let e = bad(
        "relevant_if = { field = \"paid_by\"",
        "relevant_if = { field = \"consent\"",
    );
    assert!(e.message.contains("not a field before it"), "{e}");
    let e = one_field("type = \"integer\"\ndefault = \"x\"").unwrap_err();
    assert!(e.message.contains("default of 'v' does not fit"), "{e}");
    let e = one_field("type = \"text\"\nmin = 3").unwrap_err();
    assert!(e.message.contains("min applies only to"), "{e}");
    let e = one_field("type = \"text\"\noptions = []\ncolour = 1").unwrap_err();
    assert!(e.message.contains("colour"), "{e}");
    let labels = Project::from_toml(
        "l.toml",
        "name = \"l\"\ntitle = \"L\"\nkind = \"entry\"\n[[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n",
    )
    .unwrap_err();
    assert!(
        labels.message.contains("[[fields]], not [[labels]]"),
        "{labels}"
    );
    // Label aggregation has no meaning for a form: it is decided field by field.
    let ds = Project::from_toml(
        "d.toml",
        "name = \"d\"\ntitle = \"D\"\nkind = \"entry\"\naggregate = \"ds\"\n\
         [[fields]]\nid = \"v\"\nlabel = \"V\"\ntype = \"text\"\n",
    )
    .unwrap_err();
    assert_eq!(ds.line, 4, "{ds}");
    assert!(ds.message.contains("decided field by field"), "{ds}");
}

#[test]
fn the_form_round_trips_as_the_schema_clients_get() {
    let p = fixture();
    let json = serde_json::to_string(&p).unwrap();
    let back: Project = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    // The pattern compiled from the wire still checks.
    let form = form_of(&back);
    let code = form.field("mpesa_code").unwrap();
    assert!(form.canonical(code, "SGK4H7TQ2P").is_ok());
    assert!(form.canonical(code, "sgk4").is_err());
}

#[test]
fn answers_round_trip_as_json_and_compact_form_has_no_bar() {
    let mut v = receipt();
    v.fields.insert("vendor".into(), "A|B".into());
    let answer = AnswerValue::Form(v);
    let json = serde_json::to_string(&answer).unwrap();
    assert_eq!(serde_json::from_str::<AnswerValue>(&json).unwrap(), answer);
    let compact = answer.to_compact();
    assert!(!compact.contains('|'), "{compact}");
    let back: FormValues = serde_json::from_str(&compact).unwrap();
    assert_eq!(AnswerValue::Form(back), answer);
}

proptest! {
    #[test]
    fn integers_read_back_as_themselves(n in -10_000_000_000i64..10_000_000_000i64) {
        let body = "type = \"integer\"";
        prop_assert_eq!(check(body, &n.to_string()), Ok(n.to_string()));
    }

    #[test]
    fn money_in_any_spelling_has_one_canonical_form(units in 0u64..100_000_000, cents in 0u32..100) {
        let body = "type = \"money\"\ncurrency = \"KES\"";
        let plain = format!("{units}.{cents:02}");
        let grouped = {
            let digits = units.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 { out.push(','); }
                out.push(c);
            }
            format!("KES {out}.{cents:02}")
        };
        prop_assert_eq!(check(body, &plain), check(body, &grouped));
        prop_assert_eq!(check(body, &plain), check(body, &format!("Ksh {plain}")));
    }

    #[test]
    fn every_real_date_reads_and_writes_back(y in 1900i32..2100, m in 1u32..=12, d in 1u32..=28) {
        let f = DateFormat::default();
        let typed = format!("{d:02}/{m:02}/{y}");
        let iso = f.read(&typed).unwrap();
        prop_assert_eq!(f.write_iso(&iso), Some(typed));
    }

    #[test]
    fn normalising_twice_changes_nothing(vendor in "[ a-zA-Z]{0,12}", qty in "[0-9 .,]{0,5}", kind in 0usize..4) {
        let p = fixture();
        let form = form_of(&p);
        let kinds = ["receipt", "invoice", "card", "form"];
        let mut v = receipt();
        v.fields.insert("doc_kind".into(), kinds[kind].into());
        v.fields.insert("vendor".into(), vendor);
        v.groups.get_mut("items").unwrap()[0].insert("qty".into(), qty);
        let once = form.normalise(&v);
        prop_assert_eq!(form.normalise(&once), once.clone());
        // Normal form never changes what is valid.
        prop_assert_eq!(form.issues(&once).is_empty(), form.issues(&v).is_empty());
    }

    #[test]
    fn validation_never_panics_on_any_text(raw in "\\PC{0,20}") {
        let p = fixture();
        let form = form_of(&p);
        for field in &form.fields {
            let _ = form.value_issue(field, &raw);
        }
    }
}

#[test]
fn date_fields_keep_within_their_min_and_max() {
    // A TOML date or a string; the bounds are said in the form's own date format.
    for body in [
        "type = \"date\"\nmin = 2020-01-01\nmax = 2026-12-31",
        "type = \"date\"\nmin = \"2020-01-01\"\nmax = \"2026-12-31\"",
    ] {
        assert_eq!(check(body, "01/01/2020"), Ok("2020-01-01".into()));
        assert_eq!(check(body, "31/12/2026"), Ok("2026-12-31".into()));
        assert_eq!(
            check(body, "31/12/2019"),
            Err("must be 01/01/2020 or later".into())
        );
        assert_eq!(
            check(body, "1/1/2027"),
            Err("must be 31/12/2026 or earlier".into())
        );
    }
    assert_eq!(
        check("type = \"date\"\nmin = 2020-01-01", "15/06/1999"),
        Err("must be 01/01/2020 or later".into())
    );
    for (body, says) in [
        (
            "type = \"date\"\nmin = \"2026-02-30\"",
            "min of 'v' must be a date",
        ),
        ("type = \"date\"\nmax = 5", "max of 'v' must be a date"),
        (
            "type = \"date\"\nmin = 2026-01-02\nmax = 2026-01-01",
            "is before its min",
        ),
        (
            "type = \"date\"\nmin = 2020-01-01T10:00:00",
            "must be a date",
        ),
        (
            "type = \"text\"\nmin = 2020-01-01",
            "integer, decimal, money and date",
        ),
    ] {
        let e = one_field(body).unwrap_err().to_string();
        assert!(e.contains(says), "{body}: {e}");
        assert!(e.starts_with("f.toml:"), "{e}");
    }
}
