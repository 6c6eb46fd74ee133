"""filterd's policy behind a real Postfix (after-queue content_filter):
banned attachments bounced with a DSN or rejected, attachments removed with
the rest of the message byte-identical, recipients with different policies
in one message (SMTP and LMTP), policy banks chosen by listening port, and
admin notices.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_policy.py
(as root; needs the Debian package postfix).
"""

import email
import email.policy
import sys
import time
import unittest
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, FILTERD_HOSTNAME, free_port  # noqa: E402

ALICE, BOB, CAROL, DAVE = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol", "dave"))
GRACE = 1.0


def setUpModule():
    h.require(h.postfix_missing(), h.filterd_missing())


def mail_with_attachment(name: str, payload: bytes, subject: str = "your invoice") -> bytes:
    """multipart/mixed: a text part, a small text attachment, then NAME (base64)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = ALICE
    msg["To"] = BOB
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    msg.set_content("Please find the invoice attached.\n")
    msg.add_attachment(b"notes, nothing to see\n", maintype="text", subtype="plain",
                       filename="notes.txt")
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


BANNED = ("invoice.pdf.exe", b"this is not really a program\n" * 4)


def parts_raw(message: bytes) -> list[bytes]:
    """The raw bytes of each top-level MIME part (between the delimiters)."""
    message = message.replace(b"\r\n", b"\n")
    msg = email.message_from_bytes(message, policy=email.policy.compat32)
    boundary = msg.get_boundary().encode()
    body = b"\n" + message.split(b"\n\n", 1)[1]
    chunks = body.split(b"\n--" + boundary)
    return [c.lstrip(b"\n") for c in chunks[1:-1]]  # drop the preamble and the epilogue


class PolicyTest(h.IntegrationTestCase):

    def chain(self, transport="smtp", extra=None, sections=None, bank_port=None, main_cf=None):
        return self.start_filter_chain(transport, extra, sections, bank_port, main_cf)

    def assert_no_mail(self, pf, *users):
        pf.wait_queue_empty()
        time.sleep(GRACE)
        for user in users:
            self.assertEqual(pf.maildir(user).messages(), [], f"{user} must receive nothing")

    def assert_dsn(self, raw: bytes, failed: list[str], status_prefix="5.7."):
        """A valid RFC 3464 DSN: multipart/report with message/delivery-status
        naming exactly FAILED, and the original header section."""
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        self.assertEqual(msg["Return-Path"], "<>")
        self.assertEqual(msg.get_content_type(), "multipart/report", raw[:1500])
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        status = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"]
        self.assertEqual(len(status), 1)
        blocks = status[0].get_payload()[1:]
        got = sorted((b.get("Final-Recipient") or "").split(";")[-1].strip() for b in blocks)
        self.assertEqual(got, sorted(failed), status[0].as_string())
        for b in blocks:
            self.assertEqual((b.get("Action") or "").strip(), "failed")
            self.assertTrue((b.get("Status") or "").strip().startswith(status_prefix), b.as_string())
        headers = [p for p in msg.walk() if p.get_content_type() == "text/rfc822-headers"]
        self.assertEqual(len(headers), 1, "the DSN must carry the original header section")
        return msg, headers[0].get_payload()

    # ------------------------------------------------------------------

    def test_banned_attachment_is_bounced_by_dsn_with_the_original_headers(self):
        pf, fd = self.chain(extra={"banned_admin": DAVE})
        qid = pf.send(ALICE, [BOB], mail_with_attachment(*BANNED, subject="banned one")).queue_id
        d = pf.first_delivery(qid, BOB)
        self.assertEqual(d.status, "sent", d.line)
        self.assertIn("2.5.0", d.text, d.line)
        self.assertIn("BANNED", d.text, d.line)
        dsn = pf.wait_delivered("alice", 1)[0]
        _, headers = self.assert_dsn(dsn, [BOB])
        self.assertIn("Subject: banned one", headers)
        self.assertIn(b"invoice.pdf.exe", dsn)
        self.assertNotIn(b"this is not really a program", dsn, "a DSN must not carry the body")
        notice = email.message_from_bytes(pf.wait_delivered("dave", 1)[0],
                                          policy=email.policy.default)
        self.assertEqual(notice["Auto-Submitted"], "auto-generated")
        self.assertIn("invoice.pdf.exe", notice.get_content())
        self.assert_no_mail(pf, "bob")
        self.assertIn("Blocked BANNED (p003 invoice.pdf.exe", fd.stderr())

    def test_banned_attachment_with_d_reject_makes_postfix_bounce(self):
        pf, fd = self.chain(extra={"final_banned_destiny": "D_REJECT"})
        qid = pf.send(ALICE, [BOB], mail_with_attachment(*BANNED)).queue_id
        d = pf.first_delivery(qid, BOB)
        self.assertEqual(d.status, "bounced", d.line)
        self.assertIn("554 5.7.0", d.text, d.line)
        bounce = email.message_from_bytes(pf.wait_delivered("alice", 1)[0],
                                          policy=email.policy.compat32)
        self.assertIn("MAILER-DAEMON", bounce["From"])
        self.assert_no_mail(pf, "bob")

    def test_removed_attachments_leave_every_other_part_byte_identical(self):
        cases = [("banned", {"remove_banned_parts": "yes"}, BANNED, "BANNED"),
                 ("infected", {"remove_infected_parts": "yes"}, ("eicar.com", h.EICAR),
                  "Eicar-Test-Signature")]
        pf, fd = self.chain(extra={"remove_banned_parts": "yes", "remove_infected_parts": "yes"})
        for n, (label, _, (name, payload), why) in enumerate(cases, start=1):
            with self.subTest(label):
                original = mail_with_attachment(name, payload, subject=f"remove {label}")
                pf.send(ALICE, [BOB], original)
                got = pf.wait_delivered("bob", n)[-1]
                before, after = parts_raw(original), parts_raw(got)
                self.assertEqual(len(after), 3, got.decode(errors="replace"))
                self.assertEqual(after[:2], before[:2], "untouched parts must stay byte-identical")
                notice = after[2].decode()
                self.assertIn("Content-Type: text/plain", notice)
                self.assertIn(name, notice)
                self.assertIn(why, notice)
                self.assertNotIn(payload.decode(errors="replace")[:20], got.decode(errors="replace"))
                tail = original.replace(b"\r\n", b"\n")
                self.assertTrue(got.endswith(tail[tail.rindex(b"\n--"):]), "epilogue changed")
        self.assert_no_mail(pf, "alice")
        self.assertIn("removed p003 invoice.pdf.exe", fd.stderr())

    def test_recipients_with_different_policies_smtp_delivers_and_bounces_the_rest(self):
        pf, fd = self.chain(extra={"recipient": f"{BOB} banned_files_lover=yes"})
        qid = pf.send(ALICE, [BOB, CAROL], mail_with_attachment(*BANNED)).queue_id
        for r in (BOB, CAROL):
            d = pf.first_delivery(qid, r)
            self.assertEqual(d.status, "sent", d.line)  # SMTP: one reply for both
        got = email.message_from_bytes(pf.wait_delivered("bob", 1)[0],
                                       policy=email.policy.compat32)
        self.assertIn("BANNED", got["X-Filterd-Alert"] or "", str(got)[:1500])
        self.assert_dsn(pf.wait_delivered("alice", 1)[0], [CAROL])
        self.assert_no_mail(pf, "carol")
        self.assertIn("1/2 recipients passed", fd.stderr())

    def test_recipients_with_different_policies_lmtp_replies_per_recipient(self):
        pf, fd = self.chain(transport="lmtp",
                            extra={"recipient": f"{BOB} banned_files_lover=yes",
                                   "final_banned_destiny": "D_REJECT"})
        qid = pf.send(ALICE, [BOB, CAROL], mail_with_attachment(*BANNED)).queue_id
        self.assertEqual(pf.first_delivery(qid, BOB).status, "sent")
        d = pf.first_delivery(qid, CAROL)
        self.assertEqual(d.status, "bounced", d.line)
        self.assertIn("554 5.7.0", d.text)
        pf.wait_delivered("bob", 1)
        bounce = pf.wait_delivered("alice", 1)[0]   # Postfix's own bounce, for carol only
        self.assertIn(CAROL.encode(), bounce)
        self.assert_no_mail(pf, "carol")

    def test_policy_bank_by_port_lets_originating_mail_through(self):
        bank_port = free_port()
        pf, fd = self.chain(
            bank_port=bank_port,
            extra={"policy_bank_by_port": f"{bank_port}:ORIGINATING"},
            sections={"[policy_bank ORIGINATING]": {"final_banned_destiny": "D_PASS",
                                                    "subject_tag_banned": '"[banned] "'}})
        pf.send(ALICE, [BOB], mail_with_attachment(*BANNED, subject="outbound"), submission=True)
        got = email.message_from_bytes(pf.wait_delivered("bob", 1)[0],
                                       policy=email.policy.compat32)
        self.assertEqual(got["Subject"], "[banned] outbound")
        self.assertIn("bank ORIGINATING", fd.stderr())
        # The same mail on the ordinary port gets the base bank: bounced.
        pf.send(ALICE, [BOB], mail_with_attachment(*BANNED, subject="inbound"))
        self.assert_dsn(pf.wait_delivered("alice", 1)[0], [BOB])
        pf.wait_queue_empty()
        time.sleep(GRACE)
        self.assertEqual(len(pf.maildir("bob").messages()), 1)

    def test_address_extension_for_passed_banned_mail(self):
        pf, fd = self.chain(extra={"recipient": f"{BOB} banned_files_lover=yes",
                                   "recipient_delimiter": "+"},
                            main_cf={"recipient_delimiter": "+"})
        pf.send(ALICE, [BOB], mail_with_attachment(*BANNED))
        got = email.message_from_bytes(pf.wait_delivered("bob", 1)[0],
                                       policy=email.policy.compat32)
        self.assertEqual(got["X-Original-To"], f"bob+banned@{DOMAIN}")

    def test_blocked_local_recipient_is_warned_in_japanese_when_configured(self):
        pf, fd = self.chain(extra={"final_banned_destiny": "D_DISCARD",
                                   "warn_banned_recipient": "yes",
                                   "notify_templates": "builtin:ja"})
        pf.send(ALICE, [BOB], mail_with_attachment(*BANNED, subject="warn me"))
        raw = pf.wait_delivered("bob", 1)[0]
        warning = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(warning["Auto-Submitted"], "auto-generated")
        self.assertIn("<>", warning["Return-Path"] or "<>")
        self.assertRegex(str(warning["Subject"]), r"[\u3040-\u30ff\u4e00-\u9fff]",
                         "the Japanese template's subject, decoded from RFC 2047")
        body = warning.get_content()
        self.assertIn("invoice.pdf.exe", body)
        self.assertNotIn(b"this is not really a program", raw)
        self.assert_no_mail(pf, "alice")

    def test_bulk_mail_gets_no_dsn(self):
        pf, fd = self.chain()
        raw = mail_with_attachment(*BANNED).replace(b"Subject:", b"Precedence: bulk\nSubject:", 1)
        pf.send(ALICE, [BOB], raw)
        pf.wait_queue_empty()
        h.wait_for(lambda: "no DSN (bulk mail)" in fd.stderr(), "summary line", h.TIMEOUT)
        self.assert_no_mail(pf, "alice", "bob")


if __name__ == "__main__":
    unittest.main(verbosity=2)
