import type { Database, Statement } from 'sql.js';

/**
 * The numbers the events table uses for kinds and session ids (tables `kinds` and
 * `stream_names`). A name is numbered when its first accepted event is stored, so a replay of
 * the same journal numbers the same way. Numbers given inside a transaction that rolls back are
 * forgotten with `forget()`.
 */
export class NameNumbers {
  private readonly cache = new Map<string, number>();
  private readonly find: Statement;
  private readonly insert: Statement;

  constructor(
    private readonly db: Database,
    table: 'kinds' | 'stream_names',
    column: 'kind' | 'session_id',
  ) {
    this.find = db.prepare(`SELECT no FROM ${table} WHERE ${column} = ?`);
    this.insert = db.prepare(`INSERT INTO ${table} (${column}) VALUES (?)`);
  }

  /** The number of `name`, giving it the next one if it has none. */
  numberOf(name: string): number {
    const cached = this.cache.get(name);
    if (cached !== undefined) {
      return cached;
    }
    let no: number;
    try {
      this.find.bind([name]);
      no = this.find.step() ? Number(this.find.get()[0]) : 0;
    } finally {
      this.find.reset();
    }
    if (no === 0) {
      this.insert.run([name]);
      no = Number(this.db.exec('SELECT last_insert_rowid()')[0]!.values[0]![0]);
    }
    this.cache.set(name, no);
    return no;
  }

  forget(): void {
    this.cache.clear();
  }

  dispose(): void {
    this.find.free();
    this.insert.free();
  }
}
