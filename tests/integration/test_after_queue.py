"""filterd behind a real Postfix in after-queue mode (content_filter).

Each test builds its own private Postfix instance (harness.Postfix), starts
filterd with the in-process ClamAV engine and a generated EICAR signature db,
sends real mail into Postfix's smtpd and checks what ends up in the virtual
users' Maildirs and in Postfix's log:

  client --smtp--> Postfix smtpd --content_filter--> filterd --forward-->
         Postfix reinjection smtpd (no content_filter) --> virtual(8) --> Maildir

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_after_queue.py
(as root; needs the Debian packages postfix and, for the corpus, ../shared/corpus).
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

ALICE, BOB, CAROL, DAVE = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol", "dave"))

# How long to keep looking for mail that must NOT arrive, after Postfix's
# queue is empty (delivery to the Maildir happens before qmgr's "removed").
GRACE = 1.0

# Header fields that Postfix and filterd may put above the original header
# block: virtual(8) adds Return-Path, X-Original-To, Delivered-To; each smtpd
# pass adds a Received; filterd adds X-Virus-Scanned.
PREPENDED_FIELDS = {b"return-path", b"x-original-to", b"delivered-to", b"received",
                    b"x-virus-scanned"}

# Fields that Postfix's cleanup(8) removes from incoming mail.
POSTFIX_DROPPED_FIELDS = {b"return-path", b"content-length"}


def setUpModule():
    h.require(h.postfix_missing(), h.filterd_missing())


def field_name(f: bytes) -> bytes:
    return f.split(b":", 1)[0].strip().lower()


class AfterQueueTest(h.IntegrationTestCase):

    def chain(self, destiny=None, transport="smtp", tap=False, unix_lmtp=False, forward_port=None):
        """Postfix -> filterd -> Postfix.  With tap=True, TcpTaps record what
        Postfix sent to filterd (self.tap_in) and what filterd forwarded (self.tap_out)."""
        ws = self.ws
        filterd_port = free_port()
        postfix_filter_port = filterd_port
        if tap:
            self.tap_in = h.TcpTap(filterd_port)
            self.addCleanup(self.tap_in.close)
            postfix_filter_port = self.tap_in.port
        nexthop = None
        if unix_lmtp:
            sock = ws.sub("filterd-sock") / "lmtp.sock"
            listen = f"lmtp:unix:{sock}"
            nexthop = f"unix:{sock}"
        else:
            listen = f"{transport}:127.0.0.1:{filterd_port}"
        pf = self.start_postfix(filter_port=postfix_filter_port, filter_transport=transport,
                                filter_nexthop=nexthop)
        forward_port = forward_port or pf.reinject_port
        if tap:
            self.tap_out = h.TcpTap(pf.reinject_port)
            self.addCleanup(self.tap_out.close)
            forward_port = self.tap_out.port
        config = {
            "listen": listen,
            "forward": f"smtp:127.0.0.1:{forward_port}",
            "clamav_backend": "libclamav",
            "clamav_db": str(self.make_signatures()),
            "state_dir": str(ws.sub("filterd-state")),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
        }
        if destiny:
            config["final_virus_destiny"] = destiny
        if unix_lmtp:
            config["unix_socket_group"] = "postfix"  # Postfix's lmtp client runs as postfix
        self.filterd_port = filterd_port
        fd = self.start_filterd(config)
        return pf, fd

    def first_attempt(self, pf, qid, to, status):
        """Postfix's first attempt for TO must already have STATUS (no retry hides a bug)."""
        d = pf.first_delivery(qid, to)
        self.assertEqual(d.status, status, f"first delivery attempt: {d.line}")
        return d

    def assert_no_mail(self, pf, *users):
        pf.wait_queue_empty()
        time.sleep(GRACE)
        for user in users:
            got = pf.maildir(user).messages()
            self.assertEqual(got, [], f"{user} must receive nothing, got:\n"
                             + "\n---\n".join(m.decode(errors="replace")[:2000] for m in got)
                             + "\n" + self.ws.diagnostics())

    def assert_virus_scanned(self, message: bytes):
        head, _ = h.split_message(message)
        names = [field_name(f) for f in h.header_fields(head)]
        self.assertIn(b"x-virus-scanned", names,
                      "delivered mail has no X-Virus-Scanned header:\n" + head.decode(errors="replace"))

    # a ------------------------------------------------------------------

    def test_clean_mail_is_delivered_with_x_virus_scanned_and_otherwise_unchanged(self):
        pf, fd = self.chain(tap=True)
        original = h.clean_message_from_corpus()
        self.assertNotIn(b"\r", original, "corpus message must be plain LF text")
        orig_head, orig_body = h.split_message(original)
        self.assertRegex(orig_head, rb"(?mi)^message-id:", "pick a corpus message with Message-ID")
        self.assertRegex(orig_head, rb"(?mi)^date:", "pick a corpus message with Date")

        qid = pf.send(ALICE, [BOB], original).queue_id
        delivered = pf.wait_delivered("bob", 1)
        d = self.first_attempt(pf, qid, BOB, "sent")
        self.assertEqual(d.relay, f"127.0.0.1[127.0.0.1]:{self.tap_in.port}",
                         f"Postfix did not hand the mail to the content filter: {d.line}")
        pf.wait_queue_empty()
        self.assertEqual(len(pf.maildir("bob").messages()), 1, "exactly one copy must be delivered")
        delivered = delivered[0]

        # 1. filterd's own output: X-Virus-Scanned on top, every other byte as received.
        passed = self.tap_in.messages()
        forwarded = self.tap_out.messages()
        self.assertEqual(len(passed), 1, f"Postfix passed {len(passed)} messages to filterd")
        self.assertEqual(len(forwarded), 1, f"filterd forwarded {len(forwarded)} messages")
        passed, forwarded = passed[0], forwarded[0]
        first = h.header_fields(h.split_message(forwarded)[0])[0]
        self.assertTrue(first.lower().startswith(b"x-virus-scanned:"),
                        f"first header field filterd forwarded is not X-Virus-Scanned: {first!r}")
        self.assertTrue(first.endswith(b"\r\n"), f"X-Virus-Scanned not CRLF-terminated: {first!r}")
        if forwarded[len(first):] != passed:
            self.fail("filterd changed bytes other than adding X-Virus-Scanned on top:\n"
                      + first_difference(passed, forwarded[len(first):]))

        # 2. the Maildir file: Postfix's block as passed to filterd, intact and
        #    contiguous, below the fields Postfix and filterd prepend; body exact.
        passed_head, passed_body = h.split_message(h.to_lf(passed))
        got_head, got_body = h.split_message(delivered)
        if got_body != orig_body:
            self.fail("delivered body differs from the original:\n" + first_difference(orig_body, got_body))
        self.assertEqual(passed_body, orig_body, "Postfix itself changed the body on the way to filterd")
        self.assertTrue(got_head.endswith(passed_head),
                        "header block as passed to filterd is not intact at the end of the delivered "
                        "header:\n--- passed:\n" + passed_head.decode(errors="replace")
                        + "\n--- delivered:\n" + got_head.decode(errors="replace"))
        prefix = h.header_fields(got_head[:len(got_head) - len(passed_head)])
        extra = [f for f in prefix if field_name(f) not in PREPENDED_FIELDS]
        self.assertEqual(extra, [], "unexpected header fields above the original block")
        self.assertEqual([field_name(f) for f in prefix].count(b"x-virus-scanned"), 1,
                         "exactly one X-Virus-Scanned expected:\n" + got_head.decode(errors="replace"))

        # 3. in terms of the original message: its header fields (less those
        #    cleanup(8) drops) are one contiguous unchanged block.
        kept = b"".join(f for f in h.header_fields(orig_head)
                        if field_name(f) not in POSTFIX_DROPPED_FIELDS)
        self.assertTrue(got_head.endswith(kept),
                        "original header fields are not one contiguous unchanged block")

    # b ------------------------------------------------------------------

    def test_eicar_with_default_destiny_is_accepted_and_discarded(self):
        pf, fd = self.chain()          # final_virus_destiny left at its default (D_DISCARD)
        qid = pf.send(ALICE, [BOB], h.eicar_message(ALICE, [BOB])).queue_id
        d = self.first_attempt(pf, qid, BOB, "sent")
        self.assertEqual(d.relay, f"127.0.0.1[127.0.0.1]:{self.filterd_port}", d.line)
        self.assertTrue(d.text.startswith("250"), d.line)
        self.assertTrue(d.program.startswith("postfix/filterd/"), d.line)
        pf.wait_removed(qid)
        self.assert_no_mail(pf, "bob", "alice")

    # c ------------------------------------------------------------------

    def test_eicar_with_d_reject_makes_postfix_bounce_to_the_sender(self):
        pf, fd = self.chain(destiny="D_REJECT")
        qid = pf.send(ALICE, [BOB], h.eicar_message(ALICE, [BOB])).queue_id
        d = self.first_attempt(pf, qid, BOB, "bounced")
        self.assertIn("554 5.7.0", d.text, d.line)
        self.assertEqual(d.dsn, "5.7.0", d.line)
        # Postfix's own bounce does not pass content_filter (internal mail;
        # internal_mail_filter_classes is empty), so it reaches the sender
        # directly, even though it returns the infected message.
        bounces = pf.wait_delivered("alice", 1)
        pf.wait_queue_empty()
        bounce = bounces[0]
        msg = email.message_from_bytes(bounce, policy=email.policy.compat32)
        self.assertIn("MAILER-DAEMON", msg["From"], msg["From"])
        self.assertEqual(msg["Return-Path"], "<>")
        self.assertIn(b"554 5.7.0", bounce, "bounce does not mention filterd's 554 5.7.0")
        self.assert_no_mail(pf, "bob")
        self.assertEqual(len(pf.maildir("alice").messages()), 1, "exactly one bounce expected")

    # d ------------------------------------------------------------------

    def test_eicar_with_d_bounce_sends_a_dsn_to_the_sender(self):
        pf, fd = self.chain(destiny="D_BOUNCE")
        qid = pf.send(ALICE, [BOB], h.eicar_message(ALICE, [BOB])).queue_id
        d = self.first_attempt(pf, qid, BOB, "sent")
        self.assertTrue(d.text.startswith("250"), d.line)
        dsns = pf.wait_delivered("alice", 1)
        pf.wait_queue_empty()
        self.assertEqual(len(pf.maildir("alice").messages()), 1, "exactly one DSN expected")
        raw = dsns[0]
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        self.assertEqual(msg["Return-Path"], "<>", "a DSN must have a null envelope sender (RFC 3464 2.)")
        self.assertEqual(msg.get_content_type(), "multipart/report", raw[:2000])
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        status_parts = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"]
        self.assertEqual(len(status_parts), 1, "one message/delivery-status part expected")
        blocks = status_parts[0].get_payload()      # per-message fields, then per-recipient
        self.assertGreaterEqual(len(blocks), 2, "delivery-status needs a per-recipient block")
        rcpt_blocks = blocks[1:]
        self.assertTrue(any((b.get("Action") or "").strip().lower() == "failed" for b in rcpt_blocks),
                        "no per-recipient block with Action: failed:\n" + status_parts[0].as_string())
        self.assertTrue(any(BOB in (b.get("Final-Recipient") or "") for b in rcpt_blocks),
                        "no Final-Recipient for the recipient:\n" + status_parts[0].as_string())
        self.assertTrue(any(re.match(r"5\.\d+\.\d+", (b.get("Status") or "").strip())
                            for b in rcpt_blocks), "Status must be a 5.x.x code")
        self.assert_no_mail(pf, "bob")

    # e ------------------------------------------------------------------

    def test_mail_waits_in_the_queue_while_filterd_is_down_and_nothing_is_lost(self):
        pf, fd = self.chain()
        status = fd.stop()
        qid = pf.send(ALICE, [BOB], h.clean_message_from_corpus()).queue_id
        d = pf.wait_delivery(qid, "deferred", to=BOB)
        self.assertIn(str(self.filterd_port), d.text, d.line)
        self.assertIn(qid, [m["queue_id"] for m in pf.queue()], "mail must stay in the queue")
        self.assertEqual(pf.maildir("bob").messages(), [])

        fd.start()
        pf.flush()
        pf.wait_delivery(qid, "sent", to=BOB)
        delivered = pf.wait_delivered("bob", 1)
        pf.wait_queue_empty()
        time.sleep(GRACE)
        self.assertEqual(len(pf.maildir("bob").messages()), 1, "exactly one copy must be delivered")
        self.assert_virus_scanned(delivered[0])
        # Exit status 0 or death by SIGTERM both mean "exits on SIGTERM";
        # -9 means it ignored SIGTERM for 10 s and the harness had to kill it.
        self.assertIn(status, (0, -15), f"filterd did not exit on SIGTERM (status {status})")

    def test_next_hop_down_makes_postfix_defer_and_nothing_is_lost(self):
        # filterd's forward target refuses connections: filterd must answer
        # 4xx (451), never 250, so the mail stays in Postfix's queue.
        dead_port = free_port()
        pf, fd = self.chain(forward_port=dead_port)
        qid = pf.send(ALICE, [BOB], h.clean_message_from_corpus()).queue_id
        d = self.first_attempt(pf, qid, BOB, "deferred")
        self.assertRegex(d.text, r"\b451\b", f"filterd should answer 451 when the next hop is down: {d.line}")
        self.assertIn(qid, [m["queue_id"] for m in pf.queue()], "mail must stay in the queue")

        fd.stop()
        fd.config["forward"] = f"smtp:127.0.0.1:{pf.reinject_port}"
        fd.start()
        pf.flush()
        pf.wait_delivery(qid, "sent", to=BOB)
        self.assert_virus_scanned(pf.wait_delivered("bob", 1)[0])
        pf.wait_queue_empty()
        time.sleep(GRACE)
        self.assertEqual(len(pf.maildir("bob").messages()), 1, "exactly one copy must be delivered")

    # f ------------------------------------------------------------------

    def test_multi_recipient_mail_reaches_every_recipient(self):
        pf, fd = self.chain()
        rcpts = [BOB, CAROL, DAVE]
        msg = h.simple_message(ALICE, rcpts, "to three", "one message, three recipients\n")
        qid = pf.send(ALICE, rcpts, msg).queue_id
        for r in rcpts:
            self.first_attempt(pf, qid, r, "sent")
        for user in ("bob", "carol", "dave"):
            got = pf.wait_delivered(user, 1)
            self.assert_virus_scanned(got[0])
            self.assertTrue(got[0].endswith(b"\n\none message, three recipients\n"))
        pf.wait_queue_empty()
        time.sleep(GRACE)
        for user in ("bob", "carol", "dave"):
            self.assertEqual(len(pf.maildir(user).messages()), 1, f"{user}: exactly one copy")

    # g ------------------------------------------------------------------

    def test_lmtp_content_filter_delivers_clean_mail(self):
        pf, fd = self.chain(transport="lmtp")
        self.assertTrue(pf.content_filter.startswith("filterd-lmtp:inet:127.0.0.1:"))
        rcpts = [BOB, CAROL]
        qid = pf.send(ALICE, rcpts, h.clean_message_from_corpus()).queue_id
        for r in rcpts:
            d = self.first_attempt(pf, qid, r, "sent")
            self.assertTrue(d.program.startswith("postfix/filterd-lmtp/"), d.line)
        for user in ("bob", "carol"):
            self.assert_virus_scanned(pf.wait_delivered(user, 1)[0])
        pf.wait_queue_empty()

    def test_lmtp_over_a_unix_socket_delivers_clean_mail(self):
        # listen = lmtp:unix:PATH.  Postfix's lmtp client runs as mail_owner
        # (postfix), not root: filterd's socket must let that user connect
        # (amavisd-new has $unix_socket_mode for this).
        pf, fd = self.chain(transport="lmtp", unix_lmtp=True)
        sock = fd.listens[0].split(":", 2)[2]
        problem = h.connect_as_user(sock, "postfix")
        self.assertIsNone(problem, f"Postfix's lmtp client (user postfix) cannot connect to filterd's "
                          f"LMTP socket: {problem}; socket is {h.describe_path(sock)}")
        qid = pf.send(ALICE, [BOB], h.clean_message_from_corpus()).queue_id
        d = self.first_attempt(pf, qid, BOB, "sent")
        self.assertTrue(d.program.startswith("postfix/filterd-lmtp/"), d.line)
        self.assert_virus_scanned(pf.wait_delivered("bob", 1)[0])
        pf.wait_queue_empty()

def first_difference(a: bytes, b: bytes) -> str:
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return (f"first difference at byte {n} (lengths {len(a)} vs {len(b)}):\n"
            f"  expected: {a[max(0, n - 80):n + 80]!r}\n  got:      {b[max(0, n - 80):n + 80]!r}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
