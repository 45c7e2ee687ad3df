"""A private Apache 2.4 for the integration tests, in front of troika-fcgi in
the two ways conf/ ships: mod_fcgid (Apache spawns troika-fcgi processes
itself, each in single-process mode on the socket it inherits) and
mod_proxy_fcgi (a troika-fcgi master started by harness.Troika).

Apache runs from its own ServerRoot in a temp folder, on a free loopback
port, as `apache2 -f CONF -DFOREGROUND` with every module loaded explicitly
from /usr/lib/apache2/modules, and the site is the shipped conf file with
its placeholders filled in. Started by root, Apache's children run as
www-data: the folders they need are opened up (or handed to www-data) and
the binary is copied next to them, so a checkout under a private home folder
still works. Standard library only; uses harness.ManagedProcess so that
teardown ends Apache and everything it spawned.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess

import harness

MODULES = "/usr/lib/apache2/modules"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"


def available(mode):
    """None when Apache and the mode's modules are installed, else why not."""
    if not os.access(APACHE, os.X_OK):
        return "apache2 is not installed (apt-get install apache2)"
    need = ["mod_mpm_event.so", "mod_authz_core.so", "mod_alias.so", "mod_env.so"]
    need += ["mod_fcgid.so"] if mode == "fcgid" else ["mod_proxy.so", "mod_proxy_fcgi.so"]
    for m in need:
        if not os.path.exists(os.path.join(MODULES, m)):
            pkg = "libapache2-mod-fcgid" if m == "mod_fcgid.so" else "apache2"
            return "%s missing (apt-get install %s)" % (m, pkg)
    return None


def _open_up(path, stop):
    """chmod a+x on path and its parents up to stop, so www-data can reach it."""
    path = os.path.abspath(path)
    stop = os.path.abspath(stop)
    while True:
        st = os.stat(path)
        os.chmod(path, st.st_mode | 0o055 if os.path.isdir(path) else st.st_mode | 0o044)
        if path == stop or path == "/":
            break
        path = os.path.dirname(path)


