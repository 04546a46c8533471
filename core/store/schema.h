// The workspace schema and its migrations. The version lives in
// PRAGMA user_version; the file is marked as ours by PRAGMA application_id.
#pragma once
#include "store/sqlite.h"

namespace imsm::store {

constexpr int kSchemaVersion = 5;
constexpr int kApplicationId = 0x494d534d;  // "IMSM"

// Brings `db` to kSchemaVersion inside one transaction: creates an empty
// file's tables, or applies each missing migration in order. Refuses (BadInput
// naming the file) a database of another application, and one written by a
// newer IMSM Workbench (a higher user_version).
void migrate(sql::Database& db);

// The version of an opened database, after the same checks (read-only use).
int check_version(sql::Database& db);

}  // namespace imsm::store
