"""filterd and filterctl as an admin runs them: signals, reloads, privileges, limits.

What it covers: the daemon's life cycle and operator-facing behaviour, end to
end through real sockets, with a Python SMTP sink (harness.SmtpSink) as the
next hop and the in-process libclamav engine on a generated signature
directory.  No Postfix or clamd is needed.

  - signature reload on SIGHUP while mail keeps flowing (nothing lost or
    tempfailed), on a changed database directory without a signal, and a
    broken database on reload keeping the old engine;
  - `user =` privilege drop (and a clear start-up failure for an unknown user);
  - --check-config (file:line diagnostics) and --print-config (like postconf -n);
  - graceful stop on SIGTERM;
  - max_connections (421 4.3.2) and smtp_timeout (421 4.4.2);
  - SMTP smuggling through the real daemon (`\\n.\\n` never ends DATA);
  - `filterctl scan` output and exit codes, ClamAV's own container unpacking;
  - the one summary log line per message, without the body.

Diagnostics: a failing test keeps its workspace and prints filterd's logs
(see harness.IntegrationTestCase).  Every wait is bounded.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_daemon.py
(as root; filterctl is found next to FILTERD_BIN as ../tools/filterctl, or
set FILTERCTL_BIN).
"""

import hashlib
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import uuid
from email.utils import formatdate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import filterd_log  # noqa: E402  (the bench's reader of the stage times)
from harness import DOMAIN, EICAR, EICAR_SIGNATURE_NAME, FILTERD_HOSTNAME, free_port  # noqa: E402

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
CLAMAV_TESTFILES = Path("/usr/share/clamav-testfiles")
# Containers that libclamav unpacks and that the test requires to be found.
REQUIRED_CONTAINERS = ("clam.zip", "clam.tar.gz", "clam.7z", "clam.cab")

# How long a rebuilt binary may be missing (the lead may relink at any moment).
BINARY_GRACE = 60.0
# A reload of the tiny test database takes well under a second.
RELOAD_TIMEOUT = 15.0


filterctl_binary = h.filterctl_binary


def wait_for_binary(path: Path) -> Path:
    """The binary, waiting (bounded) while a rebuild has it briefly missing."""
    h.wait_for(lambda: path.is_file() and os.access(path, os.X_OK),
               f"executable {path} (build it, or set FILTERD_BIN / FILTERCTL_BIN)",
               timeout=BINARY_GRACE)
    return path


def setUpModule():
    missing = []
    for path in (h.filterd_binary(), filterctl_binary()):
        try:
            wait_for_binary(path)
        except AssertionError as e:
            missing.append(str(e))
    if os.geteuid() != 0:
        missing.append("these tests must run as root (privilege drop to 'nobody')")
    h.require(*missing)


