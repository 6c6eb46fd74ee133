// Fuzz target: the small parsers that read network or message bytes —
// SMTP reply parser (peer replies), path/parameter parser, xtext, endpoint
// specs, the header section reader, the BAD-HEADER checks, lookup keys,
// recipient tables, key sets, network lists, the banned-file rules (the
// input as a rules file; the input as file names under the shipped rules)
// and notification templates (input as template; input as hostile values).
// No crash, no unbounded growth; notices are CRLF-only and cannot gain
// header fields.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "decoders/header_block.h"
#include "policy/bad_header.h"
#include "policy/banned.h"
#include "policy/cidr.h"
#include "policy/lookup.h"
#include "policy/mail_text.h"
#include "policy/notify.h"
#include "smtp/command.h"
#include "smtp/endpoint.h"
#include "smtp/reply_parser.h"

namespace {

using filterd::decoders::Part;
using namespace filterd;
using namespace filterd::policy;

Part fuzz_part(std::string path, int parent, std::string detected, std::string declared,
               std::vector<std::string> names) {
  Part p;
  p.path = std::move(path);
  p.parent = parent;
  p.detected_type = std::move(detected);
  p.declared_type = std::move(declared);
  p.declared_names = std::move(names);
  return p;
}

void check(const std::vector<BannedPart>& banned, const std::vector<Part>& parts) {
  size_t last = 0;
  for (size_t i = 0; i < banned.size(); ++i) {
    const BannedPart& b = banned[i];
    if (b.index >= parts.size() || (i > 0 && b.index <= last)) std::abort();
    if (b.key.size() > kBannedMaxKeyBytes || b.label.size() > kBannedMaxLabelBytes) std::abort();
    if (b.rule_line < 1 || b.rule.empty() || banned_reason(b).empty()) std::abort();
    last = b.index;
  }
}

// The input as a rules file, matched against a small fixed message.
void fuzz_rules_file(std::string_view in) {
  auto rules = parse_banned_rules(in, "fuzz");
  if (!rules) {
    if (!rules.error().starts_with("fuzz:")) std::abort();
    return;
  }
  static const std::vector<Part> parts = {
      fuzz_part("p001", -1, ".txt", "text/plain", {}),
      fuzz_part("p002", -1, ".zip", "application/zip", {"docs.zip"}),
      fuzz_part("p002/p001", 1, ".exe-ms", "", {"invoice.pdf.exe", "\xff\xfe.scr"}),
      fuzz_part("p003", -1, ".pdf", "application/pdf", {std::string(300, 'a') + ".pdf"})};
  check(match_banned(*rules, parts), parts);
}

// The input as file names and types of a nested message under the shipped
// rules: lines become names, types cycle through a few interesting ones.
void fuzz_names(std::string_view in) {
  static const BannedRules shipped = [] {
    auto r = load_banned_rules(FILTERD_SOURCE_DIR "/etc/banned.rules");
    if (!r) std::abort();
    return std::move(*r);
  }();
  static const char* const kDetected[] = {"", ".exe-ms", ".zip", ".tar", ".txt", ".gz"};
  static const char* const kDeclared[] = {"", "application/octet-stream", "message/partial",
                                          "text/plain"};
  std::vector<Part> parts;
  constexpr size_t kMaxParts = 16;
  for (size_t pos = 0; pos <= in.size() && parts.size() < kMaxParts;) {
    size_t nl = in.find('\n', pos);
    std::string_view name = in.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? in.size() + 1 : nl + 1;
    size_t i = parts.size();
    // Chains of four: each part but every fourth nests in the one before it.
    int parent = i % 4 != 0 ? static_cast<int>(i) - 1 : -1;
    parts.push_back(fuzz_part("p" + std::to_string(i + 1), parent, kDetected[i % 6],
                              kDeclared[i % 4], {std::string(name)}));
  }
  check(match_banned(shipped, parts), parts);
}

// CRLF line ends only, no bare CR or LF, no line over 998 bytes.
void check_wire(std::string_view m) {
  size_t start = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r' && (i + 1 >= m.size() || m[i + 1] != '\n')) std::abort();
    if (m[i] == '\n') {
      if (i == 0 || m[i - 1] != '\r' || i - 1 - start > 998) std::abort();
      start = i + 1;
    }
  }
  if (start != m.size()) std::abort();  // the last line ends in CRLF too
}

