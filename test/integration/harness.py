"""Integration harness: a private MariaDB, troika-fcgi and nginx on loopback.

A Stack lives in a fresh temporary folder with free loopback ports and uses
the shipped configs (conf/troika.conf plus override lines, conf/schema.sql,
conf/nginx-troika.conf inside conf/nginx-private.conf.in). Each process is
started in a session of its own, so teardown can end it and everything it
forked by its process group, also when a test fails; an atexit hook does the
same for whatever is still running when Python exits. Standard library only.

Environment: TROIKA_FCGI (the binary; default ./troika-fcgi in the build
folder, then the source folder), TROIKA_KEEP_TMP=1 keeps the temp folders.
"""

import codecs
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
CONF_DIR = os.path.join(SRC_DIR, "conf")
WEB_ROOT = os.path.join(SRC_DIR, "web")
# The shipped config and schema; overridable to try the harness on its own.
BASE_CONF = os.environ.get("TROIKA_BASE_CONF", os.path.join(CONF_DIR, "troika.conf"))
SCHEMA = os.environ.get("TROIKA_SCHEMA", os.path.join(CONF_DIR, "schema.sql"))


def find_fcgi_binary():
    """The troika-fcgi to test: $TROIKA_FCGI, ./troika-fcgi, or the source tree's."""
    env = os.environ.get("TROIKA_FCGI")
    if env:
        return os.path.abspath(env)
    for cand in (os.path.join(os.getcwd(), "troika-fcgi"), os.path.join(SRC_DIR, "troika-fcgi")):
        if os.access(cand, os.X_OK):
            return cand
    return os.path.join(SRC_DIR, "troika-fcgi")


def os_user():
    return pwd.getpwuid(os.getuid()).pw_name


# TROIKA_SKIP_TOKENIZER=1: the run was told to go without the cl100k_base
# rank file (tools/fetch-tokenizer.sh). Without that, a test that needs the
# file and finds none fails; with it, the test skips and says why.
SKIP_TOKENIZER = os.environ.get("TROIKA_SKIP_TOKENIZER") == "1"
NO_RANK_FILE = ("the cl100k_base rank file is not installed: run tools/fetch-tokenizer.sh "
                "(or set TROIKA_SKIP_TOKENIZER=1 to skip the tests that need it)")


def expected_tokenizer(rank):
    """What a stack given `rank` (rank_file()) counts with: cl100k_base;
    the estimate only when the run was told to go without the file."""
    return "estimate:chars/4" if rank is None and SKIP_TOKENIZER else "cl100k_base"


def need_tokenizer(case, have):
    """In a test that cannot check anything without the rank file (and
    node's tiktoken): fails naming the fix, or skips when the run was told
    to go without them."""
    if have:
        return
    if SKIP_TOKENIZER:
        case.skipTest("TROIKA_SKIP_TOKENIZER=1: no cl100k_base rank file or tiktoken")
    case.fail(NO_RANK_FILE)


def rank_file():
    """The cl100k_base rank file from tools/fetch-tokenizer.sh's cache, or None."""
    try:
        out = subprocess.run([os.path.join(SRC_DIR, "tools", "fetch-tokenizer.sh")], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=120, check=True)
        path = out.stdout.decode().strip()
        return path if os.path.isfile(path) else None
    except (subprocess.SubprocessError, OSError):
        return None


def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fatal(RuntimeError):
    """Raised by a wait_for predicate when waiting longer cannot help."""


