// Tests of notification templates: parsing, substitution of hostile
// values, RFC 2047 Subjects, the shipped en and ja sets, and DSN text.
#include "policy/notify.h"

#include <gtest/gtest.h>

#include "decoders/ascii.h"
#include "decoders/header_block.h"
#include "decoders/transfer_encoding.h"
#include "policy/dsn.h"
#include "policy/mail_text.h"

namespace filterd::policy {
namespace {

const std::string kJapaneseSubject =
    "【重要】会議の資料を送ります（第３四半期の売上報告）よろしくお願いします";

Values sample_values() {
  return {{"mail_id", "ABCDEF123456"},
          {"category", "INFECTED"},
          {"category_text", "virus found"},
          {"reason", "Eicar-Test-Signature in p002 eicar.com"},
          {"sender", "alice@a.test"},
          {"recipients", "bob@b.test, carol@b.test"},
          {"client", "[192.0.2.1]"},
          {"message_id", "<1234@a.test>"},
          {"subject", "hello"},
          {"date", "Sat, 28 Nov 2026 12:00:00 +0000"},
          {"hostname", "filter.test"},
          {"quarantine_id", "virus-ABCDEF123456"},
          {"destiny", "D_DISCARD"}};
}

NoticeHeaders sample_headers() {
  return {"Content-filter at filter.test <postmaster@filter.test>",
          "admin@filter.test",
          "Sat, 28 Nov 2026 12:00:01 +0000",
          "filter.test",
          "ABCDEF123456",
          "ADMIN"};
}

Template parsed(std::string_view text) {
  auto t = parse_template(text, "t");
  EXPECT_TRUE(t.has_value()) << t.error();
  return t.value_or(Template{});
}

// Every line ends in CRLF, no bare CR or LF, none longer than 998 bytes.
void expect_wire_lines(const std::string& m) {
  size_t start = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      ASSERT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
    } else if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
      EXPECT_LE(i - 1 - start, 998u) << "long line at " << start;
      start = i + 1;
    }
  }
  EXPECT_TRUE(m.empty() || m.ends_with("\r\n"));
}

std::string header_section(const std::string& m) {
  return m.substr(0, decoders::header_section_end(m));
}

