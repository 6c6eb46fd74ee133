"""harness.py -- real peers for filterd's integration tests.

What it is for: end-to-end tests that run filterd between a real, private Postfix
instance and real ClamAV, using only the Python standard library (3.11; no
smtpd/asyncore, no pip).  Everything a test starts lives in one temporary
directory (a Workspace) and binds to 127.0.0.1 on free ports only.

Pieces:
  free_port()       a free TCP port on 127.0.0.1 (never the same one twice per run)
  Workspace         the temp dir; kept (path printed) when a test fails, else removed
  Postfix           a private Postfix instance: own config, queue and data
                    directories, loopback-only smtpd, the amavis-style reinjection
                    smtpd, `filterd` (smtp) and `filterd-lmtp` (lmtp) transports,
                    virtual Maildir users in example.test, log in WORKSPACE/postfix/maillog
  Filterd           the daemon under test (FILTERD_BIN, default <repo>/build/filterd/filterd)
  Dovecot           dovecot -F with only its auth service (passwd-file users), unix and inet
                    auth listeners, for frontd's smtpd_sasl_type = dovecot
  Frontd            the bundled MTA (FRONTD_BIN, default beside FILTERD_BIN): its queue,
                    vmailbox map and Maildirs in WORKSPACE/frontd, log in WORKSPACE/frontd.log
  Clamd             clamd in the foreground with a private clamd.conf and test db
  SmtpServer/Sink   a small threaded SMTP/LMTP server (a sink that records mail)
  TcpTap            a transparent TCP proxy that records what a client sent
  send_mail()       smtplib sender that returns the server's replies and queue id
  Maildir           reader for delivered mail
  IntegrationTestCase  unittest base: per-test workspace, cleanup of every
                    process even on failure, log tails printed on failure

How Postfix runs privately (see README.md): as root, `postfix -c DIR start`
needs no alternate_config_directories entry in /etc/postfix/main.cf (that check
applies only to unprivileged callers), so each test gets its own config_directory,
queue_directory and data_directory and the system instance is never touched.

Timeouts: every wait is bounded (FILTERD_IT_TIMEOUT, default 30 s) and a timeout
fails with the tail of Postfix's maillog, filterd's stderr and clamd's log.
"""

from __future__ import annotations

import atexit
import email
import email.policy
import json
import os
import pty
import pwd
import grp
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

TEST_DIR = Path(__file__).resolve().parent
REPO_DIR = TEST_DIR.parents[1]
CORPUS_DIR = Path(os.environ.get("FILTERD_CORPUS_DIR", REPO_DIR.parent / "shared" / "corpus"))

# Bounded waits: one knob for slow CI machines.
TIMEOUT = float(os.environ.get("FILTERD_IT_TIMEOUT", "30"))

POSTFIX_SBIN = Path("/usr/sbin")
POSTFIX_DAEMON_DIR = Path("/usr/lib/postfix/sbin")

# The 68-byte EICAR anti-virus test string (https://www.eicar.org/download-anti-malware-testfile/).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
assert len(EICAR) == 68
EICAR_SIGNATURE_NAME = "Eicar-Test-Signature"

DOMAIN = "example.test"
POSTFIX_HOSTNAME = "mx.example.test"
FILTERD_HOSTNAME = "filterd.example.test"   # distinct so logs show which hop is which
DEFAULT_USERS = ("alice", "bob", "carol", "dave", "postmaster")


# --------------------------------------------------------------------------
# small utilities

_ports_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago and not handed out before."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def unix_socket_accepts(path: str | Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(str(path))
            return True
    except OSError:
        return False


def connect_as_user(path: str | Path, user: str) -> str | None:
    """Try to connect to a unix socket as USER (as a Postfix daemon would);
    None on success, else the error.  Forks (no exec: the interpreter may
    live where USER cannot read, e.g. under /root/.pyenv)."""
    pw = pwd.getpwnam(user)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                       # child: only syscalls, then _exit
        status = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(str(path))
            status = 0
        except BaseException as e:
            os.write(w, str(e).encode()[:500])
        finally:
            os._exit(status)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        said = f.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    return None if os.waitstatus_to_exitcode(status) == 0 else (said or f"status {status}")


def describe_path(path: str | Path) -> str:
    try:
        st = os.stat(path)
    except OSError as e:
        return f"{path}: {e.strerror}"
    import stat as statmod
    owner = pwd.getpwuid(st.st_uid).pw_name if st.st_uid in {p.pw_uid for p in pwd.getpwall()} else st.st_uid
    group = grp.getgrgid(st.st_gid).gr_name if st.st_gid in {g.gr_gid for g in grp.getgrall()} else st.st_gid
    return f"{statmod.filemode(st.st_mode)} {owner}:{group} {path}"


def wait_for(predicate: Callable[[], object], what: str, timeout: float = TIMEOUT,
             diagnostics: Callable[[], str] | None = None, interval: float = 0.1):
    """Poll predicate until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if diagnostics is not None:
                msg += "\n" + diagnostics()
            raise AssertionError(msg)
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        return f"    ({e.strerror})"
    text = data.decode("utf-8", "replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text) or "    (empty)"


def to_crlf(data: bytes) -> bytes:
    """Normalise line endings to CRLF (SMTP wire form)."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def to_lf(data: bytes) -> bytes:
    """CRLF -> LF (Postfix stores and Maildir files use LF)."""
    return data.replace(b"\r\n", b"\n")


def split_message(data: bytes) -> tuple[bytes, bytes]:
    """(header block incl. its last line ending, body) at the first empty line."""
    m = re.search(rb"\r?\n\r?\n", data)
    if not m:
        return data, b""
    sep_len = 2 if data[m.start():m.start() + 2] == b"\r\n" else 1
    return data[:m.start() + sep_len], data[m.end():]


def header_fields(block: bytes) -> list[bytes]:
    """Split a header block into fields (each with its continuation lines)."""
    fields: list[bytes] = []
    for line in block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def write_test_signatures(directory: Path) -> Path:
    """Write DIR/filterd-test.ndb: an EICAR body signature in ClamAV .ndb form."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "filterd-test.ndb"
    path.write_text(f"{EICAR_SIGNATURE_NAME}:0:*:{EICAR.hex()}\n")
    path.chmod(0o644)
    return path


def corpus_message(relpath: str) -> bytes:
    """A corpus message without its mbox 'From ' line; fails clearly when missing."""
    path = CORPUS_DIR / relpath
    if not path.is_file():
        raise AssertionError(f"corpus message {path} not found (set FILTERD_CORPUS_DIR)")
    data = path.read_bytes()
    if data.startswith(b"From "):
        data = data.split(b"\n", 1)[1]
    return data


# --------------------------------------------------------------------------
# process bookkeeping: everything started is stopped, even when a test dies

_live: list = []            # objects with .kill(), in start order
_live_lock = threading.Lock()


def _register(obj) -> None:
    with _live_lock:
        _live.append(obj)


def _unregister(obj) -> None:
    with _live_lock:
        if obj in _live:
            _live.remove(obj)


@atexit.register
def _kill_everything() -> None:
    with _live_lock:
        objs = list(reversed(_live))
    for obj in objs:
        try:
            obj.kill()
        except Exception as e:  # last-resort cleanup; report and go on
            print(f"harness: cleanup of {obj!r} failed: {e}", file=sys.stderr)


def _sigterm_to_interrupt(signum, frame):
    # ctest and CI send SIGTERM on timeout: unwind through the cleanups.
    raise KeyboardInterrupt(f"signal {signum}")


def install_sigterm_handler() -> None:
    """In the test runner only: SIGTERM unwinds like ^C, so cleanups run."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm_to_interrupt)


