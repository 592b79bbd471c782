//! Builds without debug assertions (release) carry the templates inside the binary;
//! debug builds read them from `templates/` when a page is rendered
//! (`shared::render`), so a template edit needs neither a rebuild nor a rerun of this
//! script.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none() {
        minijinja_embed::embed_templates!("templates");
    }
}
