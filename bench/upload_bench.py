#!/usr/bin/python3
"""upload_bench.py: the context upload end to end through a private nginx,
with the builtin embedder: a 10 MiB text file and a 100-page PDF. Records
seconds from the first byte sent to `complete`, each step's share (from the
progress events' timestamps), the worker's peak RSS (VmHWM; one worker, a
fresh stack per file), and the tokenizer's tokens/s (bench/tok_bench) on the
same text and on a multilingual sample, in bench/results/upload.md.

A benchmark, not a test: it prints the targets next to the figures
(10 MiB text in <= 5 s; peak RSS <= 4 x file size + 32 MB) but never fails
on them.

    bench/upload_bench.py [--out bench/results/upload.md]
Needs: make (troika-fcgi, bench/tok_bench), tools/fetch-tokenizer.sh's cache.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "integration"))
os.environ.setdefault("TROIKA_FCGI", os.path.join(ROOT, "troika-fcgi"))
import harness  # noqa: E402
from stack import cpu_model  # noqa: E402

KEY = "bench-upload-key"
MIB = 1024 * 1024


def words(rng, n):
    """Shop-document prose: common words, product words, made-up names and numbers."""
    common = ("the a of and to in is for on with as by at from this that your our are be it can or "
              "you we will not all any each more most other some such no only own same so than too very").split()
    shop = ("lehenga saree kurta sherwani gown dupatta blouse silk chiffon georgette cotton linen velvet "
            "zari sequin embroidery hand block print bridal festive wedding sangeet mehendi size chest waist "
            "hip length sleeve fit return refund exchange delivery shipping order customer care wash iron "
            "steam dry clean fabric colour maroon ivory emerald gold tailor measure stitch lining").split()
    syll = ["ka", "ri", "mo", "na", "shi", "ta", "lu", "ve", "dra", "pa", "gan", "esh", "ya", "or", "il"]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            out.append(rng.choice(common))
        elif r < 0.8:
            out.append(rng.choice(shop))
        elif r < 0.93:
            out.append("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
        else:
            out.append(str(rng.randint(1, 99999)))
    return out


def make_text(size, seed=1):
    rng = random.Random(seed)
    parts, n = [], 0
    while n < size:
        sent = " ".join(words(rng, rng.randint(6, 24)))
        sent = sent[0].upper() + sent[1:] + rng.choice([".", ".", ".", "!", "?", ":"])
        sep = "\n\n" if rng.random() < 0.12 else ("\n" if rng.random() < 0.05 else " ")
        parts.append(sent + sep)
        n += len(sent) + len(sep)
    return "".join(parts).encode()[:size]


def make_multilingual(size, seed=2):
    rng = random.Random(seed)
    bits = ["नमस्ते, यह लहंगा रेशम का है। ", "日本語の説明文です。", "中文描述：丝绸纱丽。", "😀🎉👍🏽 ", "Größe M, Farbe Weiß. ",
            "Размер M, шёлк. ", "₹24,999 only! ", "size 32-34\n", "  \t  \n\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(bits).encode()
    return bytes(out[:size]).decode("utf-8", "ignore").encode()   # not cut inside a character


def multipart(chatbot, name, ctype, data):
    b = "----bench" + os.urandom(8).hex()
    head = ("--%s\r\nContent-Disposition: form-data; name=\"chatbotId\"\r\n\r\n%s\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
            "Content-Type: %s\r\n\r\n" % (b, chatbot, b, name, ctype)).encode()
    tail = ("\r\n--%s--\r\n" % b).encode()
    return head + data + tail, "multipart/form-data; boundary=" + b


def vm(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


class ServerDB(harness.MariaDB):
    """The harness's private MariaDB, but with MariaDB 10.11's default InnoDB
    sizes (128 MB buffer pool, 96 MB redo log) instead of the test suite's
    shrunken ones (32 MB, 16 MB), which a 10 MiB upload overflows."""

    def _common_args(self):
        return ["--innodb-log-file-size=96M", "--innodb-buffer-pool-size=128M"]


def run_upload(name, ctype, data, rank, tmp):
    db = ServerDB(tempfile.mkdtemp(prefix="db-", dir=tmp))
    db.start()
    try:
        db.setup()
        return upload_once(name, ctype, data, rank, db)
    finally:
        db.stop()


def upload_once(name, ctype, data, rank, db):
    with harness.Stack(workers=1, db=db, overrides={"upload_api_keys": KEY, "tokenizer_file": rank,
                                                    "streaming_timeout": "300000", "log_level": "INFO"}) as st:
        worker = st.app.worker_pids()[0]
        st.get("/api/health")
        base_hwm, base_rss = vm(worker, "VmHWM"), vm(worker, "VmRSS")
        body, ct = multipart("bench", name, ctype, data)
        conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=600)
        t0 = time.monotonic()
        conn.request("POST", "/api/context/upload-file/stream", body=body,
                     headers={"Content-Type": ct, "Authorization": "Bearer " + KEY})
        resp = conn.getresponse()
        text = resp.read().decode()
        wall = time.monotonic() - t0
        conn.close()
        hwm = vm(worker, "VmHWM")
        events = []
        for block in re.split(r"\n\n", text):
            m = re.search(r"^event: (\S+)$", block, re.M)
            d = re.findall(r"^data: (.*)$", block, re.M)
            if m and d:
                events.append((m.group(1), json.loads("".join(d))))
        done = [d for e, d in events if e == "complete"]
        if not done:
            raise RuntimeError("%s: no complete event: %s" % (name, text[-2000:]))
        # each step's span: from its first progress event to the next step's first
        firsts = []
        for e, d in events:
            if e == "progress" and (not firsts or firsts[-1][0] != d["step"]):
                firsts.append((d["step"], ts(d["timestamp"])))
        end = ts(done[0]["timestamp"])
        spans = [(s, (firsts[i + 1][1] if i + 1 < len(firsts) else end) - t) for i, (s, t) in enumerate(firsts)]
        storing = [(d["message"], ts(d["timestamp"])) for e, d in events if e == "progress" and d["step"] == "storing"]
        store_detail = [(m, (storing[i + 1][1] if i + 1 < len(storing) else end) - t)
                        for i, (m, t) in enumerate(storing)]
        connected = ts([d for e, d in events if e == "connected"][0]["timestamp"])
        return {"name": name, "bytes": len(data), "wall": wall, "server": end - connected,
                "read": connected - (ts(done[0]["timestamp"]) - wall), "complete": done[0],
                "spans": spans, "store_detail": store_detail, "hwm": hwm, "base_hwm": base_hwm, "base_rss": base_rss}


def machine():
    model = cpu_model()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return "%d cores (%s), load average before the runs %s" % (os.cpu_count(), model, load)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "upload.md"))
    args = ap.parse_args()
    rank = subprocess.run([os.path.join(ROOT, "tools", "fetch-tokenizer.sh")], stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()
    mach = machine()
    tmp = tempfile.mkdtemp(prefix="troika-bench-upload-")
    text = make_text(10 * MIB)
    multi = make_multilingual(4 * MIB)
    tpath, mpath, ppath = (os.path.join(tmp, n) for n in ("ten.txt", "multi.txt", "hundred.pdf"))
    with open(tpath, "wb") as f:
        f.write(text)
    with open(mpath, "wb") as f:
        f.write(multi)
    subprocess.check_call([sys.executable, os.path.join(ROOT, "test", "fixtures", "upload", "make_pdf.py"),
                           "text", ppath, "100"])
    with open(ppath, "rb") as f:
        pdf = f.read()

    tb = subprocess.run([os.path.join(ROOT, "bench", "tok_bench"), rank, tpath, mpath], stdout=subprocess.PIPE,
                        check=True).stdout.decode().strip().splitlines()
    runs = [run_upload("ten.txt", "text/plain", text, rank, tmp),
            run_upload("hundred.pdf", "application/pdf", pdf, rank, tmp)]

    lines = ["# Context upload benchmark", "",
             "`bench/upload_bench.py`, %s UTC. Machine: %s." % (
                 datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), mach),
             "One troika-fcgi worker behind the private nginx, builtin embedder (384 dimensions), "
             "cl100k_base tokenizer, a fresh stack (and worker) per file; chunk_tokens 512, overlap 64; MariaDB 10.11 "
             "with its default InnoDB buffer pool (128 MB) and redo log (96 MB).", "",
             "## End to end", "",
             "| file | bytes | chunks | tokens | pages | seconds (client, send to complete) | of which after `connected` | "
             "worker peak RSS (VmHWM) | target time | target RSS (4 x size + 32 MB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        c = r["complete"]
        target_rss = 4 * r["bytes"] + 32 * 1000 * 1000
        lines.append("| %s | %d | %d | %d | %s | %.2f | %.2f | %.1f MB (%.1f MB before) | %s | %.1f MB: %s |" % (
            r["name"], r["bytes"], c["chunks"], c["tokens"], c["pages"] if c["pages"] else "-", r["wall"],
            r["server"], r["hwm"] / 1e6, r["base_hwm"] / 1e6,
            ("<= 5 s: %s" % ("met" if r["wall"] <= 5 else "MISSED")) if r["name"].endswith(".txt") else "-",
            target_rss / 1e6, "met" if r["hwm"] <= target_rss else "MISSED"))
    lines += ["", "## Steps (from the progress events' timestamps)", ""]
    for r in runs:
        lines.append("- %s: " % r["name"] + ", ".join("%s %.2f s" % (s, d) for s, d in r["spans"]))
        lines.append("  - storing: " + "; ".join("%s %.2f s" % (m, d) for m, d in r["store_detail"]))
    lines += ["", "## Tokenizer (bench/tok_bench, best of three, one thread)", "", "```"] + tb + ["```", "",
              "ten.txt: generated English shop prose (10 MiB); multi.txt: Hindi, Japanese, Chinese, emoji, "
              "German, Russian and numbers (4 MiB); hundred.pdf: test/fixtures/upload/make_pdf.py text 100.", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    subprocess.call(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
