// spam_text_test.cc — the texts SpamAssassin's rules see: table tests per
// rendering, and agreement with SpamAssassin 4.0.1 itself on corpus
// messages (made at test time by tests/data/spam_text/sa_render.pl, the CTest
// fixture spam_text_oracle_data; known differences in
// tests/data/spam_text/differences.tsv).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "spam/text.h"
#include "spam/text_internal.h"

namespace filterd::spam {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

MessageText build(const std::string& msg) {
  static const std::unordered_set<std::string> tlds = {"com", "net", "org", "de", "uk"};
  TextOptions o;
  o.tlds = &tlds;
  return build_message_text(msg, o);
}

TEST(SpamText, SubjectIsTheFirstBodyLineAndParagraphsAreJoined) {
  auto t = build("Subject: Hello there\nFrom: a@b.com\n\nline one\nline two\n\n\npara two\n");
  ASSERT_EQ(t.body.size(), 3u);
  EXPECT_EQ(t.body[0], "Hello there\n");
  EXPECT_EQ(t.body[1], "line one line two\n");
  EXPECT_EQ(t.body[2], "para two ");
}

TEST(SpamText, RememberedHeaderAnswersAreForgottenWhenTheEnvelopeOrRelaysChange) {
  auto t = build("Return-Path: <a@b.com>\nFrom: x@y.com\n\nbody\n");
  EXPECT_EQ(t.get("EnvelopeFrom"), "a@b.com");
  EXPECT_EQ(t.get("From:addr"), "x@y.com");
  EXPECT_EQ(t.get("From:addr"), "x@y.com");  // remembered, the same
  t.set_envelope_from("smtp@sender.test");
  EXPECT_EQ(t.get("EnvelopeFrom"), "smtp@sender.test");
  EXPECT_FALSE(t.get("X-Spam-Relays-Untrusted"));  // an ordinary (missing) header without relays
  t.set_relays({"", "[ ip=192.0.2.1 ]", "", "", -1, -1, std::nullopt});
  EXPECT_EQ(t.get("X-Spam-Relays-Untrusted"), "[ ip=192.0.2.1 ]");
}

TEST(SpamText, MissingSubjectIsAnEmptyFirstLine) {
  auto t = build("From: a@b.com\n\nbody\n");
  ASSERT_FALSE(t.body.empty());
  EXPECT_EQ(t.body[0], "\n");
}

TEST(SpamText, LongLinesAreCutAtTheLastSpaceBefore2048Bytes) {
  std::string word(1000, 'x');
  auto t = build("Subject: s\n\n" + word + " " + word + " " + word + "\n");
  ASSERT_EQ(t.body.size(), 3u);
  EXPECT_EQ(t.body[1].size(), 2002u);
  EXPECT_EQ(t.body[2], word + " ");
}

TEST(SpamText, HtmlIsRenderedScriptAndStyleDropped) {
  auto t = build(
      "Subject: s\nContent-Type: text/html\n\n<html><head><style>p{}</style><script>x()</script>"
      "</head><body>Hello&nbsp;<b>big</b> &amp; bold<br>next<p>para</p>&#x41;&eacute;</body>\n");
  // As SpamAssassin 4.0.1 renders it: <p> makes paragraphs; an ASCII part
  // stays a byte string, so &eacute; is the Latin-1 byte.
  ASSERT_EQ(t.body.size(), 4u);
  EXPECT_EQ(t.body[1], "Hello big & bold next\n");
  EXPECT_EQ(t.body[2], "para\n");
  EXPECT_EQ(t.body[3], "A\xE9 ");
}

TEST(SpamText, QuotedPrintableAndBase64AreDecodedAndLatin1BecomesUtf8) {
  auto t = build(
      "Subject: =?iso-8859-1?q?Caf=E9?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
      "boundary=b\n\n--b\nContent-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 cr=\n=E8me\n--b\n"
      "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n--b--\n");
  ASSERT_GE(t.body.size(), 2u);
  EXPECT_EQ(t.body[0], "Caf\xC3\xA9\n");
  EXPECT_EQ(t.body[1], "caf\xC3\xA9 cr\xC3\xA8me hello world");
  ASSERT_EQ(t.rawbody.size(), 2u);
  EXPECT_EQ(t.rawbody[0], "caf\xE9 cr\xE8me");  // rawbody keeps the charset
  EXPECT_EQ(t.rawbody[1], "hello world");
}

TEST(SpamText, NonTextPartsAreNotRendered) {
  auto t = build(
      "Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
      "one\n--b\nContent-Type: application/octet-stream\n\nBINARY\n--b--\n");
  for (const auto& l : t.body) EXPECT_EQ(l.find("BINARY"), std::string::npos);
  for (const auto& l : t.rawbody) EXPECT_EQ(l.find("BINARY"), std::string::npos);
}

TEST(SpamText, UrisFromTextAndHtmlAreCanonicalised) {
  auto t = build(
      "Subject: s\nContent-Type: multipart/alternative; boundary=b\n\n--b\n\n"
      "see www.Example.com/a, mail bob@example.org or visit foo.net.\n--b\n"
      "Content-Type: text/html\n\n<a href=\"HTTP://Spam.COM?x=1\">x</a><img "
      "src=\"http:/%77ww.x.de/i\">\n"
      "--b--\n");
  std::set<std::string> u(t.uris.begin(), t.uris.end());
  EXPECT_TRUE(u.count("http://www.Example.com/a"));
  EXPECT_FALSE(u.count("http://www.example.com/a"));  // no lower-case variant
  EXPECT_TRUE(u.count("mailto:bob@example.org"));
  EXPECT_TRUE(u.count("http://foo.net"));
  EXPECT_TRUE(u.count("HTTP://Spam.COM?x=1"));
  EXPECT_TRUE(u.count("HTTP://Spam.COM/?x=1"));
  EXPECT_TRUE(u.count("http://www.x.de/i"));
}

TEST(SpamText, HeaderGetsFollowSpamAssassin) {
  const std::string msg =
      ("From: \"Joe =?utf-8?q?W=C3=BC?=\" <joe@example.com>\nTo: a@x.com\nTo: b@y.com\n"
       "Cc: Carl <c@z.com>\nMessage-Id: <1@x>\nSubject: folded\n\tline\n\nbody\n");
  auto t = build(msg);
  EXPECT_EQ(t.get("From:addr"), "joe@example.com");
  EXPECT_EQ(t.get("From:name"), "Joe W\xC3\xBC");
  EXPECT_EQ(t.get("Subject"), "folded line\n");
  EXPECT_EQ(t.get("To"), "a@x.com\nb@y.com\n");
  EXPECT_EQ(t.get("ToCc"), "a@x.com\nb@y.com\nCarl <c@z.com>\n");
  EXPECT_EQ(t.get("ToCc:addr"), "a@x.com\nb@y.com\nc@z.com");
  EXPECT_EQ(t.get("MESSAGEID"), "<1@x>\n");
  EXPECT_EQ(t.get("Subject:raw"), " folded line\n");
  EXPECT_EQ(t.get("X-Nope"), std::nullopt);
  EXPECT_EQ(t.full.substr(0, 5), "From:");
}

TEST(SpamText, MimeHeadersOfEveryPart) {
  auto t = build(
      "Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
      "X-Part: one\n\nx\n--b\nContent-Type: text/plain\nX-Part: two\n\ny\n--b--\n");
  EXPECT_EQ(t.get_mime_header("X-Part", false), (std::vector<std::string>{"one", "two"}));
}

TEST(SpamText, HostileInputIsBounded) {
  std::string big = "Subject: s\nContent-Type: text/html\n\n";
  for (int i = 0; i < 20000; ++i) big += "<a href=http://h" + std::to_string(i) + ".com/>x";
  TextOptions o;
  o.limits.max_uris = 100;
  auto t = build_message_text(big, o);
  EXPECT_LE(t.uris.size(), 110u);
  EXPECT_FALSE(t.truncated.empty());
  size_t total = 0;
  for (const auto& l : t.body) total += l.size();
  EXPECT_LE(total, 50000u + 1024 + 100);
}

// ---- oracle ---------------------------------------------------------------

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Oracle {
  std::vector<std::string> body, rawbody;
  std::set<std::string> uris;
  std::map<std::string, std::optional<std::string>> headers;
};

Oracle load_oracle(const std::string& path) {
  Oracle o;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("B ")) o.body.push_back(unescape(line.substr(2)));
    if (line.starts_with("R ")) o.rawbody.push_back(unescape(line.substr(2)));
    if (line.starts_with("U ")) o.uris.insert(unescape(line.substr(2)));
    if (line.starts_with("H- ")) o.headers[line.substr(3)] = std::nullopt;
    if (line.starts_with("H ")) {
      size_t tab = line.find('\t');
      o.headers[line.substr(2, tab - 2)] = unescape(line.substr(tab + 1));
    }
  }
  return o;
}

