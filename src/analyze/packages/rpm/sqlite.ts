import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { ProblemLog } from './problems.js';
import { MAX_RPM_SQLITE_BLOB_BYTES, MAX_RPM_SQLITE_ROWS } from '../../limits.js';

// Loaded on first use: most images have no SQLite rpmdb, and the native module costs start-up time on every scan.
const require = createRequire(import.meta.url);
let sqlite: typeof Database | undefined;
function openDatabase(image: Buffer): Database.Database {
  sqlite ??= require('better-sqlite3') as typeof Database;
  return new sqlite(image, { readonly: true });
}

/**
 * rpm's SQLite database (`rpmdb.sqlite`, Fedora ≥ 33, RHEL ≥ 9, Amazon Linux 2023 …): table `Packages`
 * (`hnum INTEGER PRIMARY KEY, blob BLOB`), one header blob per installed package.
 *
 * The file is opened from memory (SQLite's deserialize), never written to disk. rpm keeps the database in WAL
 * mode, which an in-memory image cannot use, so the copy is switched to rollback-journal mode first (bytes 18
 * and 19 of the header); the content is unchanged. A WAL file beside it (`rpmdb.sqlite-wal`) would hold changes
 * not yet checkpointed; rpm checkpoints when it closes, so images practically never carry one.
 */

const SQLITE_MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');

export class SqliteRpmdbError extends Error {}

export function looksLikeSqlite(file: Buffer): boolean {
  return file.length >= 100 && file.subarray(0, 16).equals(SQLITE_MAGIC);
}

/**
 * Calls `visit` with the blob of every row of the `Packages` table until it returns false; returns the problems
 * met. Throws `SqliteRpmdbError` when the file is not an SQLite database with such a table.
 */
export function forEachSqliteBlob(file: Buffer, visit: (blob: Buffer) => boolean): ProblemLog {
  if (!looksLikeSqlite(file)) throw new SqliteRpmdbError('not an SQLite database (bad magic)');
  const image = Buffer.from(file);
  if (image[18] === 2) image[18] = 1;
  if (image[19] === 2) image[19] = 1;

  let db: Database.Database;
  try {
    db = openDatabase(image);
  } catch (err) {
    throw new SqliteRpmdbError(`SQLite could not open it: ${(err as Error).message}`);
  }
  const problems = new ProblemLog();
  try {
    // Only a real table: a view or virtual table named Packages could run arbitrary queries.
    const table = db.prepare("SELECT type FROM sqlite_master WHERE name = 'Packages' AND type = 'table'").get();
    if (!table) throw new SqliteRpmdbError('no Packages table');
    // …and a stored column: a generated one (`blob AS (zeroblob(1e9))`) would be computed on every read.
    const columns = db.prepare("SELECT name, hidden FROM pragma_table_xinfo('Packages')").all() as { name: string; hidden: number }[];
    if (!columns.some((c) => c.name === 'blob' && c.hidden === 0)) throw new SqliteRpmdbError('Packages table has no stored blob column');
    let rows = 0;
    const select = db.prepare(`SELECT CASE WHEN length(blob) <= ${MAX_RPM_SQLITE_BLOB_BYTES} THEN blob END AS blob FROM Packages`);
    for (const row of select.iterate() as IterableIterator<{ blob: unknown }>) {
      if (++rows > MAX_RPM_SQLITE_ROWS) {
        problems.add(`more than ${MAX_RPM_SQLITE_ROWS} rows; the rest ignored`);
        break;
      }
      if (!Buffer.isBuffer(row.blob)) problems.add(`row ${rows} holds no blob, or one over ${MAX_RPM_SQLITE_BLOB_BYTES} bytes`);
      else if (!visit(row.blob)) break;
    }
  } catch (err) {
    if (err instanceof SqliteRpmdbError) throw err;
    // A damaged page may end the scan part-way; keep what was read.
    problems.add(`SQLite: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  return problems;
}
