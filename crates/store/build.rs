// `sqlx::migrate!` (db.rs) embeds the migrations when the crate is compiled, and
// cargo does not know it read them: without this, a migration added or edited
// reaches the binary only with some other change to the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
