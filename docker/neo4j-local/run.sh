#!/usr/bin/env bash
# Start the embedded Neo4j 5.26 launcher: run.sh --port PORT --data DIR [--password PW]
# Builds it with Maven on first use (or when pom.xml / the Java source changed);
# `run.sh --build-only` just does that (the first build downloads ~125 MB into ~/.m2).
# Heap: NEO4J_LOCAL_HEAP (default 1g); page cache: NEO4J_LOCAL_PAGECACHE (default 256m);
# extra JVM flags: NEO4J_LOCAL_JAVA_OPTS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/neo4j-local.jar"

needs_build() {
    [[ ! -f "$jar" || ! -d "$here/target/lib" ]] && return 0
    [[ -n "$(find "$here/pom.xml" "$here/src" -newer "$jar" -print -quit)" ]]
}

if needs_build; then
    command -v mvn >/dev/null || { echo "neo4j-local: mvn not found (needs Maven 3.8+ and Java 17+)" >&2; exit 127; }
    # Build output goes to stderr so stdout carries only the launcher's "ready" line.
    mvn -q -B -f "$here/pom.xml" package -DskipTests 1>&2
fi
[[ "${1:-}" == "--build-only" ]] && exit 0

command -v java >/dev/null || { echo "neo4j-local: java not found (needs Java 17+)" >&2; exit 127; }

# The JVM flags are those the Neo4j 5 server sets in its neo4j.conf (server.jvm.additional),
# so this embedded server behaves as the production image does; the heap starts at its
# maximum, as compose sets it and Neo4j advises (no resizing under load).
# shellcheck disable=SC2086
exec java \
    -Xms"${NEO4J_LOCAL_HEAP:-1g}" \
    -Xmx"${NEO4J_LOCAL_HEAP:-1g}" \
    -XX:+UseG1GC \
    -XX:-OmitStackTraceInFastThrow \
    -XX:+AlwaysPreTouch \
    -XX:+UnlockExperimentalVMOptions \
    -XX:+TrustFinalNonStaticFields \
    -XX:+DisableExplicitGC \
    -Djdk.nio.maxCachedBufferSize=1024 \
    -Dio.netty.tryReflectionSetAccessible=true \
    -XX:+ExitOnOutOfMemoryError \
    -Dlog4j2.disable.jmx=true \
    --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    ${NEO4J_LOCAL_JAVA_OPTS:-} \
    -cp "$jar:$here/target/lib/*" \
    cascade.neo4jlocal.LocalNeo4j "$@"
