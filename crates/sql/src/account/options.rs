//! The options of an account in CREATE/ALTER USER and GRANT: how it is identified and
//! its resource limits.

use super::*;

/// The rest of an `IDENTIFIED` clause.
pub(super) fn identified(p: &mut Parser<'_>) -> Result<Identified, SqlError> {
    if p.eat_keyword("BY") {
        if p.eat_keyword("PASSWORD") {
            return Ok(Identified::Hash {
                plugin: None,
                hash: p.string()?,
            });
        }
        return Ok(Identified::Password {
            plugin: None,
            password: p.string()?,
        });
    }
    let via = match p.eat_one_of(&["WITH", "VIA"]) {
        Some(i) => i == 1,
        None => return Err(p.error("BY, WITH or VIA")),
    };
    let plugin = p.ident_or_string()?.to_ascii_lowercase();
    if via && p.peek_is_keyword("OR") {
        return Err(SqlError::Unsupported(
            "IDENTIFIED VIA with several plugins".into(),
        ));
    }
    if !via && p.eat_keyword("BY") {
        return Ok(Identified::Password {
            plugin: Some(plugin),
            password: p.string()?,
        });
    }
    if p.eat_one_of(&["AS", "USING"]).is_some() {
        if p.eat_keyword("PASSWORD") {
            if !p.eat_punct("(") {
                return Err(p.error("("));
            }
            let password = p.string()?;
            if !p.eat_punct(")") {
                return Err(p.error(")"));
            }
            return Ok(Identified::Password {
                plugin: Some(plugin),
                password,
            });
        }
        return Ok(Identified::Hash {
            plugin: Some(plugin),
            hash: p.string()?,
        });
    }
    Ok(Identified::Plugin(plugin))
}

/// `REQUIRE` TLS options (after the accounts of CREATE/ALTER USER and GRANT): `REQUIRE
/// NONE` is what every Strata account has; Strata does not check a client's TLS
/// certificate or cipher, so any requirement is refused rather than stored unchecked.
pub(super) fn require(p: &mut Parser<'_>) -> Result<(), SqlError> {
    if !p.eat_keyword("REQUIRE") {
        return Ok(());
    }
    if p.eat_keyword("NONE") {
        return Ok(());
    }
    // An option is needed first and after AND; another may follow without AND.
    let mut needed = true;
    loop {
        match p.eat_one_of(&["SSL", "X509", "CIPHER", "ISSUER", "SUBJECT"]) {
            Some(0 | 1) => {}
            Some(_) => {
                p.string()?;
            }
            None if !needed => break,
            None => return Err(p.error("SSL, X509, CIPHER, ISSUER or SUBJECT")),
        }
        needed = p.eat_keyword("AND");
    }
    Err(SqlError::Unsupported(
        "REQUIRE SSL, X509, CIPHER, ISSUER or SUBJECT (TLS requirements of an account)".into(),
    ))
}

/// `WITH` resource limits (after CREATE/ALTER USER); absent is no limit change.
pub(super) fn limits(p: &mut Parser<'_>) -> Result<ResourceLimits, SqlError> {
    let mut limits = ResourceLimits::default();
    if p.eat_keyword("WITH") {
        let mut any = false;
        while let Some(()) = limit(p, &mut limits)? {
            any = true;
        }
        if !any {
            return Err(p.error("resource limit"));
        }
    }
    Ok(limits)
}

/// One resource limit, if one is next.
pub(super) fn limit(
    p: &mut Parser<'_>,
    limits: &mut ResourceLimits,
) -> Result<Option<()>, SqlError> {
    const OTHERS: [&str; 4] = [
        "MAX_QUERIES_PER_HOUR",
        "MAX_UPDATES_PER_HOUR",
        "MAX_CONNECTIONS_PER_HOUR",
        "MAX_STATEMENT_TIME",
    ];
    if p.eat_keyword("MAX_USER_CONNECTIONS") {
        limits.max_user_connections = Some(p.unsigned()?);
        return Ok(Some(()));
    }
    if let Some(i) = p.eat_one_of(&OTHERS) {
        return Err(SqlError::Unsupported(OTHERS[i].into()));
    }
    Ok(None)
}
