//! Cleaning of text typed by people: ledgers carry full-width digits, ideographic
//! spaces and trailing blanks that mean nothing but break exact matching.

/// Trims, folds full-width ASCII (`１２３`, `ＡＢＣ`) to half-width and the ideographic
/// space to a plain one, and collapses runs of whitespace to one space.
pub fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for ch in input.chars() {
        let ch = fold_width(ch);
        if ch.is_whitespace() || ch == '\u{a0}' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(ch);
    }
    out
}

/// Maps one full-width form to its ASCII twin; everything else is returned unchanged.
pub fn fold_width(ch: char) -> char {
    match ch {
        '\u{3000}' => ' ',
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(ch as u32 - 0xfee0).unwrap_or(ch),
        _ => ch,
    }
}

/// Keeps only the ASCII digits of a string, after width folding.
pub fn digits_only(input: &str) -> String {
    input.chars().map(fold_width).filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_and_blanks() {
        assert_eq!(normalize("  张　三  "), "张 三");
        assert_eq!(normalize("１２号楼\t"), "12号楼");
        assert_eq!(normalize("ｘ"), "x");
        assert_eq!(digits_only("138-0000 1234"), "13800001234");
    }
}
