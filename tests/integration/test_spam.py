"""filterd's spam rules behind a real Postfix (after-queue content_filter):
the stock SpamAssassin rules score corpus mail, local recipients get
SpamAssassin-style X-Spam-* fields, SPAMMY mail is tagged and passed, SPAM
follows final_spam_destiny (discarded and quarantined here), a recipient
who bypasses spam checks gets the mail untouched, and the summary line
carries `Hits:`.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_spam.py
(as root; needs the Debian packages postfix and spamassassin, whose rules
filterd loads; compiled rules are cached in FILTERD_SPAM_CACHE).
"""

import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, FILTERD_HOSTNAME, free_port  # noqa: E402

ALICE, BOB, CAROL = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol"))
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HAM = "spamassassin-public/easy_ham/00001.7c53336b37003a9286aba55d2945844c"


def setUpModule():
    h.require(h.postfix_missing(), h.filterd_missing())
    if not Path("/usr/share/spamassassin").is_dir():
        raise AssertionError("the stock SpamAssassin rules are missing: apt-get install spamassassin")


def mail(subject: str, body: str) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = ALICE
    msg["To"] = BOB
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    msg.set_content(body)
    return msg.as_bytes()


def start_spamd(test: h.IntegrationTestCase, with_stop: bool = False):
    """Debian's spamd on a free loopback port, local tests only, private
    HOME and site config; stopped at cleanup. Returns the port."""
    ws = test.ws
    site = ws.sub("spamd-site")
    for f in Path("/etc/spamassassin").glob("*"):
        if f.is_file():
            shutil.copy(f, site / f.name)
    port = free_port()
    env = dict(os.environ, HOME=str(ws.sub("spamd-home")), TZ="UTC")
    proc = h.ManagedProcess(
        "spamd", ["spamd", "--local", "--nouser-config", f"--siteconfigpath={site}",
                  f"--helper-home-dir={ws.sub('spamd-home')}", "--listen", f"127.0.0.1:{port}",
                  "--allowed-ips=127.0.0.1", "--max-children=2", "--syslog=stderr",
                  "--pidfile", str(ws.path / "spamd.pid")],
        ws.path / "spamd.log", env=env)
    test.addCleanup(proc.stop)
    ws.add_log("spamd", ws.path / "spamd.log")

    def pong():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(b"PING SPAMC/1.5\r\n\r\n")
                return b"PONG" in c.recv(100)
        except OSError:
            return False
    h.wait_for(pong, "spamd answering PING", 120)
    return (port, proc.stop) if with_stop else port