class Apache:
    """apache2 with conf/apache-fcgid.conf or conf/apache-proxy-fcgi.conf."""

    def __init__(self, base_dir, mode, troika_conf=None, socket_path=None, binary=None, port=None):
        assert mode in ("fcgid", "proxy")
        self.mode = mode
        self.base = base_dir
        self.dir = os.path.join(base_dir, "apache-" + mode)
        self.run_dir = os.path.join(self.dir, "run")
        self.fcgid_dir = os.path.join(self.dir, "fcgid")
        for d in (self.dir, self.run_dir, self.fcgid_dir):
            os.makedirs(d, exist_ok=True)
        self.port = port or harness.free_port()
        self.conf_path = os.path.join(self.dir, "apache2.conf")
        self.site_path = os.path.join(self.dir, "troika-site.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.as_root = os.getuid() == 0
        self.user = "www-data" if self.as_root else pwd.getpwuid(os.getuid()).pw_name
        self.proc = None

        # A copy of web/, so that the checkout's folders keep their modes.
        web = os.path.join(self.dir, "web")
        if os.path.isdir(harness.WEB_ROOT) and not os.path.exists(web):
            shutil.copytree(harness.WEB_ROOT, web)
        os.makedirs(web, exist_ok=True)
        values = {"LISTEN": str(self.port), "WEB_ROOT": web}
        if mode == "fcgid":
            bin_dir = os.path.join(self.dir, "bin")
            os.makedirs(bin_dir, exist_ok=True)
            self.binary = os.path.join(bin_dir, "troika-fcgi")
            shutil.copy(binary or harness.find_fcgi_binary(), self.binary)
            os.chmod(self.binary, 0o755)
            values.update({"FCGI_BIN": self.binary, "FCGI_BIN_DIR": bin_dir, "CONFIG": troika_conf})
            template = "apache-fcgid.conf"
        else:
            values.update({"SOCKET": socket_path})
            template = "apache-proxy-fcgi.conf"
        with open(os.path.join(harness.CONF_DIR, template)) as f:
            site = harness.render(f.read(), values)
        with open(self.site_path, "w") as f:
            f.write(site)
        with open(self.conf_path, "w") as f:
            f.write(self._main_conf())
        if self.as_root:
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    _open_up(os.path.join(root, n), root)
            _open_up(self.dir, base_dir)
            pw = pwd.getpwnam(self.user)
            for d in (self.run_dir, self.fcgid_dir):
                os.chown(d, pw.pw_uid, pw.pw_gid)

    def _main_conf(self):
        # reqtimeout: enabled by Debian's default install, as in production
        mods = ["mpm_event", "authz_core", "alias", "env", "reqtimeout"]
        mods += ["fcgid"] if self.mode == "fcgid" else ["proxy", "proxy_fcgi"]
        lines = [
            "# written by test/integration/apache.py",
            'ServerRoot "%s"' % self.dir,
            "Listen 127.0.0.1:%d" % self.port,
            "ServerName 127.0.0.1",
            'PidFile "%s"' % os.path.join(self.run_dir, "apache2.pid"),
            'DefaultRuntimeDir "%s"' % self.run_dir,
            'Mutex file:%s default' % self.run_dir,
            'ErrorLog "%s"' % self.error_log,
            "LogLevel warn",
            'LogFormat "%h %l %u %t \\"%r\\" %>s %b %D" timed',
            'CustomLog "%s" timed' % os.path.join(self.dir, "access.log"),
            "StartServers 1",
            "ServerLimit 2",
            "ThreadsPerChild 32",
            "MaxRequestWorkers 64",
            "Timeout 120",
        ]
        lines += ["LoadModule %s_module %s/mod_%s.so" % (m, MODULES, m) for m in mods]
        if self.as_root:
            lines += ["User %s" % self.user, "Group %s" % self.user]
        if self.mode == "fcgid":
            lines += ['FcgidIPCDir "%s"' % self.fcgid_dir,
                      'FcgidProcessTableFile "%s"' % os.path.join(self.fcgid_dir, "shm")]
        lines += ['Include "%s"' % self.site_path, ""]
        return "\n".join(lines)

    def argv(self, *extra):
        return [APACHE, "-f", self.conf_path] + list(extra)

    def test_config(self):
        res = subprocess.run(self.argv("-t"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        return res.returncode, res.stdout.decode(errors="replace")

    def start(self, timeout=20):
        rc, out = self.test_config()
        if rc != 0:
            raise RuntimeError("apache2 -t failed:\n" + out)
        self.proc = harness.ManagedProcess("apache2", self.argv("-DFOREGROUND"),
                                           os.path.join(self.dir, "stdout.log"))

        def ready():
            if not self.proc.running():
                raise RuntimeError("apache2 exited:\n" + harness.tail(self.error_log))
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        harness.wait_for(ready, timeout, "apache2 on port %d" % self.port)

    def stop(self, timeout=10):
        if self.proc:
            self.proc.stop(signal.SIGTERM, timeout)
            self.proc = None

    def troika_pids(self):
        """troika-fcgi processes Apache spawned (mod_fcgid mode)."""
        out = []
        if not self.proc:
            return out
        for pid in harness.session_members(self.proc.pid):
            try:
                with open("/proc/%d/exe" % pid, "rb"):
                    pass
                if os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(self.binary):
                    out.append(pid)
            except OSError:
                pass
        return out


class ApacheStack:
    """troika-fcgi behind a private Apache, in `mode` (fcgid or proxy).

    In fcgid mode no troika-fcgi is started by the test: Apache spawns it on
    the first request, as in production. The config, log and shm file live
    in a folder Apache's user owns."""

    def __init__(self, mode, workers=2, overrides=None, db=None):
        import tempfile
        self.mode = mode
        self.tmp = tempfile.mkdtemp(prefix="troika-it-apache-")
        self.app = harness.Troika(self.tmp, db, workers, overrides)
        self.apache = None
        self.started_app = False

    def start(self):
        try:
            if os.getuid() == 0:
                _open_up(self.app.dir, self.tmp)
            if self.mode == "fcgid":
                if os.getuid() == 0:
                    pw = pwd.getpwnam("www-data")
                    for root, dirs, files in os.walk(self.app.dir):
                        for n in dirs + files:
                            os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
                    os.chown(self.app.dir, pw.pw_uid, pw.pw_gid)
                self.apache = Apache(self.tmp, "fcgid", troika_conf=self.app.conf_path)
            else:
                self.app.start()
                self.started_app = True
                self.apache = Apache(self.tmp, "proxy", socket_path=self.app.socket)
            self.apache.start()
            harness.wait_for(lambda: self.get("/api/selftest?n=1&interval_ms=0").status == 200, 30,
                             "the first answer through Apache")
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
        for part in (self.apache, self.app if self.started_app else None):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
        if os.environ.get("TROIKA_KEEP_TMP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)
        if errors:
            raise errors[0]

    @property
    def port(self):
        return self.apache.port

    def get(self, path, headers=None, timeout=15):
        return harness.http_request("127.0.0.1", self.port, "GET", path, None, headers, timeout)

    def request(self, method, path, body=None, headers=None, timeout=15):
        return harness.http_request("127.0.0.1", self.port, method, path, body, headers, timeout)

    def sse(self, path, headers=None, timeout=30):
        return harness.SSEClient("127.0.0.1", self.port, path, headers, timeout)

    def diagnostics(self):
        out = [self.app.diagnostics()]
        if self.apache:
            out.append("--- %s ---\n%s" % (self.apache.error_log, harness.tail(self.apache.error_log)))
        return "\n".join(out)
