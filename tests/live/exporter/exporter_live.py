#!/usr/bin/env python3
"""Live checks of governord's metrics endpoint on this host (root).

  promtool              `promtool check metrics` finds nothing in live scrapes (an
                        idle daemon, then one with a workload group).
  short_workload        a workload that lives 50 ms still shows in its class's
                        ended-workloads totals after the daemon reaped its group.
  hostile_clients       100 hostile connections to governord's endpoint (40 idle,
                        30 slowloris, 30 reconnecting with one byte): 20 scrapes
                        from a new client each succeed within 1 s.
  prometheus_dashboard  a real Prometheus scrapes governord (and the fixture server,
                        which has every controller's files that this host lacks);
                        every PromQL expression of packaging/grafana/governor.json,
                        and every template variable, returns data through the HTTP
                        API; expressions over metrics the live daemon serves must
                        return data for the live daemon itself.

Exit 0 pass, 1 fail, 77 skip (not root). Missing promtool/prometheus is a failure.
Hygiene: only processes started here are signalled, by pid; the unique cgroup
root under /sys/fs/cgroup/unified is removed; nothing touches cgroup v1.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# The cgroup v2 hierarchy: hybrid hosts mount it at /sys/fs/cgroup/unified, pure v2
# hosts at /sys/fs/cgroup. Never anything under the v1 controller hierarchies.
CGROUP2 = next((d for d in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")
                if os.path.isfile(d + "/cgroup.controllers")), "/sys/fs/cgroup/unified")


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_for(pred, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    fail("timed out after %ss waiting for %s" % (timeout, what))


def sample(text, name, labels=None):
    """The value of the series `name` whose labels include `labels`, or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in (labels or {}).items()):
            return float(m.group(4))
    return None


def metric_names(text):
    return {l.split("{")[0].split(" ")[0] for l in text.splitlines() if l and not l.startswith("#")}


