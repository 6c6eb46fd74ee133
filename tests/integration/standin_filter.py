#!/usr/bin/env python3
"""standin_filter.py -- a tiny stand-in for filterd, for proving the test plumbing.

Not a product and not a model of filterd's internals: it accepts filterd's
command line (--config FILE and --key=value), listens on smtp:/lmtp: inet or
lmtp:unix addresses, "scans" with the .ndb hex signatures in clamav_db (exact
byte search in the raw message and in every base64/quoted-printable decoded
MIME leaf) or with clamd INSTREAM, applies final_virus_destiny, prepends
X-Virus-Scanned to passed mail and relays it to `forward`.  It says 250 only
after the next hop said 250; anything doubtful is 451.

Use it to run the integration tests without the real daemon:
    FILTERD_BIN=tests/integration/standin_filter.py python3 -m unittest -v tests/integration/test_after_queue.py
"""

import email
import email.policy
import os
import signal
import smtplib
import socket
import struct
import sys
import time
import uuid
from email.utils import formatdate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SmtpServer  # noqa: E402

DESTINIES = {"D_PASS", "D_DISCARD", "D_BOUNCE", "D_REJECT", "D_TEMPFAIL"}


class ScanError(Exception):
    pass


def parse_args(argv):
    cfg = {"final_virus_destiny": "D_DISCARD", "clamav_backend": "libclamav",
           "myhostname": socket.getfqdn(), "listen": []}
    overrides = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--config":
            path = argv[i + 1]
            i += 1
            for line in Path(path).read_text().splitlines():
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                k, _, v = line.partition("=")
                overrides.append((k.strip(), v.strip()))
        elif a.startswith("--") and "=" in a:
            k, _, v = a[2:].partition("=")
            overrides.append((k, v))
        else:
            sys.exit(f"standin: bad argument {a!r}")
        i += 1
    for k, v in overrides:
        if k == "listen":
            cfg["listen"].append(v)
        else:
            cfg[k] = v
    if cfg["final_virus_destiny"] not in DESTINIES:
        sys.exit(f"standin: bad final_virus_destiny {cfg['final_virus_destiny']}")
    return cfg