void fuzz_notify(std::string_view in) {
  static const policy::Template kFixed = [] {
    std::string text = "Subject: ${subject} (${reason})\nX-Mail-Id: ${mail_id}\n\n";
    for (std::string_view name : policy::placeholder_names()) {
      text += "${?" + std::string(name) + "}" + std::string(name) + ": ${" + std::string(name) +
              "} $$\n";
    }
    return policy::parse_template(text, "fixed").value();
  }();
  policy::Values fixed_values;
  for (std::string_view name : policy::placeholder_names()) {
    fixed_values[std::string(name)] = "value of " + std::string(name);
  }
  policy::NoticeHeaders fixed_headers{"a@b.test", "c@d.test", "now", "h.test", "ID", "T"};

  if (auto t = policy::parse_template(in, "fuzz")) {
    check_wire(policy::render_text(*t, fixed_values));
    check_wire(policy::compose_notice(*t, fixed_values, fixed_headers));
  }

  policy::Values hostile;
  size_t k = 0, n = policy::placeholder_names().size();
  for (std::string_view name : policy::placeholder_names()) {
    hostile[std::string(name)] = std::string(in.substr(k++ * in.size() / n));
  }
  std::string s(in);
  policy::NoticeHeaders h{s, s, s, s, s, s};
  std::string m = policy::compose_notice(kFixed, hostile, h);
  check_wire(m);
  // Exactly the fields of the fixed template and filterd's own: no injection.
  if (decoders::parse_header_fields(m).size() != 10) std::abort();
  std::string field = policy::unstructured_field("Subject", in);
  check_wire(field);
  if (decoders::parse_header_fields(field + "\r\n").size() != 1) std::abort();
  check_wire(policy::crlf_text(in));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  smtp::ReplyParser p;
  for (size_t pos = 0; pos < in.size(); pos += 7) {
    if (!p.feed(in.substr(pos, 7))) break;
    while (p.has_reply()) {
      smtp::Reply r = p.pop();
      if (r.code < 200 || r.code > 599) std::abort();
    }
  }
  if (auto a = smtp::parse_path_args(in, "FROM:")) {
    if (a->address.size() > smtp::kMaxPathLength) std::abort();
  }
  if (auto x = smtp::xtext_decode(in)) {
    if (smtp::xtext_decode(smtp::xtext_encode(*x)) != *x) std::abort();
  }
  (void)smtp::parse_endpoint(in);

  size_t end = decoders::header_section_end(in);
  if (end > in.size()) std::abort();
  for (const auto& f : decoders::parse_header_fields(in)) {
    if (f.raw.data() < in.data() || f.raw.data() + f.raw.size() > in.data() + in.size())
      std::abort();
  }
  (void)decoders::header_value(in, "Message-ID");
  for (const auto& b : policy::check_headers(in, {})) {
    if (b.minor.empty()) std::abort();
  }

  // Lookup keys: never empty, "." last, none longer than the address (plus
  // the leading dot of a domain key, or "<>").
  for (char delimiter : {'+', '-', '\0'}) {
    auto keys = policy::lookup_keys(in, delimiter);
    if (keys.empty() || keys.back() != "." || keys.size() > 6 + policy::kMaxDomainKeys) {
      std::abort();
    }
    for (const auto& k : keys) {
      if (k.size() > in.size() + 2) std::abort();
    }
  }
  static const policy::SettingSchema schema = {{"spam_lover", policy::SettingType::kBool},
                                               {"spam_kill_level", policy::SettingType::kNumber},
                                               {"spam_subject_tag2", policy::SettingType::kString}};
  policy::RecipientTable table(schema);
  if (table.add_entries(in, "fuzz")) {
    for (std::string_view a : {"user+foo@sub.example.com", "", "x"}) {
      if (table.resolve(a, '+').settings.size() > schema.size()) std::abort();
    }
  } else if (table.size() != 0) {
    std::abort();  // a failed load leaves the table unchanged
  }
  (void)table.add_entry(in, "fuzz");
  if (table.resolve(in, '+').settings.size() > schema.size()) std::abort();
  if (auto set = policy::LookupSet::parse(in)) (void)set->contains(in, '+');

  static const auto mynetworks =
      policy::NetworkList::parse("127.0.0.0/8 [::1]/128 10.0.0.0/8 [fe80::]/10 ::ffff:0:0/96");
  if (!mynetworks) std::abort();
  (void)mynetworks->contains(in);
  if (auto list = policy::NetworkList::parse(in)) {
    (void)list->contains(in);
    (void)list->contains("::ffff:127.0.0.1");
  }
  fuzz_rules_file(in);
  fuzz_names(in);
  fuzz_notify(in);
  return 0;
}