class ManagedProcess:
    """A foreground child process with stdout+stderr in a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None,
                 cwd: Path | None = None):
        self.name, self.argv, self.log = name, argv, log
        self.log_file = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)
        self.returncode: int | None = None
        _register(self)

    def __repr__(self):
        return f"<{self.name} pid {self.proc.pid}>"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.returncode = self.proc.returncode
        self.log_file.close()
        _unregister(self)
        return self.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.log_file.close()
        _unregister(self)


# --------------------------------------------------------------------------
# workspace


class Workspace:
    """One temp dir per test; it knows its log files for failure diagnostics."""

    def __init__(self, name: str):
        base = os.environ.get("FILTERD_IT_TMPDIR") or tempfile.gettempdir()
        # Keep it short: Postfix's sockets live below it and a unix-domain
        # socket path has at most 107 bytes (sun_path).
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", name.rsplit(".", 1)[-1].removeprefix("test_"))[:24]
        self.path = Path(tempfile.mkdtemp(prefix=f"fit-{safe}-", dir=base))
        if len(str(self.path)) > 60:
            raise AssertionError(f"workspace path {self.path} too long for Postfix's unix sockets; "
                                 "set FILTERD_IT_TMPDIR to a short directory")
        # Postfix daemons (user postfix) and virtual(8) must traverse it.
        self.path.chmod(0o755)
        self.logs: dict[str, Path] = {}
        (self.path / "runner.pid").write_text(f"{os.getpid()}\n")

    def sub(self, name: str, mode: int = 0o755) -> Path:
        p = self.path / name
        p.mkdir(parents=True, exist_ok=True)
        p.chmod(mode)
        return p

    def add_log(self, label: str, path: Path) -> None:
        self.logs[label] = path

    def diagnostics(self, lines: int = 40) -> str:
        out = [f"workspace: {self.path}"]
        for label, path in self.logs.items():
            out.append(f"--- last {lines} lines of {label} ({path}):")
            out.append(tail(path, lines))
        return "\n".join(out)

    def finish(self, failed: bool) -> None:
        if failed or os.environ.get("FILTERD_IT_KEEP"):
            why = "failed test" if failed else "FILTERD_IT_KEEP"
            print(f"\nharness: kept workspace ({why}): {self.path}", file=sys.stderr)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def reap_stale_workspaces() -> list[str]:
    """Stop processes left behind by an earlier test run that was killed
    (SIGKILL skips every cleanup).  Only workspaces whose runner process is
    gone are considered, and only processes that provably belong to them:
    a Postfix master whose pid file is in the workspace (killed with its
    process group), or a process whose command line names the workspace
    (filterd --config WS/..., clamd -c WS/...).  Returns what it did."""
    base = Path(os.environ.get("FILTERD_IT_TMPDIR") or tempfile.gettempdir())
    done = []
    for ws in base.glob("fit-*"):
        try:
            runner = int((ws / "runner.pid").read_text())
        except (OSError, ValueError):
            continue
        if runner == os.getpid() or _pid_alive(runner):
            continue
        try:
            master = int((ws / "postfix/spool/pid/master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            master = None
        if master and _pid_alive(master) and _is_postfix_master(master) \
                and str(ws).encode() in _proc_read(master, "environ"):
            try:
                os.killpg(master, signal.SIGKILL)
                done.append(f"killed stale Postfix master {master} of {ws}")
            except OSError:
                pass
        needle = (str(ws) + "/").encode()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid() \
                    and needle in _proc_read(int(entry.name), "cmdline"):
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                    done.append(f"killed stale process {entry.name} of {ws}")
                except OSError:
                    pass
    for line in done:
        print(f"harness: {line}", file=sys.stderr)
    return done


def _proc_read(pid: int, what: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{what}").read_bytes()
    except OSError:
        return b""


# --------------------------------------------------------------------------
# Postfix


def postfix_missing() -> str | None:
    """None if a usable Postfix is installed, else what is missing."""
    for p in (POSTFIX_SBIN / "postfix", POSTFIX_SBIN / "postconf", POSTFIX_SBIN / "postqueue",
              POSTFIX_DAEMON_DIR / "master", POSTFIX_DAEMON_DIR / "postlogd"):
        if not os.access(p, os.X_OK):
            return f"{p} is missing: install the Debian package 'postfix' (CI installs it)"
    try:
        pwd.getpwnam("postfix")
        grp.getgrnam("postdrop")
    except KeyError:
        return "user postfix / group postdrop missing: install the Debian package 'postfix'"
    if os.geteuid() != 0:
        return "Postfix integration tests must run as root (postfix -c DIR needs it)"
    return None


# The reinjection smtpd: Postfix FILTER_README "advanced content filter" and
# amavisd-new README.postfix.  No content_filter (no loop), no recipient or
# header/body checks, no milters; only the filter on 127.0.0.0/8 may use it.
REINJECT_OVERRIDES = (
    ("syslog_name", "postfix/reinject"),
    ("content_filter", ""),
    ("local_recipient_maps", ""),
    ("relay_recipient_maps", ""),
    ("smtpd_restriction_classes", ""),
    ("smtpd_delay_reject", "no"),
    ("smtpd_client_restrictions", "permit_mynetworks,reject"),
    ("smtpd_helo_restrictions", ""),
    ("smtpd_sender_restrictions", ""),
    ("smtpd_relay_restrictions", "permit_mynetworks,reject"),
    ("smtpd_recipient_restrictions", "permit_mynetworks,reject"),
    ("smtpd_data_restrictions", "reject_unauth_pipelining"),
    ("smtpd_end_of_data_restrictions", ""),
    ("smtpd_milters", ""),
    ("smtpd_proxy_filter", ""),
    ("smtpd_sasl_auth_enable", "no"),
    ("smtpd_tls_security_level", "none"),
    ("mynetworks", "127.0.0.0/8"),
    ("mynetworks_style", "host"),
    ("smtpd_error_sleep_time", "0"),
    ("smtpd_soft_error_limit", "1001"),
    ("smtpd_hard_error_limit", "1000"),
    ("smtpd_client_connection_count_limit", "0"),
    ("smtpd_client_connection_rate_limit", "0"),
    ("receive_override_options", "no_unknown_recipient_checks,no_header_body_checks,no_milters"),
    ("smtpd_authorized_xforward_hosts", "127.0.0.0/8"),
)

# The transports to filterd (amavisd-new README.postfix: "amavisfeed").
FILTER_TRANSPORT_OVERRIDES = {
    "smtp": (("smtp_data_done_timeout", "1200"), ("smtp_send_xforward_command", "yes"),
             ("disable_dns_lookups", "yes"), ("max_use", "20")),
    "lmtp": (("lmtp_data_done_timeout", "1200"), ("lmtp_send_xforward_command", "yes"),
             ("disable_dns_lookups", "yes"), ("max_use", "20")),
}


def _mail_uid_gid() -> tuple[int, int]:
    """The owner of the Maildirs: 'nobody' (any non-root uid >= 100 works)."""
    try:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 65534, 65534


@dataclass
class Delivery:
    """One Postfix delivery log line: 'QID: to=<..>, relay=.., dsn=.., status=.. (text)'."""
    queue_id: str
    program: str
    to: str
    relay: str
    dsn: str
    status: str
    text: str
    line: str


_DELIVERY_RE = re.compile(
    r"(?P<program>postfix[\w/.-]*)\[\d+\]: (?P<qid>[0-9A-F]+|[0-9A-Za-z]{10,}): to=<(?P<to>[^>]*)>,"
    r".*?relay=(?P<relay>[^,]*),.*?dsn=(?P<dsn>[^,]*), status=(?P<status>\w+) \((?P<text>.*)\)$")


class Postfix:
    """A private Postfix instance in WORKSPACE/postfix.

    filter_port/filter_transport/filter_nexthop choose the content_filter:
      transport "smtp" -> content_filter = filterd:[127.0.0.1]:PORT
      transport "lmtp" -> content_filter = filterd-lmtp:inet:127.0.0.1:PORT
                          (or filter_nexthop, e.g. "unix:/path/to/socket")
      filter_port None and no nexthop -> no content_filter (plain MTA)
    """

    def __init__(self, ws: Workspace, filter_port: int | None = None,
                 filter_transport: str = "smtp", filter_nexthop: str | None = None,
                 users: Iterable[str] = DEFAULT_USERS, main_cf: dict | None = None,
                 submission_filter_port: int | None = None):
        if filter_transport not in FILTER_TRANSPORT_OVERRIDES:
            raise ValueError(f"filter_transport must be smtp or lmtp, not {filter_transport}")
        self.ws = ws
        self.root = ws.sub("postfix")
        self.config_dir = self.root / "etc"
        self.queue_dir = self.root / "spool"
        self.data_dir = self.root / "data"
        self.mail_dir = ws.path / "mail"
        self.maillog = self.root / "maillog"
        self.smtp_port = free_port()
        self.reinject_port = free_port()
        # A second smtpd (think port 587) whose mail goes to another filterd
        # listener, for policy banks chosen by port.
        self.submission_port = free_port() if submission_filter_port else None
        self.submission_filter_port = submission_filter_port
        self.filter_port = filter_port
        self.filter_transport = filter_transport
        self.filter_nexthop = filter_nexthop
        self.users = tuple(users)
        self.extra_main = dict(main_cf or {})
        self.running = False
        ws.add_log("postfix maillog", self.maillog)
        self.write_config()

    # -- configuration ---------------------------------------------------

    @property
    def content_filter(self) -> str:
        if self.filter_transport == "lmtp":
            nexthop = self.filter_nexthop or f"inet:127.0.0.1:{self.filter_port}"
            return f"filterd-lmtp:{nexthop}" if (self.filter_nexthop or self.filter_port) else ""
        nexthop = self.filter_nexthop or f"[127.0.0.1]:{self.filter_port}"
        return f"filterd:{nexthop}" if (self.filter_nexthop or self.filter_port) else ""

    def main_cf(self) -> dict[str, str]:
        uid, gid = _mail_uid_gid()
        main = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.data_dir),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": POSTFIX_HOSTNAME,
            "mydomain": DOMAIN,
            "myorigin": DOMAIN,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",   # loopback only, IPv4
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_dns_support_level": "disabled",
            "lmtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            "lmtp_host_lookup": "native",
            "smtpd_peername_lookup": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "relayhost": "",
            "relay_domains": "",
            "virtual_mailbox_domains": DOMAIN,
            "virtual_mailbox_base": str(self.mail_dir),
            "virtual_mailbox_maps": f"texthash:{self.config_dir / 'vmailbox'}",
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": "1",
            "content_filter": self.content_filter,
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.root),
            "smtpd_banner": "$myhostname ESMTP Postfix (filterd integration test)",
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtp_tls_security_level": "none",
            "lmtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            # Short timers so deferral/retry tests finish in seconds.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "transport_retry_time": "1s",
            "maximal_queue_lifetime": "1h",
            "bounce_queue_lifetime": "1h",
            "delay_warning_time": "0h",
            "smtp_connect_timeout": "5s",
            "lmtp_connect_timeout": "5s",
            "in_flow_delay": "0",
            "smtpd_error_sleep_time": "0",
            "smtpd_client_connection_rate_limit": "0",
            "smtpd_client_connection_count_limit": "0",
        }
        main.update(self.extra_main)
        return main

    def master_cf(self) -> str:
        def service(name, typ, private, unpriv, chroot, wakeup, maxproc, command, overrides=()):
            line = f"{name:<24} {typ:<10} {private} {unpriv} {chroot} {wakeup:<5} {maxproc:<3} {command}"
            return "\n".join([line] + [f"  -o {k}={v}" for k, v in overrides])

        lines = [
            "# master.cf for a private test instance (generated by tests/integration/harness.py)",
            service(f"127.0.0.1:{self.smtp_port}", "inet", "n", "-", "n", "-", "-", "smtpd"),
            service(f"127.0.0.1:{self.reinject_port}", "inet", "n", "-", "n", "-", "-", "smtpd",
                    REINJECT_OVERRIDES),
        ]
        if self.submission_port:
            lines.append(service(
                f"127.0.0.1:{self.submission_port}", "inet", "n", "-", "n", "-", "-", "smtpd",
                (("syslog_name", "postfix/submission"),
                 ("content_filter", f"filterd:[127.0.0.1]:{self.submission_filter_port}"))))
        lines += [
            service("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
            service("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
            service("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
            service("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
            service("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
            service("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
            service("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
            service("verify", "unix", "-", "-", "n", "-", "1", "verify"),
            service("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
            service("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
            service("proxywrite", "unix", "-", "-", "n", "-", "1", "proxymap"),
            service("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
            service("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
            service("showq", "unix", "n", "-", "n", "-", "-", "showq"),
            service("error", "unix", "-", "-", "n", "-", "-", "error"),
            service("retry", "unix", "-", "-", "n", "-", "-", "error"),
            service("discard", "unix", "-", "-", "n", "-", "-", "discard"),
            service("local", "unix", "-", "n", "n", "-", "-", "local"),
            service("virtual", "unix", "-", "n", "n", "-", "-", "virtual"),
            service("lmtp", "unix", "-", "-", "n", "-", "-", "lmtp"),
            service("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
            service("scache", "unix", "-", "-", "n", "-", "1", "scache"),
            service("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
            service("filterd", "unix", "-", "-", "n", "-", "2", "smtp",
                    (("syslog_name", "postfix/filterd"),) + FILTER_TRANSPORT_OVERRIDES["smtp"]),
            service("filterd-lmtp", "unix", "-", "-", "n", "-", "2", "lmtp",
                    (("syslog_name", "postfix/filterd-lmtp"),) + FILTER_TRANSPORT_OVERRIDES["lmtp"]),
        ]
        return "\n".join(lines) + "\n"

    def write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.config_dir.chmod(0o755)
        main = self.main_cf()
        (self.config_dir / "main.cf").write_text(
            "# main.cf for a private test instance (generated by tests/integration/harness.py)\n"
            + "".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.config_dir / "master.cf").write_text(self.master_cf())
        (self.config_dir / "vmailbox").write_text(
            "".join(f"{u}@{DOMAIN} {DOMAIN}/{u}/\n" for u in self.users))
        for f in ("main.cf", "master.cf", "vmailbox"):
            (self.config_dir / f).chmod(0o644)
        # postfix(1) chdirs to queue_directory before post-install creates its
        # subdirectories; postfix-files wants it root-owned, mode 755.
        self.queue_dir.mkdir(exist_ok=True)
        self.queue_dir.chmod(0o755)
        uid, gid = _mail_uid_gid()
        self.mail_dir.mkdir(exist_ok=True)
        os.chown(self.mail_dir, uid, gid)
        self.mail_dir.chmod(0o755)

    def set_content_filter(self, value: str) -> None:
        """Change content_filter of a running or stopped instance (postconf -e + reload)."""
        self.extra_main["content_filter"] = value
        self.postconf("-e", f"content_filter={value}")
        if self.running:
            self.postfix("reload")

    # -- commands --------------------------------------------------------

    def _run(self, argv: list[str], check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        # Postfix commands print their warnings and fatal errors on stderr only
        # when it is a terminal (otherwise to syslog, which is absent here, or
        # to the postlog socket, which exists only while master runs): give
        # them a pseudo-terminal as stderr and collect what they say.
        env = dict(os.environ, MAIL_CONFIG=str(self.config_dir))
        master_fd, slave_fd = pty.openpty()
        said = bytearray()

        def drain():
            while True:
                try:
                    chunk = os.read(master_fd, 4096)
                except OSError:        # EIO once the last writer is gone
                    return
                if not chunk:
                    return
                said.extend(chunk)
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=slave_fd, text=True, env=env,
                                timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"{' '.join(argv)} timed out after {timeout}s\n"
                                 + self.ws.diagnostics()) from e
        finally:
            os.close(slave_fd)
            reader.join(5)
            os.close(master_fd)
        cp.stderr = said.decode(errors="replace").replace("\r\n", "\n")
        if check and cp.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed with status {cp.returncode}:\n"
                                 f"{cp.stdout}{cp.stderr}\n" + self.ws.diagnostics())
        return cp

    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([str(POSTFIX_SBIN / "postfix"), "-c", str(self.config_dir), *args], check)

    def postconf(self, *args: str) -> str:
        return self._run([str(POSTFIX_SBIN / "postconf"), "-c", str(self.config_dir), *args]).stdout

    def postqueue(self, *args: str) -> str:
        return self._run([str(POSTFIX_SBIN / "postqueue"), "-c", str(self.config_dir), *args]).stdout

    def master_pid(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self) -> None:
        # `postfix start` runs post-install create-missing (queue and data
        # directories with the right owners), postsuper, the integrity checks,
        # and `master -w`, which returns once master is ready.
        # master has bound every inet listener by the time -w returns.
        _register(self)
        self.running = True
        self.postfix("start")
        pid = self.master_pid()
        if pid is None or not _pid_alive(pid):
            raise AssertionError("Postfix master is not running after `postfix start`\n"
                                 + self.ws.diagnostics())

    def stop(self) -> None:
        if not self.running:
            _unregister(self)
            return
        pid = self.master_pid()
        self.postfix("stop", check=False)
        if pid is not None:
            try:
                wait_for(lambda: not _pid_alive(pid), f"Postfix master {pid} to exit", timeout=15)
            except AssertionError:
                self.kill()
        self.running = False
        _unregister(self)

    def kill(self) -> None:
        """Last resort: SIGKILL master's process group (master is its leader)."""
        pid = self.master_pid()
        if pid is not None and _pid_alive(pid) and _is_postfix_master(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        self.running = False
        _unregister(self)

    def __repr__(self):
        return f"<Postfix {self.config_dir}>"

    # -- queue -----------------------------------------------------------

    def flush(self) -> None:
        """postqueue -f: attempt delivery of all queued mail now."""
        self.postqueue("-f")

    def queue(self) -> list[dict]:
        out = self.postqueue("-j")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def queue_empty(self) -> bool:
        return not self.queue()

    def wait_queue_empty(self, timeout: float = TIMEOUT) -> None:
        wait_for(self.queue_empty, "Postfix queue to become empty", timeout,
                 lambda: "queue: " + json.dumps(self.queue(), indent=1) + "\n" + self.ws.diagnostics())

    # -- log -------------------------------------------------------------

    def log(self) -> str:
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self, queue_id: str | None = None) -> list[str]:
        lines = self.log().splitlines()
        if queue_id:
            lines = [line for line in lines if f": {queue_id}: " in line]
        return lines

    def deliveries(self, queue_id: str | None = None) -> list[Delivery]:
        out = []
        for line in self.log_lines(queue_id):
            m = _DELIVERY_RE.search(line)
            if m:
                out.append(Delivery(m["qid"], m["program"], m["to"], m["relay"], m["dsn"],
                                    m["status"], m["text"], line))
        return out

    def wait_delivery(self, queue_id: str, status: str, to: str | None = None,
                      timeout: float = TIMEOUT) -> Delivery:
        """Wait for a log line 'QID: to=<to>, ... status=STATUS'."""
        def find():
            for d in self.deliveries(queue_id):
                if d.status == status and (to is None or d.to == to):
                    return d
            return None
        return wait_for(find, f"log line '{queue_id}: to=<{to or '*'}> ... status={status}'",
                        timeout, self.ws.diagnostics)

    def first_delivery(self, queue_id: str, to: str, timeout: float = TIMEOUT) -> Delivery:
        """The first delivery attempt for one recipient, whatever its status.
        Tests that expect immediate success assert on it and fail fast with
        Postfix's own reason instead of waiting for a retry that won't help."""
        def find():
            return next((d for d in self.deliveries(queue_id) if d.to == to), None)
        return wait_for(find, f"a delivery attempt for '{queue_id}: to=<{to}>'", timeout,
                        self.ws.diagnostics)

    def wait_log(self, pattern: str, timeout: float = TIMEOUT) -> re.Match:
        rx = re.compile(pattern, re.M)
        return wait_for(lambda: rx.search(self.log()), f"maillog line matching /{pattern}/",
                        timeout, self.ws.diagnostics)

    def wait_removed(self, queue_id: str, timeout: float = TIMEOUT) -> None:
        self.wait_log(rf": {re.escape(queue_id)}: removed$", timeout)

    # -- mail ------------------------------------------------------------

    def send(self, sender: str, recipients: list[str], message: bytes, submission: bool = False,
             **kw) -> "SendResult":
        port = self.submission_port if submission else self.smtp_port
        return send_mail(port, sender, recipients, message, **kw)

    def maildir(self, user: str) -> "Maildir":
        return Maildir(self.mail_dir / DOMAIN / user)

    def wait_delivered(self, user: str, count: int = 1, timeout: float = TIMEOUT) -> list[bytes]:
        """Wait until USER's Maildir holds at least COUNT messages; returns them (oldest first)."""
        md = self.maildir(user)
        wait_for(lambda: len(md.messages()) >= count,
                 f"{count} message(s) in {user}@{DOMAIN}'s Maildir {md.path}",
                 timeout, self.ws.diagnostics)
        return md.messages()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _is_postfix_master(pid: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/exe").endswith("/master")
    except OSError:
        return False


# --------------------------------------------------------------------------
# Maildir


class Maildir:
    def __init__(self, path: Path):
        self.path = path

    def files(self) -> list[Path]:
        out = []
        for sub in ("new", "cur"):
            d = self.path / sub
            if d.is_dir():
                out.extend(p for p in d.iterdir() if p.is_file())
        # Maildir names start with the delivery time in seconds, then a unique part.
        return sorted(out, key=lambda p: (p.stat().st_mtime, p.name))

    def messages(self) -> list[bytes]:
        return [p.read_bytes() for p in self.files()]

    def parsed(self) -> list[email.message.Message]:
        return [email.message_from_bytes(m, policy=email.policy.compat32) for m in self.messages()]


# --------------------------------------------------------------------------
# sending


@dataclass
class SendResult:
    mail_reply: tuple[int, str] | None = None
    rcpt_replies: dict[str, tuple[int, str]] = field(default_factory=dict)
    data_reply: tuple[int, str] | None = None
    # LMTP: one reply per accepted recipient after DATA
    lmtp_replies: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def queue_id(self) -> str:
        """Postfix's queue id from '250 2.0.0 Ok: queued as QID'."""
        text = self.data_reply[1] if self.data_reply else ""
        m = re.search(r"queued as ([0-9A-Za-z]+)", text)
        if not m:
            raise AssertionError(f"no 'queued as' in the DATA reply {self.data_reply}")
        return m.group(1)


def send_mail(port: int, sender: str, recipients: list[str], message: bytes, *,
              host: str = "127.0.0.1", lmtp: bool = False, mail_options: Iterable[str] = (),
              helo: str = "client.example.test", timeout: float = TIMEOUT,
              expect_accept: bool = True) -> SendResult:
    """Send MESSAGE (any line endings; sent as CRLF) and return every reply.

    With expect_accept the DATA reply must be 2xx (and every recipient accepted),
    otherwise the caller inspects the replies itself.
    """
    data = to_crlf(message)
    result = SendResult()
    cls = smtplib.LMTP if lmtp else smtplib.SMTP
    client = cls(host, port, local_hostname=helo, timeout=timeout)
    try:
        code, _ = client.ehlo(helo)
        if code != 250:
            raise AssertionError(f"EHLO/LHLO rejected: {code}")
        code, text = client.mail(sender, list(mail_options))
        result.mail_reply = (code, text.decode(errors="replace"))
        if code != 250:
            if expect_accept:
                raise AssertionError(f"MAIL FROM:<{sender}> rejected: {result.mail_reply}")
            return result
        accepted = []
        for rcpt in recipients:
            code, text = client.rcpt(rcpt)
            result.rcpt_replies[rcpt] = (code, text.decode(errors="replace"))
            if code in (250, 251):
                accepted.append(rcpt)
            elif expect_accept:
                raise AssertionError(f"RCPT TO:<{rcpt}> rejected: {result.rcpt_replies[rcpt]}")
        if not accepted:
            return result
        if lmtp:
            # smtplib.LMTP.data() reads only the first reply; do the LMTP part by hand.
            code, text = client.docmd("DATA")
            if code != 354:
                result.data_reply = (code, text.decode(errors="replace"))
                return result
            client.send(_dot_stuff(data) + b".\r\n")
            for rcpt in accepted:
                code, text = client.getreply()
                result.lmtp_replies[rcpt] = (code, text.decode(errors="replace"))
            result.data_reply = result.lmtp_replies[accepted[0]]
        else:
            code, text = client.data(data)
            result.data_reply = (code, text.decode(errors="replace"))
        if expect_accept and not 200 <= result.data_reply[0] < 300:
            raise AssertionError(f"message refused at end of DATA: {result.data_reply}")
        return result
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _dot_stuff(data: bytes) -> bytes:
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


def swaks(port: int, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Run swaks against 127.0.0.1:PORT; returns the completed process (dialog on stdout)."""
    if not shutil.which("swaks"):
        raise AssertionError("swaks is not installed (Debian package 'swaks')")
    return subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--timeout", str(int(timeout)),
                           *args], capture_output=True, text=True, timeout=timeout + 10)


# --------------------------------------------------------------------------
# messages


def clean_message_from_corpus(name: str = "00001.7c53336b37003a9286aba55d2945844c") -> bytes:
    """A real ham message from the public SpamAssassin corpus (LF line endings)."""
    return corpus_message(f"spamassassin-public/easy_ham/{name}")


def eicar_message(sender: str, recipients: list[str], subject: str = "EICAR test") -> bytes:
    """multipart/mixed with a text part and EICAR as a base64 attachment."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    msg.set_content("The attachment is the EICAR anti-virus test file.\n")
    # Named .txt: the shipped banned rules ban .com names, and these tests
    # are about what the virus scanner finds (test_policy covers banning).
    msg.add_attachment(EICAR, maintype="application", subtype="octet-stream",
                       filename="eicar.txt")   # base64 by default for binary types
    return msg.as_bytes()


def simple_message(sender: str, recipients: list[str], subject: str, body: str = "hello\n") -> bytes:
    from email.utils import formatdate, make_msgid
    return (f"From: {sender}\nTo: {', '.join(recipients)}\nSubject: {subject}\n"
            f"Date: {formatdate()}\nMessage-ID: {make_msgid(domain=DOMAIN)}\n"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n{body}").encode()


# --------------------------------------------------------------------------
# filterd


def filterd_binary() -> Path:
    env = os.environ.get("FILTERD_BIN")
    return Path(env).absolute() if env else REPO_DIR / "build" / "filterd" / "filterd"


def filterctl_binary() -> Path:
    """FILTERCTL_BIN, else the filterctl built beside FILTERD_BIN's filterd."""
    if env := os.environ.get("FILTERCTL_BIN"):
        return Path(env).absolute()
    beside = filterd_binary().parent.parent / "tools" / "filterctl"
    return beside if beside.exists() else REPO_DIR / "build" / "tools" / "filterctl"


def filterd_missing() -> str | None:
    b = filterd_binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        return (f"filterd binary not found or not executable: {b} "
                "(build it first, or set FILTERD_BIN to its path)")
    return None


def _listen_target(spec: str):
    """'smtp:127.0.0.1:10024' -> ('inet', 10024); 'lmtp:unix:/p' -> ('unix', '/p')."""
    proto, rest = spec.split(":", 1)
    if rest.startswith("unix:"):
        return "unix", rest[5:]
    host, port = rest.rsplit(":", 1)
    return "inet", (host, int(port))


def spam_cache_dir() -> str:
    """Where every test keeps compiled spam rules (FILTERD_SPAM_CACHE)."""
    return os.environ.get("FILTERD_SPAM_CACHE", "/var/tmp/filterd-spam-cache")


class _StoppableDaemon:
    """stop()/kill() for a daemon run as self.proc (a ManagedProcess) whose
    output goes to self.output_path, which gets a line saying it stopped."""

    proc: "ManagedProcess | None"
    output_path: Path

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM; returns the exit status (None if it was not running)."""
        if not self.proc:
            return None
        status = self.proc.stop(timeout)
        with open(self.output_path, "ab") as f:
            f.write(f"==== {time.strftime('%H:%M:%S')} stopped, exit status {status}\n".encode())
        return status

    def kill(self) -> None:
        if self.proc:
            self.proc.kill()


class Filterd(_StoppableDaemon):
    """filterd in the foreground; config dict -> WORKSPACE/NAME.conf.

    A list value becomes a repeated key (listen = ... twice).  stderr goes to
    WORKSPACE/NAME.stderr; readiness is every listen address accepting.
    """

    def __init__(self, ws: Workspace, config: dict, name: str = "filterd",
                 binary: Path | None = None, extra_args: Iterable[str] = ()):
        self.ws, self.name = ws, name
        self.binary = Path(binary) if binary else filterd_binary()
        self.config = dict(config)
        self.extra_args = list(extra_args)
        self.conf_path = ws.path / f"{name}.conf"
        self.stderr_path = self.output_path = ws.path / f"{name}.stderr"
        self.proc: ManagedProcess | None = None
        ws.add_log(f"{name} stderr", self.stderr_path)

    def write_config(self) -> None:
        lines = ["# generated by tests/integration/harness.py"]
        sections = []
        config = dict(self.config)
        if self.binary.suffix != ".py":
            # Compiled spam rules are shared by every test (and by the unit
            # tests): a cold compile of the stock rules takes minutes.
            config.setdefault("spam_cache_dir", spam_cache_dir())
        for key, value in config.items():
            if key.startswith("["):          # "[policy_bank NAME]": {option: value}
                sections.append((key, value))
                continue
            for v in (value if isinstance(value, (list, tuple)) else [value]):
                lines.append(f"{key} = {v}")
        for head, options in sections:
            lines.append(head)
            lines.extend(f"{k} = {v}" for k, v in options.items())
        self.conf_path.write_text("\n".join(lines) + "\n")

    @property
    def listens(self) -> list[str]:
        """Every listener in the config, as smtp:/lmtp: specs."""
        def values(key):
            v = self.config.get(key, [])
            return list(v) if isinstance(v, (list, tuple)) else [v]
        milters = ["smtp:" + (m[5:] if m.startswith("inet:") else m)
                   for m in values("milter_listen")]
        return values("listen") + values("proxy_listen") + milters

    def start(self, timeout: float = TIMEOUT) -> "Filterd":
        if self.proc and self.proc.alive():
            raise AssertionError(f"{self.name} is already running")
        self.write_config()
        argv = [str(self.binary), "--config", str(self.conf_path), *self.extra_args]
        if self.binary.suffix == ".py":
            argv.insert(0, sys.executable)
        with open(self.stderr_path, "ab") as f:
            f.write(f"==== {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        self.proc = ManagedProcess(self.name, argv, self.stderr_path, cwd=self.ws.path)

        def ready():
            if not self.proc.alive():
                raise AssertionError(f"{self.name} exited with status {self.proc.proc.returncode} "
                                     f"during start-up\n" + self.ws.diagnostics())
            for spec in self.listens:
                kind, where = _listen_target(spec)
                ok = port_accepts(where[1], where[0]) if kind == "inet" else unix_socket_accepts(where)
                if not ok:
                    return False
            return True
        wait_for(ready, f"{self.name} to listen on {', '.join(self.listens)}", timeout,
                 self.ws.diagnostics)
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""


# --------------------------------------------------------------------------
# frontd


def frontd_binary() -> Path:
    """FRONTD_BIN, else the frontd built beside FILTERD_BIN's filterd."""
    if env := os.environ.get("FRONTD_BIN"):
        return Path(env).absolute()
    beside = filterd_binary().parent.parent / "frontd" / "frontd"
    return beside if beside.exists() else REPO_DIR / "build" / "frontd" / "frontd"


def frontd_missing() -> str | None:
    b = frontd_binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        return (f"frontd binary not found or not executable: {b} "
                "(build it first, or set FRONTD_BIN to its path)")
    return None


class Frontd(_StoppableDaemon):
    """frontd in the foreground with its queue, maps and Maildirs in WORKSPACE/NAME.

    `config` overrides the generated defaults (see settings()); every
    listener binds 127.0.0.1 on a free port.  The log is WORKSPACE/NAME.log.
    """

    def __init__(self, ws: Workspace, config: dict | None = None, name: str = "frontd",
                 users: Iterable[str] = DEFAULT_USERS, binary: Path | None = None):
        self.ws, self.name = ws, name
        self.binary = Path(binary) if binary else frontd_binary()
        self.root = ws.sub(name)
        self.smtp_port = free_port()
        self.reinject_port = free_port()
        self.mail_dir = self.root / "mail"
        self.queue_dir = self.root / "queue"
        self.vmailbox = self.root / "vmailbox"
        self.conf_path = self.root / "frontd.conf"
        self.log_path = self.output_path = ws.path / f"{name}.log"
        self.users = tuple(users)
        self.config = self.settings()
        self.config.update(config or {})
        self.proc: ManagedProcess | None = None
        ws.add_log(f"{name} log", self.log_path)

    def settings(self) -> dict:
        return {
            "myhostname": POSTFIX_HOSTNAME,
            "smtp_listen": f"127.0.0.1:{self.smtp_port}",
            "reinjection_listen": f"127.0.0.1:{self.reinject_port}",
            "virtual_mailbox_domains": DOMAIN,
            "virtual_mailbox_maps": f"texthash:{self.vmailbox}",
            "virtual_mailbox_base": str(self.mail_dir),
            "queue_directory": str(self.queue_dir),
            # Short timers so that retry tests finish in seconds.
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
            "smtp_connect_timeout": "5s",
        }

    def write_config(self) -> None:
        # The map is written once: a test may edit it between restarts.
        if not self.vmailbox.exists():
            self.vmailbox.write_text("".join(f"{u}@{DOMAIN} {DOMAIN}/{u}/\n" for u in self.users))
        lines = ["# generated by tests/integration/harness.py"]
        lines += [f"{k} = {v}" for k, v in self.config.items()]
        self.conf_path.write_text("\n".join(lines) + "\n")

    def listen_ports(self) -> list[int]:
        out = []
        for key in ("smtp_listen", "reinjection_listen", "submission_listen", "smtps_listen"):
            for spec in str(self.config.get(key, "")).replace(",", " ").split():
                out.append(int(spec.rsplit(":", 1)[1]))
        return out

    def start(self, timeout: float = TIMEOUT) -> "Frontd":
        if self.proc and self.proc.alive():
            raise AssertionError(f"{self.name} is already running")
        self.write_config()
        argv = [str(self.binary), "--config", str(self.conf_path)]
        with open(self.log_path, "ab") as f:
            f.write(f"==== {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        self.proc = ManagedProcess(self.name, argv, self.log_path, cwd=self.ws.path)

        def ready():
            if not self.proc.alive():
                raise AssertionError(f"{self.name} exited with status {self.proc.proc.returncode} "
                                     f"during start-up\n" + self.ws.diagnostics())
            return all(port_accepts(p) for p in self.listen_ports())
        wait_for(ready, f"{self.name} to listen", timeout, self.ws.diagnostics)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, pattern: str, timeout: float = TIMEOUT) -> re.Match:
        rx = re.compile(pattern, re.M)
        return wait_for(lambda: rx.search(self.log()), f"{self.name} log line /{pattern}/",
                        timeout, self.ws.diagnostics)

    def maildir(self, user: str) -> Maildir:
        return Maildir(self.mail_dir / DOMAIN / user)

    def wait_delivered(self, user: str, count: int = 1, timeout: float = TIMEOUT) -> list[bytes]:
        md = self.maildir(user)
        wait_for(lambda: len(md.files()) >= count, f"{count} message(s) in {user}'s Maildir",
                 timeout, self.ws.diagnostics)
        return md.messages()

    def queued(self) -> list[str]:
        d = self.queue_dir / "queue"
        return sorted(p.name for p in d.iterdir() if ".tmp." not in p.name) if d.is_dir() else []

    def __repr__(self):
        return f"<Frontd {self.root}>"


def make_tls_pair(directory: Path, cn: str = POSTFIX_HOSTNAME) -> tuple[Path, Path]:
    """A self-signed certificate and its key (openssl req), for frontd's TLS listeners."""
    if not shutil.which("openssl"):
        raise AssertionError("openssl is not installed (Debian package 'openssl')")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={cn}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


# --------------------------------------------------------------------------
# Dovecot (its auth service only, as Postfix's smtpd_sasl_type = dovecot uses it)


def dovecot_missing() -> str | None:
    if not shutil.which("dovecot") or not shutil.which("doveadm"):
        return "dovecot is not installed (Debian package 'dovecot-core')"
    try:
        pwd.getpwnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        return "users dovecot/dovenull missing: install the Debian package 'dovecot-core'"
    return None


class Dovecot:
    """dovecot -F with a private config in WORKSPACE/dovecot: no mail protocols,
    a passwd-file passdb (SHA512-CRYPT), and the auth service's client listener
    both as a unix socket (self.unix_socket) and on 127.0.0.1:self.inet_port."""

    def __init__(self, ws: Workspace, users: dict[str, str], mail_location: str = ""):
        self.ws = ws
        self.mail_location = mail_location   # e.g. maildir:/base/%d/%n (for doveadm)
        self.root = ws.sub("dovecot")
        self.unix_socket = self.root / "auth-client"
        self.inet_port = free_port()
        self.conf = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.users = dict(users)
        self.proc: ManagedProcess | None = None
        ws.add_log("dovecot log", self.log_path)

    def write_config(self) -> None:
        lines = []
        for user, password in self.users.items():
            hashed = subprocess.run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password],
                                    check=True, capture_output=True, text=True).stdout.strip()
            lines.append(f"{user}:{hashed}::::::\n")
        (self.root / "passwd").write_text("".join(lines))
        (self.root / "passwd").chmod(0o644)
        for d in ("run", "state"):
            (self.root / d).mkdir(exist_ok=True)
        self.conf.write_text(f"""# generated by tests/integration/harness.py
protocols =
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log_path}
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = {self.mail_location}
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={self.root}/home
}}
service auth {{
  unix_listener {self.unix_socket} {{
    mode = 0666
  }}
  inet_listener {{
    address = 127.0.0.1
    port = {self.inet_port}
  }}
}}
""")

    def start(self, timeout: float = TIMEOUT) -> "Dovecot":
        self.write_config()
        self.proc = ManagedProcess("dovecot", ["dovecot", "-F", "-c", str(self.conf)],
                                   self.root / "dovecot.stdout")
        self.ws.add_log("dovecot stdout", self.root / "dovecot.stdout")

        def ready():
            if not self.proc.alive():
                raise AssertionError("dovecot exited during start-up\n" + self.ws.diagnostics())
            return unix_socket_accepts(self.unix_socket) and port_accepts(self.inet_port)
        wait_for(ready, "dovecot's auth listeners", timeout, self.ws.diagnostics)
        return self

    def doveadm(self, *args: str) -> subprocess.CompletedProcess:
        """doveadm with this instance's config (reads mailboxes directly, as the user)."""
        if not self.conf.exists():
            self.write_config()
        return subprocess.run(["doveadm", "-c", str(self.conf), *args], capture_output=True,
                              text=True, timeout=TIMEOUT)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def kill(self) -> None:
        if self.proc:
            self.proc.kill()


# --------------------------------------------------------------------------
# clamd


class Clamd:
    """clamd in the foreground with WORKSPACE/clamd/clamd.conf and the EICAR test db."""

    def __init__(self, ws: Workspace, db_dir: Path | None = None):
        self.ws = ws
        self.dir = ws.sub("clamd")
        self.db_dir = db_dir or ws.sub("clamd/db")
        if not any(self.db_dir.glob("*.ndb")):
            write_test_signatures(self.db_dir)
        self.socket_path = self.dir / "clamd.sock"
        self.port = free_port()
        self.conf_path = self.dir / "clamd.conf"
        self.log_path = self.dir / "clamd.log"
        self.proc: ManagedProcess | None = None
        ws.add_log("clamd output", self.log_path)

    @staticmethod
    def missing() -> str | None:
        if not shutil.which("clamd"):
            return "clamd is not installed (Debian package 'clamav-daemon')"
        return None

    def write_config(self) -> None:
        self.conf_path.write_text("\n".join([
            "# generated by tests/integration/harness.py",
            "Foreground yes",
            f"LocalSocket {self.socket_path}",
            "LocalSocketMode 666",
            f"TCPSocket {self.port}",
            "TCPAddr 127.0.0.1",
            f"DatabaseDirectory {self.db_dir}",
            f"PidFile {self.dir / 'clamd.pid'}",
            f"TemporaryDirectory {self.dir}",
            "LogSyslog no",
            "LogTime yes",
            "LogVerbose no",
            "ScanMail yes",
            "MaxThreads 2",
            "SelfCheck 3600",
            "",
        ]))

    @property
    def unix_address(self) -> str:
        return f"unix:{self.socket_path}"

    @property
    def inet_address(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "Clamd":
        self.write_config()
        self.proc = ManagedProcess("clamd", ["clamd", "-c", str(self.conf_path)], self.log_path)

        def ready():
            if not self.proc.alive():
                raise AssertionError("clamd exited during start-up\n" + self.ws.diagnostics())
            return self.ping() and self.ping(inet=True)
        wait_for(ready, "clamd to answer zPING with PONG (unix and inet)", timeout,
                 self.ws.diagnostics)
        return self

    def ping(self, inet: bool = False) -> bool:
        try:
            return self.command(b"zPING\0", inet) == b"PONG\0"
        except OSError:
            return False

    def command(self, cmd: bytes, inet: bool = False) -> bytes:
        if inet:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with s:
            if not inet:
                s.settimeout(5)
                s.connect(str(self.socket_path))
            s.sendall(cmd)
            data = b""
            while not data.endswith(b"\0"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def kill(self) -> None:
        if self.proc:
            self.proc.kill()


# --------------------------------------------------------------------------
# a small SMTP/LMTP server: the sink for direct tests and the stand-in filter


@dataclass
class Envelope:
    mail_from: str
    rcpt_to: list[str]
    data: bytes                 # CRLF, dot-unstuffed, without the final "."
    helo: str = ""
    xforward: dict = field(default_factory=dict)
    mail_params: list[str] = field(default_factory=list)


LINE_LIMIT = 4096                     # longer than RFC 5321's 1000 on purpose; tests only
MESSAGE_LIMIT = 64 * 1024 * 1024


class SmtpServer:
    """Threaded SMTP (or LMTP) server.

    handler(envelope) returns one reply line ("250 2.0.0 Ok") for SMTP, or a list
    with one reply per recipient for LMTP.  The server advertises PIPELINING,
    8BITMIME, ENHANCEDSTATUSCODES, XFORWARD; no CHUNKING.
    """

    def __init__(self, handler: Callable[[Envelope], object], lmtp: bool = False,
                 hostname: str = "sink.example.test"):
        self.handler, self.lmtp, self.hostname = handler, lmtp, hostname
        self.socks: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        self.conns: set[socket.socket] = set()
        self.lock = threading.Lock()

    def listen_inet(self, port: int, host: str = "127.0.0.1") -> "SmtpServer":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        return self._listen(s)

    def listen_unix(self, path: str | Path, mode: int = 0o666) -> "SmtpServer":
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(path))
        os.chmod(path, mode)
        return self._listen(s)

    def _listen(self, s: socket.socket) -> "SmtpServer":
        s.listen(16)
        self.socks.append(s)
        t = threading.Thread(target=self._accept_loop, args=(s,), daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def _accept_loop(self, s: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = s.accept()
            except OSError:
                return
            with self.lock:
                self.conns.add(conn)
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.stopping.set()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        with self.lock:
            for c in list(self.conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    kill = close

    def _session(self, conn: socket.socket) -> None:
        f = conn.makefile("rb")
        out = conn.makefile("wb")

        def reply(*lines: str):
            out.write("".join(f"{line}\r\n" for line in lines).encode())
            out.flush()

        def readline() -> bytes | None:
            line = f.readline(LINE_LIMIT + 1)
            if not line:
                return None
            return line.rstrip(b"\r\n")

        try:
            reply(f"220 {self.hostname} {'LMTP' if self.lmtp else 'ESMTP'} test server")
            helo, mail_from, rcpts, params, xforward = "", None, [], [], {}
            while True:
                line = readline()
                if line is None:
                    return
                cmd = line.decode("utf-8", "replace")
                verb = cmd.split(" ", 1)[0].upper()
                arg = cmd[len(verb):].strip()
                if verb in ("EHLO", "LHLO") or (verb == "HELO" and not self.lmtp):
                    helo, mail_from, rcpts = arg, None, []
                    if verb == "HELO":
                        reply(f"250 {self.hostname}")
                    else:
                        reply(f"250-{self.hostname}", "250-PIPELINING", "250-8BITMIME",
                              "250-SIZE 67108864", "250-ENHANCEDSTATUSCODES",
                              "250 XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
                elif verb == "XFORWARD":
                    for item in arg.split():
                        k, _, v = item.partition("=")
                        xforward[k.upper()] = v
                    reply("250 2.0.0 Ok")
                elif verb == "MAIL":
                    m = re.match(r"(?i)FROM:\s*<([^>]*)>\s*(.*)$", arg)
                    if not m:
                        reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                        continue
                    mail_from, params, rcpts = m.group(1), m.group(2).split(), []
                    reply("250 2.1.0 Ok")
                elif verb == "RCPT":
                    m = re.match(r"(?i)TO:\s*<([^>]*)>", arg)
                    if mail_from is None:
                        reply("503 5.5.1 Error: need MAIL command")
                    elif not m:
                        reply("501 5.5.4 Syntax: RCPT TO:<address>")
                    else:
                        rcpts.append(m.group(1))
                        reply("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        reply("503 5.5.1 Error: need RCPT command")
                        continue
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    chunks, size = [], 0
                    while True:
                        raw = f.readline(LINE_LIMIT + 2)
                        if not raw:
                            return
                        if raw in (b".\r\n", b".\n"):
                            break
                        if raw.startswith(b"."):
                            raw = raw[1:]
                        size += len(raw)
                        if size <= MESSAGE_LIMIT:
                            chunks.append(raw)
                    env = Envelope(mail_from, rcpts, b"".join(chunks), helo, dict(xforward), params)
                    try:
                        result = self.handler(env)
                    except Exception as e:   # the handler's bug must not look like a 250
                        result = f"451 4.3.0 test server handler failed: {e}"
                    if self.lmtp:
                        results = result if isinstance(result, list) else [result] * len(rcpts)
                        reply(*results)
                    else:
                        reply(result if isinstance(result, str) else result[0])
                    mail_from, rcpts, xforward = None, [], {}
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    reply("250 2.0.0 Ok")
                elif verb == "NOOP":
                    reply("250 2.0.0 Ok")
                elif verb == "QUIT":
                    reply("221 2.0.0 Bye")
                    return
                else:
                    reply("502 5.5.2 Error: command not recognized")
        except OSError:
            return
        finally:
            with self.lock:
                self.conns.discard(conn)
            for x in (f, out, conn):
                try:
                    x.close()
                except OSError:
                    pass


class SmtpSink:
    """An SMTP/LMTP server that records every message it accepts.

    reply: the reply to end of DATA (change it to simulate a failing next hop).
    """

    def __init__(self, port: int | None = None, lmtp: bool = False,
                 reply: str = "250 2.0.0 Ok: queued as SINK"):
        self.port = port or free_port()
        self.reply = reply
        self.messages: list[Envelope] = []
        self.cond = threading.Condition()
        self.server = SmtpServer(self._handle, lmtp=lmtp).listen_inet(self.port)
        _register(self)

    def _handle(self, env: Envelope):
        reply = self.reply
        if reply.startswith("2"):
            with self.cond:
                self.messages.append(env)
                self.cond.notify_all()
        return reply

    def wait_messages(self, count: int = 1, timeout: float = TIMEOUT) -> list[Envelope]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"sink on port {self.port}: {len(self.messages)} "
                                         f"message(s) after {timeout}s, wanted {count}")
                self.cond.wait(left)
            return list(self.messages)

    def close(self) -> None:
        self.server.close()
        _unregister(self)

    kill = close


# --------------------------------------------------------------------------
# a recording TCP proxy


class TcpTap:
    """Transparent TCP proxy 127.0.0.1:port -> 127.0.0.1:target that records
    what clients sent, per connection.  messages() extracts the DATA/BDAT
    contents (dot-unstuffed, CRLF) from the recorded client streams."""

    def __init__(self, target_port: int, port: int | None = None):
        self.port = port or free_port()
        self.target_port = target_port
        self.streams: list[bytearray] = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        _register(self)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            rec = bytearray()
            with self.lock:
                self.streams.append(rec)
                self.open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, rec), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, rec: bytearray | None) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if rec is not None:
                    with self.lock:
                        rec.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (dst,):
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def messages(self) -> list[bytes]:
        with self.lock:
            streams = [bytes(s) for s in self.streams]
        out = []
        for s in streams:
            out.extend(extract_smtp_messages(s))
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for s in self.open:
                try:
                    s.close()
                except OSError:
                    pass
        _unregister(self)

    kill = close


def extract_smtp_messages(stream: bytes) -> list[bytes]:
    """Message contents from a recorded SMTP client stream (DATA or BDAT)."""
    out, pos, bdat = [], 0, bytearray()
    while pos < len(stream):
        eol = stream.find(b"\r\n", pos)
        if eol < 0:
            break
        line = stream[pos:eol]
        pos = eol + 2
        upper = line.upper()
        if upper == b"DATA":
            end = stream.find(b"\r\n.\r\n", pos - 2)
            if end < 0:
                break
            body = stream[pos:end + 2] if end >= pos else b""
            out.append(_unstuff(body))
            pos = end + 5
        elif upper.startswith(b"BDAT "):
            parts = line.split()
            size = int(parts[1])
            bdat += stream[pos:pos + size]
            pos += size
            if len(parts) > 2 and parts[2].upper() == b"LAST":
                out.append(bytes(bdat))
                bdat = bytearray()
    return out


def _unstuff(body: bytes) -> bytes:
    lines = body.split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines)


# --------------------------------------------------------------------------
# unittest base class


class IntegrationTestCase(unittest.TestCase):
    """Per-test workspace; processes are stopped even on failure; on failure
    the workspace is kept and the tails of all logs are printed."""

    maxDiff = None

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        install_sigterm_handler()
        self.ws = Workspace(self.id())
        try:
            return super().run(result)
        finally:
            self.doCleanups()         # no-op normally; runs them after KeyboardInterrupt
            failed = len(result.failures) + len(result.errors) > before
            if failed:
                print("\n" + self.ws.diagnostics(60), file=sys.stderr)
            self.ws.finish(failed)

    # helpers that register their own cleanup

    def start_postfix(self, **kw) -> Postfix:
        pf = Postfix(self.ws, **kw)
        self.addCleanup(pf.stop)
        pf.start()
        return pf

    def start_filterd(self, config: dict, **kw) -> Filterd:
        fd = Filterd(self.ws, config, **kw)
        self.addCleanup(fd.stop)
        fd.start()
        return fd

    def start_clamd(self) -> Clamd:
        cd = Clamd(self.ws)
        self.addCleanup(cd.stop)
        cd.start()
        return cd

    def sink(self, **kw) -> SmtpSink:
        s = SmtpSink(**kw)
        self.addCleanup(s.close)
        return s

    def start_frontd(self, config: dict | None = None, **kw) -> Frontd:
        fr = Frontd(self.ws, config, **kw)
        self.addCleanup(fr.stop)
        fr.start()
        return fr

    def start_filter_chain(self, transport="smtp", extra=None, sections=None, bank_port=None,
                           main_cf=None) -> tuple[Postfix, Filterd]:
        """Postfix (content_filter on a free port) -> filterd (generated
        signatures, local_domains = DOMAIN) -> Postfix's reinjection smtpd.
        `extra` adds or overrides filterd options, `sections` policy banks
        ("[policy_bank NAME]": {...}); with `bank_port`, a second Postfix
        submission service filters through that filterd port too.
        self.filterd_port is filterd's content_filter port."""
        self.filterd_port = free_port()
        pf = self.start_postfix(filter_port=self.filterd_port, filter_transport=transport,
                                submission_filter_port=bank_port, main_cf=main_cf)
        listen = [f"{transport}:127.0.0.1:{self.filterd_port}"]
        if bank_port:
            listen.append(f"smtp:127.0.0.1:{bank_port}")
        config = {"listen": listen, **self.filterd_base_config(pf)}
        config.update(extra or {})
        config.update(sections or {})
        return pf, self.start_filterd(config)

    def start_proxy_chain(self, extra=None, sections=None, main_cf=None,
                          bank=None) -> tuple[Postfix, Filterd]:
        """Postfix with smtpd_proxy_filter = filterd's proxy listener, whose
        downstream is Postfix's reinjection smtpd (no content_filter).
        `main_cf` adds Postfix settings (smtpd_proxy_options = speed_adjust);
        `bank` names a policy bank bound to the proxy port.
        self.filterd_port is the proxy port."""
        self.filterd_port = free_port()
        pf = self.start_postfix(main_cf={"smtpd_proxy_filter": f"127.0.0.1:{self.filterd_port}",
                                         **(main_cf or {})})
        config = {"proxy_listen": f"smtp:127.0.0.1:{self.filterd_port}",
                  "proxy_forward": f"smtp:127.0.0.1:{pf.reinject_port}",
                  **self.filterd_base_config(pf), "spam_checks": "no"}
        if bank:
            config["policy_bank_by_port"] = f"{self.filterd_port}:{bank}"
        config.update(extra or {})
        config.update(sections or {})
        return pf, self.start_filterd(config)

    def filterd_base_config(self, pf: Postfix) -> dict:
        """What every filter chain's filterd has: generated signatures, the
        reinjection smtpd as next hop, local_domains = DOMAIN."""
        return {
            "forward": f"smtp:127.0.0.1:{pf.reinject_port}",
            "clamav_backend": "libclamav",
            "clamav_db": str(self.make_signatures()),
            "state_dir": str(self.ws.sub("filterd-state")),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
            "local_domains": DOMAIN,
        }

    def make_signatures(self) -> Path:
        d = self.ws.sub("sigs")
        write_test_signatures(d)
        return d


def require(*problems: str | None) -> None:
    """For setUpModule: FAIL (never skip) when a prerequisite is missing."""
    reap_stale_workspaces()
    msgs = [p for p in problems if p]
    if msgs:
        raise AssertionError("integration test prerequisites missing:\n  " + "\n  ".join(msgs))
