// The real-client scenario with MariaDB Connector/J, using PreparedStatement with
// parameters throughout.
//
// Usage: java -cp mariadb-java-client.jar:. JdbcClient <name> <jdbc-url> [<ids>]
// With <ids> (e.g. `1,2`), first opens SPREAD connections through the URL and checks
// that the compute nodes they reached (@@server_id, each node's node_id) are exactly
// those. Prints `PASS <name>` or `FAIL <name>: <reason>` and exits 0 or 1.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

public class JdbcClient {
    private final Connection conn;
    private final String table;

    private JdbcClient(Connection conn, String table) {
        this.conn = conn;
        this.table = table;
    }

    private static void check(String what, Object got, Object expected) {
        if (!Objects.equals(got, expected)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + got);
        }
    }

    private PreparedStatement prepare(String sql, Object... params) throws SQLException {
        PreparedStatement ps = conn.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            if (params[i] == null) {
                ps.setNull(i + 1, Types.DECIMAL);
            } else {
                ps.setObject(i + 1, params[i]);
            }
        }
        return ps;
    }

    private int update(String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(sql, params)) {
            return ps.executeUpdate();
        }
    }

    /** Rows as lists of strings (NULL as "NULL"), so expectations read like text. */
    private List<String> query(String sql, Object... params) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, params); ResultSet rs = ps.executeQuery()) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int c = 1; c <= columns; c++) {
                    if (c > 1) row.append('|');
                    String v = rs.getString(c);
                    row.append(v == null ? "NULL" : v);
                }
                rows.add(row.toString());
            }
        }
        return rows;
    }

    private void expectError(int code, String sql, Object... params) {
        try {
            update(sql, params);
        } catch (SQLException e) {
            check("error code of " + sql + " (" + e.getMessage() + ")", e.getErrorCode(), code);
            return;
        }
        throw new AssertionError(sql + " succeeded, expected error " + code);
    }

    private void scenario() throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
            st.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, "
                    + "qty INT NOT NULL, price DECIMAL(10,2))");
        }
        String insert = "INSERT INTO " + table + " (id, name, qty, price) VALUES (?, ?, ?, ?)";
        check("insert 1", update(insert, 1, "apple", 10, new BigDecimal("1.50")), 1);
        check("insert 2", update(insert, 2, "banana", 20, new BigDecimal("0.25")), 1);
        check("insert 3", update(insert, 3, "cherry", 30, new BigDecimal("12.00")), 1);
        check("insert 4", update(insert, 4, "date", 40, null), 1);
        check("insert 5", update(insert, 5, "elder", 50, new BigDecimal("3.10")), 1);

        check("all rows", query("SELECT id, name, qty, price FROM " + table + " WHERE id > ? ORDER BY id", 0),
                List.of("1|apple|10|1.50", "2|banana|20|0.25", "3|cherry|30|12.00", "4|date|40|NULL",
                        "5|elder|50|3.10"));
        check("row 3", query("SELECT name FROM " + table + " WHERE id = ?", 3), List.of("cherry"));
        check("count and sum", query("SELECT COUNT(*), SUM(qty) FROM " + table), List.of("5|150"));

        check("updated rows", update("UPDATE " + table + " SET qty = qty + 1 WHERE id = ?", 2), 1);
        check("updated qty", query("SELECT qty FROM " + table + " WHERE id = ?", 2), List.of("21"));
        check("deleted rows", update("DELETE FROM " + table + " WHERE id = ?", 5), 1);
        check("count after delete", query("SELECT COUNT(*) FROM " + table), List.of("4"));

        conn.setAutoCommit(false);
        update("INSERT INTO " + table + " VALUES (?, ?, ?, ?)", 6, "fig", 60, new BigDecimal("2.00"));
        conn.rollback();
        conn.setAutoCommit(true);
        check("rolled-back row", query("SELECT COUNT(*) FROM " + table + " WHERE id = ?", 6), List.of("0"));

        conn.setAutoCommit(false);
        update("INSERT INTO " + table + " VALUES (?, ?, ?, ?)", 7, "grape", 70, new BigDecimal("4.00"));
        update("UPDATE " + table + " SET qty = ? WHERE id = ?", 0, 1);
        conn.commit();
        conn.setAutoCommit(true);
        check("committed rows", query("SELECT id, qty FROM " + table + " WHERE id IN (?, ?) ORDER BY id", 1, 7),
                List.of("1|0", "7|70"));

        expectError(1064, "SELEC 1");
        expectError(1062, "INSERT INTO " + table + " VALUES (?, 'again', 1, 1.00)", 1);
        check("connection usable after errors", query("SELECT ? + 1", 1), List.of("2"));

        try (Statement st = conn.createStatement()) {
            st.execute("DROP TABLE " + table);
        }
    }

    /** Connections opened to see which compute nodes a multi-host URL reaches. */
    private static final int SPREAD = 24;

    /** The @@server_id of each of SPREAD new connections through `url`. */
    private static Set<String> serversReached(String url) throws SQLException {
        Set<String> reached = new TreeSet<>();
        for (int i = 0; i < SPREAD; i++) {
            try (Connection c = DriverManager.getConnection(url);
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT @@server_id")) {
                rs.next();
                reached.add(rs.getString(1));
            }
        }
        return reached;
    }

    public static void main(String[] args) {
        if (args.length != 2 && args.length != 3) {
            System.out.println("FAIL jdbc: usage: JdbcClient <name> <jdbc-url> [<ids>]");
            System.exit(1);
        }
        String name = args[0];
        String table = "t_" + name.replaceAll("[^A-Za-z0-9_]", "_");
        try {
            if (args.length == 3) {
                Set<String> expected = new TreeSet<>(List.of(args[2].split(",")));
                check("compute nodes reached by " + SPREAD + " connections", serversReached(args[1]), expected);
            }
        } catch (Throwable e) {
            String message = String.valueOf(e.getMessage()).split("\n")[0];
            System.out.println("FAIL " + name + ": " + e.getClass().getSimpleName() + ": " + message);
            System.exit(1);
        }
        try (Connection conn = DriverManager.getConnection(args[1])) {
            new JdbcClient(conn, table).scenario();
        } catch (Throwable e) {
            String message = String.valueOf(e.getMessage()).split("\n")[0];
            System.out.println("FAIL " + name + ": " + e.getClass().getSimpleName() + ": " + message);
            System.exit(1);
        }
        System.out.println("PASS " + name);
    }
}
