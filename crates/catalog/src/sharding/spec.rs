//! The compact text form of sharding function parameters, used by the configuration
//! (`params = "..."`), DDL and the metadata store. `to_spec` writes what `from_spec`
//! reads back to an equal function.
//!
//! | type | parameters |
//! |---|---|
//! | `auto_crc32`, `auto_mod` | none (the rule's data node list) |
//! | `range` | `1:1000=1, 1001:2000=2, below=1, above=2` (inclusive intervals) |
//! | `match` | `a=1, b=2, "x,y"=3, ""=4` (double quotes for odd values; `""` is the empty-string route) |
//! | `route` | `1=1, 2=2, 3=1` |
//! | `simple_mod`, `crc32_mod` | `modulus=4; 0=1, 1=2, 2:3=3` (remainder or remainder interval per node) |

use super::{ShardingError, ShardingFunction};
use crate::DataNodeId;

impl ShardingFunction {
    /// Parses a function from its type name (case-insensitive) and parameters; the
    /// result is normalized and validated.
    pub fn from_spec(type_name: &str, params: &str) -> Result<ShardingFunction, ShardingError> {
        let name = type_name.trim().to_ascii_lowercase();
        let function = match name.as_str() {
            "auto_crc32" | "auto_mod" => {
                if !params.trim().is_empty() {
                    return Err(ShardingError::invalid_rule(format!(
                        "{} takes no parameters (its data nodes are the rule's), got '{params}'",
                        name.to_ascii_uppercase()
                    )));
                }
                if name == "auto_crc32" {
                    ShardingFunction::AutoCrc32
                } else {
                    ShardingFunction::AutoMod
                }
            }
            "range" => parse_range(params)?,
            "match" => parse_match(params)?,
            "route" => {
                let mut values = Vec::new();
                for (key, dn) in entries(params)? {
                    values.push((parse_int(&key, "ROUTE value")?, dn));
                }
                ShardingFunction::Route { values }
            }
            "simple_mod" | "crc32_mod" => {
                let (modulus, remainders) = parse_mod(&name, params)?;
                if name == "simple_mod" {
                    ShardingFunction::SimpleMod {
                        modulus,
                        remainders,
                    }
                } else {
                    ShardingFunction::Crc32Mod {
                        modulus,
                        remainders,
                    }
                }
            }
            _ => {
                return Err(ShardingError::invalid_rule(format!(
                    "unknown sharding function '{type_name}' (expected auto_crc32, auto_mod, range, match, route, simple_mod or crc32_mod)"
                )))
            }
        };
        let function = function.normalized();
        function.validate()?;
        Ok(function)
    }

    /// The parameters in the text form `from_spec` reads (empty for AUTO functions).
    pub fn to_spec(&self) -> String {
        match self {
            ShardingFunction::AutoCrc32 | ShardingFunction::AutoMod => String::new(),
            ShardingFunction::Range {
                intervals,
                below_min,
                above_max,
            } => {
                let mut items: Vec<String> = intervals
                    .iter()
                    .map(|(lo, hi, dn)| format!("{lo}:{hi}={dn}"))
                    .collect();
                items.extend(below_min.map(|dn| format!("below={dn}")));
                items.extend(above_max.map(|dn| format!("above={dn}")));
                items.join(", ")
            }
            ShardingFunction::Match {
                values,
                empty_route,
            } => {
                let mut items: Vec<String> = values
                    .iter()
                    .map(|(v, dn)| format!("{}={dn}", quote(v)))
                    .collect();
                items.extend(empty_route.map(|dn| format!("\"\"={dn}")));
                items.join(", ")
            }
            ShardingFunction::Route { values } => values
                .iter()
                .map(|(v, dn)| format!("{v}={dn}"))
                .collect::<Vec<_>>()
                .join(", "),
            ShardingFunction::SimpleMod {
                modulus,
                remainders,
            }
            | ShardingFunction::Crc32Mod {
                modulus,
                remainders,
            } => {
                let items: Vec<String> = remainders
                    .iter()
                    .map(|&(lo, hi, dn)| {
                        if lo == hi {
                            format!("{lo}={dn}")
                        } else {
                            format!("{lo}:{hi}={dn}")
                        }
                    })
                    .collect();
                format!("modulus={modulus}; {}", items.join(", "))
            }
        }
    }
}

fn bad(reason: String) -> ShardingError {
    ShardingError::invalid_rule(reason)
}

