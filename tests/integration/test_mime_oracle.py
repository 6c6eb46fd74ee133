"""filterd's MIME part tree against Python's email package as an oracle.

For every file under the corpus's mime/ folder (GMime, MimeKit, mailparser,
rspamd, CPython, amavisd and Go test messages), `filterctl scan --json` gives
filterd's part tree and `email.message_from_bytes(data,
policy=email.policy.default)` gives Python's.  Both are reduced to the same
thing, the message's MIME leaves in document order:

  - Python: every part walk() yields that is not multipart (a message/*
    part whose body Python parsed as a message counts as multipart; its
    parts are walked instead);
  - filterd: the parts the MIME walker made (decoder "mime", "base64" or
    "quoted-printable"): the top-level parts (paths without "/") and,
    below a message part, its MIME children (p002/p001 ...), minus every
    such part that has MIME children of its own.  Children that a decoder
    plugin unpacked (archive members, uuencoded files, TNEF attachments)
    are not MIME parts and are left out.

and compared on (a) the number of leaves, (b) their content types in order,
(c) their file names in order (Python: get_filename(), with RFC 2047 encoded
words decoded; filterd: the first declared name).

Every difference must be listed in mime_oracle_differences.tsv as
`path<TAB>what differs<TAB>reason`, where path is relative to the mime/
folder and "what differs" is exactly the text this test prints for it.
A difference that is not listed fails, and so does an entry whose
difference no longer occurs (so the file stays true).  A difference caused
by a filterd bug is not "explained" there: it stays a failure until fixed.

Run:  python3 -m unittest -v tests/integration/test_mime_oracle.py
Needs the filterctl binary (FILTERCTL_BIN, else next to FILTERD_BIN as
../tools/filterctl, else <repo>/build/tools/filterctl) and the corpus
(FILTERD_CORPUS_DIR, else <repo>/../shared/corpus).  A missing binary or
corpus is a failure, never a skip.  No root, Postfix or clamd needed: the
scan uses the in-process libclamav engine on a one-signature database.
"""

import concurrent.futures
import email
import email.policy
import json
import os
import subprocess
import tempfile
import unittest
from dataclasses import dataclass
from email.header import decode_header, make_header
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
CORPUS_DIR = Path(os.environ.get("FILTERD_CORPUS_DIR", REPO_DIR.parent / "shared" / "corpus"))
MIME_DIR = CORPUS_DIR / "mime"
DIFFERENCES_FILE = Path(__file__).resolve().with_name("mime_oracle_differences.tsv")

# The 68-byte EICAR anti-virus test string, for the scanner's database.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# Decoders of parts that filterd's MIME walker makes (message_decoder.cc).
MIME_DECODERS = frozenset({"mime", "base64", "quoted-printable"})

# The corpus holds about 400 messages; fewer means it is missing or moved.
MIN_MESSAGES = 300

# One filterctl run on one message; the biggest takes well under a second.
SCAN_TIMEOUT = 120


def filterctl_binary() -> Path:
    if env := os.environ.get("FILTERCTL_BIN"):
        return Path(env).absolute()
    if daemon := os.environ.get("FILTERD_BIN"):
        beside = Path(daemon).absolute().parent.parent / "tools" / "filterctl"
        if beside.exists():
            return beside
    return REPO_DIR / "build" / "tools" / "filterctl"


@dataclass(frozen=True)
class Leaf:
    content_type: str
    filename: str | None


def path_key(path: str) -> list[int]:
    """p002/p010 -> [2, 10]: document order, also past p999."""
    return [int(step[1:]) for step in path.split("/")]


def filterd_leaves(parts: list[dict]) -> list[Leaf]:
    by_path = {p["path"]: p for p in parts}
    mime: set[str] = set()
    for path in sorted(by_path, key=path_key):
        if by_path[path]["decoder"] not in MIME_DECODERS:
            continue
        parent = path.rpartition("/")[0]
        if not parent or parent in mime:
            mime.add(path)
    parents = {path.rpartition("/")[0] for path in mime}
    leaves = []
    for path in sorted(mime - parents, key=path_key):
        names = by_path[path]["names"]
        leaves.append(Leaf(by_path[path]["declared_type"], names[0] if names else None))
    return leaves


