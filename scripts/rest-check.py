#!/usr/bin/env python3
"""Drives every Kafka Connect REST endpoint of a live sluice worker with a
real HTTP client (Python's urllib), including the error cases, and checks
bodies and status codes against Kafka Connect's.

Usage: rest-check.py BASE_URL WORK_DIR            (the full run)
       rest-check.py BASE_URL WORK_DIR --restarted (after a worker restart)
       rest-check.py BASE_URL WORK_DIR --auth USER:PASSWORD

WORK_DIR is where the worker writes its file sink (`events.jsonl`); the
script writes the input file of a FileStreamSource connector there.
Exit 0 when everything holds; otherwise the first failed check is printed.
"""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
WORK = sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "full"
AUTH = None
checks = 0


def call(method, path, body=None, raw=None, headers=None, auth=None):
    """Returns (status, parsed JSON or text or None, response headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    auth = auth or AUTH
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text, hdrs = resp.status, resp.read().decode(), resp.headers
    except urllib.error.HTTPError as e:
        status, text, hdrs = e.code, e.read().decode(), e.headers
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, parsed, hdrs


def check(cond, what, detail=None):
    global checks
    checks += 1
    if not cond:
        print("FAILED: %s%s" % (what, "" if detail is None else "\n  got: %s" % (detail,)))
        sys.exit(1)


def expect(method, path, status, body=None, **kw):
    got, parsed, hdrs = call(method, path, body, **kw)
    check(got == status, "%s %s -> %s" % (method, path, status), (got, parsed))
    return parsed, hdrs


def connect_error(parsed, code):
    check(
        isinstance(parsed, dict) and parsed.get("error_code") == code and isinstance(parsed.get("message"), str),
        "Connect error body {error_code: %d, message}" % code,
        parsed,
    )


def wait_state(name, state, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        got, parsed, _ = call("GET", "/connectors/%s/status" % name)
        if got == 200:
            last = parsed
            if parsed["connector"]["state"] == state and all(t["state"] == state for t in parsed["tasks"]):
                return parsed
            if state == "STOPPED" and parsed["connector"]["state"] == "STOPPED":
                return parsed
        time.sleep(0.2)
    check(False, "connector %s reaches %s" % (name, state), last)


def lines_connector(name, path, extra=None):
    config = {"connector.class": "FileStreamSource", "file": path, "topic": "lines-" + name, "tasks.max": "1"}
    config.update(extra or {})
    return config


def full():
    # Root and health.
    root, _ = expect("GET", "/", 200)
    check(set(root) >= {"version", "commit", "kafka_cluster_id"}, "GET / fields", root)
    expect("GET", "/health", 200)
    expect("GET", "/connectors", 200)

    # Plugins.
    plugins, _ = expect("GET", "/connector-plugins", 200)
    classes = {p["class"] for p in plugins}
    check("io.debezium.connector.postgresql.PostgresConnector" in classes, "PostgresConnector listed", classes)
    check(all(p["type"] == "source" for p in plugins), "connectorsOnly lists connectors only", plugins)
    every, _ = expect("GET", "/connector-plugins?connectorsOnly=false", 200)
    check(any(p["type"] == "converter" for p in every), "converters with connectorsOnly=false", every)
    check(any(p["class"] == "org.apache.kafka.connect.transforms.RegexRouter" and p["type"] == "transformation" for p in every), "transforms listed", every)
    check(any(p["class"] == "org.apache.kafka.connect.transforms.predicates.TopicNameMatches" and p["type"] == "predicate" for p in every), "predicates listed", every)
    defs, _ = expect("GET", "/connector-plugins/PostgresConnector/config", 200)
    names = {d["name"] for d in defs}
    check({"database.hostname", "snapshot.mode", "topic.prefix"} <= names, "PostgresConnector config definitions", names)
    _, _ = expect("GET", "/connector-plugins/NoSuchConnector/config", 404)

    # Validation through the same definitions: a bad snapshot.mode and a
    # missing required key (topic.prefix), each reported on its key.
    result, _ = expect(
        "PUT",
        "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate",
        200,
        {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "localhost",
            "database.user": "postgres",
            "database.dbname": "db",
            "snapshot.mode": "sometimes",
            "snapshot.mdoe": "initial",
        },
    )
    errors = {c["value"]["name"]: c["value"]["errors"] for c in result["configs"] if c["value"]["errors"]}
    check(result["error_count"] >= 2, "validate error_count", result["error_count"])
    check("snapshot.mode" in errors, "validate flags snapshot.mode", errors)
    check("topic.prefix" in errors, "validate flags the missing topic.prefix", errors)
    check("snapshot.mdoe" in errors, "validate flags an unknown key", errors)
    check(result["error_count"] >= 3, "validate error_count counts every problem", result["error_count"])
    check(result["name"] == "io.debezium.connector.postgresql.PostgresConnector", "validate name", result["name"])
    parsed, _ = expect("PUT", "/connector-plugins/PostgresConnector/config/validate", 400, {"connector.class": "FileStreamSource"})
    connect_error(parsed, 400)

    # Create: errors first.
    source = os.path.join(WORK, "input.txt")
    with open(source, "w") as f:
        f.write("".join("line %d\n" % i for i in range(100)))
    parsed, _ = expect("POST", "/connectors", 400, raw=b'{"name": "x", "config": ')
    connect_error(parsed, 400)
    parsed, _ = expect("POST", "/connectors", 400, {"name": "x", "config": ["not", "a", "map"]})
    connect_error(parsed, 400)
    parsed, _ = expect("POST", "/connectors", 400, {"config": lines_connector("x", source)})
    connect_error(parsed, 400)
    parsed, _ = expect("POST", "/connectors", 400, {"name": "bad", "config": {"connector.class": "FileStreamSource", "tasks.max": "many"}})
    connect_error(parsed, 400)
    check("tasks.max" in parsed["message"], "invalid config names the key", parsed)
    got, parsed, _ = call("POST", "/connectors", raw=b'{"name": "' + b"x" * (2 << 20) + b'"}')
    check(got == 413, "a body over the size limit gets 413", (got, str(parsed)[:200]))
    got, _, _ = call("GET", "/connectors")
    check(got == 200, "the worker still answers after bad requests", got)

    # Create for real, with a placeholder that must stay unresolved.
    config = lines_connector("lines", source, {"batch.size": "${env:SLUICE_REST_CHECK_BATCH}"})
    created, hdrs = expect("POST", "/connectors", 201, {"name": "lines", "config": config})
    check(hdrs.get("Location", "").endswith("/connectors/lines"), "201 Location", dict(hdrs))
    check(created["name"] == "lines" and created["type"] == "source", "create body", created)
    check(created["config"]["batch.size"] == "${env:SLUICE_REST_CHECK_BATCH}", "placeholders stay unresolved", created["config"])
    parsed, _ = expect("POST", "/connectors", 409, {"name": "lines", "config": config})
    connect_error(parsed, 409)
    wait_state("lines", "RUNNING")

    # Read it back every way.
    listed, _ = expect("GET", "/connectors", 200)
    check("lines" in listed, "listed", listed)
    expanded, _ = expect("GET", "/connectors?expand=status&expand=info", 200)
    check(expanded["lines"]["status"]["connector"]["state"] == "RUNNING", "expand=status", expanded)
    check(expanded["lines"]["info"]["config"]["file"] == source, "expand=info", expanded)
    info, _ = expect("GET", "/connectors/lines", 200)
    check(info["tasks"] == [{"connector": "lines", "task": 0}], "info tasks", info)
    cfg, _ = expect("GET", "/connectors/lines/config", 200)
    check(cfg["topic"] == "lines-lines", "config", cfg)
    tasks, _ = expect("GET", "/connectors/lines/tasks", 200)
    check(tasks[0]["id"] == {"connector": "lines", "task": 0} and "config" in tasks[0], "tasks", tasks)
    ts, _ = expect("GET", "/connectors/lines/tasks/0/status", 200)
    check(ts["id"] == 0 and ts["state"] == "RUNNING", "task status", ts)
    for path in ["/connectors/nope", "/connectors/nope/status", "/connectors/nope/config", "/connectors/lines/tasks/7/status"]:
        parsed, _ = expect("GET", path, 404)
        connect_error(parsed, 404)

    # Records flow; the active topic shows, and resets.
    deadline = time.time() + 20
    topics = None
    while time.time() < deadline:
        topics, _ = expect("GET", "/connectors/lines/topics", 200)
        if topics["lines"]["topics"]:
            break
        time.sleep(0.3)
    check(topics == {"lines": {"topics": ["lines-lines"]}}, "active topics", topics)
    expect("PUT", "/connectors/lines/topics/reset", 200)
    topics, _ = expect("GET", "/connectors/lines/topics", 200)
    check(topics == {"lines": {"topics": []}}, "topics after reset", topics)

    # Pause / resume act on the task.
    expect("PUT", "/connectors/lines/pause", 202)
    wait_state("lines", "PAUSED")
    expect("PUT", "/connectors/lines/resume", 202)
    wait_state("lines", "RUNNING")

    # Config changes.
    patched, _ = expect("PATCH", "/connectors/lines/config", 200, {"topic": "lines-renamed", "batch.size": None})
    check(patched["config"]["topic"] == "lines-renamed" and "batch.size" not in patched["config"], "PATCH config", patched)
    wait_state("lines", "RUNNING")
    parsed, _ = expect("PUT", "/connectors/lines/config", 400, dict(lines_connector("lines", source), name="other"))
    connect_error(parsed, 400)
    expect("PATCH", "/connectors/nope/config", 404, {"topic": "t"})
    _, hdrs = expect("PUT", "/connectors/second/config", 201, lines_connector("second", source))
    updated, _ = expect("PUT", "/connectors/second/config", 200, lines_connector("second", source, {"topic": "t2"}))
    check(updated["config"]["topic"] == "t2", "PUT config updates", updated)

    # Restarts.
    expect("POST", "/connectors/lines/restart", 204)
    restarted, _ = expect("POST", "/connectors/lines/restart?includeTasks=true&onlyFailed=false", 202)
    check(restarted["name"] == "lines" and "tasks" in restarted, "restart with tasks body", restarted)
    expect("POST", "/connectors/lines/restart?includeTasks=true&onlyFailed=true", 202)
    expect("POST", "/connectors/lines/tasks/0/restart", 204)
    expect("POST", "/connectors/lines/tasks/5/restart", 404)
    expect("POST", "/connectors/nope/restart", 404)
    wait_state("lines", "RUNNING")

    # Offsets (KIP-875): readable any time, changeable only when STOPPED.
    deadline = time.time() + 20
    offsets = None
    while time.time() < deadline:
        offsets, _ = expect("GET", "/connectors/lines/offsets", 200)
        if offsets["offsets"]:
            break
        time.sleep(0.3)
    check(offsets["offsets"] and offsets["offsets"][0]["partition"] == {"filename": source}, "GET offsets", offsets)
    parsed, _ = expect("PATCH", "/connectors/lines/offsets", 400, {"offsets": [{"partition": {"filename": source}, "offset": {"position": 0}}]})
    connect_error(parsed, 400)
    expect("PUT", "/connectors/lines/stop", 204)
    stopped, _ = expect("GET", "/connectors/lines/status", 200)
    check(stopped["connector"]["state"] == "STOPPED" and stopped["tasks"] == [], "STOPPED has no tasks", stopped)
    msg, _ = expect("PATCH", "/connectors/lines/offsets", 200, {"offsets": [{"partition": {"filename": source}, "offset": {"position": 7}}]})
    check("altered successfully" in msg["message"], "PATCH offsets message", msg)
    offsets, _ = expect("GET", "/connectors/lines/offsets", 200)
    check(offsets["offsets"] == [{"partition": {"filename": source}, "offset": {"position": 7}}], "altered offset", offsets)
    parsed, _ = expect("PATCH", "/connectors/lines/offsets", 400, {"offsets": [{"partition": {"filename": source}, "position": 1}]})
    connect_error(parsed, 400)
    msg, _ = expect("DELETE", "/connectors/lines/offsets", 200)
    check("reset successfully" in msg["message"], "DELETE offsets message", msg)
    offsets, _ = expect("GET", "/connectors/lines/offsets", 200)
    check(offsets == {"offsets": []}, "offsets after reset", offsets)
    # Resumed, it reads the file again from the reset offset.
    expect("PUT", "/connectors/lines/resume", 202)
    wait_state("lines", "RUNNING")
    deadline = time.time() + 20
    while time.time() < deadline:
        offsets, _ = expect("GET", "/connectors/lines/offsets", 200)
        if offsets["offsets"]:
            break
        time.sleep(0.3)
    check(offsets["offsets"] and offsets["offsets"][0]["offset"]["position"] > 7, "reads again after the reset", offsets)

    # Loggers.
    loggers, _ = expect("GET", "/admin/loggers", 200)
    check("root" in loggers, "root logger", loggers)
    changed, _ = expect("PUT", "/admin/loggers/sluice_runtime", 200, {"level": "DEBUG"})
    check(changed == ["sluice_runtime"], "logger change", changed)
    level, _ = expect("GET", "/admin/loggers/sluice_runtime", 200)
    check(level == {"level": "DEBUG"}, "logger level", level)
    parsed, _ = expect("PUT", "/admin/loggers/sluice_runtime", 400, {"level": "LOUD"})
    connect_error(parsed, 400)

    # Delete.
    expect("DELETE", "/connectors/second", 204)
    expect("GET", "/connectors/second", 404)
    expect("DELETE", "/connectors/second", 404)
    parsed, _ = expect("GET", "/no/such/path", 404)
    connect_error(parsed, 404)

    # A connector left PAUSED, to be found so after the restart.
    expect("PUT", "/connectors/lines/pause", 202)
    wait_state("lines", "PAUSED")


def restarted():
    listed, _ = expect("GET", "/connectors", 200)
    check(listed == ["lines"], "connectors created over REST survive a restart", listed)
    wait_state("lines", "PAUSED")
    cfg, _ = expect("GET", "/connectors/lines/config", 200)
    check(cfg["topic"] == "lines-renamed", "the changed config survives", cfg)


def authenticated(credentials):
    parsed, hdrs = expect("GET", "/connectors", 401)
    connect_error(parsed, 401)
    check("WWW-Authenticate" in hdrs, "401 challenge header", dict(hdrs))
    expect("GET", "/connectors", 401, auth="wrong:creds")
    expect("GET", "/connectors", 200, auth=credentials)


if MODE == "--restarted":
    restarted()
elif MODE == "--auth":
    authenticated(sys.argv[4])
else:
    full()
print("ok: %d checks" % checks)