/// Splits `text` at `sep` outside double quotes; trims items and drops empty ones.
fn split_outside_quotes(text: &str, sep: char) -> Result<Vec<String>, ShardingError> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if in_quotes && chars.peek() == Some(&'"') {
                current.push_str("\"\"");
                chars.next();
                continue;
            }
            in_quotes = !in_quotes;
            current.push(c);
        } else if c == sep && !in_quotes {
            items.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if in_quotes {
        return Err(bad(format!("unterminated double quote in '{text}'")));
    }
    items.push(current);
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// `key=dnid` entries of a comma-separated list (the last `=` outside quotes splits).
fn entries(text: &str) -> Result<Vec<(String, DataNodeId)>, ShardingError> {
    let mut out = Vec::new();
    for item in split_outside_quotes(text, ',')? {
        let mut in_quotes = false;
        let mut split = None;
        for (i, c) in item.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                '=' if !in_quotes => split = Some(i),
                _ => {}
            }
        }
        let Some(i) = split else {
            return Err(bad(format!("'{item}' is not KEY=DATANODE")));
        };
        let key = item[..i].trim().to_string();
        let dn_text = item[i + 1..].trim();
        let dn = dn_text
            .parse::<DataNodeId>()
            .ok()
            .filter(|&d| d.get() > 0)
            .ok_or_else(|| bad(format!("'{dn_text}' in '{item}' is not a data node id")))?;
        out.push((key, dn));
    }
    Ok(out)
}

fn parse_int(text: &str, what: &str) -> Result<i128, ShardingError> {
    text.trim()
        .parse::<i128>()
        .map_err(|_| bad(format!("{what} '{text}' is not an integer")))
}

fn parse_u64(text: &str, what: &str) -> Result<u64, ShardingError> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| bad(format!("{what} '{text}' is not a non-negative integer")))
}

/// "low:high", or a single value `v` as `v:v`, each bound read by `parse` (a '-' sign
/// never contains ':', so the split is unambiguous).
fn interval<T: Copy>(
    key: &str,
    parse: impl Fn(&str) -> Result<T, ShardingError>,
) -> Result<(T, T), ShardingError> {
    match key.split_once(':') {
        Some((lo, hi)) => Ok((parse(lo)?, parse(hi)?)),
        None => {
            let v = parse(key)?;
            Ok((v, v))
        }
    }
}

fn parse_range(params: &str) -> Result<ShardingFunction, ShardingError> {
    let mut intervals = Vec::new();
    let (mut below_min, mut above_max) = (None, None);
    for (key, dn) in entries(params)? {
        let lower = key.to_ascii_lowercase();
        let slot = match lower.as_str() {
            "below" => Some(&mut below_min),
            "above" => Some(&mut above_max),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.replace(dn).is_some() {
                return Err(bad(format!("RANGE '{lower}' is given twice")));
            }
            continue;
        }
        let (lo, hi) = interval(&key, |t| parse_int(t, "RANGE bound"))?;
        intervals.push((lo, hi, dn));
    }
    Ok(ShardingFunction::Range {
        intervals,
        below_min,
        above_max,
    })
}

fn parse_match(params: &str) -> Result<ShardingFunction, ShardingError> {
    let mut values = Vec::new();
    let mut empty_route = None;
    for (key, dn) in entries(params)? {
        let value = unquote(&key)?;
        if value.is_empty() {
            if empty_route.replace(dn).is_some() {
                return Err(bad("MATCH empty-string route \"\" is given twice".into()));
            }
        } else {
            values.push((value, dn));
        }
    }
    Ok(ShardingFunction::Match {
        values,
        empty_route,
    })
}

/// (low remainder, high remainder, dnid) intervals.
type Remainders = Vec<(u64, u64, DataNodeId)>;

fn parse_mod(name: &str, params: &str) -> Result<(u64, Remainders), ShardingError> {
    let upper = name.to_ascii_uppercase();
    let Some((head, list)) = params.split_once(';') else {
        return Err(bad(format!(
            "{upper} parameters must look like 'modulus=4; 0=1, 1=2, 2:3=3', got '{params}'"
        )));
    };
    let modulus = match head.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("modulus") => parse_u64(v, "modulus")?,
        _ => {
            return Err(bad(format!(
                "{upper} parameters must start with 'modulus=M;', got '{head}'"
            )))
        }
    };
    let mut remainders = Vec::new();
    for (key, dn) in entries(list)? {
        let (lo, hi) = interval(&key, |t| parse_u64(t, "remainder"))?;
        remainders.push((lo, hi, dn));
    }
    Ok((modulus, remainders))
}

/// A MATCH value: bare (trimmed) or in double quotes with `""` for a quote.
fn unquote(key: &str) -> Result<String, ShardingError> {
    let key = key.trim();
    if let Some(inner) = key.strip_prefix('"') {
        let Some(inner) = inner.strip_suffix('"') else {
            return Err(bad(format!(
                "MATCH value {key} has no closing double quote"
            )));
        };
        if inner.replace("\"\"", "").contains('"') {
            return Err(bad(format!(
                "MATCH value {key}: a quote inside quotes is written \"\""
            )));
        }
        Ok(inner.replace("\"\"", "\""))
    } else if key.contains('"') {
        Err(bad(format!(
            "MATCH value {key}: quote the whole value to use a double quote"
        )))
    } else {
        Ok(key.to_string())
    }
}

/// Writes a MATCH value bare when it reads back unchanged, else quoted.
fn quote(value: &str) -> String {
    let bare = !value.is_empty() && value.trim() == value && !value.contains([',', '=', '"', ';']);
    if bare {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('"', "\"\""))
    }
}