def decoded_filename(part: email.message.Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception as e:  # an oracle crash is a difference to look at, not a test error
        return f"<get_filename() raised {type(e).__name__}>"
    if name is None:
        return None
    name = str(name)
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            pass
    return name


def oracle_leaves(data: bytes) -> list[Leaf]:
    message = email.message_from_bytes(data, policy=email.policy.default)
    return [
        Leaf(part.get_content_type(), decoded_filename(part))
        for part in message.walk()
        if not part.is_multipart()
    ]


def describe_difference(filterd: list[Leaf], oracle: list[Leaf]) -> str:
    """"" when both agree; else the text the differences file must hold."""
    if len(filterd) != len(oracle):
        return f"leaf count: filterd {len(filterd)}, python {len(oracle)}"
    found = []
    for number, (f, o) in enumerate(zip(filterd, oracle), start=1):
        if f.content_type != o.content_type:
            found.append(
                f"content type of leaf {number}: filterd {f.content_type!r}, "
                f"python {o.content_type!r}"
            )
        if f.filename != o.filename:
            found.append(
                f"filename of leaf {number}: filterd {f.filename!r}, python {o.filename!r}"
            )
    return "; ".join(found)


def show(leaves: list[Leaf]) -> str:
    return "\n".join(f"      {i}. {l.content_type}  {l.filename!r}" for i, l in enumerate(leaves, 1))


@dataclass(frozen=True)
class Entry:
    line: int
    what: str
    reason: str


def load_differences() -> tuple[dict[str, Entry], list[str]]:
    """The listed differences, and what is wrong with the file itself."""
    entries: dict[str, Entry] = {}
    problems = []
    text = DIFFERENCES_FILE.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            problems.append(f"line {number}: want path<TAB>what differs<TAB>reason: {line!r}")
            continue
        path, what, reason = fields
        if path in entries:
            problems.append(f"line {number}: {path} listed twice (first on line {entries[path].line})")
            continue
        if not (MIME_DIR / path).is_file():
            problems.append(f"line {number}: {path} is not a file under {MIME_DIR}")
        entries[path] = Entry(number, what, reason)
    return entries, problems


@dataclass
class Observation:
    filterd: list[Leaf]
    oracle: list[Leaf]
    what: str  # "" when they agree
    error: str = ""  # filterctl did not give a part tree


class MimeOracleTest(unittest.TestCase):
    observations: dict[str, Observation] = {}

    @classmethod
    def setUpClass(cls):
        binary = filterctl_binary()
        if not os.access(binary, os.X_OK):
            raise AssertionError(
                f"filterctl not found at {binary}: build it (ninja -C build filterctl) "
                "or set FILTERCTL_BIN"
            )
        if not MIME_DIR.is_dir():
            raise AssertionError(f"corpus folder {MIME_DIR} missing (set FILTERD_CORPUS_DIR)")
        cls.files = sorted(p for p in MIME_DIR.rglob("*") if p.is_file())
        with tempfile.TemporaryDirectory(prefix="filterd-oracle-") as tmp:
            db = Path(tmp) / "db"
            db.mkdir()
            (db / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
            # Decoded parts spill under state_dir/tmp: keep them in the
            # workspace. The part tree is what is compared here, not spam.
            config = Path(tmp) / "filterd.conf"
            config.write_text(f"state_dir = {tmp}/state\nspam_checks = no\n")
            command = [str(binary), "scan", "--json", "--config", str(config), "--clamav-db", str(db)]
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                results = pool.map(lambda f: cls.observe(command, f), cls.files)
                cls.observations = {
                    f.relative_to(MIME_DIR).as_posix(): o for f, o in zip(cls.files, results)
                }

    @staticmethod
    def observe(command: list[str], file: Path) -> Observation:
        oracle = oracle_leaves(file.read_bytes())
        try:
            run = subprocess.run(command + [str(file)], capture_output=True, timeout=SCAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return Observation([], oracle, "", f"filterctl timed out after {SCAN_TIMEOUT} s")
        # Exit 1 is a verdict (virus, UNCHECKED); 2 or a crash is not.
        if run.returncode not in (0, 1):
            return Observation(
                [], oracle, "", f"filterctl exit {run.returncode}: {run.stderr[-500:]!r}"
            )
        try:
            report = json.loads(run.stdout.decode("utf-8", "surrogateescape"))
        except ValueError as e:
            return Observation([], oracle, "", f"filterctl printed no JSON object: {e}")
        filterd = filterd_leaves(report["parts"])
        return Observation(filterd, oracle, describe_difference(filterd, oracle))

    def test_corpus_is_there(self):
        self.assertGreaterEqual(
            len(self.files), MIN_MESSAGES, f"only {len(self.files)} files under {MIME_DIR}"
        )

    def test_filterctl_gives_a_part_tree_for_every_message(self):
        errors = [f"{path}: {o.error}" for path, o in self.observations.items() if o.error]
        if errors:
            self.fail(f"{len(errors)} message(s) without a part tree:\n" + "\n".join(errors))

    def test_differences_file_is_well_formed(self):
        _, problems = load_differences()
        if problems:
            self.fail(f"{DIFFERENCES_FILE}:\n" + "\n".join(problems))

    def test_every_difference_is_listed_with_a_reason(self):
        entries, _ = load_differences()
        unexplained = []
        for path, o in self.observations.items():
            if not o.what or o.error:
                continue
            entry = entries.get(path)
            if entry is not None and entry.what == o.what:
                continue
            listed = f"\n    listed as: {entry.what}" if entry else ""
            unexplained.append(
                f"{path}\t{o.what}{listed}\n    filterd:\n{show(o.filterd)}\n"
                f"    python:\n{show(o.oracle)}"
            )
        if unexplained:
            self.fail(
                f"{len(unexplained)} difference(s) not in {DIFFERENCES_FILE.name}; investigate each "
                "(a filterd bug is fixed, not listed):\n" + "\n".join(unexplained)
            )

    def test_every_listed_difference_still_occurs(self):
        entries, _ = load_differences()
        stale = [
            f"line {e.line}: {path}: filterd and Python now agree"
            for path, e in entries.items()
            if path in self.observations and not self.observations[path].what
        ]
        if stale:
            self.fail(f"stale entries in {DIFFERENCES_FILE.name}; remove them:\n" + "\n".join(stale))


if __name__ == "__main__":
    unittest.main()
