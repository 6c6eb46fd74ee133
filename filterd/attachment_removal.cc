// attachment_removal.cc — see attachment_removal.h.
#include "filterd/attachment_removal.h"

#include <algorithm>
#include <map>

#include "decoders/header_block.h"
#include "policy/edits.h"
#include "policy/mail_text.h"

namespace filterd {

std::optional<Removal> remove_attachments(std::string_view message,
                                          const decoders::DecodeResult& decoded,
                                          const std::vector<Offence>& offences,
                                          const std::string& mail_id) {
  if (offences.empty()) return std::nullopt;
  // Top-level part index -> why it goes (several offences may share one).
  std::map<int, std::vector<std::string>> doomed;
  for (const Offence& o : offences) {
    if (o.part < 0 || o.part >= static_cast<int>(decoded.parts.size())) return std::nullopt;
    int top = o.part;
    while (decoded.parts[top].parent >= 0) top = decoded.parts[top].parent;
    const decoders::Part& p = decoded.parts[top];
    if (p.entity_end <= p.entity_begin || p.entity_end > message.size()) return std::nullopt;
    auto& why = doomed[top];
    // A part inside the attachment is named; the attachment itself is above.
    std::string line = o.part == top ? o.reason : decoded.parts[o.part].label() + ": " + o.reason;
    if (std::find(why.begin(), why.end(), line) == why.end()) why.push_back(line);
  }
  std::vector<int> order;
  for (const auto& [top, why] : doomed) order.push_back(top);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return decoded.parts[a].entity_begin < decoded.parts[b].entity_begin;
  });
  for (size_t i = 1; i < order.size(); ++i) {
    if (decoded.parts[order[i]].entity_begin < decoded.parts[order[i - 1]].entity_end) {
      return std::nullopt;  // overlapping entities: hostile structure
    }
  }

  const std::string eol(decoders::line_ending_of(message));
  Removal out;
  size_t copied = 0;
  for (int top : order) {
    const decoders::Part& p = decoded.parts[top];
    out.message.append(message.substr(copied, p.entity_begin - copied));
    out.message += "Content-Type: text/plain; charset=UTF-8" + eol;
    out.message += "Content-Disposition: inline" + eol;
    out.message += "Content-Transfer-Encoding: 8bit" + eol + eol;
    out.message += "An attachment was removed from this message by the content filter." + eol;
    out.message += eol;
    out.message += "Attachment: " + policy::one_line_utf8(p.label(), 200) + eol;
    for (const auto& why : doomed[top])
      out.message += "Found: " + policy::one_line_utf8(why, 200) + eol;
    out.message += "Mail id: " + mail_id;
    copied = p.entity_end;
    out.removed.push_back(policy::one_line_utf8(p.label(), 200));
  }
  out.message.append(message.substr(copied));
  return out;
}

}  // namespace filterd
