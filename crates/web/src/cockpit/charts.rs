//! Charts drawn on the server as SVG: bars, lines, a stacked share and a population
//! pyramid. Hand-written (a few hundred lines) rather than a plotting crate: the
//! charts are simple, the text in them must be the catalogue's in the page's
//! language, and the page stays free of JavaScript and of any other dependency.
//!
//! Every chart is `role="img"` with a `<title>` and `<desc>`; the page puts a table
//! of the same numbers beside it (the accessible, printable form). Colours are
//! presentation attributes, which the Content-Security-Policy allows (no inline style).

use std::fmt::Write;

/// Colours with at least 3:1 contrast against white, told apart without colour too
/// (the table beside each chart names every value).
pub const PALETTE: [&str; 8] = ["#0b57a4", "#b3261e", "#1b6b35", "#8a5a00", "#6a3d9a", "#00707a", "#5c5c5c", "#a3367a"];

const W: f64 = 640.0;

/// Escapes text for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(out: &mut String, id: &str, w: f64, h: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" preserveAspectRatio="xMidYMid meet"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice_max(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max {
                return m * step;
            }
        }
        step *= 10;
    }
}

fn axis(out: &mut String, left: f64, top: f64, bottom: f64, right: f64, max: i64) {
    for i in 0..=4 {
        let v = max * i / 4;
        let y = bottom - (bottom - top) * i as f64 / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{left}" y1="{y:.1}" x2="{right}" y2="{y:.1}" stroke="#c9d0d8" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#4a5360">{v}</text>"##,
            left - 4.0,
            y + 4.0
        );
    }
}

