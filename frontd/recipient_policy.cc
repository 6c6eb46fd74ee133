// recipient_policy.cc — see recipient_policy.h.
#include "frontd/recipient_policy.h"

#include <string>

#include "frontd/address.h"

namespace filterd::frontd {

std::optional<smtp::Reply> check_recipient(std::string_view address, const ClientTrust& client,
                                           const LocalTables& tables) {
  const std::string quoted = "<" + std::string(address) + ">";
  if (client.require_auth && !client.authenticated) {
    return smtp::Reply{530, "5.7.0", quoted + ": Authentication required"};
  }
  const Address a = split_address(address);
  if (has_routing(a)) return smtp::Reply{554, "5.7.1", quoted + ": Relay access denied"};
  if (a.domain.empty() || a.local.empty()) {
    return smtp::Reply{501, "5.1.3", quoted + ": Bad recipient address syntax"};
  }
  if (tables.domains != nullptr && tables.domains->contains(a.domain)) {
    if (tables.mailboxes != nullptr && tables.mailboxes->find_address(address)) return std::nullopt;
    return smtp::Reply{550, "5.1.1",
                       quoted +
                           ": Recipient address rejected: User unknown in virtual mailbox "
                           "table"};
  }
  if (client.mynetworks || client.authenticated || client.reinjection) return std::nullopt;
  return smtp::Reply{554, "5.7.1", quoted + ": Relay access denied"};
}

std::optional<std::string> mailbox_path(std::string_view address, const LocalTables& tables,
                                        std::string_view base) {
  const Address a = split_address(address);
  if (has_routing(a) || tables.domains == nullptr || !tables.domains->contains(a.domain) ||
      tables.mailboxes == nullptr) {
    return std::nullopt;
  }
  auto rel = tables.mailboxes->find_address(address);
  if (!rel || rel->empty() || rel->front() == '/' || *rel == ".." || rel->starts_with("../") ||
      rel->find("/../") != std::string::npos || rel->ends_with("/..")) {
    return std::nullopt;
  }
  std::string path(base);
  if (!path.ends_with('/')) path += '/';
  return path + *rel;
}

}  // namespace filterd::frontd
