//! How a connection's session variables are reset.

use super::SessionVars;

#[test]
fn seeds_are_replaced_not_reset_to_default() {
    let mut seeded = SessionVars::default();
    seeded.set("rand_seed1", "SESSION rand_seed1 = 3".into());
    seeded.set("sql_mode", "SESSION sql_mode = 'ANSI'".into());
    let reset = SessionVars::default()
        .diff_from(&seeded)
        .unwrap_or_default();
    assert!(reset.contains("SESSION sql_mode = DEFAULT"), "{reset}");
    assert!(!reset.contains("rand_seed1 = DEFAULT"), "{reset}");
    let seed = reset
        .split("SESSION rand_seed1 = ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .ok_or(reset.clone());
    assert!(seed.is_ok_and(|s| s.parse::<u32>().is_ok()));
}
