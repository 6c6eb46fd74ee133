"""amavisd_release.py -- run Debian's real amavisd-release against any socket.

What it is for: testing filterd's AM.PDP release listener with the client that
admins actually use (/usr/sbin/amavisd-release, package amavisd-new), without
editing the installed script or /etc.

How the socket is chosen: amavisd-release has no option, environment variable or
config file for its socket; `$socketname` is set in a BEGIN block of the script
('/var/lib/amavis/amavisd.sock' in Debian 12).  Perl runs INIT blocks after the
whole program is compiled (so after every BEGIN) and before its first statement,
so a tiny module loaded with `perl -T -I DIR -MModule` whose INIT block assigns
`$main::socketname` redirects the unmodified script.  The script is a taint-mode
(`#!/usr/bin/perl -T`) program, so perl must be given -T as well; the path is put
into the module as a hex literal, which is untainted.

What amavisd-release sends (captured from the real script, see
tests/unit/am_pdp_test.cc): CRLF-terminated lines, an empty line at the end:
    request=release            (requeue/report when invoked as amavisd-requeue/-report)
    mail_id=<id from the file name>
    quar_type=Z|F              (only for NAME.gz, or for a name with a directory)
    secret_id=<secret>         (only when given)
    mail_file=<first argument, without a trailing [partition]>
    partition_tag=<tag>        (only for NAME[tag])
    recipient=<addr>           (once per alternative recipient, %XX-encoded)
It never sends requested_by; run_release(requested_by=...) adds the attribute the
way a web front end would, by wrapping the script's own ask_amavisd() in the same
INIT block, so it is still encoded by amavisd-release's proto_encode().

What it does with the response: reads CRLF lines up to an empty line, prints each
decoded `setreply` value on stderr (nothing on stdout), and exits 0 whatever the
SMTP code -- a 450 is exit status 0 too.  A response without any name=value line
(connection closed, a bare empty line, or LF-only lines, which it cannot split)
dies "Invalid response received" with a nonzero status (errno or 255).

Run `python3 tests/integration/amavisd_release.py` for a self-test against a fake
server (needs the amavisd-new package).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

AMAVISD_RELEASE = Path(os.environ.get("AMAVISD_RELEASE", "/usr/sbin/amavisd-release"))
PERL = os.environ.get("PERL", "/usr/bin/perl")
TIMEOUT = float(os.environ.get("FILTERD_IT_TIMEOUT", "30"))

_HOOK = """package FilterdPdpHook;
INIT {{
  $main::socketname = pack('H*', '{socket_hex}');
  {requested_by}
}}
1;
"""

_REQUESTED_BY = """no warnings 'redefine';
  my $ask = \\&main::ask_amavisd;
  *main::ask_amavisd = sub ($$) {{
    my($sock, $query) = @_;
    push(@$query, 'requested_by=' . pack('H*', '{hex}'));
    $ask->($sock, $query);
  }};"""


def run_release(socket_path: str | os.PathLike, mail_id: str, secret_id: str | None = None,
                recipients=(), requested_by: str | None = None, *, request: str = "release",
                mail_file: str | None = None, timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Run amavisd-release against SOCKET_PATH; returns (exit_code, stdout, stderr).

    The first argument of amavisd-release is a quarantine file name, from which it
    derives mail_id (and quar_type); MAIL_FILE overrides it, default MAIL_ID.
    REQUEST "requeue" or "report" runs the script under that name, as amavis's
    amavisd-requeue/amavisd-report links do.  RECIPIENTS replace the original ones.
    """
    if request not in ("release", "requeue", "report"):
        raise ValueError(f"amavisd-release cannot send request={request}")
    recipients = list(recipients)
    if not secret_id and recipients and "@" not in recipients[0]:
        # Without a secret the script takes its second argument as the secret
        # unless it contains '@'.
        raise ValueError(f"recipient {recipients[0]!r} would be taken for a secret_id")
    socket_hex = os.fsencode(os.fspath(socket_path)).hex()
    rb = "" if requested_by is None else _REQUESTED_BY.format(hex=requested_by.encode().hex())
    with tempfile.TemporaryDirectory(prefix="amavisd-release-") as tmp:
        Path(tmp, "FilterdPdpHook.pm").write_text(_HOOK.format(socket_hex=socket_hex,
                                                              requested_by=rb))
        script = AMAVISD_RELEASE
        if request != "release":  # the script picks the request from its own name
            script = Path(tmp, f"amavisd-{request}")
            script.symlink_to(AMAVISD_RELEASE)
        args = [PERL, "-T", "-I", tmp, "-MFilterdPdpHook", str(script), mail_file or mail_id]
        if secret_id:
            args.append(secret_id)
        args += recipients
        p = subprocess.run(args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                           env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class FakePdpServer:
    """One-connection-at-a-time AM.PDP server on a unix socket: records each
    request's raw bytes (up to the empty line) and answers with REPLY bytes
    (None: close without answering)."""

    def __init__(self, path: str | os.PathLike, reply: bytes | None):
        self.path, self.reply, self.requests = os.fspath(path), reply, []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(TIMEOUT)
                data = b""
                while not (data == b"\r\n" or data.endswith(b"\n\r\n") or data.endswith(b"\n\n")):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data)
                if self.reply is not None:
                    conn.sendall(self.reply)

    def close(self):
        self.sock.close()
        self.thread.join(TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _self_test() -> int:
    ok = (b"setreply=250 2.0.0 Ok,%20id=rel-Q1,%20from%20MTA:%20250%202.0.0%20Ok\r\n\r\n")
    fail = (b"setreply=450 4.5.0 Failure:%20Secret_id%20does%20not%20match%20mail_id\r\n"
            b"return_value=tempfail\r\nexit_code=75\r\n\r\n")
    cases = [
        # (name, reply, kwargs, expected request bytes, expected status, expected stderr)
        ("release with secret and recipients", ok,
         dict(mail_id="W-7uJyXUjw32", secret_id="bm90LWEtc2Vj", recipients=["a@example.test",
                                                                             "<b c@example.test>"]),
         b"request=release\r\nmail_id=W-7uJyXUjw32\r\nsecret_id=bm90LWEtc2Vj\r\n"
         b"mail_file=W-7uJyXUjw32\r\nrecipient=a@example.test\r\n"
         b"recipient=<b%20c@example.test>\r\n\r\n",
         0, "250 2.0.0 Ok, id=rel-Q1, from MTA: 250 2.0.0 Ok\n"),
        ("failure is still exit status 0", fail, dict(mail_id="W-7uJyXUjw32", secret_id="x"),
         b"request=release\r\nmail_id=W-7uJyXUjw32\r\nsecret_id=x\r\nmail_file=W-7uJyXUjw32\r\n\r\n",
         0, "450 4.5.0 Failure: Secret_id does not match mail_id\n"),
        ("requeue, gzipped file, partition tag, requested_by", ok,
         dict(mail_id="", mail_file="spam-W-7uJyXUjw32.gz[7]", request="requeue",
              requested_by="<admin@example.test>"),
         b"request=requeue\r\nmail_id=W-7uJyXUjw32\r\nquar_type=Z\r\n"
         b"mail_file=spam-W-7uJyXUjw32.gz\r\npartition_tag=7\r\n"
         b"requested_by=<admin@example.test>\r\n\r\n", 0, None),
        ("no response", None, dict(mail_id="W-7uJyXUjw32"), None, "nonzero",
         "Invalid response received"),
        ("LF-only response is not understood", b"setreply=250 2.0.0 Ok\n\n",
         dict(mail_id="W-7uJyXUjw32"), None, "nonzero", "Invalid response received"),
    ]
    failures = 0
    for name, reply, kwargs, want_req, want_rc, want_err in cases:
        with tempfile.TemporaryDirectory(prefix="pdp-") as tmp:
            path = Path(tmp, "s.sock")
            with FakePdpServer(path, reply) as srv:
                rc, out, err = run_release(path, **kwargs)
            got_req = srv.requests[0] if srv.requests else None
            problems = []
            if want_req is not None and got_req != want_req:
                problems.append(f"request {got_req!r}, want {want_req!r}")
            if (rc != 0) if want_rc == 0 else (rc == 0):
                problems.append(f"exit status {rc}, want {want_rc}")
            if want_err is not None and (err != want_err if want_rc == 0 else want_err not in err):
                problems.append(f"stderr {err!r}, want {want_err!r}")
            if out:
                problems.append(f"stdout {out!r}, want nothing")
            print(f"{'FAIL' if problems else 'ok  '} {name}: exit {rc}, stderr {err.strip()!r}")
            for p in problems:
                print("     " + p)
            failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    if not AMAVISD_RELEASE.exists():
        sys.exit(f"{AMAVISD_RELEASE} is missing: apt-get install amavisd-new")
    sys.exit(_self_test())
