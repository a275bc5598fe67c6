// The real-client scenario with Node mysql2, using execute() (server-side prepared
// statements) wherever there are parameters.
//
// Connection settings come from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME. Prints
// `PASS mysql2` or `FAIL mysql2: <reason>` and exits 0 or 1.
'use strict';

const mysql = require('mysql2/promise');
const assert = require('assert');

const NAME = 'mysql2';
const TABLE = 't_mysql2';

async function expectError(conn, sql, params, code) {
  try {
    await conn.execute(sql, params);
  } catch (e) {
    assert.strictEqual(e.errno, code, `error code of ${sql}: ${e.message}`);
    return;
  }
  throw new Error(`${sql} succeeded, expected error ${code}`);
}

async function scenario(conn) {
  await conn.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await conn.query(
    `CREATE TABLE ${TABLE} (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, ` +
      'qty INT NOT NULL, price DECIMAL(10,2))',
  );
  const rows = [
    [1, 'apple', 10, '1.50'],
    [2, 'banana', 20, '0.25'],
    [3, 'cherry', 30, '12.00'],
    [4, 'date', 40, null],
    [5, 'elder', 50, '3.10'],
  ];
  for (const row of rows) {
    const [res] = await conn.execute(
      `INSERT INTO ${TABLE} (id, name, qty, price) VALUES (?, ?, ?, ?)`,
      row,
    );
    assert.strictEqual(res.affectedRows, 1, 'insert affected rows');
  }

  let [got] = await conn.execute(
    `SELECT id, name, qty, price FROM ${TABLE} WHERE id > ? ORDER BY id`,
    [0],
  );
  assert.deepStrictEqual(
    got.map((r) => [r.id, r.name, r.qty, r.price]),
    rows,
    'all rows',
  );
  [got] = await conn.execute(`SELECT name FROM ${TABLE} WHERE id = ?`, [3]);
  assert.deepStrictEqual(got, [{ name: 'cherry' }], 'row 3');
  [got] = await conn.execute(`SELECT COUNT(*) AS n, SUM(qty) AS s FROM ${TABLE}`, []);
  assert.deepStrictEqual([Number(got[0].n), Number(got[0].s)], [5, 150], 'count and sum');

  let [res] = await conn.execute(`UPDATE ${TABLE} SET qty = qty + 1 WHERE id = ?`, [2]);
  assert.strictEqual(res.affectedRows, 1, 'updated rows');
  [got] = await conn.execute(`SELECT qty FROM ${TABLE} WHERE id = ?`, [2]);
  assert.deepStrictEqual(got, [{ qty: 21 }], 'updated qty');
  [res] = await conn.execute(`DELETE FROM ${TABLE} WHERE id = ?`, [5]);
  assert.strictEqual(res.affectedRows, 1, 'deleted rows');
  [got] = await conn.execute(`SELECT COUNT(*) AS n FROM ${TABLE}`, []);
  assert.strictEqual(Number(got[0].n), 4, 'count after delete');

  await conn.beginTransaction();
  await conn.execute(`INSERT INTO ${TABLE} VALUES (?, ?, ?, ?)`, [6, 'fig', 60, '2.00']);
  await conn.rollback();
  [got] = await conn.execute(`SELECT COUNT(*) AS n FROM ${TABLE} WHERE id = ?`, [6]);
  assert.strictEqual(Number(got[0].n), 0, 'rolled-back row');

  await conn.beginTransaction();
  await conn.execute(`INSERT INTO ${TABLE} VALUES (?, ?, ?, ?)`, [7, 'grape', 70, '4.00']);
  await conn.execute(`UPDATE ${TABLE} SET qty = ? WHERE id = ?`, [0, 1]);
  await conn.commit();
  [got] = await conn.execute(
    `SELECT id, qty FROM ${TABLE} WHERE id IN (?, ?) ORDER BY id`,
    [1, 7],
  );
  assert.deepStrictEqual(got, [{ id: 1, qty: 0 }, { id: 7, qty: 70 }], 'committed rows');

  try {
    await conn.query('SELEC 1');
    throw new Error('SELEC 1 succeeded, expected error 1064');
  } catch (e) {
    assert.strictEqual(e.errno, 1064, `error code of SELEC 1: ${e.message}`);
  }
  await expectError(conn, `INSERT INTO ${TABLE} VALUES (?, 'again', 1, 1.00)`, [1], 1062);
  [got] = await conn.execute('SELECT ? + 1 AS two', [1]);
  assert.strictEqual(Number(got[0].two), 2, 'connection usable after errors');

  await conn.query(`DROP TABLE ${TABLE}`);
}

async function main() {
  let conn;
  try {
    conn = await mysql.createConnection({
      host: process.env.DB_HOST || '127.0.0.1',
      port: Number(process.env.DB_PORT),
      user: process.env.DB_USER || 'root',
      password: process.env.DB_PASSWORD || '',
      database: process.env.DB_NAME || 'test',
      connectTimeout: 10000,
    });
    await scenario(conn);
    await conn.end();
  } catch (e) {
    console.log(`FAIL ${NAME}: ${String(e.message || e).split('\n')[0]}`);
    if (conn) conn.destroy();
    process.exit(1);
  }
  console.log(`PASS ${NAME}`);
}

main();
