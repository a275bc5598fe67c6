//! The definers of objects kept on data nodes (views of databases on one data node,
//! procedures, functions, triggers, events, packages). The storage node's object has the
//! storage account as its definer; the definer the client sees (the account named in
//! `DEFINER = ...`, or the creating session's) is recorded here, one record per
//! database, kind and name, in the metadata store (redb table `definers`, or etcd keys
//! `P/definer/<db>/<kind>/<name>`). Records are read from the store when a statement
//! shows them, so every compute node sharing etcd sees the same definers without a
//! cache to keep in step.

use redb::TableDefinition;

use serde::{Deserialize, Serialize};
use strata_sql::account::UserName;
use strata_sql::StoredObject;

use crate::error::CatalogError;
use crate::store::{decode, encode, table_names_in, MetadataStore};

/// (database, `KIND/name`) -> encoded definer (created when the store opens).
pub(crate) const DEFINERS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("definers");

/// Kinds in the order of [`StoredObject`]'s keywords, for reading keys back.
const KINDS: [StoredObject; 7] = [
    StoredObject::View,
    StoredObject::Procedure,
    StoredObject::Function,
    StoredObject::Trigger,
    StoredObject::Event,
    StoredObject::Package,
    StoredObject::PackageBody,
];

/// One recorded definer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinerRecord {
    /// The object's kind.
    pub kind: StoredObject,
    /// The object's name (lower case for kinds named case-insensitively).
    pub name: String,
    /// The definer shown for it.
    pub definer: UserName,
}

/// The stored form of a definer.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    user: String,
    host: String,
}

/// `KIND/name`: the part of a key after the database.
fn object_key(kind: StoredObject, name: &str) -> String {
    format!("{}/{}", kind.keyword(), kind.key_name(name))
}

/// Reads `KIND/name` back.
fn parse_object_key(key: &str) -> Option<(StoredObject, String)> {
    let (kind, name) = key.split_once('/')?;
    let kind = KINDS.into_iter().find(|k| k.keyword() == kind)?;
    Some((kind, name.to_string()))
}

fn record(object: &str, value: &[u8]) -> Result<Option<DefinerRecord>, CatalogError> {
    let Some((kind, name)) = parse_object_key(object) else {
        tracing::warn!(key = %object, "definer record with an unknown kind; ignored");
        return Ok(None);
    };
    let stored: Stored = decode(value, "definer")?;
    Ok(Some(DefinerRecord {
        kind,
        name,
        definer: UserName::new(stored.user, stored.host),
    }))
}

impl MetadataStore {
    /// Records (or replaces) the definer of `db`.`name`.
    pub fn put_definer(
        &self,
        db: &str,
        kind: StoredObject,
        name: &str,
        definer: &UserName,
    ) -> Result<(), CatalogError> {
        let value = encode(&Stored {
            user: definer.user.clone(),
            host: definer.host.clone(),
        })?;
        let object = object_key(kind, name);
        match self {
            MetadataStore::Redb(s) => {
                let txn = s.db().begin_write()?;
                txn.open_table(DEFINERS)?
                    .insert((db, object.as_str()), value.as_slice())?;
                txn.commit()?;
            }
            MetadataStore::Etcd(s) => {
                s.client().put(&etcd_key(s, db, &object), &value, 0)?;
            }
        }
        Ok(())
    }

    /// Forgets the definer of `db`.`name` (nothing when there is none).
    pub fn drop_definer(
        &self,
        db: &str,
        kind: StoredObject,
        name: &str,
    ) -> Result<(), CatalogError> {
        let object = object_key(kind, name);
        match self {
            MetadataStore::Redb(s) => {
                let txn = s.db().begin_write()?;
                txn.open_table(DEFINERS)?.remove((db, object.as_str()))?;
                txn.commit()?;
            }
            MetadataStore::Etcd(s) => {
                s.client().delete(&etcd_key(s, db, &object))?;
            }
        }
        Ok(())
    }

    /// The recorded definer of `db`.`name`, if any.
    pub fn definer(
        &self,
        db: &str,
        kind: StoredObject,
        name: &str,
    ) -> Result<Option<UserName>, CatalogError> {
        let object = object_key(kind, name);
        let value = match self {
            MetadataStore::Redb(s) => {
                let txn = s.db().begin_read()?;
                let table = txn.open_table(DEFINERS)?;
                let value = table.get((db, object.as_str()))?;
                value.map(|v| v.value().to_vec())
            }
            MetadataStore::Etcd(s) => s
                .client()
                .get(&etcd_key(s, db, &object))?
                .map(|kv| kv.value),
        };
        match value {
            Some(v) => Ok(record(&object, &v)?.map(|r| r.definer)),
            None => Ok(None),
        }
    }

