"""frontd, the bundled MTA, end to end with real filterd and real clients.

  swaks/smtplib --smtp--> frontd smtp listener --queue--> content_filter (filterd)
        --> frontd reinjection listener --queue--> Maildir

Each test starts its own frontd (harness.Frontd: queue, vmailbox map and
Maildirs in the workspace, loopback ports) and, where the chain needs it,
filterd with the in-process ClamAV engine and a generated EICAR signature db.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_frontd.py
(frontd is taken from beside filterd, or FRONTD_BIN).
"""

import email
import email.policy
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, FILTERD_HOSTNAME, free_port  # noqa: E402

ALICE, BOB, CAROL = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol"))
OUTSIDER = "someone@elsewhere.test"
# How long to keep looking for mail that must NOT arrive once the queue is empty.
GRACE = 1.0


def setUpModule():
    h.require(h.filterd_missing(), h.frontd_missing(), h.dovecot_missing(),
              None if h.shutil.which("swaks") else "swaks is not installed (Debian package 'swaks')")


def rcpt_replies(port: int, sender: str, recipients: list[str]) -> dict[str, tuple[int, str]]:
    """RCPT TO for each address written verbatim (smtplib would re-quote relay tricks)."""
    out = {}
    client = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.test", timeout=h.TIMEOUT)
    try:
        client.ehlo()
        code, text = client.docmd(f"MAIL FROM:<{sender}>")
        if code != 250:
            raise AssertionError(f"MAIL FROM refused: {code} {text!r}")
        for r in recipients:
            code, text = client.docmd(f"RCPT TO:<{r}>")
            out[r] = (code, text.decode(errors="replace"))
    finally:
        client.quit()
    return out


