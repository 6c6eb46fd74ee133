"""filterd as Postfix's before-queue content filter (smtpd_proxy_filter,
SMTPD_PROXY_README), with swaks as the remote client: clean mail is
delivered, EICAR is refused while the client is still connected (no
backscatter), filterd being down costs the client a 451 and loses nothing,
a multi-recipient transaction, a policy bank bound to the proxy port, and
smtpd_proxy_options = speed_adjust on and off.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_proxy.py
(as root; needs the Debian packages postfix and swaks).
"""

import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN  # noqa: E402

ALICE, BOB, CAROL = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol"))
OUTSIDER = "sender@outside.example"
GRACE = 1.0


def setUpModule():
    h.require(h.postfix_missing(), h.filterd_missing())


class ProxyTest(h.IntegrationTestCase):

    def chain(self, speed_adjust=False, extra=None, strict=True):
        """strict: a policy bank bound to the proxy port refuses viruses in
        the dialog (the base policy discards them, as amavis's)."""
        main_cf = {"smtpd_proxy_options": "speed_adjust"} if speed_adjust else {}
        sections = {"[policy_bank STRICT]": {"final_virus_destiny": "D_REJECT"}} if strict else {}
        return self.start_proxy_chain(extra=extra, sections=sections, main_cf=main_cf,
                                      bank="STRICT" if strict else None)

    def send(self, pf, recipients, message: bytes, name="msg.eml"):
        path = self.ws.path / name
        path.write_bytes(message)
        return h.swaks(pf.smtp_port, "--from", OUTSIDER, "--helo", "client.example",
                       "--to", ",".join(recipients), "--data", str(path))

    def assert_no_mail(self, pf, *users):
        pf.wait_queue_empty()
        time.sleep(GRACE)
        for user in users:
            self.assertEqual(pf.maildir(user).messages(), [], f"{user} must receive nothing")

    # ------------------------------------------------------------------

    def check_clean_and_eicar(self, speed_adjust):
        pf, fd = self.chain(speed_adjust=speed_adjust)
        clean = h.simple_message(OUTSIDER, [BOB], "clean through the proxy")
        sent = self.send(pf, [BOB], clean)
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        self.assertRegex(sent.stdout, r"<-\s+250 2\.0\.0 Ok: queued as")
        got = pf.wait_delivered("bob", 1)[0]
        self.assertIn(b"X-Virus-Scanned: filterd at", got)
        self.assertIn(b"clean through the proxy", got)
        self.assertIn("Passed CLEAN", fd.stderr())
        self.assertIn("bank STRICT", fd.stderr(), "the proxy port's bank applies")

        virus = h.eicar_message(OUTSIDER, [BOB], subject="eicar through the proxy")
        refused = self.send(pf, [BOB], virus, "eicar.eml")
        self.assertNotEqual(refused.returncode, 0, refused.stdout)
        self.assertIn("554 5.7.0", refused.stdout, "refused during the dialog")
        self.assertIn("Eicar-Test-Signature", refused.stdout)
        self.assert_no_mail(pf, "alice")
        self.assertEqual(len(pf.maildir("bob").messages()), 1, "only the clean one")
        self.assertIn("Blocked INFECTED", fd.stderr())
        self.assertNotIn("DSN sent", fd.stderr(), "no backscatter")

    def test_clean_delivered_and_eicar_refused_in_the_dialog(self):
        self.check_clean_and_eicar(speed_adjust=False)

    def test_the_same_with_speed_adjust(self):
        self.check_clean_and_eicar(speed_adjust=True)

    def test_filterd_down_gives_the_client_a_451_and_keeps_nothing(self):
        pf, fd = self.chain()
        fd.stop()
        sent = self.send(pf, [BOB], h.simple_message(OUTSIDER, [BOB], "while filterd is down"))
        self.assertNotEqual(sent.returncode, 0, sent.stdout)
        self.assertRegex(sent.stdout, r"<\*\* +451 4\.3\.0", sent.stdout)
        self.assert_no_mail(pf, "bob")
        # (Postfix tells its postmaster about the proxy error; the message
        # itself was never queued.)
        self.assertNotIn(f"to=<{BOB}>", pf.log())
        # Back up: the client's retry goes through.
        fd.start()
        again = self.send(pf, [BOB], h.simple_message(OUTSIDER, [BOB], "the retry"))
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn(b"the retry", pf.wait_delivered("bob", 1)[0])

    def test_multi_recipient_transaction(self):
        pf, fd = self.chain(extra={"recipient": f"{CAROL} virus_lover=yes"}, strict=False)
        sent = self.send(pf, [BOB, CAROL], h.simple_message(OUTSIDER, [BOB, CAROL], "to both"))
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        for user in ("bob", "carol"):
            self.assertIn(b"to both", pf.wait_delivered(user, 1)[0])
        # An unknown recipient is refused by Postfix's reinjection smtpd
        # through the proxy, in real time, and the others still get it.
        nobody = f"nobody@{DOMAIN}"
        mixed = self.send(pf, [BOB, nobody], h.simple_message(OUTSIDER, [BOB], "one unknown"))
        self.assertIn("550 5.1.1", mixed.stdout, mixed.stdout)
        self.assertIn(b"one unknown", pf.wait_delivered("bob", 2)[-1])
        # EICAR to a virus lover and someone else, discarded by default for
        # the other: the lover alone gets it, the client hears 250.
        virus = h.eicar_message(OUTSIDER, [BOB, CAROL], subject="lover only")
        sent = self.send(pf, [BOB, CAROL], virus, "eicar.eml")
        self.assertEqual(sent.returncode, 0, sent.stdout + sent.stderr)
        self.assertIn(b"lover only", pf.wait_delivered("carol", 2)[-1])
        time.sleep(GRACE)
        self.assertEqual(len(pf.maildir("bob").messages()), 2, "bob's copy was discarded")


if __name__ == "__main__":
    unittest.main()