class SpamTest(h.IntegrationTestCase):

    def chain(self, extra=None):
        return self.start_filter_chain(extra=extra)

    def summary(self, fd, mail_id_pattern=r"Hits: "):
        return h.wait_for(lambda: re.search(r"^.*" + mail_id_pattern + r".*$", fd.stderr(), re.M),
                          "summary line", h.TIMEOUT).group(0)

    def test_corpus_ham_is_scored_and_tagged_for_local_recipients(self):
        pf, fd = self.chain(extra={"spam_tag_level": "-999"})
        raw = h.corpus_message(HAM)
        pf.send(ALICE, [BOB], raw)
        got = email.message_from_bytes(pf.wait_delivered("bob", 1)[0],
                                       policy=email.policy.compat32)
        self.assertEqual(got["X-Spam-Flag"], "NO")
        status = got["X-Spam-Status"]
        self.assertTrue(status.startswith("No, score="), status)
        # SpamAssassin's own verdict on this message (tests/spam_oracle/hits.tsv)
        # includes MAILING_LIST_MULTI; filterd's must name it too.
        self.assertIn("MAILING_LIST_MULTI", status)
        self.assertRegex(self.summary(fd), r"Passed CLEAN,.* Hits: -?\d+\.\d{3},")
        self.assertIn("spam rules: ", fd.stderr())

    def test_spammy_mail_is_tagged_and_passed(self):
        pf, fd = self.chain(extra={"spam_tag2_level": "5", "spam_kill_level": "5000"})
        pf.send(ALICE, [BOB], mail("hello", "test message\n" + GTUBE + "\n"))
        got = email.message_from_bytes(pf.wait_delivered("bob", 1)[0],
                                       policy=email.policy.compat32)
        self.assertEqual(got["X-Spam-Flag"], "YES")
        self.assertEqual(got["Subject"], "***SPAM*** hello")
        self.assertIn("GTUBE=1000", got["X-Spam-Status"].replace("\n", "").replace(" ", ""))
        self.assertIn("Passed SPAMMY", self.summary(fd))

    def test_spam_is_discarded_and_quarantined(self):
        pf, fd = self.chain(extra={"final_spam_destiny": "D_DISCARD",
                                   "spam_quarantine_cutoff_level": "5000"})
        pf.send(ALICE, [BOB], mail("buy now", GTUBE + "\n"))
        line = self.summary(fd)
        self.assertIn("Blocked SPAM", line)
        self.assertRegex(line, r"Hits: \d{3,4}\.\d{3}")
        pf.wait_queue_empty()
        time.sleep(1.0)
        self.assertEqual(pf.maildir("bob").messages(), [])
        listing = subprocess.run([str(h.filterctl_binary()), "quarantine",
                                  "--config", str(fd.conf_path), "list"],
                                 capture_output=True, text=True, check=True).stdout
        self.assertIn("spam", listing.lower())

    def test_recipient_bypassing_spam_checks_gets_the_mail_untagged(self):
        pf, fd = self.chain(extra={"final_spam_destiny": "D_DISCARD",
                                   "recipient": f"{CAROL} bypass_spam_checks=yes"})
        msg = mail("buy now", GTUBE + "\n")
        pf.send(ALICE, [CAROL], msg)
        got = email.message_from_bytes(pf.wait_delivered("carol", 1)[0],
                                       policy=email.policy.compat32)
        self.assertIsNone(got["X-Spam-Flag"])
        self.assertIn("Hits: -", self.summary(fd))

    def test_filterctl_scan_reports_spam_with_score_and_tests(self):
        conf = self.ws.path / "scan.conf"
        conf.write_text(f"state_dir = {self.ws.sub('scan-state')}\n"
                        f"spam_cache_dir = {h.spam_cache_dir()}\n")
        spam = self.ws.path / "gtube.eml"
        spam.write_bytes(mail("buy now", GTUBE + "\n"))
        ham = self.ws.path / "ham.eml"
        ham.write_bytes(h.corpus_message(HAM))
        plain = self.ws.path / "notes.txt"
        plain.write_bytes(b"no header here, just text\n")
        r = subprocess.run([str(h.filterctl_binary()), "scan", "--config", str(conf),
                            "--clamav-db", str(self.make_signatures()), "--verbose",
                            str(spam), str(ham), str(plain)],
                           capture_output=True, text=True, timeout=300)
        lines = r.stdout.splitlines()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(lines[0], r"gtube\.eml: SPAM score=\d+(\.\d+)? tests=\[.*GTUBE.*\]$")
        self.assertRegex(lines[1], r"ham\.eml: OK score=-?\d+(\.\d+)? tests=\[.*MAILING_LIST_MULTI")
        self.assertEqual(lines[2], f"{plain}: OK", "plain files are not spam-checked")

    def test_spam_checks_off(self):
        pf, fd = self.chain(extra={"spam_checks": "no", "final_spam_destiny": "D_DISCARD"})
        pf.send(ALICE, [BOB], mail("buy now", GTUBE + "\n"))
        got = pf.wait_delivered("bob", 1)
        self.assertEqual(len(got), 1)
        self.assertIn("Hits: -", self.summary(fd))
        self.assertNotIn("spam rules: ", fd.stderr())

    def test_spamd_backend_scores_and_blocks_like_the_builtin_rules(self):
        if not shutil.which("spamd"):
            raise AssertionError("spamd is missing: apt-get install spamassassin")
        port = start_spamd(self)
        pf, fd = self.chain(extra={"spam_backend": "spamd",
                                   "spamd_socket": f"inet:127.0.0.1:{port}",
                                   "final_spam_destiny": "D_DISCARD",
                                   "spam_tag_level": "-999"})
        pf.send(ALICE, [BOB], mail("buy now", GTUBE + "\n"))
        line = self.summary(fd)
        self.assertIn("Blocked SPAM", line)
        self.assertRegex(line, r"Hits: \d{3,4}\.\d{3}")
        raw = h.corpus_message(HAM)
        pf.send(ALICE, [BOB], raw)
        got = email.message_from_bytes(pf.wait_delivered("bob", 1)[0],
                                       policy=email.policy.compat32)
        self.assertTrue(got["X-Spam-Status"].startswith("No, score="), got["X-Spam-Status"])
        self.assertIn("MAILING_LIST_MULTI", got["X-Spam-Status"])
        self.assertIn("spam checks: spamd at inet:127.0.0.1:", fd.stderr())

    def test_spamd_going_down_leaves_mail_unscored_never_lost(self):
        port, stop_spamd = start_spamd(self, with_stop=True)
        pf, fd = self.chain(extra={"spam_backend": "spamd",
                                   "spamd_socket": f"inet:127.0.0.1:{port}",
                                   "final_spam_destiny": "D_DISCARD"})
        stop_spamd()
        pf.send(ALICE, [BOB], mail("buy now", GTUBE + "\n"))
        self.assertEqual(len(pf.wait_delivered("bob", 1)), 1)
        line = self.summary(fd)
        self.assertIn("Hits: -", line)
        self.assertIn("spam check failed", line)

if __name__ == "__main__":
    unittest.main(verbosity=2)
