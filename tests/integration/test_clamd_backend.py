"""filterd with clamav_backend = clamd against a real clamd (unix and inet sockets).

Most cases talk SMTP straight to filterd with smtplib and use a Python SMTP
sink (harness.SmtpSink) as the forward target; one path goes through a real
Postfix in after-queue mode.  The rule under test: a scanner that is down
never yields a 250, only a 4xx, and nothing is lost.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_clamd_backend.py
(as root; needs the Debian packages postfix and clamav-daemon).
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, FILTERD_HOSTNAME, EICAR_SIGNATURE_NAME, free_port  # noqa: E402

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"


def setUpModule():
    h.require(h.postfix_missing(), h.Clamd.missing(), h.filterd_missing())


class ClamdBackendTest(h.IntegrationTestCase):

    def filterd(self, clamd_address: str, forward_port: int, destiny: str = "D_REJECT"):
        self.filterd_port = free_port()
        return self.start_filterd({
            "listen": f"smtp:127.0.0.1:{self.filterd_port}",
            "forward": f"smtp:127.0.0.1:{forward_port}",
            "clamav_backend": "clamd",
            "clamd_socket": clamd_address,
            "final_virus_destiny": destiny,
            "state_dir": str(self.ws.sub("filterd-state")),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
        })

    def send(self, message: bytes):
        return h.send_mail(self.filterd_port, ALICE, [BOB], message, expect_accept=False)

    def check_eicar_rejected_and_clean_passed(self, clamd_address: str):
        sink = self.sink()
        self.filterd(clamd_address, sink.port)
        r = self.send(h.eicar_message(ALICE, [BOB]))
        code, text = r.data_reply
        self.assertEqual(code, 554, f"EICAR via clamd ({clamd_address}): filterd answered {r.data_reply}")
        self.assertTrue(text.startswith("5.7.0"), f"enhanced status must be 5.7.0: {r.data_reply}")
        self.assertIn(EICAR_SIGNATURE_NAME, text, f"reply should name the virus: {r.data_reply}")
        self.assertEqual(sink.messages, [], "rejected mail must not be forwarded")

        r = self.send(h.simple_message(ALICE, [BOB], "clean via clamd"))
        self.assertEqual(r.data_reply[0], 250, f"clean mail: filterd answered {r.data_reply}")
        got = sink.wait_messages(1)
        self.assertTrue(got[0].data.lower().startswith(b"x-virus-scanned:"), got[0].data[:300])
        self.assertEqual((got[0].mail_from, got[0].rcpt_to), (ALICE, [BOB]))

    def test_eicar_is_rejected_through_clamd_unix_socket(self):
        clamd = self.start_clamd()
        self.check_eicar_rejected_and_clean_passed(clamd.unix_address)

    def test_eicar_is_rejected_through_clamd_inet_socket(self):
        clamd = self.start_clamd()
        self.check_eicar_rejected_and_clean_passed(clamd.inet_address)

    def test_clamd_down_gives_a_temporary_failure_never_250(self):
        clamd = self.start_clamd()
        sink = self.sink()
        self.filterd(clamd.unix_address, sink.port)
        clamd.stop()
        for message in (h.simple_message(ALICE, [BOB], "clamd down"), h.eicar_message(ALICE, [BOB])):
            r = self.send(message)
            code, text = r.data_reply or r.mail_reply
            self.assertTrue(400 <= code < 500, f"clamd down: filterd answered {code} {text}, wanted 4xx")
            self.assertEqual(code, 451, f"contract says 451: {code} {text}")
        # The exact dialog, as an operator would see it with swaks.
        r = h.swaks(self.filterd_port, "--from", ALICE, "--to", BOB, "--helo", "client.example.test",
                    "--header", "Subject: clamd down (swaks)")
        self.assertRegex(r.stdout, r"(?m)^<\*\* +451 4\.\d+\.\d+ ",
                         "swaks dialog should end in a 451 at end of DATA:\n" + r.stdout)
        self.assertNotRegex(r.stdout, r"(?m)^<- +250 .*queued", r.stdout)
        self.assertEqual(sink.messages, [], "nothing may be forwarded unscanned")

    def test_clamd_down_via_postfix_defers_and_delivers_after_clamd_returns(self):
        clamd = self.start_clamd()
        filterd_port = free_port()
        pf = self.start_postfix(filter_port=filterd_port)
        self.filterd_port = filterd_port
        self.start_filterd({
            "listen": f"smtp:127.0.0.1:{filterd_port}",
            "forward": f"smtp:127.0.0.1:{pf.reinject_port}",
            "clamav_backend": "clamd",
            "clamd_socket": clamd.inet_address,
            "final_virus_destiny": "D_REJECT",
            "state_dir": str(self.ws.sub("filterd-state")),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
        })
        # EICAR through the whole chain: Postfix bounces filterd's 554.
        qid = pf.send(ALICE, [BOB], h.eicar_message(ALICE, [BOB])).queue_id
        d = pf.wait_delivery(qid, "bounced", to=BOB)
        self.assertIn("554 5.7.0", d.text, d.line)
        self.assertIn(EICAR_SIGNATURE_NAME, d.text, d.line)
        pf.wait_delivered("alice", 1)           # Postfix's bounce to the sender

        clamd.stop()
        qid = pf.send(ALICE, [BOB], h.clean_message_from_corpus()).queue_id
        d = pf.wait_delivery(qid, "deferred", to=BOB)
        self.assertRegex(d.text, r"\b451\b", d.line)
        self.assertIn(qid, [m["queue_id"] for m in pf.queue()])
        self.assertEqual(pf.maildir("bob").messages(), [])

        clamd.start()
        pf.flush()
        pf.wait_delivery(qid, "sent", to=BOB)
        self.assertEqual(len(pf.wait_delivered("bob", 1)), 1)
        pf.wait_queue_empty()


if __name__ == "__main__":
    unittest.main(verbosity=2)
