//! Large letters for what a room reads off a projector (a class's join code): five rows
//! per character, drawn in blocks (`#` on an ASCII terminal). Only the join alphabet's
//! characters have a shape; other text is drawn as it is by the caller.

/// Rows of each large character.
pub(crate) const BIG_ROWS: usize = 5;

fn glyph(c: char) -> Option<[&'static str; BIG_ROWS]> {
    Some(match c {
        '3' => ["#####", "    #", " ####", "    #", "#####"],
        '4' => ["#   #", "#   #", "#####", "    #", "    #"],
        '6' => ["#####", "#    ", "#####", "#   #", "#####"],
        '7' => ["#####", "    #", "   # ", "  #  ", "  #  "],
        '9' => ["#####", "#   #", "#####", "    #", "#####"],
        'A' => [" ### ", "#   #", "#####", "#   #", "#   #"],
        'C' => [" ####", "#    ", "#    ", "#    ", " ####"],
        'D' => ["#### ", "#   #", "#   #", "#   #", "#### "],
        'E' => ["#####", "#    ", "#### ", "#    ", "#####"],
        'F' => ["#####", "#    ", "#### ", "#    ", "#    "],
        'G' => [" ####", "#    ", "#  ##", "#   #", " ####"],
        'H' => ["#   #", "#   #", "#####", "#   #", "#   #"],
        'J' => ["  ###", "    #", "    #", "#   #", " ### "],
        'K' => ["#   #", "#  # ", "###  ", "#  # ", "#   #"],
        'M' => ["#   #", "## ##", "# # #", "#   #", "#   #"],
        'N' => ["#   #", "##  #", "# # #", "#  ##", "#   #"],
        'P' => ["#### ", "#   #", "#### ", "#    ", "#    "],
        'Q' => [" ### ", "#   #", "# # #", "#  # ", " ## #"],
        'R' => ["#### ", "#   #", "#### ", "#  # ", "#   #"],
        'T' => ["#####", "  #  ", "  #  ", "  #  ", "  #  "],
        'W' => ["#   #", "#   #", "# # #", "## ##", "#   #"],
        'X' => ["#   #", " # # ", "  #  ", " # # ", "#   #"],
        'Y' => ["#   #", " # # ", "  #  ", "  #  ", "  #  "],
        ' ' => ["     ", "     ", "     ", "     ", "     "],
        _ => return None,
    })
}

/// `text` in large characters, a column apart: `BIG_ROWS` lines, or None when a
/// character has no large shape.
pub(crate) fn big_lines(text: &str, ascii: bool) -> Option<Vec<String>> {
    let glyphs: Vec<_> = text.chars().map(glyph).collect::<Option<_>>()?;
    let block = if ascii { "#" } else { "\u{2588}" };
    Some(
        (0..BIG_ROWS)
            .map(|row| {
                glyphs
                    .iter()
                    .map(|g| g[row].replace('#', block))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::JOIN_ALPHABET;

    #[test]
    fn every_join_code_character_has_a_shape_of_one_width() {
        for &b in JOIN_ALPHABET {
            let g = glyph(b as char).unwrap_or_else(|| panic!("{}", b as char));
            assert!(g.iter().all(|r| r.len() == 5), "{}", b as char);
        }
        let lines = big_lines("KX7M4P", true).unwrap();
        assert_eq!(lines.len(), BIG_ROWS);
        assert!(lines.iter().all(|l| l.len() == 6 * 6 - 1));
        assert_eq!(big_lines("K0", true), None);
    }
}
