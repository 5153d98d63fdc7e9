//! The check of a CSV file the `csv` crate does not make: a quote that opens a field and
//! never closes. The crate reads such a file to its end as one field, so the rows after
//! the quote would silently become one task; the import refuses it naming the line.

use std::io::{self, BufRead};

/// The line where an unclosed quoted field opens, if any (lines count from 1).
pub(super) fn unclosed_quote(reader: impl BufRead) -> io::Result<Option<u64>> {
    let mut line = 1u64;
    let mut opened_at = 0u64;
    let mut field_start = true;
    let mut quoted = false;
    // Inside quotes, a quote either closes the field or, doubled, stands for itself.
    let mut quote_seen = false;
    for byte in reader.bytes() {
        let b = byte?;
        if quoted {
            if quote_seen {
                quote_seen = false;
                if b == b'"' {
                    continue; // "" inside quotes: a literal quote
                }
                quoted = false; // the quote closed the field; `b` is outside it
            } else {
                if b == b'"' {
                    quote_seen = true;
                } else if b == b'\n' {
                    line += 1;
                }
                continue;
            }
        }
        match b {
            b'"' if field_start => {
                quoted = true;
                opened_at = line;
                field_start = false;
            }
            b',' => field_start = true,
            b'\n' => {
                line += 1;
                field_start = true;
            }
            b'\r' => {}
            _ => field_start = false,
        }
    }
    Ok((quoted && !quote_seen).then_some(opened_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Option<u64> {
        unclosed_quote(text.as_bytes()).unwrap()
    }

    #[test]
    fn closed_and_doubled_quotes_pass() {
        assert_eq!(scan("id,text\na,\"Rice, 5kg\"\nb,plain\n"), None);
        assert_eq!(scan("id,text\na,\"TV 32\"\" LED\"\n"), None);
        assert_eq!(scan("id,text\na,\"two\r\nlines\"\n"), None);
        // A quote inside an unquoted field is a character, as the csv crate reads it.
        assert_eq!(scan("id,text\na,TV 32\" LED\n"), None);
        assert_eq!(scan("id,text\na,\"ends at the end\""), None);
    }

    #[test]
    fn an_unclosed_quote_is_found_on_its_line() {
        assert_eq!(
            scan("id,text\na,fine\nb,\"Rice 5kg\nc,Soap\nd,Oil\n"),
            Some(3)
        );
        assert_eq!(scan("id,text\na,\"ok\"\nb,\"x\"\"\n"), Some(3));
    }
}