class FrontdTest(h.IntegrationTestCase):

    def filterd(self, forward_port: int, port: int | None = None) -> h.Filterd:
        port = port or free_port()
        fd = h.Filterd(self.ws, {
            "listen": f"smtp:127.0.0.1:{port}",
            "forward": f"smtp:127.0.0.1:{forward_port}",
            "clamav_backend": "libclamav",
            "clamav_db": str(self.make_signatures()),
            "state_dir": str(self.ws.sub("filterd-state")),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
        })
        self.addCleanup(fd.stop)
        return fd

    def wait_queue_empty(self, fr: h.Frontd):
        h.wait_for(lambda: not fr.queued(), "frontd's queue to become empty",
                   diagnostics=lambda: f"queued: {fr.queued()}\n" + self.ws.diagnostics())

    # -- delivery through filterd ------------------------------------------

    def test_clean_mail_reaches_the_maildir_through_filterd_and_eicar_does_not(self):
        filter_port = free_port()
        fr = self.start_frontd({"content_filter": f"smtp:[127.0.0.1]:{filter_port}"})
        self.filterd(fr.reinject_port, filter_port).start()

        sent = h.swaks(fr.smtp_port, "--from", OUTSIDER, "--to", ALICE,
                       "--header", "Subject: clean test")
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        qid = re.search(r"<-  250 2\.0\.0 Ok: queued as ([0-9A-F]+)", sent.stdout)
        self.assertIsNotNone(qid, sent.stdout)
        qid = qid.group(1)

        eicar = h.eicar_message(OUTSIDER, [BOB])
        h.send_mail(fr.smtp_port, OUTSIDER, [BOB], eicar)

        delivered = fr.wait_delivered("alice", 1)
        self.wait_queue_empty(fr)
        time.sleep(GRACE)
        self.assertEqual(len(fr.maildir("alice").messages()), 1, "exactly one copy")
        self.assertEqual(fr.maildir("bob").messages(), [], "EICAR must not be delivered")
        msg = email.message_from_bytes(delivered[0], policy=email.policy.compat32)
        self.assertEqual(msg["Subject"], "clean test")
        self.assertEqual(msg["Delivered-To"], ALICE)
        self.assertEqual(msg["Return-Path"], f"<{OUTSIDER}>")
        self.assertIn(FILTERD_HOSTNAME, msg["X-Virus-Scanned"] or "", "did not pass filterd")
        self.assertNotIn(b"\r\n", delivered[0], "Maildir files have LF line ends")
        name = fr.maildir("alice").files()[0].name
        self.assertRegex(name, r"^\d+\.M\d+P\d+Q\d+\.[^,]+,S=\d+,W=\d+$")
        self.assertEqual(int(re.search(r",S=(\d+)", name).group(1)), len(delivered[0]))

        log = fr.log()
        self.assertRegex(log, r"connect from unknown\[127\.0\.0\.1\]")
        self.assertRegex(log, rf"{qid}: client=unknown\[127\.0\.0\.1\]")
        self.assertRegex(log, rf"{qid}: message-id=<[^>]+>")
        self.assertRegex(log, rf"{qid}: from=<{re.escape(OUTSIDER)}>, size=\d+, nrcpt=1")
        self.assertRegex(log, rf"{qid}: to=<{re.escape(ALICE)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                         rf"{filter_port}, delay=[\d.]+, dsn=2\.0\.0, status=sent \(250 ")
        self.assertRegex(log, rf"to=<{re.escape(ALICE)}>, relay=virtual, delay=[\d.]+, dsn=2\.0\.0, "
                         r"status=sent \(delivered to maildir\)")
        fr.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
                    r"commands=5")

    def test_mail_waits_while_filterd_is_down_survives_a_restart_and_arrives_later(self):
        filter_port = free_port()
        fr = self.start_frontd({"content_filter": f"smtp:[127.0.0.1]:{filter_port}"})
        result = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE, BOB],
                             h.simple_message(OUTSIDER, [ALICE, BOB], "while filterd is down"))
        qid = result.queue_id
        fr.wait_log(rf"{qid}: to=<{re.escape(ALICE)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                    rf"{filter_port}, .*status=deferred \(451 4\.4\.1 ")
        self.assertEqual(fr.queued(), [qid])
        self.assertEqual(fr.stop(), 0, "frontd must exit cleanly on SIGTERM")
        self.assertEqual(fr.queued(), [qid], "the deferred message is still on disk")

        fr.start()
        fr.wait_log(r"queue .*: 1 messages")
        self.filterd(fr.reinject_port, filter_port).start()
        fr.wait_delivered("alice", 1)
        fr.wait_delivered("bob", 1)
        self.wait_queue_empty(fr)
        for user in ("alice", "bob"):
            self.assertEqual(len(fr.maildir(user).messages()), 1, f"{user}: exactly one copy")

    def test_undeliverable_mail_is_returned_to_the_sender_after_maximal_queue_lifetime(self):
        dead_port = free_port()
        fr = self.start_frontd({"content_filter": f"smtp:[127.0.0.1]:{dead_port}",
                                "maximal_queue_lifetime": "3s"})
        message = h.simple_message(ALICE, [BOB], "never delivered", body="SECRET-BODY\n")
        qid = h.send_mail(fr.smtp_port, ALICE, [BOB], message).queue_id
        fr.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, .*status=expired, returned to sender")
        fr.wait_log(rf"{qid}: removed")
        bounce = fr.wait_delivered("alice", 1)[0]
        self.wait_queue_empty(fr)
        msg = email.message_from_bytes(bounce, policy=email.policy.compat32)
        self.assertEqual(msg["Return-Path"], "<>")
        self.assertIn("MAILER-DAEMON", msg["From"])
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertIn(b"Final-Recipient: rfc822; " + BOB.encode(), bounce)
        self.assertIn(b"Subject: never delivered", bounce, "original headers are returned")
        self.assertNotIn(b"SECRET-BODY", bounce, "the body is never returned")
        self.assertEqual(fr.maildir("bob").messages(), [])

    def test_dovecot_reads_what_frontd_delivered(self):
        uid, gid = h._mail_uid_gid()
        fr = self.start_frontd({"virtual_uid_maps": f"static:{uid}",
                                "virtual_gid_maps": f"static:{gid}"})
        h.send_mail(fr.smtp_port, OUTSIDER, [BOB], h.simple_message(OUTSIDER, [BOB], "for dovecot"))
        fr.wait_delivered("bob", 1)
        f = fr.maildir("bob").files()[0]
        self.assertEqual((f.stat().st_uid, f.stat().st_gid), (uid, gid))
        dovecot = h.Dovecot(self.ws, {BOB: "x"}, mail_location=f"maildir:{fr.mail_dir}/%d/%n")
        self.addCleanup(dovecot.stop)
        dovecot.start()
        got = dovecot.doveadm("fetch", "-u", BOB, "hdr.subject", "mailbox", "INBOX", "all")
        self.assertEqual(got.returncode, 0, got.stdout + got.stderr)
        self.assertIn("for dovecot", got.stdout)

    # -- who may send where ------------------------------------------------

    def test_frontd_is_not_an_open_relay_and_refuses_every_relay_trick(self):
        # 127.0.0.1 is not in mynetworks here: the client is a stranger.
        fr = self.start_frontd({"mynetworks": "192.0.2.0/24"})
        tricks = [OUTSIDER,
                  f"user%elsewhere.test@{DOMAIN}",
                  f'"user@elsewhere.test"@{DOMAIN}',
                  f"@{DOMAIN}:user@elsewhere.test",
                  f"user@elsewhere.test@{DOMAIN}",
                  f"elsewhere.test!user@{DOMAIN}"]
        got = rcpt_replies(fr.smtp_port, OUTSIDER, tricks + [f"nobody@{DOMAIN}", ALICE])
        for t in tricks:
            self.assertEqual(got[t][0], 554, f"{t}: {got[t]}")
            self.assertIn("5.7.1", got[t][1], t)
            self.assertIn("Relay access denied", got[t][1], t)
        self.assertEqual(got[f"nobody@{DOMAIN}"][0], 550)
        self.assertIn("5.1.1", got[f"nobody@{DOMAIN}"][1])
        self.assertEqual(got[ALICE][0], 250)
        self.assertRegex(fr.log(), r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 "
                         r"<someone@elsewhere\.test>: Relay access denied; from=<someone@elsewhere"
                         r"\.test> to=<someone@elsewhere\.test> proto=ESMTP helo=<client\.example\.test>")
        fr.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1/8 quit=1 "
                    r"commands=4/11")

    def test_bare_postmaster_is_accepted_and_delivered(self):
        # RFC 5321 §4.5.1: RCPT TO:<Postmaster> needs no domain.
        fr = self.start_frontd({"postmaster_domain": DOMAIN})
        got = rcpt_replies(fr.smtp_port, OUTSIDER, ["Postmaster", "nobody"])
        self.assertEqual(got["Postmaster"][0], 250, got)
        self.assertEqual(got["nobody"][0], 501, got)
        h.send_mail(fr.smtp_port, OUTSIDER, ["postmaster"], b"Subject: hello\r\n\r\nhi\r\n")
        fr.wait_delivered("postmaster", 1)
        fr.wait_log(rf"to=<postmaster@{re.escape(DOMAIN)}>, relay=virtual")

    def test_mynetworks_may_relay_but_not_with_routing_tricks(self):
        fr = self.start_frontd({"mynetworks": "127.0.0.0/8"})
        got = rcpt_replies(fr.smtp_port, ALICE, [OUTSIDER, f"user%elsewhere.test@{DOMAIN}",
                                                 f"nobody@{DOMAIN}"])
        self.assertEqual(got[OUTSIDER][0], 250, got)
        self.assertEqual(got[f"user%elsewhere.test@{DOMAIN}"][0], 554, got)
        self.assertEqual(got[f"nobody@{DOMAIN}"][0], 550, got)

    # -- header_checks ---------------------------------------------------------

    def test_header_checks_ignore_removes_received_fields_that_show_127_0_0_1(self):
        rules = self.ws.path / "header_checks"
        rules.write_text("# hide the loopback hops, keep the rest\n"
                         "/^Received: .*[[(]127\\.0\\.0\\.1[])]/ IGNORE\n"
                         "/^Subject: .*forbidden/ REJECT no forbidden subjects here\n")
        fr = self.start_frontd({"header_checks": f"regexp:{rules}"})
        message = (b"Received: from lan-host (lan-host [192.168.1.5])\n\tby gw.example.test; "
                   b"Sat, 28 Nov 2026 10:00:00 +0000\n"
                   b"Received: from localhost (localhost [127.0.0.1])\n\tby gw.example.test; "
                   b"Sat, 28 Nov 2026 10:00:01 +0000\n"
                   + h.simple_message(OUTSIDER, [ALICE], "header checks"))
        h.send_mail(fr.smtp_port, OUTSIDER, [ALICE], message)
        delivered = fr.wait_delivered("alice", 1)[0]
        head, _ = h.split_message(delivered)
        received = [f for f in h.header_fields(head) if f.lower().startswith(b"received:")]
        self.assertEqual(len(received), 1, b"".join(received).decode())
        self.assertIn(b"192.168.1.5", received[0])
        self.assertNotIn(b"127.0.0.1", head, "frontd's own Received is checked too")

        refused = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE],
                              h.simple_message(OUTSIDER, [ALICE], "a forbidden subject"),
                              expect_accept=False)
        self.assertEqual(refused.data_reply[0], 550, refused.data_reply)
        self.assertIn("5.7.1 no forbidden subjects here", refused.data_reply[1])
        self.assertRegex(fr.log(), r"[0-9A-F]+: reject: header Subject: a forbidden subject from "
                         r"unknown\[127\.0\.0\.1\]; from=<someone@elsewhere\.test> "
                         r"to=<alice@example\.test> proto=ESMTP helo=<client\.example\.test>: "
                         r"no forbidden subjects here")
        self.wait_queue_empty(fr)
        self.assertEqual(len(fr.maildir("alice").messages()), 1)

    def test_header_checks_are_reloaded_on_sighup_and_mail_loops_are_refused(self):
        rules = self.ws.path / "header_checks"
        rules.write_text("/^Subject: first/ REJECT first rule\n")
        fr = self.start_frontd({"header_checks": f"pcre:{rules}", "hopcount_limit": "5"})
        message = h.simple_message(OUTSIDER, [ALICE], "second")
        h.send_mail(fr.smtp_port, OUTSIDER, [ALICE], message)
        rules.write_text("/^Subject: second/ REJECT second rule\n")
        os.kill(fr.proc.proc.pid, signal.SIGHUP)
        fr.wait_log(r"header_checks: 1 rules from pcre:.*\n(.*\n)*.*header_checks: 1 rules")
        refused = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE], message, expect_accept=False)
        self.assertEqual(refused.data_reply[0], 550, refused.data_reply)
        self.assertIn("second rule", refused.data_reply[1])
        # A broken table on SIGHUP keeps the old rules.
        rules.write_text("/^Subject: (unclosed/ REJECT x\n")
        os.kill(fr.proc.proc.pid, signal.SIGHUP)
        fr.wait_log(r"keeping the old rules")
        refused = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE], message, expect_accept=False)
        self.assertEqual(refused.data_reply[0], 550, refused.data_reply)

        looping = b"".join(b"Received: from hop%d by hop%d; date\n" % (i, i + 1) for i in range(5))
        refused = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE],
                              looping + h.simple_message(OUTSIDER, [ALICE], "loop"),
                              expect_accept=False)
        self.assertEqual(refused.data_reply[0], 554, refused.data_reply)
        self.assertIn("5.4.6", refused.data_reply[1])
        fr.wait_log(r"NOQUEUE: reject: DATA from unknown\[127\.0\.0\.1\]: 554 5\.4\.6 Too many hops "
                    r"\(6 Received fields\)")
        self.wait_queue_empty(fr)
        self.assertEqual(len(fr.maildir("alice").messages()), 1)

    # -- admin surface -----------------------------------------------------------

    def frontd_cmd(self, fr: h.Frontd, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(fr.binary), "--config", str(fr.conf_path), *args],
                              capture_output=True, text=True, timeout=h.TIMEOUT)

    def test_check_list_flush_and_non_default_settings(self):
        dead_port = free_port()
        fr = self.start_frontd({"content_filter": f"smtp:[127.0.0.1]:{dead_port}",
                                "minimal_backoff_time": "1h", "maximal_backoff_time": "2h"})
        check = self.frontd_cmd(fr, "check")
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("frontd check: no errors", check.stdout)
        n = self.frontd_cmd(fr, "-n")
        self.assertIn("minimal_backoff_time = 1h\n", n.stdout)
        self.assertNotIn("message_size_limit", n.stdout, "defaults are not printed")
        sasl = self.frontd_cmd(fr, "-a")
        self.assertIn("mechanisms: PLAIN LOGIN", sasl.stdout)
        self.assertIn("backends: passwd_file dovecot", sasl.stdout)

        qid = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE, BOB],
                          h.simple_message(OUTSIDER, [ALICE, BOB], "queued")).queue_id
        fr.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, .*status=deferred")
        # The deferral is logged before the queue file's status is saved (as
        # Postfix logs before it updates the queue): wait for the reason.
        listing = None

        def reason_listed():
            nonlocal listing
            listing = self.frontd_cmd(fr, "queue", "list")
            return "next hop failed" in listing.stdout

        h.wait_for(reason_listed, "the deferral reason in the queue listing")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertRegex(listing.stdout, rf"(?m)^{qid} +\d+ .* filter +{re.escape(OUTSIDER)}$")
        self.assertRegex(listing.stdout, r"\(451 4\.4\.1 next hop failed: connect to ")
        self.assertIn(ALICE, listing.stdout)
        self.assertIn("-- 1 Kbytes in 1 Request.", listing.stdout)

        attempts = len(re.findall(rf"{qid}: to=<{re.escape(ALICE)}>", fr.log()))
        flush = self.frontd_cmd(fr, "queue", "flush")
        self.assertEqual(flush.returncode, 0, flush.stdout)
        fr.wait_log(r"queue flush: 1 messages due now")
        h.wait_for(lambda: len(re.findall(rf"{qid}: to=<{re.escape(ALICE)}>", fr.log())) > attempts,
                   "a new attempt after the flush", diagnostics=self.ws.diagnostics)

    def test_check_reports_a_broken_map_with_its_line(self):
        fr = h.Frontd(self.ws)
        fr.write_config()
        with open(fr.vmailbox, "a") as f:
            f.write("broken-line-without-value\n")
        check = self.frontd_cmd(fr, "check")
        self.assertEqual(check.returncode, 1, check.stdout)
        self.assertRegex(check.stdout, rf"error: +virtual_mailbox_maps: {re.escape(str(fr.vmailbox))}:"
                         rf"{len(fr.users) + 1}: expected 'key value'")
        # And the daemon refuses to start with it, saying why.
        with self.assertRaises(AssertionError):
            fr.start(timeout=5)
        self.assertIn("expected 'key value'", fr.log())

    # -- crash safety --------------------------------------------------------

    def test_kill_9_during_a_burst_loses_no_acknowledged_message(self):
        fr = self.start_frontd()           # no content_filter: queue -> Maildir
        acknowledged, attempted = set(), set()
        stop = threading.Event()

        def burst():
            for i in range(200):
                if stop.is_set():
                    return
                mid = f"<burst-{i}@{DOMAIN}>"
                attempted.add(mid)
                message = (f"From: {OUTSIDER}\nTo: {ALICE}\nSubject: burst {i}\n"
                           f"Message-ID: {mid}\n\nmessage {i}\n").encode()
                try:
                    r = h.send_mail(fr.smtp_port, OUTSIDER, [ALICE], message, timeout=5,
                                    expect_accept=False)
                except (OSError, smtplib.SMTPException):
                    return                     # frontd is gone
                if r.data_reply and r.data_reply[0] == 250:
                    acknowledged.add(mid)
        sender = threading.Thread(target=burst)
        sender.start()
        h.wait_for(lambda: len(acknowledged) >= 20, "20 acknowledged messages")
        os.kill(fr.proc.proc.pid, signal.SIGKILL)
        stop.set()
        sender.join(h.TIMEOUT)
        fr.proc.proc.wait(5)
        fr.start()
        h.wait_for(lambda: not fr.queued() and len(fr.maildir("alice").files()) >= len(acknowledged),
                   "the queue to drain after the restart", diagnostics=self.ws.diagnostics)
        delivered = [m["Message-ID"] for m in fr.maildir("alice").parsed()]
        missing = acknowledged - set(delivered)
        self.assertEqual(missing, set(), "acknowledged but never delivered")
        # A message written to the queue whose 250 the kill swallowed may
        # arrive too (the client would have retried it): at most one.
        unacknowledged = set(delivered) - acknowledged
        self.assertLessEqual(len(unacknowledged), 1, unacknowledged)
        self.assertTrue(unacknowledged <= attempted)
        duplicates = len(delivered) - len(set(delivered))
        self.assertLessEqual(duplicates, 1, "a duplicate is only possible for the one delivery "
                             "in progress when frontd was killed")


if __name__ == "__main__":
    unittest.main()
