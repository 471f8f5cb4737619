package cascade.neo4jlocal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.ByteUnit;
import sun.misc.Signal;

/**
 * Embedded Neo4j 5.26 community with Bolt on 127.0.0.1, for development and CI without Docker.
 *
 * <p>Usage: {@code LocalNeo4j --port 7687 --data /tmp/neo4j [--password secret123]}. Prints
 * exactly one line, {@code ready bolt://127.0.0.1:PORT}, once Bolt accepts connections; on
 * SIGTERM or SIGINT it shuts the database down cleanly and exits 0. Neo4j's own logs go to
 * DATA/logs.
 */
public final class LocalNeo4j {
    private static final String HOST = "127.0.0.1";
    private static final Set<String> OPTIONS = Set.of("--port", "--data", "--password");
    private static final String USAGE = "usage: LocalNeo4j --port PORT --data DIR [--password PW]";

    private LocalNeo4j() {}

    public static void main(String[] args) {
        Map<String, String> options = parseArgs(args);
        try {
            int port = Integer.parseInt(options.get("--port"));
            serve(port, Path.of(options.get("--data")), options.get("--password"));
            System.exit(0);
        } catch (Exception | LinkageError failure) {
            // Neo4j leaves non-daemon threads behind, so a failed start must exit explicitly;
            // System.exit runs the shutdown hook, which closes the store if it was opened.
            failure.printStackTrace();
            Throwable root = failure;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            // Last line of stderr: the root cause, e.g. "Address already in use".
            System.err.println("neo4j-local: failed to start: " + root);
            System.exit(1);
        }
    }

    /** Starts Neo4j, announces readiness, and blocks until SIGTERM/SIGINT; then shuts down. */
    private static void serve(int port, Path data, String password) throws Exception {
        Path home = data.toAbsolutePath();
        Files.createDirectories(home);
        CountDownLatch stopRequested = new CountDownLatch(1);
        // Handling TERM/INT ourselves (instead of only a shutdown hook) lets us exit 0, not 143.
        Signal.handle(new Signal("TERM"), signal -> stopRequested.countDown());
        Signal.handle(new Signal("INT"), signal -> stopRequested.countDown());

        DatabaseManagementService dbms = build(home, port, password != null);
        AtomicBoolean stopped = new AtomicBoolean(false);
        Runnable shutdown = () -> {
            if (stopped.compareAndSet(false, true)) {
                dbms.shutdown();
            }
        };
        // Also close the store on any other exit (failed start, SIGHUP, System.exit).
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "neo4j-local-shutdown"));

        if (password != null) {
            setPassword(dbms, password);
        }
        awaitBolt(port);
        System.out.println("ready bolt://" + HOST + ":" + port);
        System.out.flush();

        stopRequested.await();
        shutdown.run();
    }

    private static DatabaseManagementService build(Path home, int port, boolean auth) {
        SocketAddress bolt = new SocketAddress(HOST, port);
        return new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache())
                // A 1,000-row UNWIND ... MERGE batch needs a few MB; the cap turns a runaway
                // query into a clear error instead of an OutOfMemoryError. The global cap keeps
                // its default (70% of the heap).
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size, mib(256))
                // Small, non-preallocated transaction logs: the defaults (256 MB preallocated
                // per database, i.e. ~0.5 GB for neo4j + system) are for servers, not CI disks.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, mib(64))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // No phoning home from dev machines and CI runners.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Bolt's event loops otherwise idle 5 s twice on shutdown (stores are already
                // checkpointed by then), turning every CI stop into a 10 s wait.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .build();
    }

    /** NEO4J_LOCAL_PAGECACHE (e.g. "2g") for a store bigger than a dev one, else 256 MiB. */
    private static long pageCache() {
        String size = System.getenv("NEO4J_LOCAL_PAGECACHE");
        return size == null || size.isBlank() ? mib(256) : ByteUnit.parse(size);
    }

    private static long mib(long count) {
        return ByteUnit.mebiBytes(count);
    }

    /**
     * Sets the built-in neo4j user's password (embedded calls bypass auth). Restarting with the
     * password already set is fine: Neo4j refuses an unchanged password, which we ignore.
     */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (QueryExecutionException refused) {
            if (!String.valueOf(refused.getMessage()).contains("cannot be the same")) {
                throw refused;
            }
        }
    }

    /** Waits until the Bolt port accepts a TCP connection (normally already true after build()). */
    private static void awaitBolt(int port) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(HOST, port), 1000);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Bolt did not start listening on port " + port);
                }
                Thread.sleep(100);
            }
        }
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!OPTIONS.contains(args[i]) || i + 1 >= args.length) {
                usage("unexpected or incomplete argument: " + args[i]);
            }
            options.put(args[i], args[i + 1]);
        }
        if (!options.containsKey("--port") || !options.containsKey("--data")) {
            usage("--port and --data are required");
        }
        String password = options.get("--password");
        if (password != null && password.length() < 8) {
            usage("--password must have at least 8 characters (Neo4j's minimum)");
        }
        return options;
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println(USAGE);
        System.exit(2);
    }
}