std::unordered_set<std::string> stock_tlds() {
  std::unordered_set<std::string> tlds;
  std::istringstream in(read_file("/usr/share/spamassassin/20_aux_tlds.cf"));
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("util_rb_tld ")) continue;
    std::istringstream words(line.substr(12));
    for (std::string w; words >> w;) tlds.insert(w);
  }
  return tlds;
}

// Known differences: "<message basename>\t<what>" -> reason.
std::map<std::string, std::string> known_differences() {
  std::map<std::string, std::string> known;
  std::istringstream in(read_file(FILTERD_SOURCE_DIR "/tests/data/spam_text/differences.tsv"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t a = line.find('\t'), b = line.find('\t', a + 1);
    known[line.substr(0, b)] = line.substr(b + 1);
  }
  return known;
}

TEST(SpamTextOracle, AgreesWithSpamAssassinOnCorpusMessages) {
  const std::string data = SPAM_TEXT_ORACLE_DIR "/";
  const auto tlds = stock_tlds();
  const auto known = known_differences();
  std::istringstream list(read_file(FILTERD_SOURCE_DIR "/tests/data/spam_text/MESSAGES"));
  int messages = 0, body_ok = 0, raw_ok = 0, uri_ok = 0, hdr_ok = 0, hdr_total = 0;
  for (std::string rel; std::getline(list, rel);) {
    const std::string msg = read_file(FILTERD_CORPUS_DIR "/" + rel);
    if (msg.empty()) GTEST_SKIP() << "corpus not available: " << rel;
    const std::string base = rel.substr(rel.rfind('/') + 1);
    const Oracle o = load_oracle(data + base + ".txt");
    TextOptions opts;
    opts.tlds = &tlds;
    const MessageText t = build_message_text(msg, opts);
    ++messages;
    auto check = [&](const std::string& what, bool equal, int& ok) {
      if (equal) {
        ++ok;
        return;
      }
      if (!known.count(base + "\t" + what)) ADD_FAILURE() << rel << ": " << what << " differs";
    };
    check("body", t.body == o.body, body_ok);
    check("rawbody", t.rawbody == o.rawbody, raw_ok);
    check("uris", std::set<std::string>(t.uris.begin(), t.uris.end()) == o.uris, uri_ok);
    for (const auto& [name, value] : o.headers) {
      ++hdr_total;
      check("header " + name, t.get(name) == value, hdr_ok);
    }
  }
  std::printf("spam_text oracle: %d messages; body %d, rawbody %d, uris %d equal; headers %d/%d\n",
              messages, body_ok, raw_ok, uri_ok, hdr_ok, hdr_total);
}

}  // namespace
}  // namespace filterd::spam