    /// Every recorded definer of database `db`.
    pub fn definers(&self, db: &str) -> Result<Vec<DefinerRecord>, CatalogError> {
        let mut out = Vec::new();
        match self {
            MetadataStore::Redb(s) => {
                let txn = s.db().begin_read()?;
                let table = txn.open_table(DEFINERS)?;
                for entry in table.range((db, "")..)? {
                    let (k, v) = entry?;
                    let (key_db, object) = k.value();
                    if key_db != db {
                        break;
                    }
                    out.extend(record(object, v.value())?);
                }
            }
            MetadataStore::Etcd(s) => {
                let prefix = etcd_key(s, db, "");
                let (kvs, _) = s.client().range_prefix(&prefix)?;
                for kv in kvs {
                    let object = String::from_utf8_lossy(&kv.key[prefix.len()..]).into_owned();
                    out.extend(record(&unescape_object(&object), &kv.value)?);
                }
            }
        }
        Ok(out)
    }

    /// Forgets every definer of a dropped database.
    pub fn drop_definers_of(&self, db: &str) -> Result<(), CatalogError> {
        match self {
            MetadataStore::Redb(s) => {
                let txn = s.db().begin_write()?;
                {
                    let mut table = txn.open_table(DEFINERS)?;
                    for object in table_names_in(&table, db)? {
                        table.remove((db, object.as_str()))?;
                    }
                }
                txn.commit()?;
            }
            MetadataStore::Etcd(s) => {
                for record in self.definers(db)? {
                    let object = object_key(record.kind, &record.name);
                    s.client().delete(&etcd_key(s, db, &object))?;
                }
            }
        }
        Ok(())
    }
}

/// `P/definer/<db>/<KIND>/<name>` with the database and name escaped as every etcd
/// key part (the kind is one of a few words).
fn etcd_key(store: &crate::store::etcd::EtcdStore, db: &str, object: &str) -> Vec<u8> {
    let object = match object.split_once('/') {
        Some((kind, name)) => format!("{kind}/{}", escape(name)),
        None => escape(object),
    };
    format!("{}/definer/{}/{object}", store.key_prefix(), escape(db)).into_bytes()
}

fn escape(part: &str) -> String {
    part.replace('%', "%25").replace('/', "%2F")
}

/// `KIND/escaped-name` back to `KIND/name`.
fn unescape_object(object: &str) -> String {
    match object.split_once('/') {
        Some((kind, name)) => format!("{kind}/{}", name.replace("%2F", "/").replace("%25", "%")),
        None => object.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_persist_by_database_kind_and_name() -> Result<(), CatalogError> {
        let dir = tempfile::tempdir().map_err(|source| CatalogError::DataDir {
            path: std::env::temp_dir(),
            source,
        })?;
        let root = UserName::new("root", "localhost");
        let app = UserName::new("app", "%");
        {
            let store = MetadataStore::open(dir.path())?;
            assert_eq!(store.definer("d", StoredObject::View, "v")?, None);
            store.put_definer("d", StoredObject::View, "v", &root)?;
            store.put_definer("d", StoredObject::Procedure, "My/Proc", &app)?;
            store.put_definer("d2", StoredObject::Event, "e", &app)?;
        }
        let store = MetadataStore::open(dir.path())?;
        assert_eq!(store.definer("d", StoredObject::View, "v")?, Some(root));
        assert_eq!(store.definer("d", StoredObject::View, "V")?, None);
        assert_eq!(
            store.definer("d", StoredObject::Procedure, "my/proc")?,
            Some(app.clone())
        );
        assert_eq!(store.definer("d", StoredObject::Function, "my/proc")?, None);
        assert_eq!(store.definers("d")?.len(), 2);
        store.drop_definer("d", StoredObject::View, "v")?;
        assert_eq!(store.definers("d")?.len(), 1);
        store.drop_definers_of("d")?;
        assert!(store.definers("d")?.is_empty());
        assert_eq!(store.definers("d2")?.len(), 1);
        Ok(())
    }
}