class Scanner:
    def __init__(self, cfg):
        self.backend = cfg["clamav_backend"]
        self.clamd = cfg.get("clamd_socket", "")
        self.sigs = []
        if self.backend == "libclamav":
            for f in sorted(Path(cfg["clamav_db"]).glob("*.ndb")):
                for line in f.read_text().splitlines():
                    parts = line.split(":")
                    if len(parts) >= 4 and parts[2] == "*":
                        self.sigs.append((parts[0], bytes.fromhex(parts[3])))
            if not self.sigs:
                sys.exit("standin: no usable signatures in clamav_db")

    def scan(self, data: bytes):
        """Virus name or None; raises ScanError when the scanner is unusable."""
        if self.backend == "clamd":
            return self._clamd(data)
        blobs = [data]
        try:
            msg = email.message_from_bytes(data, policy=email.policy.compat32)
            for part in msg.walk():
                if not part.is_multipart():
                    payload = part.get_payload(decode=True)
                    if payload:
                        blobs.append(payload)
        except Exception as e:
            raise ScanError(f"mime: {e}")
        for name, sig in self.sigs:
            if any(sig in b for b in blobs):
                return name
        return None

    def _clamd(self, data: bytes):
        kind, _, addr = self.clamd.partition(":")
        try:
            if kind == "unix":
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(30)
                s.connect(addr)
            else:
                host, port = addr.rsplit(":", 1)
                s = socket.create_connection((host, int(port)), timeout=30)
            with s:
                s.sendall(b"zINSTREAM\0")
                for i in range(0, len(data), 65536):
                    chunk = data[i:i + 65536]
                    s.sendall(struct.pack(">I", len(chunk)) + chunk)
                s.sendall(struct.pack(">I", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    c = s.recv(4096)
                    if not c:
                        break
                    reply += c
        except OSError as e:
            raise ScanError(f"clamd {self.clamd}: {e}")
        text = reply.rstrip(b"\0").decode(errors="replace")
        if text.endswith(" FOUND"):
            return text.split(": ", 1)[1][:-len(" FOUND")]
        if text.endswith(": OK"):
            return None
        raise ScanError(f"clamd said {text!r}")


class Filter:
    def __init__(self, cfg):
        self.cfg = cfg
        self.scanner = Scanner(cfg)
        kind, _, rest = cfg["forward"].partition(":")
        host, port = rest.rsplit(":", 1)
        self.forward = (host, int(port))
        self.destiny = cfg["final_virus_destiny"]
        self.hostname = cfg["myhostname"]

    def log(self, msg):
        print(f"{time.strftime('%H:%M:%S')} standin: {msg}", file=sys.stderr, flush=True)

    def relay(self, mail_from, rcpts, data, lmtp):
        """Forward; returns (replies per rcpt) -- 250 only after the next hop's 250."""
        try:
            with smtplib.SMTP(*self.forward, local_hostname=self.hostname, timeout=60) as c:
                c.ehlo()
                code, text = c.mail(mail_from)
                if code != 250:
                    return [f"{code} {text.decode()}"] * len(rcpts)
                rcpt_codes = [c.rcpt(r) for r in rcpts]
                ok = [r for r, (code, _) in zip(rcpts, rcpt_codes) if code in (250, 251)]
                if not ok:
                    return [f"{code} {text.decode()}" for code, text in rcpt_codes]
                code, text = c.data(data)
                final = f"{code} {text.decode()}"
                return [final if cc in (250, 251) else f"{cc} {tt.decode()}"
                        for cc, tt in rcpt_codes]
        except (OSError, smtplib.SMTPException) as e:
            return [f"451 4.4.0 next hop {self.forward[0]}:{self.forward[1]} failed: {e}"] * len(rcpts)

    def dsn(self, env, virus, qid):
        boundary = f"DSN.{uuid.uuid4().hex}"
        headers = env.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        rcpt_fields = "".join(
            f"\r\nFinal-Recipient: rfc822; {r}\r\nAction: failed\r\nStatus: 5.7.0\r\n"
            f"Diagnostic-Code: smtp; 554 5.7.0 VIRUS {virus}\r\n" for r in env.rcpt_to)
        text = (f"From: MAILER-DAEMON@{self.hostname}\r\nTo: {env.mail_from}\r\n"
                f"Subject: Undeliverable mail, virus found ({virus})\r\nDate: {formatdate()}\r\n"
                f"Message-ID: <DSN{qid}@{self.hostname}>\r\nMIME-Version: 1.0\r\n"
                f"Content-Type: multipart/report; report-type=delivery-status;\r\n"
                f" boundary=\"{boundary}\"\r\n\r\n"
                f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
                f"Your message was not delivered: it contains {virus}.\r\n\r\n"
                f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
                f"Reporting-MTA: dns; {self.hostname}\r\n{rcpt_fields}\r\n"
                f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}\r\n\r\n"
                f"--{boundary}--\r\n")
        return text.encode()

    def handle(self, env, lmtp):
        n = len(env.rcpt_to)
        qid = uuid.uuid4().hex[:10].upper()
        try:
            virus = self.scanner.scan(env.data)
        except ScanError as e:
            self.log(f"{qid}: scan failed: {e}")
            return ["451 4.5.0 Error in processing, scanner unavailable"] * n
        if virus and self.destiny != "D_PASS":
            self.log(f"{qid}: INFECTED ({virus}) from <{env.mail_from}> destiny {self.destiny}")
            if self.destiny == "D_REJECT":
                return [f"554 5.7.0 Reject, id={qid} - VIRUS: {virus}"] * n
            if self.destiny == "D_TEMPFAIL":
                return [f"451 4.7.0 Temporary rejection, id={qid} - VIRUS: {virus}"] * n
            if self.destiny == "D_BOUNCE" and env.mail_from:
                r = self.relay("", [env.mail_from], self.dsn(env, virus, qid), False)[0]
                if not r.startswith("2"):
                    return [f"451 4.4.0 could not send DSN: {r}"] * n
            return [f"250 2.7.0 Ok, discarded, id={qid} - VIRUS: {virus}"] * n
        header = (f"X-Virus-Scanned: standin at {self.hostname}"
                  f"{' (' + virus + ' passed)' if virus else ''}\r\n").encode()
        replies = self.relay(env.mail_from, env.rcpt_to, header + env.data, lmtp)
        self.log(f"{qid}: {'CLEAN' if not virus else 'PASSED ' + virus} <{env.mail_from}> -> "
                 f"{','.join(env.rcpt_to)}: {replies[0]}")
        return replies


def main():
    cfg = parse_args(sys.argv[1:])
    flt = Filter(cfg)
    # Block SIGTERM/SIGINT (threads inherit the mask) and sigwait for them: no
    # handler, so no lock can be re-entered by a signal arriving early.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    servers = []
    for spec in cfg["listen"]:
        proto, _, rest = spec.partition(":")
        lmtp = proto == "lmtp"

        def handler(env, lmtp=lmtp):
            r = flt.handle(env, lmtp)
            return r if lmtp else r[0]
        srv = SmtpServer(handler, lmtp=lmtp, hostname=flt.hostname)
        if rest.startswith("unix:"):
            srv.listen_unix(rest[5:])
        else:
            host, port = rest.rsplit(":", 1)
            srv.listen_inet(int(port), host)
        servers.append(srv)
    flt.log(f"listening on {', '.join(cfg['listen'])}, forward {cfg['forward']}")
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for s in servers:
        s.close()
    flt.log("terminated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
