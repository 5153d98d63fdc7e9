//! The SSH key decoder on real terminal input cut at random places: whatever the packet
//! boundaries (inside an escape sequence, a UTF-8 character, a paste marker), the same
//! keys and pastes come out, in order. The streams are made of what xterm, tmux and
//! OpenSSH send for keys people press.

use kazi::tui::{Key, KeyDecoder, Typed};
use proptest::prelude::*;

/// Bytes a terminal sends, and what they mean.
fn vocabulary() -> Vec<(Vec<u8>, Vec<Typed>)> {
    let key = |s: &str| Typed::Key(Key::parse(s).unwrap());
    let one = |bytes: &[u8], k: &str| (bytes.to_vec(), vec![key(k)]);
    vec![
        one(b"1", "1"),
        one(b"9", "9"),
        one(b"a", "a"),
        one(b"A", "A"),
        one(b"?", "?"),
        one(b" ", "space"),
        one(b"\r", "enter"),
        one(b"\t", "tab"),
        one(b"\x7f", "backspace"),
        one(b"\x11", "ctrl-q"),
        one(b"\x13", "ctrl-s"),
        one(b"\x1b[A", "up"),
        one(b"\x1b[B", "down"),
        one(b"\x1bOC", "right"),
        one(b"\x1b[D", "left"),
        one(b"\x1b[Z", "backtab"),
        one(b"\x1b[5~", "pageup"),
        one(b"\x1b[6~", "pagedown"),
        one(b"\x1b[3~", "delete"),
        one(b"\x1bOP", "f1"),
        one(b"\x1b[15~", "f5"),
        one(b"\x1b[1;3D", "alt-left"),
        one(b"\x1b[1;5C", "ctrl-right"),
        one(b"\x1bx", "alt-x"),
        one(b"\x1b\x7f", "alt-backspace"),
        ("é".as_bytes().to_vec(), vec![key("é")]),
        ("电".as_bytes().to_vec(), vec![key("电")]),
        ("🙂".as_bytes().to_vec(), vec![key("🙂")]),
        // A mouse report is no key: consumed, never typed.
        (b"\x1b[<0;10;5M".to_vec(), vec![]),
        (
            b"\x1b[200~Nairobi 1\r\n\x1b[A\xc3\xa9\x1b[201~".to_vec(),
            vec![Typed::Paste("Nairobi 1\r\n\u{1b}[Aé".into())],
        ),
        (
            b"\x1b[200~\x1b[201~".to_vec(),
            vec![Typed::Paste(String::new())],
        ),
    ]
}

proptest! {
    #[test]
    fn any_split_of_a_real_stream_gives_the_same_keys(
        picks in prop::collection::vec(0usize..31, 1..40),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        esc_at_end in any::<bool>(),
    ) {
        let vocab = vocabulary();
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for i in picks {
            let (bytes, typed) = &vocab[i % vocab.len()];
            stream.extend_from_slice(bytes);
            want.extend(typed.iter().cloned());
        }
        if esc_at_end {
            // A lone Esc, told apart from alt- by the quiet after it.
            stream.push(0x1b);
            want.push(Typed::Key(Key::parse("esc").unwrap()));
        }
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        at.sort_unstable();
        let mut decoder = KeyDecoder::new();
        let mut got = Vec::new();
        let mut from = 0;
        for to in at.into_iter().chain([stream.len()]) {
            got.extend(decoder.feed_input(&stream[from..to]));
            from = to;
        }
        got.extend(decoder.flush_timeout_input());
        prop_assert_eq!(got, want);
        prop_assert!(!decoder.has_pending());
    }
}

#[test]
fn a_paste_never_acts_as_keys_and_an_unended_paste_ends_on_the_quiet() {
    let mut d = KeyDecoder::new();
    assert_eq!(d.feed_input(b"\x1b[200~123"), vec![]);
    assert!(d.has_pending());
    assert_eq!(d.feed_input(b"\x1b[20"), vec![], "maybe the end marker");
    assert_eq!(
        d.feed_input(b"1~2"),
        vec![
            Typed::Paste("123".into()),
            Typed::Key(Key::parse("2").unwrap())
        ]
    );
    assert_eq!(d.feed_input(b"\x1b[200~abc"), vec![]);
    assert_eq!(d.flush_timeout_input(), vec![Typed::Paste("abc".into())]);
    assert!(!d.has_pending());
    // A huge paste is kept up to its bound.
    let mut huge = b"\x1b[200~".to_vec();
    huge.extend(std::iter::repeat_n(b'x', kazi::tui::key::MAX_PASTE + 500));
    huge.extend_from_slice(b"\x1b[201~");
    match &d.feed_input(&huge)[..] {
        [Typed::Paste(text)] => assert_eq!(text.len(), kazi::tui::key::MAX_PASTE),
        other => panic!("{other:?}"),
    }
}
