// attachment_removal.h — instead of blocking a whole message for one bad
// attachment, replace that attachment by a short text/plain notice naming
// what was removed and why. Every other byte of the message stays as it was.
//
// Only attachments of the message itself can go: the MIME part at the top
// level that holds the offending part (a zip holding a virus goes whole).
// When an offending part is the message body, or parts overlap (hostile
// MIME with several boundaries), nothing is removed: the caller blocks the
// message as usual. The caller must scan the edited message again before
// passing it: what the parser saw is not always what a mail client sees.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/message_decoder.h"

namespace filterd {

struct Offence {
  int part = -1;       // index in the decoded parts
  std::string reason;  // "INFECTED: Eicar-Test-Signature", "BANNED: .exe-ms"
};

struct Removal {
  std::string message;               // the edited message
  std::vector<std::string> removed;  // labels of the attachments replaced
};

std::optional<Removal> remove_attachments(std::string_view message,
                                          const decoders::DecodeResult& decoded,
                                          const std::vector<Offence>& offences,
                                          const std::string& mail_id);

}  // namespace filterd
