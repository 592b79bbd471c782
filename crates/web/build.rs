//! Builds without debug assertions (release) carry the templates inside the binary;
//! debug builds read them from `templates/` when a page is rendered
//! (`shared::render`), so a template edit needs neither a rebuild nor a rerun of this
//! script.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // The catalogue is compiled in by `rust_i18n::i18n!`, which cargo does not know
    // reads these files: without this line an edited text keeps its old wording
    // until some Rust file of the crate changes.
    println!("cargo::rerun-if-changed=locales");
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none() {
        minijinja_embed::embed_templates!("templates");
    }
}