// The unfolded value of header `name` in message `m`, decoded from RFC 2047.
std::string decoded_header(const std::string& m, std::string_view name) {
  auto v = decoders::header_value(header_section(m), name);
  return v ? decoders::decode_encoded_words(*v) : "(none)";
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// --- parsing ------------------------------------------------------------

struct BadTemplate {
  const char* name;
  std::string text;
  std::string error;
};

class TemplateErrors : public ::testing::TestWithParam<BadTemplate> {};

TEST_P(TemplateErrors, AreReportedWithFileAndLine) {
  auto t = parse_template(GetParam().text, "en/admin_notice");
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Parse, TemplateErrors,
    ::testing::Values(
        BadTemplate{"unknown_placeholder", "Subject: x\n\nline\nid ${mail_id} ${foo}\n",
                    "en/admin_notice:4: unknown placeholder ${foo}"},
        BadTemplate{"unknown_in_header", "Subject: ${nope}\n\n",
                    "en/admin_notice:1: unknown placeholder ${nope}"},
        BadTemplate{"unterminated", "Subject: x\n\n${mail_id\n",
                    "en/admin_notice:3: unterminated placeholder"},
        BadTemplate{"no_blank_line", "Subject: x\nX-A: b\n",
                    "en/admin_notice:2: no blank line after the header section"},
        BadTemplate{"empty", "", "en/admin_notice:1: no blank line after the header section"},
        BadTemplate{"no_subject", "X-A: b\n\nbody\n", "en/admin_notice:2: no Subject header"},
        BadTemplate{"no_colon", "Subject: x\nnot a header\n\n",
                    "en/admin_notice:2: no colon in header line"},
        BadTemplate{"reserved", "Subject: x\nfrom: me@x.test\n\n",
                    "en/admin_notice:2: header from is set by filterd"},
        BadTemplate{"second_subject", "Subject: x\nSubject: y\n\n",
                    "en/admin_notice:2: second Subject header"},
        BadTemplate{"lone_continuation", " x\nSubject: y\n\n",
                    "en/admin_notice:1: continuation line without a header"},
        BadTemplate{"control", "Subject: x\n\nbell\a\n", "en/admin_notice:3: control character"},
        BadTemplate{"bad_utf8", "Subject: x\n\n\xff\n", "en/admin_notice:3: invalid UTF-8"},
        BadTemplate{"conditional_in_header", "Subject: ${?subject}x\n\n",
                    "en/admin_notice:1: ${?...} only at the start of a body line"},
        BadTemplate{"conditional_mid_line", "Subject: x\n\na ${?subject}b\n",
                    "en/admin_notice:3: ${?...} only at the start of a body line"}),
    [](const ::testing::TestParamInfo<BadTemplate>& row) { return std::string(row.param.name); });

TEST(Template, ParsesHeadersFoldingAndBodyWithCrlfOrLf) {
  Template t = parsed("Subject: a\r\n  b ${mail_id}\r\nX-Tag: t\r\n\r\nline 1\r\nline 2\r\n");
  ASSERT_EQ(t.headers.size(), 2u);
  EXPECT_EQ(t.headers[0], (std::pair<std::string, std::string>{"Subject", "a b ${mail_id}"}));
  EXPECT_EQ(t.headers[1], (std::pair<std::string, std::string>{"X-Tag", "t"}));
  EXPECT_EQ(t.body, "line 1\nline 2\n");
}

TEST(Template, CategoryTextsMustNameEveryCategoryOnce) {
  std::string all;
  for (std::string_view c : notice_categories()) all += std::string(c) + ": text\n";
  EXPECT_TRUE(parse_category_texts("# comment\n\n" + all, "c").has_value());
  EXPECT_EQ(parse_category_texts(all + "VIRUS: x\n", "c").error(), "c:9: unknown category VIRUS");
  EXPECT_EQ(parse_category_texts(all + "SPAM: again\n", "c").error(), "c:9: second SPAM");
  EXPECT_EQ(parse_category_texts("INFECTED: virus\n", "c").error(), "c:1: no text for BANNED");
  EXPECT_EQ(parse_category_texts("INFECTED:\n", "c").error(), "c:1: no text for INFECTED");
}

// --- substitution -------------------------------------------------------

TEST(Render, ReplacesPlaceholdersAndDollarDollar) {
  Template t = parsed(
      "Subject: ${category} ${mail_id}\n\nCost: $$5 or $5, literal $${mail_id}\n"
      "${reason} from <${sender}>\n");
  Values v = sample_values();
  EXPECT_EQ(render_text(t, v),
            "Cost: $5 or $5, literal ${mail_id}\r\n"
            "Eicar-Test-Signature in p002 eicar.com from <alice@a.test>\r\n");
  EXPECT_EQ(render_subject(t, v), "INFECTED ABCDEF123456");
}

TEST(Render, MissingValuesAreEmpty) {
  Template t = parsed("Subject: s\n\n[${client}]\n");
  EXPECT_EQ(render_text(t, {}), "[]\r\n");
}

TEST(Render, ConditionalLineIsKeptOnlyWithAValue) {
  Template t = parsed("Subject: s\n\na\n${?quarantine_id}Quarantine: ${quarantine_id}\nb\n");
  Values v = sample_values();
  EXPECT_EQ(render_text(t, v), "a\r\nQuarantine: virus-ABCDEF123456\r\nb\r\n");
  v["quarantine_id"] = "";
  EXPECT_EQ(render_text(t, v), "a\r\nb\r\n");
  v["quarantine_id"] = "\r\n";  // nothing but control characters is not empty: a space
  EXPECT_EQ(render_text(t, v), "a\r\nQuarantine:  \r\nb\r\n");
}

// --- hostile values -----------------------------------------------------

TEST(Hostile, CrlfInASubjectValueCannotAddHeaderFields) {
  Template t = parsed("Subject: ${subject}\n\n${subject}\n");
  Values v = sample_values();
  v["subject"] = "hi\r\nBcc: victim@c.test\r\n\r\nfake body";
  std::string m = compose_notice(t, v, sample_headers());
  for (const auto& f : decoders::parse_header_fields(m)) {
    EXPECT_FALSE(decoders::iequals(f.name, "Bcc")) << m;
  }
  EXPECT_EQ(decoded_header(m, "Subject"), "hi Bcc: victim@c.test fake body");
  EXPECT_NE(m.find("\r\n\r\nhi Bcc: victim@c.test fake body\r\n"), std::string::npos);
  expect_wire_lines(m);
}

TEST(Hostile, ControlCharactersBecomeOneSpaceAndBadUtf8AQuestionMark) {
  Template t = parsed("Subject: s\n\n<${reason}>\n");
  Values v;
  v["reason"] =
      "a\x01\x02\tb\x7f"
      "c\xc2\x85"
      "d\xe2\x80\xae"
      "e\xff"
      "f\xc3";
  EXPECT_EQ(render_text(t, v), "<a b c d e?f?>\r\n");
}

TEST(Hostile, LongValuesAreCutAtTheirBound) {
  Template t = parsed("Subject: s\n\n${reason}\n${recipients}\n");
  Values v;
  v["reason"] = std::string(100000, 'x');
  v["recipients"] = std::string(100000, 'y');
  // 500 and 2000 bytes with "..."; the 2000 split into lines of 998.
  EXPECT_EQ(render_text(t, v), std::string(497, 'x') + "...\r\n" + std::string(998, 'y') + "\r\n" +
                                   std::string(998, 'y') + "\r\ny...\r\n");
}

TEST(Hostile, CutsNeverSplitAUtf8Sequence) {
  Template t = parsed("Subject: s\n\n${reason}\n");
  Values v;
  v["reason"] = "";
  for (int i = 0; i < 300; ++i) v["reason"] += "漢";
  std::string text = render_text(t, v, NoticeLimits{.max_value_bytes = 100});
  EXPECT_EQ(text, std::string(v["reason"], 0, 96) + "...\r\n");
  EXPECT_TRUE(valid_utf8(text));
}

TEST(Hostile, LongLinesAreWrappedAtSpacesOrBetweenCharacters) {
  std::string words = "word";
  for (int i = 0; i < 300; ++i) words += " word";
  std::string wrapped = crlf_text(words);
  expect_wire_lines(wrapped);
  EXPECT_EQ(wrapped.find(" \r\n"), std::string::npos);

  std::string kanji;
  for (int i = 0; i < 700; ++i) kanji += "漢";
  wrapped = crlf_text(kanji);
  expect_wire_lines(wrapped);
  size_t first_end = wrapped.find("\r\n");
  EXPECT_EQ(first_end, 996u);  // 332 whole characters
  EXPECT_TRUE(valid_utf8(wrapped.substr(0, first_end)));
}

TEST(Hostile, CrlfTextTurnsEveryLineEndIntoCrlf) {
  EXPECT_EQ(crlf_text("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(crlf_text(""), "");
}

// --- RFC 2047 -----------------------------------------------------------

TEST(Subject, JapaneseIsEncodedInShortWordsThatDecodeBack) {
  std::string field = unstructured_field("Subject", kJapaneseSubject);
  ASSERT_TRUE(field.starts_with("Subject: =?UTF-8?B?"));
  size_t start = 0;
  for (size_t end; (end = field.find("\r\n", start)) != std::string::npos; start = end + 2) {
    std::string_view line = std::string_view(field).substr(start, end - start);
    EXPECT_LE(line.size(), 76u) << line;  // RFC 2047 §2
    size_t word = line.find("=?UTF-8?B?");
    ASSERT_NE(word, std::string::npos) << line;
    std::string_view w = line.substr(word);
    EXPECT_LE(w.size(), 75u);
    ASSERT_TRUE(w.ends_with("?="));
    std::string raw;
    decoders::decode_base64(w.substr(10, w.size() - 12), raw);
    EXPECT_TRUE(valid_utf8(raw)) << "a word splits a character: " << w;
  }
  EXPECT_EQ(decoded_header(field + "\r\n", "Subject"), kJapaneseSubject);
}

TEST(Subject, AsciiIsFoldedAtSpacesAndLiteralEncodedWordsAreEncoded) {
  std::string long_ascii;
  for (int i = 0; i < 40; ++i) long_ascii += "subject ";
  std::string field = unstructured_field("Subject", long_ascii);
  EXPECT_EQ(field.find("=?"), std::string::npos);
  expect_wire_lines(field);
  for (size_t s = 0, e; (e = field.find("\r\n", s)) != std::string::npos; s = e + 2) {
    EXPECT_LE(e - s, 78u);
  }
  EXPECT_EQ(decoded_header(field + "\r\n", "Subject"), long_ascii.substr(0, long_ascii.size() - 1));

  field = unstructured_field("Subject", "=?utf-8?B?SGFjaw==?=");
  EXPECT_EQ(decoded_header(field + "\r\n", "Subject"), "=?utf-8?B?SGFjaw==?=");

  std::string token(3000, 'z');  // cannot fold: encoded words split it
  field = unstructured_field("Subject", token);
  expect_wire_lines(field);
  EXPECT_EQ(decoded_header(field + "\r\n", "Subject"), token);
}

TEST(Subject, OriginalSubjectIsDecodedFromRfc2047) {
  EXPECT_EQ(original_subject("From: a@b\r\nSubject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n"
                             " =?UTF-8?Q?_caf=C3=A9?=\r\n\r\nbody"),
            "テスト café");
  EXPECT_EQ(original_subject("From: a@b\r\n\r\nSubject: not a header\r\n"), "");
}

// --- composed notices ---------------------------------------------------

TEST(Notice, HasEnvelopeMimeAndAutoSubmittedFields) {
  Template t = parsed(
      "Subject: ${category} in ${mail_id}\nX-Filterd-Category: ${category}\n\n"
      "${reason}\n");
  std::string m = compose_notice(t, sample_values(), sample_headers());
  std::string h = header_section(m);
  EXPECT_NE(h.find("From: Content-filter at filter.test <postmaster@filter.test>\r\n"),
            std::string::npos);
  EXPECT_NE(h.find("To: admin@filter.test\r\n"), std::string::npos);
  EXPECT_NE(h.find("Date: Sat, 28 Nov 2026 12:00:01 +0000\r\n"), std::string::npos);
  EXPECT_NE(h.find("Message-ID: <NOTICE-ADMIN-ABCDEF123456@filter.test>\r\n"), std::string::npos);
  EXPECT_NE(h.find("Subject: INFECTED in ABCDEF123456\r\n"), std::string::npos);
  EXPECT_NE(h.find("X-Filterd-Category: INFECTED\r\n"), std::string::npos);
  EXPECT_NE(h.find("Auto-Submitted: auto-generated\r\n"), std::string::npos);
  EXPECT_NE(h.find("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: 7bit\r\n"),
            std::string::npos);
  EXPECT_TRUE(m.ends_with("\r\n\r\nEicar-Test-Signature in p002 eicar.com\r\n"));
  expect_wire_lines(m);
}

TEST(Notice, HostileHeaderInputsStayOnTheirLine) {
  Template t = parsed("Subject: s\n\nb\n");
  NoticeHeaders h = sample_headers();
  h.to = "x@y.test\r\nBcc: victim@c.test";
  h.mail_id = "A>\r\nB";
  h.hostname = "h\r\nX: y";
  std::string m = compose_notice(t, {}, h);
  for (const auto& f : decoders::parse_header_fields(m)) {
    EXPECT_FALSE(decoders::iequals(f.name, "Bcc"));
    EXPECT_FALSE(decoders::iequals(f.name, "X"));
  }
  EXPECT_NE(m.find("Message-ID: <NOTICE-ADMIN-A---B@h--X--y>\r\n"), std::string::npos);
  expect_wire_lines(m);
}

class ShippedTemplates : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedTemplates, LoadAndRenderEveryPlaceholder) {
  auto set = load_templates(std::string(FILTERD_SOURCE_DIR) + "/etc/templates/" + GetParam());
  ASSERT_TRUE(set.has_value()) << set.error();
  for (std::string_view c : notice_categories()) {
    EXPECT_NE(category_text(*set, c), c) << "no phrase for " << c;
  }
  Values v = sample_values();
  v["category_text"] = category_text(*set, "INFECTED");
  v["subject"] = kJapaneseSubject;
  for (const Template* t : {&set->admin_notice, &set->recipient_warning, &set->sender_dsn}) {
    std::string m = compose_notice(*t, v, sample_headers());
    expect_wire_lines(m);
    EXPECT_EQ(m.find("${"), std::string::npos) << m;
    EXPECT_NE(m.find("ABCDEF123456"), std::string::npos) << "no mail id: " << m;
    EXPECT_NE(m.find("Eicar-Test-Signature"), std::string::npos) << "no reason: " << m;
    std::string subject = decoded_header(m, "Subject");
    EXPECT_TRUE(subject.find(v["category_text"]) != std::string::npos ||
                subject.find("INFECTED") != std::string::npos)
        << subject;
    EXPECT_TRUE(valid_utf8(m));
  }
  // Every placeholder the set uses at least once, with a value reaching the text.
  for (std::string_view name : placeholder_names()) {
    if (name == "category_text") continue;  // checked above: it is in the Subjects
    Values marked = v;
    marked[std::string(name)] = "MARK-" + std::string(name);
    std::string all;
    for (const Template* t : {&set->admin_notice, &set->recipient_warning, &set->sender_dsn}) {
      all += compose_notice(*t, marked, sample_headers());
    }
    EXPECT_NE(all.find("MARK-" + std::string(name)), std::string::npos) << name << " unused";
  }
  // Huge hostile values: still wire-clean.
  Values huge = v;
  for (auto& [name, value] : huge) value = std::string(50000, 'a') + "\r\n\x01" + value;
  for (const Template* t : {&set->admin_notice, &set->recipient_warning, &set->sender_dsn}) {
    expect_wire_lines(compose_notice(*t, huge, sample_headers()));
  }
}

TEST(ShippedTemplates, JapaneseSubjectSaysWhatWasFound) {
  auto set = load_templates(std::string(FILTERD_SOURCE_DIR) + "/etc/templates/ja");
  ASSERT_TRUE(set.has_value()) << set.error();
  Values v = sample_values();
  v["category_text"] = category_text(*set, "INFECTED");
  std::string m = compose_notice(set->recipient_warning, v, sample_headers());
  EXPECT_NE(decoded_header(m, "Subject").find("ウイルスを検出しました"), std::string::npos);
  EXPECT_NE(m.find("Content-Transfer-Encoding: 8bit\r\n"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Languages, ShippedTemplates, ::testing::Values("en", "ja"));

TEST(Load, NamesTheMissingFile) {
  auto set = load_templates("/nonexistent/templates");
  ASSERT_FALSE(set.has_value());
  EXPECT_TRUE(set.error().starts_with("/nonexistent/templates/admin_notice: cannot read"))
      << set.error();
}

// --- DSN with template text ---------------------------------------------

DsnInput dsn_sample() {
  DsnInput in;
  in.reporting_mta = "filter.test";
  in.mail_id = "ABCDEF";
  in.date = "Sat, 28 Nov 2026 12:00:00 +0000";
  in.arrival_date = in.date;
  in.sender = "alice@a.test";
  in.reason = "INFECTED: Eicar-Test-Signature";
  in.recipients.push_back(
      {"bob@b.test", "", smtp::Reply{554, "5.7.0", "Reject - INFECTED: Eicar-Test-Signature"}});
  in.original_headers = "Subject: hi\r\nFrom: alice@a.test\r\n";
  return in;
}

TEST(DsnHumanText, ReplacesTheBuiltInTextAndSubject) {
  auto set = load_templates(std::string(FILTERD_SOURCE_DIR) + "/etc/templates/ja");
  ASSERT_TRUE(set.has_value()) << set.error();
  Values v = sample_values();
  v["category_text"] = category_text(*set, "INFECTED");
  DsnInput in = dsn_sample();
  in.human_text = render_text(set->sender_dsn, v);
  in.subject = render_subject(set->sender_dsn, v);
  std::string m = compose_dsn(in);
  expect_wire_lines(m);
  EXPECT_EQ(decoded_header(m, "Subject"), "メールを配送できませんでした: ウイルスを検出しました");
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                   "Content-Description: Notification\r\n\r\n" +
                   in.human_text),
            std::string::npos);
  EXPECT_EQ(m.find("Your message could not be delivered"), std::string::npos);
  // The whole multipart is 8bit too (RFC 2045 §6.4), before the first boundary.
  EXPECT_LT(m.find("Content-Transfer-Encoding: 8bit"), m.find("This is a MIME-encapsulated"));
  EXPECT_NE(m.find("Content-Type: message/delivery-status"), std::string::npos);
  EXPECT_NE(m.find("Status: 5.7.0\r\n"), std::string::npos);
}

TEST(DsnHumanText, AsciiTextIsSentWithoutEightBit) {
  DsnInput in = dsn_sample();
  in.human_text = "Plain text\nwith LF";
  std::string m = compose_dsn(in);
  expect_wire_lines(m);
  EXPECT_NE(m.find("charset=UTF-8\r\nContent-Description: Notification\r\n\r\n"
                   "Plain text\r\nwith LF\r\n"),
            std::string::npos);
  EXPECT_EQ(m.find("8bit"), std::string::npos);
  EXPECT_NE(m.find("Subject: Undelivered mail returned to sender\r\n"), std::string::npos);
}

TEST(DsnHumanText, EmptyKeepsTheBuiltInText) {
  std::string m = compose_dsn(dsn_sample());
  EXPECT_NE(m.find("Content-Type: text/plain; charset=us-ascii\r\n"), std::string::npos);
  EXPECT_NE(m.find("Your message could not be delivered to one or more recipients.\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace filterd::policy