/// Vertical bars, one per label (months, categories).
pub fn bars(id: &str, title: &str, desc: &str, labels: &[String], values: &[i64]) -> String {
    let h = 260.0;
    let (left, right, top, bottom) = (44.0, W - 8.0, 12.0, h - 40.0);
    let max = nice_max(values.iter().copied().max().unwrap_or(0));
    let mut out = String::new();
    open(&mut out, id, W, h, title, desc);
    axis(&mut out, left, top, bottom, right, max);
    let n = values.len().max(1) as f64;
    let slot = (right - left) / n;
    for (i, (&v, label)) in values.iter().zip(labels).enumerate() {
        let bh = (bottom - top) * v as f64 / max as f64;
        let x = left + slot * i as f64 + slot * 0.15;
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{}: {v}</title></rect>"#,
            bottom - bh,
            slot * 0.7,
            PALETTE[0],
            esc(label)
        );
        // Every label when they fit, else every other one.
        if n <= 12.0 || i % 2 == 0 {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#1b1f24">{}</text>"##,
                x + slot * 0.35,
                bottom + 16.0,
                esc(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Lines over the same labels (weeks), one per series, with a legend.
pub fn lines(id: &str, title: &str, desc: &str, labels: &[String], series: &[(String, Vec<i64>)]) -> String {
    let h = 280.0;
    let (left, right, top, bottom) = (44.0, W - 8.0, 12.0, h - 64.0);
    let max = nice_max(series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0));
    let mut out = String::new();
    open(&mut out, id, W, h, title, desc);
    axis(&mut out, left, top, bottom, right, max);
    let n = labels.len().max(2) as f64;
    let x_of = |i: usize| left + (right - left) * i as f64 / (n - 1.0);
    for (s, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", x_of(i), bottom - (bottom - top) * v as f64 / max as f64))
            .collect();
        let dash = if s == 0 { "" } else { r#" stroke-dasharray="6 3""# };
        let _ = write!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>"#,
            points.join(" ")
        );
        let ly = h - 18.0;
        let lx = left + 180.0 * s as f64;
        let _ = write!(
            out,
            r##"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="3"{dash}/><text x="{}" y="{}" font-size="13" fill="#1b1f24">{}</text>"##,
            lx + 28.0,
            lx + 34.0,
            ly + 4.0,
            esc(name)
        );
    }
    // A few labels along the axis: first, quarters, last.
    let count = labels.len();
    for i in [0, count / 4, count / 2, count * 3 / 4, count.saturating_sub(1)] {
        if let Some(label) = labels.get(i) {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#1b1f24">{}</text>"##,
                x_of(i).clamp(left + 30.0, right - 30.0),
                bottom + 16.0,
                esc(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// One bar of 100 %, split into the parts' shares, with a legend.
pub fn stacked_share(id: &str, title: &str, desc: &str, parts: &[(String, i64)]) -> String {
    let rows = parts.len().div_ceil(2) as f64;
    let h = 70.0 + rows * 22.0;
    let (left, right) = (8.0, W - 8.0);
    let total: i64 = parts.iter().map(|(_, n)| n).sum();
    let mut out = String::new();
    open(&mut out, id, W, h, title, desc);
    let mut x = left;
    if total == 0 {
        let _ = write!(
            out,
            r##"<rect x="{left}" y="8" width="{}" height="36" fill="#f3f5f8" stroke="#c9d0d8"/>"##,
            right - left
        );
    }
    for (i, (label, n)) in parts.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        if total > 0 && *n > 0 {
            let w = (right - left) * *n as f64 / total as f64;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="8" width="{w:.1}" height="36" fill="{colour}"><title>{}: {n}</title></rect>"#,
                esc(label)
            );
            x += w;
        }
        let (col, row) = ((i % 2) as f64, (i / 2) as f64);
        let (lx, ly) = (left + col * 320.0, 64.0 + row * 22.0);
        let share = if total > 0 { format!("{:.0}%", *n as f64 * 100.0 / total as f64) } else { "—".into() };
        let _ = write!(
            out,
            r##"<rect x="{lx}" y="{:.1}" width="14" height="14" fill="{colour}"/><text x="{}" y="{ly:.1}" font-size="13" fill="#1b1f24">{} · {n} · {share}</text>"##,
            ly - 11.0,
            lx + 20.0,
            esc(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A population pyramid: men to the left, women to the right, youngest at the bottom.
pub fn pyramid(id: &str, title: &str, desc: &str, names: (&str, &str), rows: &[(String, i64, i64)]) -> String {
    let bar_h = 20.0;
    let h = 40.0 + bar_h * rows.len() as f64 + 8.0;
    let mid = W / 2.0;
    let half = mid - 60.0;
    let max = nice_max(rows.iter().map(|(_, m, f)| (*m).max(*f)).max().unwrap_or(0));
    let mut out = String::new();
    open(&mut out, id, W, h, title, desc);
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="18" font-size="14" text-anchor="middle" fill="#1b1f24">{}</text><text x="{:.1}" y="18" font-size="14" text-anchor="middle" fill="#1b1f24">{}</text>"##,
        mid / 2.0,
        esc(names.0),
        mid + mid / 2.0,
        esc(names.1)
    );
    for (i, (label, men, women)) in rows.iter().rev().enumerate() {
        let y = 28.0 + bar_h * i as f64;
        let (mw, ww) = (half * *men as f64 / max as f64, half * *women as f64 / max as f64);
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{y:.1}" width="{mw:.1}" height="{:.1}" fill="{}"><title>{}: {men}</title></rect><rect x="{:.1}" y="{y:.1}" width="{ww:.1}" height="{:.1}" fill="{}"><title>{}: {women}</title></rect><text x="{mid}" y="{:.1}" font-size="12" text-anchor="middle" fill="#1b1f24">{}</text>"##,
            mid - 30.0 - mw,
            bar_h - 3.0,
            PALETTE[0],
            esc(label),
            mid + 30.0,
            bar_h - 3.0,
            PALETTE[1],
            esc(label),
            y + bar_h - 7.0,
            esc(label)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round_and_text_is_escaped() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(13), 20);
        assert_eq!(nice_max(480), 500);
        let svg = bars("b", "A<B", "d", &["x&y".into()], &[3]);
        assert!(svg.contains("A&lt;B") && svg.contains("x&amp;y") && !svg.contains("A<B"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn shares_and_pyramids_draw_every_part() {
        let svg = stacked_share("s", "t", "d", &[("户籍".into(), 3), ("流动".into(), 1), ("境外".into(), 0)]);
        assert_eq!(svg.matches("<rect").count(), 2 + 3, "two non-empty shares and three legend keys");
        assert!(svg.contains("75%") && svg.contains("25%"));
        let p = pyramid("p", "t", "d", ("男", "女"), &[("0–9".into(), 2, 1), ("10–19".into(), 0, 4)]);
        assert_eq!(p.matches("<rect").count(), 4);
        let l = lines(
            "l",
            "t",
            "d",
            &["a".into(), "b".into()],
            &[("new".into(), vec![1, 2]), ("closed".into(), vec![0, 1])],
        );
        assert_eq!(l.matches("<polyline").count(), 2);
    }
}
