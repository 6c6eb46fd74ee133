"""filterd as a milter behind a real Postfix (smtpd_milters), swaks as the
remote client: clean mail delivered with filterd's header, EICAR rejected
while the client is still connected, filterd down → 451 and nothing
delivered, an infected attachment replaced by the notice (body replacement),
several recipients in one transaction (one dropped, one given an address
extension: DELRCPT and ADDRCPT), the sender's X-Spam-* fields replaced and
the subject tagged (CHGHEADER). No content_filter and no reinjection:
Postfix keeps the message.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_milter.py
(as root; needs the Debian packages postfix and swaks).
"""

import email
import email.policy
import re
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, FILTERD_HOSTNAME, free_port  # noqa: E402

ALICE, BOB, CAROL = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol"))
GRACE = 1.0
SCANNED = f"X-Virus-Scanned: filterd at {FILTERD_HOSTNAME}"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def setUpModule():
    h.require(h.postfix_missing(), h.filterd_missing())


class MilterTest(h.IntegrationTestCase):

    def chain(self, extra=None, main_cf=None, unix=False):
        """Postfix with smtpd_milters = inet:127.0.0.1:PORT (the settings the
        README recommends) -> filterd's milter listener on PORT; with `unix`,
        a unix socket instead."""
        self.milter_port = free_port()
        sock = self.ws.sub("filterd-sock") / "milter.sock"
        milter = f"unix:{sock}" if unix else f"inet:127.0.0.1:{self.milter_port}"
        main = {"smtpd_milters": milter, "non_smtpd_milters": milter,
                "milter_default_action": "tempfail", "milter_protocol": "6"}
        main.update(main_cf or {})
        pf = self.start_postfix(main_cf=main)
        config = {**self.filterd_base_config(pf), "milter_listen": milter,
                  "forward": f"smtp:127.0.0.1:{pf.smtp_port}",   # notices only; no reinjection
                  "spam_checks": "no"}
        if unix:
            config["unix_socket_group"] = "postfix"  # Postfix's smtpd runs as postfix
        config.update(extra or {})
        fd = self.start_filterd(config)
        # The harness waits for `listen` addresses only.
        h.wait_for(lambda: h.unix_socket_accepts(sock) if unix else h.port_accepts(self.milter_port),
                   "filterd's milter listener", h.TIMEOUT, self.ws.diagnostics)
        return pf, fd

    def swaks(self, message: bytes, *recipients: str) -> str:
        path = self.ws.path / f"mail-{time.monotonic_ns()}.eml"
        path.write_bytes(h.to_crlf(message))
        r = h.swaks(self.pf.smtp_port, "--from", ALICE, "--to", ",".join(recipients),
                    "--helo", "client.example.test", "--data", f"@{path}")
        return r.stdout + r.stderr

    def assert_no_mail(self, *users):
        self.pf.wait_queue_empty()
        time.sleep(GRACE)
        for user in users:
            self.assertEqual(self.pf.maildir(user).messages(), [], f"{user} must receive nothing")

    def summary(self, fd, words: str) -> str:
        return h.wait_for(lambda: re.search(r"^.*" + words + r".*$", fd.stderr(), re.M),
                          f"summary line with {words!r}", h.TIMEOUT, self.ws.diagnostics).group(0)

    # ------------------------------------------------------------------

    def test_clean_mail_is_delivered_with_filterds_header(self):
        self.pf, fd = self.chain()
        out = self.swaks(h.simple_message(ALICE, [BOB], "clean via milter"), BOB)
        qid = re.search(r"<-  250 2\.0\.0 Ok: queued as ([0-9A-F]+)", out)
        self.assertIsNotNone(qid, out)
        got = self.pf.wait_delivered("bob", 1)[0]
        head = h.split_message(got)[0]
        self.assertIn(SCANNED.encode(), head, got[:2000])
        self.assertEqual(head.count(b"X-Virus-Scanned:"), 1)
        self.assertIn(b"Subject: clean via milter", head)
        line = self.summary(fd, "Passed CLEAN")
        self.assertIn(f"queued_as: {qid.group(1)}", line)
        # Postfix's own address, then the client it named in CONNECT (XFORWARD ADDR).
        self.assertRegex(line, r"\[127\.0\.0\.1\]:\d+ \[127\.0\.0\.1\] <")

    def test_unix_socket_milter_delivers_clean_mail(self):
        self.pf, fd = self.chain(unix=True)
        out = self.swaks(h.simple_message(ALICE, [BOB], "clean via unix milter"), BOB)
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as", out)
        got = self.pf.wait_delivered("bob", 1)[0]
        self.assertIn(SCANNED.encode(), h.split_message(got)[0])
        self.assertIn("(milter)", fd.stderr())

    def test_eicar_is_rejected_during_the_dialog(self):
        self.pf, fd = self.chain(extra={"final_virus_destiny": "D_REJECT"})
        out = self.swaks(h.eicar_message(ALICE, [BOB]), BOB)
        self.assertRegex(out, r"(?m)^<\*\* +554 5\.7\.0 .*", out)
        self.assertNotRegex(out, r"(?m)^<- +250 .*queued", out)
        self.assertIn("Blocked INFECTED", self.summary(fd, "Blocked INFECTED"))
        self.assert_no_mail("bob")

    def test_filterd_down_means_451_and_nothing_delivered(self):
        self.pf, fd = self.chain()
        fd.stop()
        out = self.swaks(h.simple_message(ALICE, [BOB], "filterd is down"), BOB)
        self.assertRegex(out, r"(?m)^<\*\* +451 4\.\d+\.\d+ ", out)
        self.assertNotRegex(out, r"(?m)^<- +250 .*queued", out)
        self.assert_no_mail("bob")
        self.assertEqual(self.pf.queue(), [], "Postfix keeps nothing: the client retries")

    def test_infected_attachment_arrives_replaced_by_the_notice(self):
        self.pf, fd = self.chain(extra={"remove_infected_parts": "yes"})
        sent = h.eicar_message(ALICE, [BOB], subject="attachment removal")
        out = self.swaks(sent, BOB)
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as", out)
        got = self.pf.wait_delivered("bob", 1)[0]
        self.assertNotIn(h.EICAR, got)
        self.assertNotIn(b"EICAR-STANDARD", got)
        msg = email.message_from_bytes(got, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "attachment removal")
        self.assertIn(SCANNED.encode(), h.split_message(got)[0])
        parts = [p for p in msg.iter_parts()]
        self.assertEqual(len(parts), 2)
        self.assertEqual(parts[0].get_content(),
                         "The attachment is the EICAR anti-virus test file.\n")
        notice = parts[1].get_content()
        self.assertIn("An attachment was removed from this message by the content filter.", notice)
        self.assertIn("eicar.txt", notice)
        self.assertIn(h.EICAR_SIGNATURE_NAME, notice)
        # The rest of the message is the sender's: same top-level header fields.
        sent_msg = email.message_from_bytes(sent, policy=email.policy.default)
        self.assertEqual(msg["Message-ID"], sent_msg["Message-ID"])
        self.assertEqual(msg.get_boundary(), sent_msg.get_boundary())
        self.assertIn("removed", self.summary(fd, "Passed CLEAN"))

    def test_multi_recipient_transaction_is_delivered_to_each(self):
        self.pf, fd = self.chain()
        out = self.swaks(h.simple_message(ALICE, [BOB, CAROL], "two of them"), BOB, CAROL)
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as", out)
        for user in ("bob", "carol"):
            got = self.pf.wait_delivered(user, 1)[0]
            self.assertEqual(h.split_message(got)[0].count(SCANNED.encode()), 1, user)
        self.assertIn(f"<{BOB}>,<{CAROL}>", self.summary(fd, "Passed CLEAN"))

    def test_recipients_dropped_and_extended_by_their_destinies(self):
        # bob's virus destiny discards: DELRCPT. carol loves viruses and
        # gets the mail at carol+virus@ (address extension): DELRCPT + ADDRCPT.
        self.pf, fd = self.chain(extra={"recipient_delimiter": "+",
                                        "recipient": f"{CAROL} virus_lover=yes"},
                                 main_cf={"recipient_delimiter": "+"})
        out = self.swaks(h.eicar_message(ALICE, [BOB, CAROL]), BOB, CAROL)
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as", out)
        got = self.pf.wait_delivered("carol", 1)[0]
        self.assertIn(b"X-Filterd-Alert: INFECTED", got)
        self.assertIn(SCANNED.encode(), got)
        d = self.pf.wait_log(r"to=<carol\+virus@example\.test>.*status=sent")
        self.assertIsNotNone(d)
        self.assertNotRegex(self.pf.log(), r"to=<bob@example\.test>.*status=sent")
        self.assert_no_mail("bob")
        self.assertIn("1/2 recipients passed", self.summary(fd, "INFECTED"))

    def test_spam_fields_are_replaced_and_the_subject_tagged(self):
        # The sender's own X-Spam-* fields go (CHGHEADER with an empty value),
        # filterd's are added, the subject is tagged in place (CHGHEADER).
        self.pf, fd = self.chain(extra={"spam_checks": "yes", "spam_tag2_level": "5",
                                        "spam_kill_level": "5000"})
        forged = (f"From: {ALICE}\nTo: {BOB}\nSubject: hello\n"
                  "X-Spam-Flag: NO\nX-Spam-Status: No, score=-5.0\nX-Spam-Status: No\n"
                  f"Message-ID: <gtube@{DOMAIN}>\n\n{GTUBE}\n").encode()
        out = self.swaks(forged, BOB)
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as", out)
        got = self.pf.wait_delivered("bob", 1)[0]
        msg = email.message_from_bytes(got, policy=email.policy.compat32)
        self.assertEqual(msg.get_all("X-Spam-Flag"), ["YES"])
        self.assertEqual(len(msg.get_all("X-Spam-Status")), 1)
        self.assertTrue(msg["X-Spam-Status"].startswith("Yes, score="), msg["X-Spam-Status"])
        # The rules saw the Received field Postfix adds (hidden from milters).
        status = " ".join(msg["X-Spam-Status"].split())
        self.assertNotIn("NO_RELAYS", status)
        self.assertNotIn("NO_RECEIVED", status)
        self.assertEqual(msg.get_all("Subject"), ["***SPAM*** hello"])
        self.assertIn("Passed SPAMMY", self.summary(fd, "Passed SPAMMY"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
