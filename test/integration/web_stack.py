"""The stack the web tests run against, and the node programs they drive.

WebStack: a private MariaDB + troika-fcgi + nginx (harness.Stack) holding a
generated catalog with its vector index, an upload key, and optionally
test/fixtures/fake_openai.py as the LLM (for a failure mid-answer).
node(): runs a program of test/web/ with the repository's node_modules
(installed by `./quickstart test`: npm ci from package-lock.json) and
returns what it printed as JSON. A missing node, module or Chromium is a
failure that says how to install it, never a skip.

By hand, to look at the demo page with this data:
    python3 test/integration/web_stack.py      (prints the URL and the key)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
WEB_TESTS = os.path.join(SRC, "test", "web")
FAKE = os.path.join(SRC, "test", "fixtures", "fake_openai.py")
CHROMIUM = os.environ.get("TROIKA_CHROMIUM", "/usr/bin/chromium")
CATALOG_SIZE = 2000

POLICIES = """# Returns and exchanges

Unworn items can be returned within 7 days of delivery for a full refund. Refunds reach the original payment method within 5 working days. Custom-stitched lehengas cannot be returned.

# Shipping

We ship to every pin code in India. Standard delivery takes 3 to 5 working days. Express delivery costs Rs. 250 extra and arrives in 2 days.

# Fabric care

Silk sarees must be dry cleaned only. Store zari work wrapped in a muslin cloth, away from damp cupboards.
"""


def admin_binary():
    return os.environ.get("TROIKA_ADMIN") or os.path.join(os.path.dirname(harness.find_fcgi_binary()),
                                                           "troika-admin")


def admin(conf_path, *args):
    res = subprocess.run([admin_binary(), "-c", conf_path] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = res.stdout.decode("utf-8", "replace")
    if res.returncode != 0:
        raise RuntimeError("troika-admin %s failed (%d):\n%s" % (" ".join(args), res.returncode, out))
    return out


def import_catalog(db):
    """A generated catalog in the module's shared database."""
    conf = harness.Troika(db.tmp, db).conf_path
    catalog = os.path.join(db.tmp, "catalog.jsonl")
    admin(conf, "gen-catalog", "--count", str(CATALOG_SIZE), "--seed", "3", "--out", catalog)
    admin(conf, "import-products", catalog)


def require_node():
    """The checks every web test needs first; raises with the fix."""
    node = shutil.which("node")
    if not node:
        raise AssertionError("node not found: run ./quickstart test (it installs nodejs and npm)")
    for mod in ("eventsource", "eventsource-parser", "@microsoft/fetch-event-source", "playwright-core", "typescript"):
        if not os.path.isfile(os.path.join(SRC, "node_modules", mod, "package.json")):
            raise AssertionError("node module %s missing: run ./quickstart test (npm ci from package-lock.json)"
                                 % mod)
    return node


def require_chromium():
    if not os.access(CHROMIUM, os.X_OK):
        raise AssertionError("%s not found: run ./quickstart test (apt-get install chromium)" % CHROMIUM)
    return CHROMIUM


def node(script, config, timeout=240):
    """Runs test/web/<script> with config (JSON on stdin); returns its JSON output."""
    exe = require_node()
    res = subprocess.run([exe, os.path.join(WEB_TESTS, script)], input=json.dumps(config).encode(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, cwd=SRC)
    out = res.stdout.decode("utf-8", "replace")
    err = res.stderr.decode("utf-8", "replace")
    if res.returncode != 0:
        raise AssertionError("node %s failed (%d):\n%s\n%s" % (script, res.returncode, out[-4000:], err[-4000:]))
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError("node %s printed no JSON:\n%s\n%s" % (script, out[-4000:], err[-2000:]))


class FakeUpstream:
    """test/fixtures/fake_openai.py on a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="troika-it-fake-")
        pf = os.path.join(self.dir, "port")
        self.proc = harness.ManagedProcess("fake_openai", ["/usr/bin/python3", FAKE, "--port", "0",
                                                           "--port-file", pf],
                                           os.path.join(self.dir, "fake.log"))
        self.port = int(harness.wait_for(lambda: os.path.exists(pf) and open(pf).read().strip(), 20,
                                         "the fake upstream's port"))
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, **knobs):
        r = harness.http_request("127.0.0.1", self.port, "POST", "/_control", json.dumps(knobs),
                                 {"Content-Type": "application/json"})
        if r.status != 200:
            raise AssertionError("fake upstream /_control: %r" % r)

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebStack:
    """A stack with the catalog's index built; fake=True puts the fake
    upstream in as the LLM (builtin speech stays)."""

    def __init__(self, db, fake=False, workers=2, **overrides):
        self.key = "web-key-" + uuid.uuid4().hex
        self.fake = FakeUpstream() if fake else None
        conf = {"upload_api_keys": self.key, "streaming_timeout": "30000", "max_requests": "0",
                "streaming_rate_limit": "1000"}
        if self.fake:
            conf.update(llm_provider="openai", llm_url=self.fake.url, llm_model="fake-chat",
                        llm_timeout_ms="20000", troika_llm_refine="false")
        conf.update(overrides)
        try:
            self.stack = harness.Stack(workers=workers, overrides=conf, db=db).start()
            admin(self.stack.app.conf_path, "build-index")
        except BaseException:
            if self.fake:
                self.fake.stop()
            raise
        self.base = "http://127.0.0.1:%d" % self.stack.port

    def upload_text(self, chatbot, name, text, title):
        """An upload through the normal route (setup, not under test)."""
        b = "----web" + uuid.uuid4().hex
        body = ("--{b}\r\nContent-Disposition: form-data; name=\"chatbotId\"\r\n\r\n{bot}\r\n"
                "--{b}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
                "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: text/markdown\r\n\r\n{text}\r\n--{b}--\r\n").format(
                    b=b, bot=chatbot, title=title, name=name, text=text)
        r = self.stack.request("POST", "/api/context/upload-file", body=body.encode(),
                               headers={"Content-Type": "multipart/form-data; boundary=" + b,
                                        "Authorization": "Bearer " + self.key}, timeout=60)
        if r.status != 200:
            raise AssertionError("upload failed: %r" % r)
        return r.json()

    def diagnostics(self):
        return self.stack.diagnostics()

    def close(self):
        try:
            self.stack.close()
        finally:
            if self.fake:
                self.fake.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="troika-web-dev-")
    db = harness.MariaDB(tmp)
    db.tmp = tmp
    db.start()
    db.setup()
    import_catalog(db)
    ws = WebStack(db, fake="--fake" in sys.argv)
    ws.upload_text("demo", "policies.md", POLICIES, "Store policies")
    print("url %s/\nkey %s\nfake %s" % (ws.base, ws.key, ws.fake.url if ws.fake else "-"), flush=True)
    try:
        import time
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        ws.close()
        db.stop()


if __name__ == "__main__":
    main()
