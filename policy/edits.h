// edits.h — what a recipient's copy of a passed message gets: header fields
// at the top, a tag in front of the Subject, an address extension on the
// envelope recipient. Everything else stays byte-identical.
//
// As amavis: X-Virus-Scanned goes to everyone; the X-Spam-* fields, the
// alert fields and subject tags only to local-domain recipients (a relay
// should not rewrite mail leaving the site). When X-Spam-* fields are
// added, any that came with the message are removed, so that a sender
// cannot pre-label its spam as clean.
//
// Pure functions; tested with tables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/verdict.h"

namespace filterd::policy {

struct MessageEdits {
  std::vector<std::string> add_fields;  // whole fields, folded with CRLF, no final line end
  std::string subject_tag;              // put in front of the Subject value; "" = none
  bool replace_spam_fields = false;     // drop the message's X-Spam-Flag/Score/Level/Status
  bool operator==(const MessageEdits&) const = default;
};

// The edits for a recipient whose decision is D_PASS. `x_virus_scanned` is
// the X-Virus-Scanned value ("" = no such field).
MessageEdits edits_for(const Findings& f, const Decision& d, const RecipientPolicy& p,
                       const std::string& x_virus_scanned);

// The edited message as a new head plus the original bytes from
// `keep_from` on: when only fields are added, the head is those fields and
// nothing of the original is copied.
struct EditedMessage {
  std::string head;
  size_t keep_from = 0;
};
EditedMessage apply_edits(std::string_view message, const MessageEdits& e);

// "user+spam@example.com" for ("user@example.com", '+', "spam"); the
// address unchanged when the delimiter or extension is empty, or the
// address has no '@' or already carries an extension (amavis leaves
// those alone).
std::string extended_address(std::string_view address, char delimiter, std::string_view extension);

// The extension for a passed recipient: by its main category if local.
std::string address_extension_for(const Decision& d, const RecipientPolicy& p);

}  // namespace filterd::policy
