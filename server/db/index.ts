/**
 * The console's own state in SQLite: the audit log, drains, trusted host keys.
 *
 * WAL with synchronous=FULL: a committed audit row survives a crash of the console (and of
 * the machine), so a change that dies half-way still leaves its attempt on record.
 * Schema changes are the `migrations` array below, applied in order by PRAGMA user_version:
 * only ever APPEND to it, never edit an applied entry.
 */
import "server-only";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { getConfig } from "@/server/config";

export type Db = Database.Database;

export const migrations: string[] = [
  // 1: audit log (server/db/audit.ts)
  `CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     started_at INTEGER NOT NULL,
     finished_at INTEGER,
     user TEXT NOT NULL,
     remote_address TEXT,
     action TEXT NOT NULL,
     cluster_id TEXT,
     directors TEXT NOT NULL DEFAULT '[]',
     summary TEXT NOT NULL,
     change TEXT NOT NULL,
     argv TEXT NOT NULL DEFAULT '{}',
     before TEXT NOT NULL DEFAULT '{}',
     after TEXT,
     result TEXT NOT NULL DEFAULT 'pending'
       CHECK (result IN ('pending', 'ok', 'failed', 'refused', 'conflict', 'partial')),
     error TEXT,
     details TEXT
   );
   CREATE INDEX audit_cluster ON audit (cluster_id, id);
   CREATE INDEX audit_user ON audit (user, id);`,
  // 2: drains with the weights they replaced (server/db/drains.ts)
  `CREATE TABLE drains (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     cluster_id TEXT NOT NULL,
     address TEXT NOT NULL,
     port INTEGER,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     user TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('draining', 'drained', 'undrained', 'removed')),
     audit_id INTEGER REFERENCES audit (id)
   );
   CREATE INDEX drains_cluster ON drains (cluster_id, state);
   CREATE TABLE drain_weights (
     drain_id INTEGER NOT NULL REFERENCES drains (id) ON DELETE CASCADE,
     director_id TEXT NOT NULL,
     service_key TEXT NOT NULL,
     service TEXT NOT NULL,
     realserver_port INTEGER NOT NULL,
     weight INTEGER NOT NULL,
     PRIMARY KEY (drain_id, director_id, service_key, realserver_port)
   );`,
  // 3: sessions (server/auth/sessions.ts): only the SHA-256 of each token is stored
  `CREATE TABLE sessions (
     token_hash TEXT PRIMARY KEY,
     user TEXT NOT NULL,
     credential TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     remote_address TEXT
   );
   CREATE INDEX sessions_user ON sessions (user);`,
  // 4: host keys an admin trusted through the UI (server/db/host-keys.ts), one per director
  `CREATE TABLE trusted_host_keys (
     director_id TEXT PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     trusted_at INTEGER NOT NULL,
     trusted_by TEXT NOT NULL
   );`,
  // 5: stronger password hashes made at sign-in (server/auth/password-upgrades.ts)
  `CREATE TABLE password_upgrades (
     user TEXT PRIMARY KEY,
     replaces TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     upgraded_at INTEGER NOT NULL
   );`,
  // 6: rates and connection counts per director, service, realserver (server/live/history.ts)
  `CREATE TABLE history (
     director_id TEXT NOT NULL,
     service TEXT NOT NULL,
     realserver TEXT NOT NULL,
     resolution INTEGER NOT NULL,
     at INTEGER NOT NULL,
     cps REAL NOT NULL,
     in_bps REAL NOT NULL,
     out_bps REAL NOT NULL,
     active INTEGER NOT NULL,
     inactive INTEGER NOT NULL,
     PRIMARY KEY (director_id, service, realserver, resolution, at)
   ) WITHOUT ROWID;
   CREATE INDEX history_age ON history (resolution, at);`,
  // 7: audit rows a crash left pending become "interrupted" at the next start; a drain can be
  // abandoned. SQLite cannot change a CHECK: both tables are rebuilt (migrate() runs this with
  // foreign keys off, as SQLite's own procedure for a table rebuild asks).
  `CREATE TABLE audit_new (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     started_at INTEGER NOT NULL,
     finished_at INTEGER,
     user TEXT NOT NULL,
     remote_address TEXT,
     action TEXT NOT NULL,
     cluster_id TEXT,
     directors TEXT NOT NULL DEFAULT '[]',
     summary TEXT NOT NULL,
     change TEXT NOT NULL,
     argv TEXT NOT NULL DEFAULT '{}',
     before TEXT NOT NULL DEFAULT '{}',
     after TEXT,
     result TEXT NOT NULL DEFAULT 'pending'
       CHECK (result IN ('pending', 'ok', 'failed', 'refused', 'conflict', 'partial', 'interrupted')),
     error TEXT,
     details TEXT
   );
   INSERT INTO audit_new SELECT * FROM audit;
   DROP TABLE audit;
   ALTER TABLE audit_new RENAME TO audit;
   CREATE INDEX audit_cluster ON audit (cluster_id, id);
   CREATE INDEX audit_user ON audit (user, id);
   CREATE TABLE drains_new (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     cluster_id TEXT NOT NULL,
     address TEXT NOT NULL,
     port INTEGER,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     user TEXT NOT NULL,
     state TEXT NOT NULL
       CHECK (state IN ('draining', 'drained', 'undrained', 'removed', 'abandoned')),
     audit_id INTEGER REFERENCES audit (id)
   );
   INSERT INTO drains_new SELECT * FROM drains;
   DROP TABLE drains;
   ALTER TABLE drains_new RENAME TO drains;
   CREATE INDEX drains_cluster ON drains (cluster_id, state);`,
  // 8: PersistConn in the history too, for the drain curve (persistence templates drain last)
  `ALTER TABLE history ADD COLUMN persistent INTEGER NOT NULL DEFAULT 0;`,
];

/** Opens (creating if needed) a database file and brings its schema up to date. */
export function openDb(file: string): Db {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current >= migrations.length) return;
  // A rebuilt table (drop, rename) must not cascade or trip the references to it; the
  // references are checked once every migration has run. (Outside a transaction: SQLite
  // ignores this pragma inside one.)
  db.pragma("foreign_keys = OFF");
  try {
    migrations.slice(current).forEach((sql, i) => {
      db.transaction(() => {
        db.exec(sql);
        db.pragma(`user_version = ${current + i + 1}`);
      })();
    });
    const broken = db.pragma("foreign_key_check") as unknown[];
    if (broken.length > 0)
      throw new Error(`the migrated database has ${broken.length} broken references`);
  } finally {
    db.pragma("foreign_keys = ON");
  }
}

const globalForDb = globalThis as unknown as { lvsConsoleDb?: Db };

/** The database file: $LVS_CONSOLE_DB, else lvs-console.sqlite in the config's dataDir. */
export function dbPath(): string {
  return process.env.LVS_CONSOLE_DB ?? path.join(getConfig().dataDir, "lvs-console.sqlite");
}

/** The console's database, opened once per process (cached on globalThis for dev reloads). */
export function getDb(): Db {
  globalForDb.lvsConsoleDb ??= openDb(dbPath());
  return globalForDb.lvsConsoleDb;
}

/** Tests: closes the cached database; the next getDb() opens dbPath() again. */
export function closeDb(): void {
  globalForDb.lvsConsoleDb?.close();
  globalForDb.lvsConsoleDb = undefined;
}
