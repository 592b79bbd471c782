use wangge_store::{Db, DbOptions};
#[tokio::test]
async fn speed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = Db::connect(&format!("sqlite:{}", dir.path().join("x.db").display()), DbOptions::default()).await?;
    db.migrate().await?;
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let s = wangge_synth::generate(&db, &wangge_synth::GenerateOptions { communities: n, seed: 7 }, |_, _| {}).await?;
    eprintln!(
        "RESULT {} residents in {:?}: {:.0}/s",
        s.residents,
        s.elapsed,
        s.residents as f64 / s.elapsed.as_secs_f64()
    );
    Ok(())
}
