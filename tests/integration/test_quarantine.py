"""The quarantine behind a real Postfix: blocked mail is kept, listed, shown
and released with filterctl and with Debian's amavisd-release (AM.PDP over
filterd's release socket); when the quarantine cannot be written the mail
stays in Postfix's queue and nothing is lost.

Run:  FILTERD_BIN=build/filterd/filterd python3 -m unittest -v tests/integration/test_quarantine.py
(as root; needs the Debian packages postfix and amavisd-new for amavisd-release).
"""

import email
import email.policy
import json
import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import DOMAIN, FILTERD_HOSTNAME, free_port  # noqa: E402
import amavisd_release  # noqa: E402

ALICE, BOB, CAROL = (f"{u}@{DOMAIN}" for u in ("alice", "bob", "carol"))
GRACE = 1.0


def setUpModule():
    h.require(h.postfix_missing(), h.filterd_missing(),
              None if Path("/usr/sbin/amavisd-release").exists()
              else "amavisd-release missing: install the Debian package amavisd-new")


filterctl_binary = h.filterctl_binary


class QuarantineTest(h.IntegrationTestCase):

    def chain(self, extra=None):
        filterd_port = free_port()
        pf = self.start_postfix(filter_port=filterd_port)
        self.state = self.ws.sub("filterd-state")
        self.socket = self.state / "release.sock"
        config = {
            "listen": f"smtp:127.0.0.1:{filterd_port}",
            "forward": f"smtp:127.0.0.1:{pf.reinject_port}",
            "clamav_backend": "libclamav",
            "clamav_db": str(self.make_signatures()),
            "state_dir": str(self.state),
            "log": "stderr",
            "myhostname": FILTERD_HOSTNAME,
            "release_socket": str(self.socket),
        }
        config.update(extra or {})
        fd = self.start_filterd(config)
        self.conf = fd.conf_path
        return pf, fd

    def filterctl(self, *args, check=True):
        r = subprocess.run([str(filterctl_binary()), "quarantine", "--config", str(self.conf), *args],
                           capture_output=True, timeout=60)
        if check and r.returncode != 0:
            self.fail(f"filterctl quarantine {' '.join(args)} exited {r.returncode}:\n"
                      f"{r.stdout.decode(errors='replace')}\n{r.stderr.decode(errors='replace')}")
        return r

    def listed(self, **filters):
        args = ["list", "--json"]
        for k, v in filters.items():
            args += [f"--{k}", v]
        return json.loads(self.filterctl(*args).stdout)

    def discard_eicar(self, pf, subject="quarantine me", rcpts=(BOB,)):
        msg = h.eicar_message(ALICE, list(rcpts), subject)
        qid = pf.send(ALICE, list(rcpts), msg).queue_id
        d = pf.first_delivery(qid, rcpts[0])
        self.assertEqual(d.status, "sent", d.line)
        self.assertIn("2.7.0", d.text, d.line)
        pf.wait_queue_empty()
        return msg

    def test_discarded_virus_is_listed_shown_and_released_once(self):
        pf, fd = self.chain()
        original = self.discard_eicar(pf)
        rows = self.listed(category="INFECTED")
        self.assertEqual(len(rows), 1, rows)
        row = rows[0]
        self.assertEqual(row["sender"], ALICE)
        self.assertEqual(row["recipients"], [BOB])
        self.assertEqual(row["subject"], "quarantine me")
        self.assertIn("Eicar-Test-Signature", row["reason"])
        self.assertIn(f"quarantine: {row['path']}", fd.stderr())
        self.assertEqual(self.listed(subject="no such subject"), [])

        shown = self.filterctl("show", row["mail_id"]).stdout.decode()
        self.assertIn("Subject: quarantine me", shown)
        self.assertRegex(shown, r"p002 .*eicar\.txt.*INFECTED")
        raw = self.filterctl("show", row["mail_id"], "--raw").stdout
        self.assertEqual(h.split_message(h.to_lf(raw))[1], h.split_message(h.to_lf(original))[1],
                         "show --raw must give the message as received")

        r = self.filterctl("release", row["mail_id"], "--by", "test")
        self.assertIn("250", r.stdout.decode())
        got = pf.wait_delivered("bob", 1)[0]
        msg = email.message_from_bytes(got, policy=email.policy.compat32)
        self.assertEqual(msg["X-Quarantine-ID"], f"<{row['mail_id']}>")
        self.assertIn("by test", msg["X-Filterd-Released"])
        self.assertTrue(h.to_lf(got).endswith(h.split_message(h.to_lf(raw))[1]),
                        "the released body must be the original body")
        again = self.filterctl("release", row["mail_id"], check=False)
        self.assertEqual(again.returncode, 1, again)
        self.assertIn("already released", again.stdout.decode())
        pf.wait_queue_empty()
        time.sleep(GRACE)
        self.assertEqual(len(pf.maildir("bob").messages()), 1, "released exactly once")
        self.assertEqual(self.listed()[0]["released_by"], "test")

    def test_release_to_another_recipient_and_delete_and_stats(self):
        pf, fd = self.chain()
        self.discard_eicar(pf, "for carol")
        mail_id = self.listed()[0]["mail_id"]
        stats = json.loads(self.filterctl("stats", "--json").stdout)
        self.assertEqual([(s["category"], s["count"]) for s in stats], [("INFECTED", 1)])
        self.filterctl("release", mail_id, "--to", CAROL)
        pf.wait_delivered("carol", 1)
        self.assertEqual(self.filterctl("delete", mail_id).returncode, 0)
        self.assertEqual(self.listed(), [])
        r = self.filterctl("show", mail_id, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"no such mail id", r.stderr)
        # Retention: purge removes what is older than the age given.
        self.discard_eicar(pf, "to be purged")
        self.assertEqual(len(self.listed()), 1)
        self.assertIn(b"purged 0", self.filterctl("purge", "--older-than", "1h").stdout)
        time.sleep(1.1)
        self.assertIn(b"purged 1", self.filterctl("purge", "--older-than", "0s").stdout)
        self.assertEqual(self.listed(), [])

    def test_amavisd_release_works_against_filterd(self):
        pf, fd = self.chain()
        self.discard_eicar(pf, "via amavisd-release")
        row = self.listed()[0]
        secret = self.secret_id(row["mail_id"])
        # amavisd-release prints each setreply on stderr and exits 0 even for
        # a refusal, so the reply text is what tells.
        code, out, err = amavisd_release.run_release(str(self.socket), row["mail_id"], secret)
        self.assertEqual(code, 0, f"amavisd-release failed: {out}\n{err}\n{fd.stderr()}")
        self.assertRegex(err, r"250 2\.\d\.\d Ok, id=rel-", err)
        got = pf.wait_delivered("bob", 1)[0]
        self.assertIn(f"X-Quarantine-ID: <{row['mail_id']}>".encode(), got)
        # A wrong secret, or none, is refused and releases nothing.
        self.discard_eicar(pf, "wrong secret")
        other = [r for r in self.listed() if r["subject"] == "wrong secret"][0]
        code, out, err = amavisd_release.run_release(str(self.socket), other["mail_id"], "x" * 12)
        self.assertIn("450 4.5.0", err)
        self.assertIn("does not match", err)
        code, out, err = amavisd_release.run_release(str(self.socket), other["mail_id"])
        self.assertIn("secret_id is required", err)
        # Releasing the first one again says so.
        code, out, err = amavisd_release.run_release(str(self.socket), row["mail_id"], secret)
        self.assertIn("already released", err)
        pf.wait_queue_empty()
        time.sleep(GRACE)
        self.assertEqual(len(pf.maildir("bob").messages()), 1)

    def secret_id(self, mail_id):
        import sqlite3
        db = sqlite3.connect(str(self.state / "quarantine" / "index.sqlite"))
        try:
            return db.execute("select secret_id from entries where mail_id = ?",
                              (mail_id,)).fetchone()[0]
        finally:
            db.close()

    def test_unwritable_quarantine_defers_and_nothing_is_lost(self):
        pf, fd = self.chain()
        qdir = self.state / "quarantine"
        year = qdir / time.strftime("%Y", time.gmtime())
        blocker = None
        if not year.exists():
            # A file where the year directory should be: even root cannot
            # create the dated directories under it.
            year.write_text("not a directory\n")
            blocker = year
        else:
            self.fail(f"{year} exists already")
        msg = h.eicar_message(ALICE, [BOB], "kept in the queue")
        qid = pf.send(ALICE, [BOB], msg).queue_id
        d = pf.first_delivery(qid, BOB)
        self.assertEqual(d.status, "deferred", d.line)
        self.assertIn("451", d.text, d.line)
        self.assertIn(qid, [m["queue_id"] for m in pf.queue()])
        self.assertIn("quarantine failed", fd.stderr())
        blocker.unlink()
        pf.flush()
        pf.wait_delivery(qid, "sent", to=BOB)
        pf.wait_queue_empty()
        rows = self.listed()
        self.assertEqual([r["subject"] for r in rows], ["kept in the queue"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
