"""frontd's submission services: STARTTLS and implicit TLS, SMTP AUTH against
the built-in password file and against a real Dovecot, relay only with AUTH.

  swaks --tls / --tls-on-connect --auth PLAIN|LOGIN --> frontd submission/smtps
        --> queue --> relayhost (a recording sink) or Maildir

Each test starts its own frontd (harness.Frontd) with a self-signed
certificate made by openssl, and where needed Dovecot (harness.Dovecot: only
its auth service, passwd-file users, a unix and an inet auth listener).

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_frontd_auth.py
"""

import base64
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, free_port  # noqa: E402

ALICE, BOB = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
OUTSIDER = "someone@elsewhere.test"
PASSWORD = "Tr0ub4dor&3-frontd"        # must never show up in a log


def setUpModule():
    h.require(h.frontd_missing(), h.dovecot_missing(),
              None if h.shutil.which("swaks") else "swaks is not installed (Debian package 'swaks')",
              None if h.shutil.which("openssl") else "openssl is not installed")


def frontd_hash(password: str) -> str:
    out = subprocess.run([str(h.frontd_binary()), "--hash-password"], input=password + "\n",
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


class FrontdAuthTest(h.IntegrationTestCase):

    def start(self, sasl: str = "passwd_file", sasl_path: str | None = None, **extra):
        cert, key = h.make_tls_pair(self.ws.sub("tls"))
        if not hasattr(self, "relay"):
            self.relay = self.sink()
        self.submission_port, self.smtps_port = free_port(), free_port()
        if sasl_path is None:
            passwd = self.ws.path / "sasl_passwd"
            passwd.write_text(f"{ALICE}:{frontd_hash(PASSWORD)}\n")
            sasl_path = str(passwd)
        config = {
            "submission_listen": f"127.0.0.1:{self.submission_port}",
            "smtps_listen": f"127.0.0.1:{self.smtps_port}",
            "smtpd_tls_cert_file": str(cert),
            "smtpd_tls_key_file": str(key),
            "smtpd_sasl_type": sasl,
            "smtpd_sasl_path": sasl_path,
            "relayhost": f"[127.0.0.1]:{self.relay.port}",
            "mynetworks": "192.0.2.0/24",          # 127.0.0.1 is a stranger here
        }
        config.update(extra)
        return self.start_frontd(config)

    def swaks(self, port: int, *args: str) -> subprocess.CompletedProcess:
        return h.swaks(port, "--from", ALICE, "--h-Subject", "auth test", *args)

    def assert_sent(self, r: subprocess.CompletedProcess):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"<[-~]  250 2\.0\.0 Ok: queued as [0-9A-F]+")

    def assert_no_secrets(self, fr: h.Frontd):
        log = fr.log()
        for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode(),
                       base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()):
            self.assertNotIn(secret, log, "a credential reached the log")

    # -- the built-in password file -----------------------------------------

    def test_starttls_then_auth_plain_and_login_relay_to_the_relayhost(self):
        fr = self.start()
        for mech in ("PLAIN", "LOGIN"):
            r = self.swaks(self.submission_port, "--to", OUTSIDER, "--tls", "--auth", mech,
                           "--auth-user", ALICE, "--auth-password", PASSWORD)
            self.assert_sent(r)
            self.assertIn("<~  235 2.7.0 Authentication successful", r.stdout)
        got = self.relay.wait_messages(2)
        self.assertEqual([m.rcpt_to for m in got], [[OUTSIDER], [OUTSIDER]])
        self.assertRegex(got[0].data.decode(), r"with ESMTPSA id [0-9A-F]+")
        self.assertRegex(fr.log(), rf"client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, "
                         rf"sasl_username={re.escape(ALICE)}")
        self.assertRegex(fr.log(), r"sasl_method=LOGIN")
        self.assertRegex(fr.log(), r"TLS connection established from unknown\[127\.0\.0\.1\]: "
                         r"TLSv1\.[23] with cipher")
        self.assertRegex(fr.log(), rf"to=<{re.escape(OUTSIDER)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                         rf"{self.relay.port}, .*status=sent \(250 ")
        self.assert_no_secrets(fr)

    def test_implicit_tls_on_the_smtps_port_with_auth_delivers_locally(self):
        fr = self.start()
        r = self.swaks(self.smtps_port, "--to", BOB, "--tls-on-connect", "--auth", "PLAIN",
                       "--auth-user", ALICE, "--auth-password", PASSWORD)
        self.assert_sent(r)
        delivered = fr.wait_delivered("bob", 1)[0]
        self.assertRegex(delivered.decode(), r"with ESMTPSA id")

    def test_no_relay_and_no_auth_offer_without_tls_and_auth(self):
        fr = self.start()
        ehlo = self.swaks(self.submission_port, "--to", OUTSIDER, "--quit-after", "EHLO")
        self.assertIn("250-STARTTLS", ehlo.stdout)
        self.assertNotIn("AUTH", ehlo.stdout.split("EHLO", 1)[1], "AUTH offered before TLS")
        # Submission without AUTH: nothing is accepted, not even local mail.
        for to in (OUTSIDER, BOB):
            r = self.swaks(self.submission_port, "--to", to, "--tls")
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("530 5.7.0", r.stdout)
        # The smtp service: local mail yes, relaying no.
        r = self.swaks(fr.smtp_port, "--to", OUTSIDER)
        self.assertIn("554 5.7.1", r.stdout)
        self.assert_sent(self.swaks(fr.smtp_port, "--to", BOB))
        self.assertEqual(self.relay.messages, [], "nothing may be relayed without AUTH")

    def test_failed_auth_is_counted_in_the_disconnect_line_and_rate_limited(self):
        fr = self.start(smtpd_client_auth_failure_limit="2")
        r = self.swaks(self.submission_port, "--to", OUTSIDER, "--tls", "--auth", "LOGIN",
                       "--auth-user", ALICE, "--auth-password", PASSWORD + "x")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("535 5.7.8", r.stdout)
        fr.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 starttls=1 auth=0/1 "
                    r"quit=1 commands=4/5")
        self.assertRegex(fr.log(), rf"warning: unknown\[127\.0\.0\.1\]: SASL LOGIN authentication "
                         rf"failed: wrong password, sasl_username={re.escape(ALICE)}")
        self.swaks(self.submission_port, "--to", OUTSIDER, "--tls", "--auth", "PLAIN",
                   "--auth-user", ALICE, "--auth-password", "wrong again")
        # Limit reached: even the right password is refused for now, unchecked.
        r = self.swaks(self.submission_port, "--to", OUTSIDER, "--tls", "--auth", "PLAIN",
                       "--auth-user", ALICE, "--auth-password", PASSWORD)
        self.assertIn("454 4.7.0", r.stdout)
        self.assertEqual(self.relay.messages, [])
        self.assert_no_secrets(fr)

    # -- outbound: relayhost with STARTTLS and AUTH ------------------------------

    def test_relayhost_on_a_submission_port_with_starttls_and_auth(self):
        relay = self.start()               # frontd B: submission with AUTH, Maildirs for example.test
        maps = self.ws.path / "sasl_password"

        def front(name, password, port):
            maps.write_text(f"[127.0.0.1]:{port}  {ALICE}:{password}\n")
            fr = h.Frontd(self.ws, {"virtual_mailbox_domains": "other.test",
                                    "relayhost": f"[127.0.0.1]:{port}",
                                    "smtp_tls_security_level": "encrypt",
                                    "smtp_sasl_password_maps": f"texthash:{maps}"}, name=name)
            self.addCleanup(fr.stop)
            return fr.start()

        a = front("frontd-a", PASSWORD, self.submission_port)
        qid = h.send_mail(a.smtp_port, OUTSIDER, [BOB],
                          h.simple_message(OUTSIDER, [BOB], "via the relayhost")).queue_id
        delivered = relay.wait_delivered("bob", 1)[0]
        self.assertRegex(delivered.decode(), r"with ESMTPSA id")
        a.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                   rf"{self.submission_port}, .*status=sent \(250 2\.0\.0 Ok: queued as")
        self.assertRegex(relay.log(), rf"sasl_method=PLAIN, sasl_username={re.escape(ALICE)}")
        self.assertNotIn(PASSWORD, a.log())
        a.stop()

        # A wrong password: the relay refuses, the mail waits (4xx), nothing is lost.
        b = front("frontd-b", "wrong-password", self.submission_port)
        qid = h.send_mail(b.smtp_port, OUTSIDER, [BOB],
                          h.simple_message(OUTSIDER, [BOB], "refused login")).queue_id
        b.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, .*dsn=4\.7\.0, status=deferred \(454 4\.7\.0 "
                   r"SASL authentication failed: 535 5\.7\.8")
        self.assertEqual(b.queued(), [qid])
        b.stop()

        # TLS required but the smtp port does not offer STARTTLS: deferred, never sent in clear.
        c = front("frontd-c", PASSWORD, relay.smtp_port)
        qid = h.send_mail(c.smtp_port, OUTSIDER, [BOB],
                          h.simple_message(OUTSIDER, [BOB], "no tls")).queue_id
        c.wait_log(rf"{qid}: to=<{re.escape(BOB)}>, .*status=deferred \(451 4\.4\.1 .*does not offer "
                   r"STARTTLS")
        self.assertEqual(len(relay.maildir("bob").messages()), 1)

    # -- Dovecot ---------------------------------------------------------------

    def test_auth_against_dovecot_over_unix_and_inet_sockets(self):
        dovecot = h.Dovecot(self.ws, {ALICE: PASSWORD})
        self.addCleanup(dovecot.stop)
        dovecot.start()
        for path in (str(dovecot.unix_socket), f"inet:127.0.0.1:{dovecot.inet_port}"):
            with self.subTest(smtpd_sasl_path=path):
                fr = self.start("dovecot", path)
                for mech, port, tls in (("PLAIN", self.submission_port, "--tls"),
                                        ("LOGIN", self.smtps_port, "--tls-on-connect")):
                    r = self.swaks(port, "--to", OUTSIDER, tls, "--auth", mech,
                                   "--auth-user", ALICE, "--auth-password", PASSWORD)
                    self.assert_sent(r)
                bad = self.swaks(self.submission_port, "--to", OUTSIDER, "--tls", "--auth",
                                 "PLAIN", "--auth-user", ALICE, "--auth-password", "nope")
                self.assertIn("535 5.7.8", bad.stdout)
                self.assert_no_secrets(fr)
                fr.stop()
        self.assertEqual(len(self.relay.wait_messages(4)), 4)


if __name__ == "__main__":
    unittest.main()