class Processes:
    """Processes this test started, stopped by pid only."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        """SIGTERM to each still running process; returns [(argv0, exit code)] of
        those that did not exit 0 after SIGTERM (e.g. a sanitizer report)."""
        bad = []
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                if p.returncode != 0 and p.args[0] != "sh":
                    bad.append((os.path.basename(p.args[0]), p.returncode))
        return bad

    def stop_checked(self):
        bad = self.stop_all()
        if bad:
            fail("unclean exit after SIGTERM: " + ", ".join("%s: %s" % b for b in bad))


class Governord:
    def __init__(self, args, procs, tmp):
        self.root = "%s/gov-exporter-live-%d" % (CGROUP2, os.getpid())
        if os.path.exists(self.root):
            fail("%s exists already" % self.root)
        self.state = os.path.join(tmp, "state")
        self.log = os.path.join(tmp, "governord.log")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/metrics" % self.port
        policy = os.path.join(args.source_dir, "tests/fixtures/exporter/live-policy.toml")
        with open(self.log, "w") as logf:
            self.proc = procs.start(
                [args.governord, "--cgroup-root", self.root, "--state-dir", self.state,
                 "--policy", policy, "--metrics-listen", "127.0.0.1:%d" % self.port,
                 "--rescan-interval", "1"],
                stdout=logf, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                fail("governord exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            return "governord ready" in self.read_log()
        wait_for(ready, 30, "'governord ready' in governord's log")

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def scrape(self):
        status, body = http_get(self.url)
        if status != 200:
            fail("GET %s: %s" % (self.url, status))
        return body

    def remove_tree(self):
        if not os.path.isdir(self.root):
            return
        for d, _, _ in sorted(os.walk(self.root), key=lambda e: -len(e[0])):
            try:
                os.rmdir(d)
            except OSError as e:
                print("warning: rmdir %s: %s" % (d, e))


def start_in_group(procs, group_dir, argv):
    """Runs argv in the cgroup group_dir: the shell moves itself, then execs."""
    cmd = 'echo $$ > "%s/cgroup.procs" && exec "$@"' % group_dir
    return procs.start(["sh", "-c", cmd, "sh"] + argv)


def promtool_check(body, what):
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0 or out:
        fail("promtool check metrics on %s (rc %d):\n%s" % (what, r.returncode, out))
    print("promtool: %s clean (%d lines)" % (what, body.count("\n")))


def check_promtool(args, procs, tmp):
    g = Governord(args, procs, tmp)
    try:
        promtool_check(g.scrape(), "an idle daemon")
        scope = os.path.join(g.root, "adhoc.slice", "promtool.scope")
        os.mkdir(scope)
        start_in_group(procs, scope, ["sleep", "60"])
        wait_for(lambda: sample(g.scrape(), "governor_groups_managed", {"class": "adhoc"}) == 1,
                 30, "the daemon to adopt adhoc.slice/promtool.scope")
        body = g.scrape()
        if sample(body, "governor_group_cpu_usage_seconds_total",
                  {"group": "adhoc.slice/promtool.scope"}) is None:
            fail("no group series for adhoc.slice/promtool.scope:\n" + body)
        promtool_check(body, "a daemon with a workload group")
        procs.stop_checked()
    finally:
        procs.stop_all()
        g.remove_tree()


def check_short_workload(args, procs, tmp):
    g = Governord(args, procs, tmp)
    try:
        key = {"class": "adhoc"}
        before = sample(g.scrape(), "governor_class_ended_workloads_total", key)
        if before is None:
            fail("no governor_class_ended_workloads_total{class=\"adhoc\"} before the workload")
        scope = os.path.join(g.root, "adhoc.slice", "t.scope")
        os.mkdir(scope)
        p = start_in_group(procs, scope, ["sleep", "0.05"])
        started = time.monotonic()
        if p.wait(timeout=10) != 0:
            fail("the 50 ms workload failed: exit %s" % p.returncode)
        lived = time.monotonic() - started
        wait_for(lambda: not os.path.exists(scope), 30, "the daemon to reap %s" % scope)
        after_text = g.scrape()
        after = sample(after_text, "governor_class_ended_workloads_total", key)
        print("adhoc ended workloads: %s -> %s (workload lived %.0f ms)" % (before, after, lived * 1e3))
        if after != before + 1:
            fail("governor_class_ended_workloads_total{class=\"adhoc\"} went from %s to %s, "
                 "expected +1" % (before, after))
        cpu = sample(after_text, "governor_class_ended_cpu_usage_seconds_total", key)
        if not cpu or cpu <= 0:
            fail("the ended workload's CPU time is not in the adhoc totals: %s" % cpu)
        print("adhoc ended CPU: %.6f s" % cpu)
        procs.stop_checked()
    finally:
        procs.stop_all()
        g.remove_tree()


def check_hostile_clients(args, procs, tmp):
    """The endpoint serves Prometheus whatever other clients do (its default limits:
    16 connections, 3 s for a request head, the oldest idle connection evicted)."""
    g = Governord(args, procs, tmp)
    stop = threading.Event()
    connected = [0]
    lock = threading.Lock()
    idle = []

    def connect():
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        with lock:
            connected[0] += 1
        return s

    def hostile(kind):
        """slowloris: a request head one byte every 100 ms, never complete;
        reconnector: one byte, then nothing; both come back when cut."""
        head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        while not stop.is_set():
            s = None
            try:
                s = connect()
                s.settimeout(0.1)
                s.send(b"G")
                i = 1
                while not stop.is_set():
                    try:
                        if s.recv(64) == b"":
                            break  # cut by the server: come back
                    except socket.timeout:
                        pass
                    if kind == "slowloris":
                        s.send(head[i % len(head):i % len(head) + 1])
                        i += 1
            except OSError:
                pass
            finally:
                if s is not None:
                    s.close()

    threads = []
    try:
        for _ in range(40):
            idle.append(connect())
        for kind in ["slowloris"] * 30 + ["reconnector"] * 30:
            t = threading.Thread(target=hostile, args=(kind,), daemon=True)
            t.start()
            threads.append(t)
        wait_for(lambda: connected[0] >= 200, 30, "200 hostile connections made")
        times = []
        failures = []
        for i in range(20):
            start = time.monotonic()
            try:
                status, body = http_get(g.url, timeout=1.0)
                ok = status == 200 and "governor_build_info" in body
            except (OSError, urllib.error.URLError) as e:
                ok, status = False, repr(e)
            took = time.monotonic() - start
            times.append(took)
            if not ok or took >= 1.0:
                failures.append("scrape %d: %s after %.3f s" % (i, status, took))
        with lock:
            made = connected[0]
        times.sort()
        print("20 scrapes under 100 hostile connections (%d hostile connects in all): "
              "median %.1f ms, max %.1f ms" % (made, times[10] * 1e3, times[-1] * 1e3))
        if failures:
            fail("%d of 20 scrapes failed or took 1 s or more:\n  %s"
                 % (len(failures), "\n  ".join(failures)))
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for s in idle:
            s.close()
        promtool_check(g.scrape(), "the daemon after the hostile clients")
        procs.stop_checked()
    finally:
        stop.set()
        for s in idle:
            s.close()
        procs.stop_all()
        g.remove_tree()


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    exprs.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    variables = []
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            variables.append((v["name"], q))
    return exprs, variables


def substitute(expr):
    # Every instance and class; a rate window that spans several 1 s scrapes.
    return (expr.replace("$instance", ".*").replace("$class", ".*")
            .replace("$__rate_interval", "10s").replace("$__interval", "10s")
            .replace("$__range", "1m"))


def prom_api(base, path, params):
    url = base + path + "?" + urllib.parse.urlencode(params, doseq=True)
    try:
        status, body = http_get(url)
    except urllib.error.HTTPError as e:
        return {"status": "error", "error": "%s: %s" % (e.code, e.read().decode())}
    return json.loads(body)


def check_prometheus_dashboard(args, procs, tmp):
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            fail("%s is not installed (Debian package 'prometheus')" % tool)
    g = Governord(args, procs, tmp)
    try:
        # A workload group in the live daemon, so that governor_group_* exists live.
        scope = os.path.join(g.root, "adhoc.slice", "dash.scope")
        os.mkdir(scope)
        start_in_group(procs, scope, ["sleep", "120"])
        wait_for(lambda: sample(g.scrape(), "governor_groups_managed", {"class": "adhoc"}) == 1,
                 30, "the daemon to adopt adhoc.slice/dash.scope")

        fport = free_port()
        fixture = procs.start([args.fixture_server, str(fport)], stdout=subprocess.PIPE, text=True)
        line = fixture.stdout.readline()
        if "listening" not in line:
            fail("fixture server did not start: %r" % line)

        pport = free_port()
        conf = os.path.join(tmp, "prometheus.yml")
        live = "127.0.0.1:%d" % g.port
        fixt = "127.0.0.1:%d" % fport
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: governor\n    static_configs:\n"
                    "      - targets: ['%s', '%s']\n" % (live, fixt))
        plog = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = procs.start(["prometheus", "--config.file=" + conf,
                            "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                            "--web.listen-address=127.0.0.1:%d" % pport],
                           stdout=plog, stderr=subprocess.STDOUT)
        base = "http://127.0.0.1:%d" % pport

        def ready():
            if prom.poll() is not None:
                with open(os.path.join(tmp, "prometheus.log")) as f:
                    fail("prometheus exited:\n" + f.read()[-3000:])
            try:
                return http_get(base + "/-/ready", timeout=2)[0] == 200
            except (OSError, urllib.error.URLError):
                return False
        wait_for(ready, 60, "prometheus to be ready", interval=0.3)

        def enough_data():
            r = prom_api(base, "/api/v1/query",
                         {"query": 'count_over_time(up{job="governor"}[30s]) >= 8'})
            res = r.get("data", {}).get("result", [])
            up = prom_api(base, "/api/v1/query", {"query": 'up{job="governor"} == 1'})
            return len(res) == 2 and len(up.get("data", {}).get("result", [])) == 2
        wait_for(enough_data, 60, "8 successful scrapes of both targets", interval=0.5)

        live_names = metric_names(g.scrape())
        exprs, variables = dashboard_exprs(
            args.dashboard or os.path.join(args.source_dir, "packaging/grafana/governor.json"))
        if not exprs:
            fail("no expressions found in the dashboard")
        failures = []
        for title, expr in exprs:
            q = substitute(expr)
            r = prom_api(base, "/api/v1/query", {"query": q})
            if r.get("status") != "success":
                failures.append("%s: %s: %s" % (title, q, r.get("error")))
                continue
            result = r["data"]["result"]
            instances = sorted({s["metric"].get("instance", "?") for s in result})
            needed = set(re.findall(r"governor_[a-z0-9_]+", expr))
            live_expected = needed <= live_names
            where = ", ".join("live" if i == live else "fixture" if i == fixt else i
                              for i in instances)
            print("%-4s %-28s %-9s %s" % ("ok" if result else "NONE", title[:28],
                                         "live+fix" if live_expected else "fixture", where),
                  flush=True)
            if not result:
                failures.append("%s: no data: %s" % (title, q))
            elif live_expected and live not in instances:
                failures.append("%s: no data from the live governord (it serves %s): %s"
                                % (title, ", ".join(sorted(needed)), q))
        for name, query in variables:
            m = re.match(r"label_values\((.*),\s*(\w+)\)$", substitute(query).strip())
            if not m:
                failures.append("variable %s: not a label_values() query: %s" % (name, query))
                continue
            r = prom_api(base, "/api/v1/label/%s/values" % m.group(2), {"match[]": m.group(1)})
            values = r.get("data", [])
            print("var  %-28s %s" % (name, values))
            if not values:
                failures.append("variable %s: no values: %s" % (name, query))
        if "adhoc" not in dict(
                (n, None) for n in prom_api(base, "/api/v1/label/class/values", {}).get("data", [])):
            failures.append("label class has no value 'adhoc'")
        if failures:
            fail("%d of %d dashboard queries/variables failed:\n  %s"
                 % (len(failures), len(exprs) + len(variables), "\n  ".join(failures)))
        print("all %d dashboard expressions and %d variables returned data" % (len(exprs), len(variables)))
        procs.stop_checked()
    finally:
        procs.stop_all()
        g.remove_tree()


def record_test_tree(tmp):
    """Records the cgroup subtree and temp folder of this run for the live tier's
    cleanup test (tests/support/TestTree.hpp, tests/live/remove-leftovers.sh), which
    removes them if this process is killed before its own cleanup. Returns the record."""
    trees = os.environ.get("GOV_LIVE_TREES_DIR")
    if not trees:
        return None
    os.makedirs(trees, exist_ok=True)
    root = "%s/gov-exporter-live-%d" % (CGROUP2, os.getpid())
    record = os.path.join(trees, os.path.basename(root))
    with open(record, "w") as f:
        f.write("pid %d\ncgroup %s\ndir %s\n" % (os.getpid(), root, tmp))
    return record


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=["promtool", "short_workload", "hostile_clients",
                                      "prometheus_dashboard"])
    ap.add_argument("--governord", required=True)
    ap.add_argument("--fixture-server", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--dashboard", help="default: <source-dir>/packaging/grafana/governor.json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (creates a cgroup under %s and runs governord)" % CGROUP2)
        return 77
    if not shutil.which("promtool"):
        fail("promtool is not installed (Debian package 'prometheus')")
    if not os.path.isfile(CGROUP2 + "/cgroup.controllers"):
        fail("no cgroup v2 hierarchy at " + CGROUP2)
    procs = Processes()
    tmp = tempfile.mkdtemp(prefix="gov-exporter-live-")
    record = record_test_tree(tmp)
    try:
        {"promtool": check_promtool, "short_workload": check_short_workload,
         "hostile_clients": check_hostile_clients,
         "prometheus_dashboard": check_prometheus_dashboard}[args.check](args, procs, tmp)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
        if record and not os.path.exists("%s/gov-exporter-live-%d" % (CGROUP2, os.getpid())):
            os.remove(record)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