def write_dummy_signatures(directory: Path) -> Path:
    """A database without EICAR: one .ndb signature for a string no test sends."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "filterd-dummy.ndb"
    pattern = b"filterd integration test: a string that appears in no message 7f3a9c"
    path.write_text(f"Filterd-Dummy-Signature:0:*:{pattern.hex()}\n")
    path.chmod(0o644)
    return path


def write_bulk_signatures(directory: Path, count: int = 200_000) -> Path:
    """COUNT random .ndb signatures, so that a reload takes a few tenths of a
    second and mail demonstrably flows while it runs."""
    rnd = os.urandom(16 * count).hex()
    path = directory / "filterd-bulk.ndb"
    path.write_text("".join(f"Filterd-Bulk-{i}:0:*:{rnd[32 * i:32 * i + 32]}\n" for i in range(count)))
    path.chmod(0o644)
    return path


def eicar_reply_ok(testcase: unittest.TestCase, result: h.SendResult, what: str) -> None:
    code, text = result.data_reply or result.mail_reply or (None, "")
    testcase.assertEqual(code, 554, f"{what}: EICAR should be rejected, filterd answered {code} {text}")
    testcase.assertTrue(text.startswith("5.7.0"), f"{what}: enhanced status must be 5.7.0: {text}")
    testcase.assertIn(EICAR_SIGNATURE_NAME, text, f"{what}: the reply should name the virus: {text}")


class RawSmtp:
    """A byte-level SMTP client for what smtplib will not send."""

    def __init__(self, port: int, timeout: float = 10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.seen = b""

    def line(self) -> bytes:
        data = self.file.readline(4096)
        self.seen += data
        return data

    def reply(self) -> list[str]:
        """One (possibly multi-line) reply; fails on EOF."""
        lines = []
        while True:
            raw = self.line()
            if not raw:
                raise AssertionError(f"connection closed while waiting for a reply; got so far: {self.seen!r}")
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return lines

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, line: str) -> list[str]:
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def read_until_eof(self, timeout: float) -> tuple[bytes, bool]:
        """Everything until the server closes; (data, closed) after at most timeout."""
        deadline = time.monotonic() + timeout
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return data, False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                return data, False
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, True
            data += chunk

    def close(self) -> None:
        for x in (self.file, self.sock):
            try:
                x.close()
            except OSError:
                pass


class DaemonTestCase(h.IntegrationTestCase):
    """filterd on the libclamav backend with a Python sink as the next hop."""

    def start(self, db: Path, **overrides) -> h.Filterd:
        self.sink_ = getattr(self, "sink_", None) or self.sink()
        self.port = free_port()
        config = {
            "listen": f"smtp:127.0.0.1:{self.port}",
            "forward": f"smtp:127.0.0.1:{self.sink_.port}",
            "clamav_backend": "libclamav",
            "clamav_db": str(db),
            "clamav_db_check_interval": 0,
            "final_virus_destiny": "D_REJECT",
            "state_dir": str(self.ws.sub("filterd-state")),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
        }
        config.update(overrides)
        wait_for_binary(h.filterd_binary())
        self.fd = self.start_filterd(config)
        log = config["log"]
        self.log_path = Path(log[5:]) if log.startswith("file:") else self.fd.stderr_path
        if log.startswith("file:"):
            self.ws.add_log("filterd log", self.log_path)
        return self.fd

    def log_bytes(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def wait_log(self, needle: str, after: int = 0, timeout: float = RELOAD_TIMEOUT) -> None:
        h.wait_for(lambda: needle.encode() in self.log_bytes()[after:],
                   f"'{needle}' in filterd's log", timeout, self.ws.diagnostics)

    def send(self, message: bytes, **kw) -> h.SendResult:
        return h.send_mail(self.port, ALICE, [BOB], message, expect_accept=False, **kw)

    def send_eicar(self, subject: str = "EICAR test") -> h.SendResult:
        return self.send(h.eicar_message(ALICE, [BOB], subject))

    def eicar_db(self) -> Path:
        return self.make_signatures()

    def dummy_db(self) -> Path:
        d = self.ws.sub("sigs")
        write_dummy_signatures(d)
        return d

    def sighup(self) -> None:
        self.fd.proc.proc.send_signal(signal.SIGHUP)

    def subjects_in_sink(self) -> list[str]:
        out = []
        for env in self.sink_.messages:
            m = re.search(rb"(?mi)^Subject: (.*?)\r?$", env.data)
            out.append(m.group(1).decode() if m else "")
        return out


# --------------------------------------------------------------------------


class SignatureReloadTest(DaemonTestCase):

    def test_sighup_loads_new_signatures_while_clean_mail_keeps_flowing(self):
        db = self.dummy_db()
        write_bulk_signatures(db)
        # Two workers (not one per core) so that one can scan while the other reloads.
        self.start(db, workers=2)
        r = self.send_eicar("EICAR before reload")
        self.assertEqual(r.data_reply[0], 250,
                         f"without the EICAR signature the mail must pass: {r.data_reply}")
        self.sink_.wait_messages(1)

        # Clean mail from a second client, one connection per message, all along.
        stop = threading.Event()
        replies: list[tuple[str, tuple]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def keep_sending():
            n = 0
            while not stop.is_set():
                n += 1
                subject = f"background {n}"
                try:
                    res = self.send(h.simple_message(ALICE, [BOB], subject), timeout=20)
                    with lock:
                        replies.append((subject, res.data_reply or res.mail_reply))
                except Exception as e:   # reported by the main thread
                    with lock:
                        errors.append(f"{subject}: {e!r}")
                    return

        def sent() -> int:
            with lock:
                return len(replies) + len(errors)

        sender = threading.Thread(target=keep_sending, daemon=True)
        sender.start()
        try:
            h.wait_for(lambda: sent() >= 3, "3 clean mails before SIGHUP", 20, self.ws.diagnostics)
            h.write_test_signatures(db)
            before = len(self.log_bytes())
            self.sighup()
            self.wait_log("reloading virus signatures (SIGHUP)", before)
            self.wait_log("signatures reloaded", before)
            at_reload = sent()
            r = self.send_eicar("EICAR after reload")
            eicar_reply_ok(self, r, "after SIGHUP with the EICAR signature added")
            h.wait_for(lambda: sent() >= at_reload + 3, "3 more clean mails after the reload", 20,
                       self.ws.diagnostics)
        finally:
            stop.set()
            sender.join(30)
        self.assertFalse(sender.is_alive(), "background sender hung (an SMTP dialog never ended)")
        self.assertEqual(errors, [], "clean mail failed during the reload")
        bad = [(s, rep) for s, rep in replies if rep is None or rep[0] != 250]
        self.assertEqual(bad, [], "every clean mail during the reload must get 250")
        wanted = {s for s, _ in replies} | {"EICAR before reload"}
        self.sink_.wait_messages(len(wanted))
        time.sleep(0.2)   # anything extra (a duplicate, the rejected EICAR) would show up now
        got = self.subjects_in_sink()
        self.assertEqual(sorted(got), sorted(wanted),
                         "the sink must hold each accepted mail exactly once, and not the rejected one")
        log = self.log_bytes().decode(errors="replace")
        self.assertNotIn("signature reload failed", log)
        during = log.split("reloading virus signatures (SIGHUP)", 1)[1].split("signatures reloaded", 1)[0]
        self.assertIn("Passed CLEAN", during,
                      "no clean mail was passed while the reload ran: does a reload stall scanning?")

    def test_changed_database_directory_is_reloaded_without_a_signal(self):
        db = self.dummy_db()
        self.start(db, clamav_db_check_interval=1)
        r = self.send_eicar("EICAR before the db changed")
        self.assertEqual(r.data_reply[0], 250, f"no EICAR signature yet: {r.data_reply}")
        h.write_test_signatures(db)
        added = time.monotonic()
        deadline = added + 10
        while True:
            r = self.send_eicar("EICAR while waiting for the poll")
            if r.data_reply and r.data_reply[0] == 554:
                break
            self.assertEqual(r.data_reply[0], 250, f"before the reload EICAR should pass: {r.data_reply}")
            if time.monotonic() > deadline:
                self.fail("EICAR still accepted 10 s after its signature was added to clamav_db "
                          "with clamav_db_check_interval = 1\n" + self.ws.diagnostics())
            time.sleep(0.5)
        eicar_reply_ok(self, r, "after the db directory changed")
        self.assertIn(b"reloading virus signatures (database changed)", self.log_bytes())

    def test_broken_database_on_reload_keeps_the_old_engine(self):
        db = self.eicar_db()
        self.start(db)
        eicar_reply_ok(self, self.send_eicar(), "with the EICAR db")
        (db / "filterd-test.ndb").write_bytes(b"this is not a ClamAV signature\n\x00\xff garbage\n")
        before = len(self.log_bytes())
        self.sighup()
        self.wait_log("signature reload failed", before)
        self.assertTrue(self.fd.proc.alive(), "filterd died on a broken database")
        eicar_reply_ok(self, self.send_eicar("EICAR after a failed reload"),
                       "after a failed reload (old engine must stay)")
        r = self.send(h.simple_message(ALICE, [BOB], "clean after a failed reload"))
        self.assertEqual(r.data_reply[0], 250, f"clean mail after a failed reload: {r.data_reply}")


class PrivilegeTest(DaemonTestCase):

    def test_user_nobody_drops_every_uid_and_gid_and_mail_still_flows(self):
        nobody = pwd.getpwnam("nobody")
        state = self.ws.sub("state-nobody")
        self.start(self.eicar_db(), user="nobody", state_dir=str(state))
        # The accept loop runs only after the drop, so a delivered mail proves it happened.
        r = self.send(h.simple_message(ALICE, [BOB], "as nobody"))
        self.assertEqual(r.data_reply[0], 250, f"clean mail as nobody: {r.data_reply}")
        self.sink_.wait_messages(1)
        eicar_reply_ok(self, self.send_eicar(), "as nobody")

        status = Path(f"/proc/{self.fd.proc.proc.pid}/status").read_text()
        fields = {k: v.split() for k, _, v in (l.partition(":") for l in status.splitlines())}
        want_uid, want_gid = str(nobody.pw_uid), str(nobody.pw_gid)
        self.assertEqual(fields["Uid"], [want_uid] * 4, f"real, effective, saved, fs uid:\n{status}")
        self.assertEqual(fields["Gid"], [want_gid] * 4, f"real, effective, saved, fs gid:\n{status}")
        self.assertNotIn("0", fields.get("Groups", []), f"supplementary groups keep root:\n{status}")
        self.assertEqual(state.stat().st_uid, nobody.pw_uid, "state_dir should belong to the user")

    def test_unknown_user_is_a_clear_start_up_error(self):
        port = free_port()
        conf = self.ws.path / "nouser.conf"
        conf.write_text(f"listen = smtp:127.0.0.1:{port}\n"
                        f"clamav_db = {self.eicar_db()}\n"
                        f"state_dir = {self.ws.sub('state-nouser')}\n"
                        "user = no-such-user-xyz\n")
        binary = wait_for_binary(h.filterd_binary())
        try:
            r = subprocess.run([str(binary), "--config", str(conf)], capture_output=True,
                               text=True, timeout=20, cwd=self.ws.path)
        except subprocess.TimeoutExpired:
            self.fail("filterd with an unknown user kept running (should exit at start-up)")
        out = r.stdout + r.stderr
        self.assertNotEqual(r.returncode, 0, f"unknown user must be fatal:\n{out}")
        self.assertIn("no-such-user-xyz", out, f"the message should name the user:\n{out}")
        self.assertRegex(out, r"(?i)unknown user|no such user", out)
        self.assertFalse(h.port_accepts(port), "nothing may be left listening")


class ConfigCheckTest(h.IntegrationTestCase):

    def filterd(self, *args: str) -> subprocess.CompletedProcess:
        binary = wait_for_binary(h.filterd_binary())
        return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=20,
                              cwd=self.ws.path)

    def test_check_config_names_file_and_line_of_an_unknown_option(self):
        conf = self.ws.path / "unknown.conf"
        conf.write_text("# comment\nfinal_virus_destiny = D_REJECT\nno_such_option_xyz = 1\n")
        r = self.filterd("--config", str(conf), "--check-config")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn(f"{conf}:3", r.stderr, r.stderr)
        self.assertIn("no_such_option_xyz", r.stderr, r.stderr)
        self.assertNotIn("configuration OK", r.stdout)

    def test_check_config_names_the_line_of_a_bad_value(self):
        conf = self.ws.path / "badvalue.conf"
        conf.write_text("myhostname = filterd.example.test\n\nfinal_virus_destiny = D_MAYBE\n")
        r = self.filterd("--config", str(conf), "--check-config")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn(f"{conf}:3", r.stderr, r.stderr)
        self.assertIn("final_virus_destiny", r.stderr, r.stderr)
        self.assertIn("D_MAYBE", r.stderr, r.stderr)

    def test_check_config_accepts_a_valid_file(self):
        conf = self.ws.path / "good.conf"
        conf.write_text("# site settings\nfinal_virus_destiny = D_REJECT\n"
                        "myhostname = filterd.example.test\n")
        r = self.filterd("--config", str(conf), "--check-config")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("configuration OK", r.stdout)

    def test_print_config_shows_only_non_default_settings_sorted(self):
        conf = self.ws.path / "print.conf"
        conf.write_text("# site settings\nmyhostname = filterd.example.test\n"
                        "final_virus_destiny = D_REJECT\n")
        r = self.filterd("--config", str(conf), "--print-config")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.splitlines(),
                         ["final_virus_destiny = D_REJECT", "myhostname = filterd.example.test"],
                         r.stdout)


class LifecycleAndLimitsTest(DaemonTestCase):

    def test_sigterm_while_idle_exits_zero_and_closes_the_port(self):
        self.start(self.eicar_db())
        r = self.send(h.simple_message(ALICE, [BOB], "before SIGTERM"))
        self.assertEqual(r.data_reply[0], 250, r.data_reply)
        proc = self.fd.proc.proc
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(10)
        except subprocess.TimeoutExpired:
            self.fail("filterd did not exit within 10 s of SIGTERM while idle\n" + self.ws.diagnostics())
        self.assertEqual(status, 0, f"exit status after SIGTERM\n{self.ws.diagnostics()}")
        self.assertLess(time.monotonic() - started, 10)
        self.assertFalse(h.port_accepts(self.port), "the listen port is still open after exit")
        self.assertIn(b"filterd stopped", self.log_bytes())

    def connect_greeted(self, want: str) -> RawSmtp:
        """A connection whose greeting starts with WANT; retried briefly, because the
        readiness probe and just-closed sockets are counted until filterd sees EOF."""
        deadline = time.monotonic() + 5
        while True:
            c = RawSmtp(self.port)
            self.addCleanup(c.close)
            greeting = c.reply()
            if greeting[0].startswith(want):
                return c
            c.close()
            if time.monotonic() > deadline:
                self.fail(f"wanted a greeting starting '{want}', got {greeting}\n" + self.ws.diagnostics())
            time.sleep(0.2)

    def test_connections_over_max_connections_get_421_4_3_2(self):
        self.start(self.eicar_db(), max_connections=2)
        first = self.connect_greeted("220")
        self.connect_greeted("220")
        third = RawSmtp(self.port)
        self.addCleanup(third.close)
        data, closed = third.read_until_eof(10)
        self.assertTrue(data.startswith(b"421 4.3.2"), f"third connection got {data!r}")
        self.assertTrue(closed, "the refused connection should be closed")
        first.command("QUIT")
        first.close()
        again = self.connect_greeted("220")
        self.assertIn("250", again.command("EHLO client.example.test")[-1][:3])

    def test_idle_client_after_ehlo_gets_421_4_4_2_and_is_closed(self):
        self.start(self.eicar_db(), smtp_timeout=2)
        c = RawSmtp(self.port)
        self.addCleanup(c.close)
        self.assertTrue(c.reply()[0].startswith("220"))
        self.assertTrue(c.command("EHLO client.example.test")[-1].startswith("250 "))
        started = time.monotonic()
        data, closed = c.read_until_eof(10)
        elapsed = time.monotonic() - started
        self.assertTrue(closed, f"connection still open 10 s after smtp_timeout = 2 (got {data!r})")
        self.assertGreaterEqual(elapsed, 1.5, f"closed after {elapsed:.1f}s, before the timeout")
        self.assertRegex(data.decode(errors="replace"), r"^421 4\.4\.2 ",
                         f"an idle client should be told why before the close "
                         f"(closed after {elapsed:.1f}s, received {data!r})")


class SmugglingTest(DaemonTestCase):

    def test_bare_lf_dot_bare_lf_does_not_end_data_and_nothing_is_smuggled(self):
        self.start(self.eicar_db())
        smuggled = (b"\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nsmuggled\r\n")
        c = RawSmtp(self.port)
        self.addCleanup(c.close)
        self.assertTrue(c.reply()[0].startswith("220"))
        c.command("EHLO client.example.test")
        self.assertTrue(c.command(f"MAIL FROM:<{ALICE}>")[-1].startswith("250"))
        self.assertTrue(c.command(f"RCPT TO:<{BOB}>")[-1].startswith("250"))
        self.assertTrue(c.command("DATA")[-1].startswith("354"))
        c.send(b"From: <" + ALICE.encode() + b">\r\nTo: <" + BOB.encode() + b">\r\n"
               b"Subject: smuggling attempt\r\n\r\nbefore" + smuggled + b".\r\n")
        end_of_data = c.reply()
        self.assertTrue(end_of_data[-1].startswith("250"), f"reply to the real end of data: {end_of_data}")
        quit_reply = c.command("QUIT")
        self.assertTrue(quit_reply[-1].startswith("221"),
                        f"a reply other than 221 to QUIT means filterd ran smuggled commands: {quit_reply}")
        rest, _ = c.read_until_eof(5)
        self.assertEqual(rest, b"", f"filterd sent more replies than commands: {c.seen!r} {rest!r}")

        self.sink_.wait_messages(1)
        time.sleep(0.5)   # a smuggled second transaction would arrive now
        envs = self.sink_.messages
        self.assertEqual(len(envs), 1, [(e.mail_from, e.rcpt_to, e.data) for e in envs])
        self.assertEqual((envs[0].mail_from, envs[0].rcpt_to), (ALICE, [BOB]))
        self.assertNotIn("victim@y", [r for e in envs for r in e.rcpt_to])
        data = envs[0].data
        self.assertIn(b"before\r\n.\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nsmuggled\r\n",
                      data, f"smuggled lines must arrive as content with CRLF line ends: {data!r}")
        self.assertIsNone(re.search(rb"(?<!\r)\n|\r(?!\n)", data), f"bare line end reached the next hop: {data!r}")


class FilterctlTest(h.IntegrationTestCase):

    def setUp(self):
        self.db = self.make_signatures()
        self.clam_exe = CLAMAV_TESTFILES / "clam.exe"
        if self.clam_exe.is_file():
            body = self.clam_exe.read_bytes()
            (self.db / "filterd-test.hdb").write_text(
                f"{hashlib.md5(body).hexdigest()}:{len(body)}:ClamAV-Test-File\n")
        self.eicar = self.ws.path / "eicar.com"
        self.eicar.write_bytes(EICAR)
        self.clean = self.ws.path / "clean.txt"
        self.clean.write_bytes(b"nothing to see here\n")
        self.missing = self.ws.path / "no-such-file"

    def scan(self, *files: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        binary = wait_for_binary(filterctl_binary())
        # The compiled spam rules shared by the tests, not /var/lib/filterd's.
        config = self.ws.path / "filterctl.conf"
        config.write_text(f"state_dir = {self.ws.sub('state')}\n"
                          f"spam_cache_dir = {h.spam_cache_dir()}\n")
        return subprocess.run([str(binary), "scan", "--config", str(config),
                               "--clamav-db", str(self.db), *files],
                              input=stdin if stdin is not None else b"", capture_output=True,
                              timeout=60, cwd=self.ws.path)

    @staticmethod
    def lines(r: subprocess.CompletedProcess) -> list[str]:
        return r.stdout.decode(errors="replace").splitlines()

    def verdict(self, r: subprocess.CompletedProcess, label: str) -> str:
        """The one stdout line for LABEL (other stdout lines are judged by
        test_stdout_holds_exactly_one_verdict_line_per_file)."""
        mine = [l for l in self.lines(r) if l.startswith(f"{label}: ")]
        self.assertEqual(len(mine), 1, f"one line for {label} wanted, stdout:\n{r.stdout.decode()}")
        return mine[0]

    def test_stdout_holds_exactly_one_verdict_line_per_file(self):
        # Scripts parse this like clamscan's output: diagnostics belong on stderr.
        r = self.scan(str(self.clean), str(self.eicar), str(self.missing))
        got = self.lines(r)
        self.assertEqual(len(got), 3, f"stdout must hold only the three verdict lines:\n"
                                      f"{r.stdout.decode()}")
        self.assertEqual(got[0], f"{self.clean}: OK")
        self.assertRegex(got[1], rf"^{re.escape(str(self.eicar))}: {EICAR_SIGNATURE_NAME}\S* FOUND$")
        self.assertTrue(got[2].startswith(f"{self.missing}: ERROR"), got[2])
        self.assertEqual(r.returncode, 2, "an error wins over FOUND")

    def test_eicar_file_is_found_with_exit_1(self):
        r = self.scan(str(self.eicar))
        self.assertEqual(r.returncode, 1, r)
        self.assertRegex(self.verdict(r, str(self.eicar)),
                         rf"^{re.escape(str(self.eicar))}: {EICAR_SIGNATURE_NAME}\S* FOUND$")

    def test_banned_attachment_is_reported_with_its_part_and_exit_1(self):
        mail = self.ws.path / "banned.eml"
        mail.write_bytes(b"From: a@b.test\nSubject: x\nMIME-Version: 1.0\n"
                         b"Content-Type: multipart/mixed; boundary=B\n\n--B\n"
                         b"Content-Type: text/plain\n\nhi\n--B\nContent-Type: application/x-msdownload;"
                         b" name=\"invoice.pdf.exe\"\n\nMZ not really\n--B--\n")
        r = self.scan(str(mail))
        self.assertEqual(r.returncode, 1, r)
        self.assertRegex(self.verdict(r, str(mail)), r": BANNED \(p002 invoice\.pdf\.exe\b")

    def test_clean_file_is_ok_with_exit_0(self):
        r = self.scan(str(self.clean))
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.verdict(r, str(self.clean)), f"{self.clean}: OK")

    def test_missing_file_is_an_error_with_exit_2(self):
        r = self.scan(str(self.missing))
        self.assertEqual(r.returncode, 2, r)
        self.assertTrue(self.verdict(r, str(self.missing)).startswith(f"{self.missing}: ERROR"), r.stdout)

    def test_stdin_is_scanned_when_the_file_is_dash(self):
        r = self.scan("-", stdin=EICAR)
        self.assertEqual(r.returncode, 1, r)
        self.assertRegex(self.verdict(r, "stdin"), rf"^stdin: {EICAR_SIGNATURE_NAME}\S* FOUND$")
        r = self.scan("-", stdin=b"clean text on stdin\n")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.verdict(r, "stdin"), "stdin: OK")

    def test_several_files_give_the_worst_exit_code(self):
        r = self.scan(str(self.clean), str(self.eicar))
        self.assertEqual(r.returncode, 1, r)
        self.assertTrue(self.verdict(r, str(self.clean)).endswith(": OK"))
        self.assertTrue(self.verdict(r, str(self.eicar)).endswith(" FOUND"))
        r = self.scan(str(self.eicar), str(self.missing), str(self.clean))
        self.assertEqual(r.returncode, 2, r)
        self.assertTrue(self.verdict(r, str(self.eicar)).endswith(" FOUND"))
        self.assertIn(": ERROR", self.verdict(r, str(self.missing)))
        self.assertTrue(self.verdict(r, str(self.clean)).endswith(": OK"))

    def test_clamav_test_files_in_containers_are_found(self):
        if not self.clam_exe.is_file():
            self.fail(f"{self.clam_exe} not found: install the Debian package clamav-testfiles")
        files = sorted(p for p in CLAMAV_TESTFILES.iterdir() if p.is_file())
        r = self.scan(*map(str, files))
        verdicts = {p.name: self.verdict(r, str(p)).partition(": ")[2] for p in files}
        found = sorted(n for n, v in verdicts.items() if v.endswith(" FOUND"))
        not_found = sorted(n for n in verdicts if n not in found)
        print(f"\nfilterctl found the ClamAV test file in {len(found)}/{len(files)} files: "
              f"{', '.join(found)}\nnot found: {', '.join(not_found) or '(none)'}", file=sys.stderr)
        for name in REQUIRED_CONTAINERS:
            self.assertIn(name, found, f"{name}: {verdicts.get(name)!r} (libclamav should unpack it)")
        self.assertIn("ClamAV-Test-File", verdicts["clam.zip"])
        errors = [f"{n}: {v}" for n, v in verdicts.items() if v.startswith("ERROR")]
        self.assertEqual(r.returncode, 2 if errors else 1, f"exit code; errors: {errors}")


class SummaryLogTest(DaemonTestCase):

    def test_one_summary_line_per_message_without_the_body(self):
        log = self.ws.path / "filterd.log"
        self.start(self.eicar_db(), log=f"file:{log}")
        marker = f"BODY-MARKER-{uuid.uuid4().hex}"
        clean_id = f"<clean-{uuid.uuid4().hex}@{DOMAIN}>"
        eicar_id = f"<eicar-{uuid.uuid4().hex}@{DOMAIN}>"
        clean = (f"From: {ALICE}\nTo: {BOB}\nSubject: summary clean\nMessage-ID: {clean_id}\n"
                 f"Date: {formatdate()}\n\n{marker} clean body\n").encode()
        infected = re.sub(rb"(?mi)^Message-ID: .*$", f"Message-ID: {eicar_id}".encode(),
                          h.eicar_message(ALICE, [BOB], "summary eicar"))
        infected = infected.replace(b"The attachment is the EICAR", f"{marker} The attachment is the EICAR".encode())
        self.assertIn(marker.encode(), infected)

        r = self.send(clean)
        self.assertEqual(r.data_reply[0], 250, r.data_reply)
        r = self.send(infected)
        eicar_reply_ok(self, r, "summary test")
        m = re.search(r"id=([A-Za-z0-9_-]+)", r.data_reply[1])
        self.assertIsNotNone(m, f"the reject should carry the mail_id: {r.data_reply}")
        blocked_mail_id = m.group(1)

        self.wait_log(eicar_id, timeout=10)
        self.wait_log(clean_id, timeout=10)
        text = self.log_bytes().decode(errors="replace")
        self.assertNotIn(marker, text, "message body text reached the log")
        # The message part of a line, after spdlog's "TIME filterd[PID]: LEVEL: ".
        messages = [re.sub(r"^\S+ filterd\[\d+\]: \w+: ", "", l) for l in text.splitlines()]

        clean_lines = [l for l in messages if clean_id in l]
        self.assertEqual(len(clean_lines), 1, clean_lines)
        m = re.match(r"^\(([A-Za-z0-9_-]+)\) ", clean_lines[0])
        self.assertIsNotNone(m, f"summary must start with (mail_id): {clean_lines[0]}")
        clean_mail_id = m.group(1)

        for mail_id, msgid, words, queued in (
                (clean_mail_id, clean_id, "Passed CLEAN", "SINK"),
                (blocked_mail_id, eicar_id, f"Blocked INFECTED ({EICAR_SIGNATURE_NAME}", "-")):
            mine = [l for l in messages if l.startswith(f"({mail_id})")]
            self.assertEqual(len(mine), 1, f"exactly one line per message for {mail_id}: {mine}")
            line = mine[0]
            for part in (words, f"<{ALICE}>", f"<{BOB}>", f"Message-ID: {msgid}",
                         f"mail_id: {mail_id}", f"queued_as: {queued}"):
                self.assertIn(part, line, f"summary line lacks {part!r}: {line}")
            self.assertRegex(line, r"size: \d+", line)
            # The stage times end the line, in the form bench/ reads back.
            times = filterd_log.stage_times(line)
            self.assertEqual(len(times), 1, f"no stage times bench/filterd_log.py can read: {line}")
            self.assertEqual(set(times[0]), {"total", *filterd_log.STAGES}, line)
        self.assertNotEqual(clean_mail_id, blocked_mail_id)


if __name__ == "__main__":
    unittest.main(verbosity=2)