def wait_for(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns a true value, which is returned.

    An exception from pred() is retried (and reported at the timeout), except
    Fatal, which ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            val = pred()
            if val:
                return val
        except Fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - reported below
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = " (last error: %r)" % (last_exc,) if last_exc else ""
            raise TimeoutError("timed out after %.1fs waiting for %s%s" % (timeout, what, detail))
        time.sleep(interval)


def tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            data = f.read()[-16384:]
    except OSError as exc:
        return "<%s: %s>" % (path, exc.strerror)
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


# --------------------------------------------------------------------------
# processes

def proc_stat(pid):
    """(ppid, pgid, sid) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] = state, [1] = ppid, [2] = pgrp, [3] = session
    if rest[0] == "Z":
        return None
    return int(rest[1]), int(rest[2]), int(rest[3])


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children_of(pid):
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[0] == pid:
            out.append(p)
    return sorted(out)


def session_members(sid):
    """Live processes of session sid (a process we started with its own session)."""
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[2] == sid:
            out.append(p)
    return sorted(out)


def pid_alive(pid):
    return proc_stat(pid) is not None


_LIVE = []  # every ManagedProcess not yet stopped, for the atexit hook


class ManagedProcess:
    """A child in its own session; stop() ends it and its whole group."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)
        self.pid = self.proc.pid
        _LIVE.append(self)

    def running(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_group(self):
        """SIGKILL to every process of the session we created (by its id)."""
        for p in session_members(self.pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Ends the process gracefully, then by force; returns its exit status."""
        rc = self.proc.poll()
        if rc is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            rc = self.wait(timeout)
        self.kill_group()
        if rc is None:
            rc = self.wait(5)
        self._log.close()
        if self in _LIVE:
            _LIVE.remove(self)
        return rc


_TMP_DIRS = set()  # temp folders of stacks not yet closed


def _kill_leftovers():
    for mp in list(_LIVE):
        try:
            mp.kill_group()
            mp.wait(2)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    if os.environ.get("TROIKA_KEEP_TMP") != "1":
        for d in list(_TMP_DIRS):
            shutil.rmtree(d, ignore_errors=True)


import atexit  # noqa: E402

atexit.register(_kill_leftovers)


def _interrupt_on_sigterm(signum, frame):
    # Python's default SIGTERM action exits without running atexit hooks;
    # run.sh's time limit sends SIGTERM, so turn it into an interrupt that
    # unittest does not swallow, and the hook above ends every process.
    raise KeyboardInterrupt("SIGTERM")


if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    try:
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    except ValueError:  # not the main thread
        pass


# --------------------------------------------------------------------------
# MariaDB

class MariaDB:
    """A private mariadbd: own datadir, unix socket and loopback port."""

    DB_NAME = "troika"
    DB_USER = "troika"

    def __init__(self, base_dir):
        self.dir = os.path.join(base_dir, "mariadb")
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysql.sock")
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.proc = None
        self.tmpdir = os.path.join(self.dir, "tmp")
        os.makedirs(self.tmpdir, exist_ok=True)
        os.makedirs(self.dir, exist_ok=True)

    def _common_args(self):
        # A private tmpdir: mariadb-install-db runs started at the same time
        # with the default /tmp fail at random ("Unknown table
        # 'mysql.tmp_user_sys'": their bootstrap temporary tables collide).
        return ["--innodb-log-file-size=16M", "--tmpdir=" + self.tmpdir]

    def install(self):
        log = os.path.join(self.dir, "install.log")
        with open(log, "wb") as f:
            rc = subprocess.call(
                ["mariadb-install-db", "--no-defaults", "--datadir=" + self.datadir,
                 "--auth-root-authentication-method=socket", "--user=" + os_user(),
                 "--skip-test-db"] + self._common_args(),
                stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if rc != 0:
            raise RuntimeError("mariadb-install-db failed (%d):\n%s" % (rc, tail(log)))

    def start(self, timeout=60):
        if not os.path.isdir(os.path.join(self.datadir, "mysql")):
            self.install()
        argv = ["mariadbd", "--no-defaults", "--datadir=" + self.datadir,
                "--socket=" + self.socket, "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--user=" + os_user(),
                "--pid-file=" + os.path.join(self.dir, "mariadb.pid"),
                "--log-error=" + os.path.join(self.dir, "error.log"),
                "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci"] + self._common_args()
        self.proc = ManagedProcess("mariadbd", argv, os.path.join(self.dir, "stdout.log"))

        def ready():
            if not self.proc.running():
                raise Fatal("mariadbd exited:\n" + tail(os.path.join(self.dir, "error.log")))
            return self.query("SELECT 1", check=False).returncode == 0
        try:
            wait_for(ready, timeout, "mariadbd on " + self.socket, interval=0.1)
        except TimeoutError as exc:
            raise TimeoutError("%s\n%s" % (exc, tail(os.path.join(self.dir, "error.log"))))

    def stop(self, timeout=60):
        if self.proc:
            self.proc.stop(signal.SIGTERM, timeout)
            self.proc = None

    def running(self):
        return self.proc is not None and self.proc.running()

    def query(self, sql, db=None, check=True):
        """Runs SQL with the client as the OS user (socket authentication)."""
        argv = ["mariadb", "--no-defaults", "-u", os_user(), "--socket=" + self.socket,
                "--batch", "--skip-column-names"]
        if db:
            argv.append(db)
        res = subprocess.run(argv, input=sql.encode(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=60)
        if check and res.returncode != 0:
            raise RuntimeError("mariadb client failed: %s" % res.stderr.decode(errors="replace"))
        return res

    def setup(self, schema_path=SCHEMA):
        """Creates the database and the app's user, then loads the schema."""
        pw = self.password
        self.query(
            "CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
            "CREATE USER IF NOT EXISTS '{u}'@'localhost' IDENTIFIED BY '{pw}';\n"
            "CREATE USER IF NOT EXISTS '{u}'@'127.0.0.1' IDENTIFIED BY '{pw}';\n"
            "ALTER USER '{u}'@'localhost' IDENTIFIED BY '{pw}';\n"
            "ALTER USER '{u}'@'127.0.0.1' IDENTIFIED BY '{pw}';\n"
            "GRANT ALL PRIVILEGES ON `{db}`.* TO '{u}'@'localhost';\n"
            "GRANT ALL PRIVILEGES ON `{db}`.* TO '{u}'@'127.0.0.1';\n"
            "FLUSH PRIVILEGES;\n".format(db=self.DB_NAME, u=self.DB_USER, pw=pw))
        with open(schema_path, "rb") as f:
            self.query(f.read().decode("utf-8"), db=self.DB_NAME)

    def conf_lines(self):
        return {
            "db_host": "localhost",
            "db_port": str(self.port),
            "db_socket": self.socket,
            "db_user": self.DB_USER,
            "db_password": self.password,
            "db_name": self.DB_NAME,
        }


# --------------------------------------------------------------------------
# troika-fcgi

class Troika:
    """troika-fcgi (master + workers) with conf/troika.conf plus overrides."""

    def __init__(self, base_dir, db=None, workers=2, overrides=None, env=None, binary=None):
        self.dir = os.path.join(base_dir, "troika")
        os.makedirs(self.dir, exist_ok=True)
        self.binary = binary or find_fcgi_binary()
        self.socket = os.path.join(self.dir, "troika.sock")
        self.conf_path = os.path.join(self.dir, "troika.conf")
        self.log_file = os.path.join(self.dir, "troika.log")
        self.stderr_log = os.path.join(self.dir, "stderr.log")
        self.pid_file = os.path.join(self.dir, "troika.pid")
        self.workers = workers
        self.env_extra = dict(env or {})
        self.proc = None
        settings = {
            "listen": self.socket,
            "listen_mode": "0666",
            "workers": str(workers),
            "pid_file": self.pid_file,
            "log_file": self.log_file,
            "log_level": "DEBUG",
            "index_dir": os.path.join(self.dir, "index"),
            "shm_path": os.path.join(self.dir, "troika.shm"),
            "drain_timeout_ms": "5000",
            # The test client and nginx are this host: whitelisted, as the
            # demo is, so that a test's many requests are not rate limited
            # (the shipped default whitelists nobody; the limiter's own
            # tests set it).
            "streaming_rate_whitelist": "127.0.0.1,::1",
        }
        if db is not None:
            settings.update(db.conf_lines())
        settings.update(overrides or {})
        # an override of None leaves the key out: the shipped value holds
        settings = {k: v for k, v in settings.items() if v is not None}
        self.settings = settings
        # `listen` is a unix socket path or host:port.
        self.listen = settings["listen"]
        self.tcp = not self.listen.startswith("/")
        os.makedirs(settings["index_dir"], exist_ok=True)
        self.write_conf()

    def write_conf(self):
        with open(BASE_CONF, "r", encoding="utf-8") as f:
            base = f.read()
        lines = [base.rstrip("\n"), "", "# --- integration test overrides (later lines win) ---"]
        lines += ["%s = %s" % (k, v) for k, v in self.settings.items()]
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def environ(self):
        # Every config key can be overridden by the environment: the test's
        # config must not be overridden by whatever the caller has set.
        env = dict(os.environ)
        prefixes = ("TROIKA_", "STREAMING_", "DB_", "MAX_", "LOG_")
        for k in list(env):
            ku = k.upper()
            if ku.startswith(prefixes) or ku.lower() in self.settings or \
                    ku in ("LISTEN", "WORKERS", "BASE_PATH", "INDEX_DIR"):
                del env[k]
        env.update(self.env_extra)
        return env

    def check_config(self, conf_path=None, env=None):
        """Runs --check-config; returns (exit status, output)."""
        res = subprocess.run([self.binary, "-c", conf_path or self.conf_path, "--check-config"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env or self.environ(), timeout=30)
        return res.returncode, res.stdout.decode("utf-8", "replace")

    def start(self, timeout=30):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("troika-fcgi not found at %s (build it first, or set TROIKA_FCGI)"
                               % self.binary)
        self.proc = ManagedProcess("troika-fcgi", [self.binary, "-c", self.conf_path],
                                   self.stderr_log, env=self.environ(), cwd=self.dir)

        def ready():
            if not self.proc.running():
                raise Fatal("troika-fcgi exited with status %s" % self.proc.proc.returncode)
            if len(self.worker_pids()) < self.workers:
                return False
            if self.tcp:
                host, _, port = self.listen.rpartition(":")
                socket.create_connection((host, int(port)), timeout=1).close()
            else:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(1)
                    s.connect(self.listen)
            return True
        try:
            wait_for(ready, timeout, "troika-fcgi on " + self.listen)
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError("%s\n%s" % (exc, self.diagnostics()))

    @property
    def fcgi_pass(self):
        """The nginx fastcgi_pass target for this listen address."""
        return self.listen if self.tcp else "unix:" + self.listen

    @property
    def master_pid(self):
        return self.proc.pid if self.proc else None

    def worker_pids(self):
        return children_of(self.master_pid) if self.master_pid else []

    def session_pids(self):
        """Every live process troika-fcgi started (its session), master included."""
        return session_members(self.master_pid) if self.master_pid else []

    def stop(self, timeout=15):
        if self.proc:
            rc = self.proc.stop(signal.SIGTERM, timeout)
            return rc
        return None

    def diagnostics(self):
        return "--- %s ---\n%s\n--- %s ---\n%s" % (
            self.stderr_log, tail(self.stderr_log), self.log_file, tail(self.log_file))


# --------------------------------------------------------------------------
# nginx

def render(template, values):
    for k, v in values.items():
        template = template.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Z_]+@", template)
    if left:
        raise ValueError("unrendered placeholders: %s" % sorted(set(left)))
    return template


class Nginx:
    """A private nginx with the shipped site config, in front of troika-fcgi."""

    def __init__(self, base_dir, fcgi_pass, port=None, base_path=""):
        self.dir = os.path.join(base_dir, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        for sub in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            os.makedirs(os.path.join(self.dir, "tmp", sub), exist_ok=True)
        self.port = port or free_port()
        self.conf_path = os.path.join(self.dir, "nginx.conf")
        self.site_path = os.path.join(self.dir, "troika-site.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None
        for name in ("fastcgi_params", "mime.types"):
            shutil.copy(os.path.join("/etc/nginx", name), os.path.join(self.dir, name))
        with open(os.path.join(CONF_DIR, "nginx-troika.conf")) as f:
            site = render(f.read(), {"LISTEN": "127.0.0.1:%d" % self.port,
                                     "FCGI_PASS": fcgi_pass, "WEB_ROOT": WEB_ROOT,
                                     "BASE_PATH": base_path})
        with open(self.site_path, "w") as f:
            f.write(site)
        user_line = ("user %s %s;" % (os_user(), os_user())) if os.getuid() == 0 else \
            "# not started by root: workers keep the starting user"
        with open(os.path.join(CONF_DIR, "nginx-private.conf.in")) as f:
            main = render(f.read(), {"RUN_DIR": self.dir, "USER_LINE": user_line,
                                     "SITE": self.site_path})
        with open(self.conf_path, "w") as f:
            f.write(main)

    def argv(self, *extra):
        return ["nginx", "-p", self.dir + "/", "-e", self.error_log, "-c", self.conf_path] + list(extra)

    def test_config(self):
        res = subprocess.run(self.argv("-t"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        return res.returncode, res.stdout.decode(errors="replace")

    def start(self, timeout=20):
        rc, out = self.test_config()
        if rc != 0:
            raise RuntimeError("nginx -t failed:\n" + out)
        self.proc = ManagedProcess("nginx", self.argv("-g", "daemon off;"),
                                   os.path.join(self.dir, "stdout.log"))

        def ready():
            if not self.proc.running():
                raise Fatal("nginx exited:\n" + tail(self.error_log))
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        wait_for(ready, timeout, "nginx on port %d" % self.port)

    def stop(self, timeout=10):
        if self.proc:
            self.proc.stop(signal.SIGTERM, timeout)
            self.proc = None


# --------------------------------------------------------------------------
# the whole stack

class Stack:
    """MariaDB (own, or a shared one) + troika-fcgi + nginx in a temp folder."""

    def __init__(self, workers=2, overrides=None, env=None, db=None, with_nginx=True,
                 base_path=""):
        self.tmp = tempfile.mkdtemp(prefix="troika-it-")
        _TMP_DIRS.add(self.tmp)
        self.base_path = base_path
        if base_path:
            overrides = dict(overrides or {}, base_path=base_path)
        self.own_db = db is None
        self.db = db if db is not None else MariaDB(self.tmp)
        self.workers = workers
        self.overrides = overrides
        self.env = env
        self.with_nginx = with_nginx
        self.app = None
        self.nginx = None

    def start(self):
        try:
            if self.own_db:
                self.db.start()
                self.db.setup()
            self.app = Troika(self.tmp, self.db, self.workers, self.overrides, self.env)
            self.app.start()
            if self.with_nginx:
                self.nginx = Nginx(self.tmp, self.app.fcgi_pass, base_path=self.base_path)
                self.nginx.start()
                wait_for(lambda: self.get(self.base_path + "/api/health").status in (200, 503), 20,
                         "the first answer through nginx")
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def close(self):
        errors = []
        for part in (self.nginx, self.app):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # noqa: BLE001 - keep tearing down
                    errors.append(exc)
        if self.own_db:
            try:
                self.db.stop()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        if os.environ.get("TROIKA_KEEP_TMP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)
        _TMP_DIRS.discard(self.tmp)
        if errors:
            raise errors[0]

    # -- clients --------------------------------------------------------
    @property
    def port(self):
        return self.nginx.port

    def request(self, method, path, body=None, headers=None, timeout=15):
        return http_request("127.0.0.1", self.port, method, path, body, headers, timeout)

    def get(self, path, headers=None, timeout=15):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def sse(self, path, headers=None, timeout=30, method="GET", body=None):
        """A stream through nginx; POST streams pass method="POST" and a body
        (bytes, str, or a dict/list sent as application/json)."""
        return SSEClient("127.0.0.1", self.port, path, headers, timeout, method, body)

    def fcgi(self, method, path, query="", body=b"", headers=None, timeout=15):
        """One request straight to troika-fcgi's unix socket, bypassing nginx."""
        return fcgi_request(self.app.listen, method, path, query, body, headers, timeout)

    def diagnostics(self):
        out = [self.app.diagnostics() if self.app else ""]
        if self.nginx:
            out.append("--- %s ---\n%s" % (self.nginx.error_log, tail(self.nginx.error_log)))
        return "\n".join(out)


# --------------------------------------------------------------------------
# a test module's shared database, and its test cases' logs

def shared_db_module(namespace, prefix="troika-it-db-", after=None):
    """Gives a test module (namespace: its globals()) one MariaDB for all its
    tests: defines its setUpModule/tearDownModule, which keep the running
    database in the module's SHARED_DB (None until then), and remove its temp
    folder afterwards unless TROIKA_KEEP_TMP=1. after(db), if given, runs once
    the schema is in place; when it fails the database is stopped."""
    namespace["SHARED_DB"] = None

    def setUpModule():
        tmp = tempfile.mkdtemp(prefix=prefix)
        _TMP_DIRS.add(tmp)
        db = MariaDB(tmp)
        db.tmp = tmp
        namespace["SHARED_DB"] = db
        try:
            db.start()
            db.setup()
            if after is not None:
                after(db)
        except BaseException:
            db.stop()
            raise

    def tearDownModule():
        db = namespace["SHARED_DB"]
        if db is not None:
            db.stop()
            if os.environ.get("TROIKA_KEEP_TMP") != "1":
                shutil.rmtree(db.tmp, ignore_errors=True)
            _TMP_DIRS.discard(db.tmp)

    namespace["setUpModule"] = setUpModule
    namespace["tearDownModule"] = tearDownModule


class LogsOnFailure:
    """A TestCase mixin (list it before unittest.TestCase): a failing test's
    report ends with the logs of the class's stack (self.stack, when set)."""

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        stack = getattr(self, "stack", None)
        if result and len(result.failures) + len(result.errors) > before and stack:
            try:
                print("\n=== logs for %s ===\n%s" % (self.id(), stack.diagnostics()))
            except Exception:  # noqa: BLE001
                pass
        return out


# --------------------------------------------------------------------------
# HTTP and SSE clients

class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.header_list = headers          # [(name, value)] as received
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.elapsed = elapsed

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.headers, self.body[:300])


def http_request(host, port, method, path, body=None, headers=None, timeout=15):
    import http.client
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if body is not None and isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.getheaders(), data, time.monotonic() - t0)
    finally:
        conn.close()


class SSEEvent:
    """One dispatched event, with the client-side time its last byte arrived."""

    def __init__(self, fields, lines, t):
        self.lines = lines                  # raw lines of the block, in order
        self.id = fields.get("id")
        self.event = fields.get("event", "message")
        self.data_lines = fields.get("data", [])
        self.data = "\n".join(self.data_lines)
        self.t = t                          # time.monotonic() at arrival

    def json(self):
        return json.loads(self.data)

    def __repr__(self):
        return "<SSEEvent id=%s event=%s data=%s>" % (self.id, self.event, self.data[:120])


class SSEClient:
    """A raw-socket HTTP/1.1 client that parses Server-Sent Events as they arrive.

    Each event records time.monotonic() of the recv() that completed it, so a
    test can tell whether events arrived one by one or all at the end.
    """

    def __init__(self, host, port, path, headers=None, timeout=30, method="GET", body=None):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        req = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (host, port),
               "Accept: text/event-stream", "Cache-Control: no-cache", "Connection: close"]
        if body is not None:
            req.append("Content-Length: %d" % len(body))
        for k, v in hdrs.items():
            req.append("%s: %s" % (k, v))
        self.t_start = time.monotonic()
        self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode("latin-1") + (body or b""))
        self._buf = b""
        self._eof = False
        self.raw_body = bytearray()         # the de-chunked body, as received
        self.events = []
        self.comments = []                  # (text, arrival time)
        self._pending = []                  # events parsed but not yet returned
        self._text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._block_fields = {}
        self._block_lines = []
        self._read_head()

    # -- transport ------------------------------------------------------
    def _recv(self):
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no data from the server for %ss" % self.timeout)
        return data, time.monotonic()

    def _read_head(self):
        while b"\r\n\r\n" not in self._buf:
            data, _ = self._recv()
            if not data:
                raise ConnectionError("connection closed before the response head")
            self._buf += data
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split()[1])
        self.header_list = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.header_list.append((k.strip(), v.strip()))
        self.headers = {k.lower(): v for k, v in self.header_list}
        self.t_head = time.monotonic()
        te = self.headers.get("transfer-encoding", "").lower()
        self._chunked = "chunked" in te
        self._remaining = int(self.headers["content-length"]) if "content-length" in self.headers else None
        self._chunk_left = 0
        self._chunk_state = "size"
        if self._buf:
            pending, self._buf = self._buf, b""
            self._feed_transport(pending, self.t_head)

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def _feed_transport(self, data, t):
        if not self._chunked:
            if self._remaining is not None:
                data = data[:self._remaining]
                self._remaining -= len(data)
                if self._remaining <= 0:
                    self._eof = True
            self._feed_body(data, t)
            return
        self._buf += data
        out = bytearray()
        while True:
            if self._chunk_state == "size":
                if b"\r\n" not in self._buf:
                    break
                line, self._buf = self._buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._chunk_state = "done"
                    self._eof = True
                    break
                self._chunk_left = size
                self._chunk_state = "data"
            elif self._chunk_state == "data":
                if not self._buf:
                    break
                piece = self._buf[:self._chunk_left]
                self._buf = self._buf[len(piece):]
                out += piece
                self._chunk_left -= len(piece)
                if self._chunk_left == 0:
                    self._chunk_state = "crlf"
            elif self._chunk_state == "crlf":
                if len(self._buf) < 2:
                    break
                if self._buf[:2] != b"\r\n":
                    raise ValueError("bad chunked framing")
                self._buf = self._buf[2:]
                self._chunk_state = "size"
            else:
                break
        if out:
            self._feed_body(bytes(out), t)

    # -- SSE parsing (WHATWG: lines end in CRLF, LF or CR) -----------------
    def _feed_body(self, data, t):
        self.raw_body += data
        self._text += self._decoder.decode(data)
        while True:
            m = re.search(r"\r\n|\n|\r", self._text)
            if not m:
                break
            if m.group() == "\r" and m.end() == len(self._text) and not self._eof:
                break  # a CR at the end may be the first half of CRLF
            line, self._text = self._text[:m.start()], self._text[m.end():]
            self._line(line, t)

    def _line(self, line, t):
        if line == "":
            if self._block_fields or self._block_lines:
                if self._block_fields:
                    ev = SSEEvent(self._block_fields, self._block_lines, t)
                    self.events.append(ev)
                    self._pending.append(ev)
                self._block_fields, self._block_lines = {}, []
            return
        if line.startswith(":"):
            self.comments.append((line[1:].strip(), t))
            return
        self._block_lines.append(line)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._block_fields.setdefault("data", []).append(value)
        else:
            self._block_fields[name] = value

    # -- API ------------------------------------------------------------
    def next_event(self):
        """The next event, or None at the end of the stream."""
        while not self._pending:
            if self._eof:
                return None
            data, t = self._recv()
            if not data:
                self._eof = True
                return None
            self._feed_transport(data, t)
        return self._pending.pop(0)

    def read_all(self):
        """Reads to the end of the response; returns every event."""
        while self.next_event() is not None:
            pass
        return self.events

    def read_body(self):
        """For a non-stream answer (an error): the whole body as bytes."""
        self.read_all()
        return bytes(self.raw_body)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# a minimal FastCGI client, to see the app's own headers (nginx hides
# X-Accel-*) without a web server in between

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7


def _fcgi_record(rtype, content, req_id=1):
    out = b""
    # records carry at most 65535 bytes
    for off in range(0, max(len(content), 1), 65535):
        part = content[off:off + 65535]
        pad = (8 - len(part) % 8) % 8
        out += struct.pack("!BBHHBx", 1, rtype, req_id, len(part), pad) + part + b"\0" * pad
        if not content:
            break
    return out


def _fcgi_len(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def fcgi_request(sock_path, method, path, query="", body=b"", headers=None, timeout=15):
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": method, "REQUEST_URI": path + ("?" + query if query else ""),
        "DOCUMENT_URI": path, "SCRIPT_NAME": path, "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "80", "SERVER_NAME": "localhost", "REQUEST_SCHEME": "http",
        "CONTENT_LENGTH": str(len(body)) if body else "", "CONTENT_TYPE": "",
    }
    for k, v in (headers or {}).items():
        if k.lower() == "content-type":
            params["CONTENT_TYPE"] = v
        else:
            params["HTTP_" + k.upper().replace("-", "_")] = v
    blob = b""
    for k, v in params.items():
        kb, vb = k.encode(), v.encode()
        blob += _fcgi_len(len(kb)) + _fcgi_len(len(vb)) + kb + vb
    msg = _fcgi_record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", 1, 0))
    msg += _fcgi_record(FCGI_PARAMS, blob) + _fcgi_record(FCGI_PARAMS, b"")
    if body:
        msg += _fcgi_record(FCGI_STDIN, body)
    msg += _fcgi_record(FCGI_STDIN, b"")
    t0 = time.monotonic()
    stdout = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(msg)
        buf = b""
        ended = False
        while not ended:
            data = s.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= 8:
                _, rtype, _, clen, pad = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + pad:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
                if rtype == FCGI_STDOUT:
                    stdout += content
                elif rtype == FCGI_END_REQUEST:
                    ended = True
    sep = b"\r\n\r\n" if b"\r\n\r\n" in stdout else b"\n\n"
    head, _, body_out = stdout.partition(sep)
    hdrs = []
    status = 200
    for line in head.decode("latin-1").splitlines():
        k, _, v = line.partition(":")
        if k.strip().lower() == "status":
            status = int(v.split()[0])
        hdrs.append((k.strip(), v.strip()))
    return Response(status, hdrs, body_out, time.monotonic() - t0)
