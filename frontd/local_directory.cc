// local_directory.cc — see local_directory.h.
#include "frontd/local_directory.h"

#include <vector>

namespace filterd::frontd {

std::expected<LocalDirectory, std::string> LocalDirectory::open(const std::string& domains_spec,
                                                                const std::string& maps_spec) {
  LocalDirectory d;
  d.domains_spec_ = domains_spec;
  auto domains = DomainList::parse(domains_spec);
  if (!domains) return std::unexpected("virtual_mailbox_domains: " + domains.error());
  d.domains_ = std::make_shared<const DomainList>(std::move(*domains));
  if (!maps_spec.empty()) {
    auto map = MapFile::open(maps_spec);
    if (!map) return std::unexpected("virtual_mailbox_maps: " + map.error());
    d.map_ = std::move(*map);
  }
  return d;
}

std::vector<std::string> LocalDirectory::refresh(bool force) {
  std::vector<std::string> out;
  // Domain files are small: re-read them on every refresh that names files.
  if (force || domains_spec_.find('/') != std::string::npos) {
    auto domains = DomainList::parse(domains_spec_);
    if (!domains) {
      out.push_back("virtual_mailbox_domains: " + domains.error() + "; keeping the old list");
    } else if (force || domains->size() != domains_->size()) {
      domains_ = std::make_shared<const DomainList>(std::move(*domains));
      out.push_back("virtual_mailbox_domains: " + std::to_string(domains_->size()) + " domains");
    } else {
      domains_ = std::make_shared<const DomainList>(std::move(*domains));
    }
  }
  if (map_) {
    auto r = map_->reload(force);
    if (!r) {
      out.push_back("virtual_mailbox_maps: " + r.error() + "; keeping the old table");
    } else if (*r) {
      out.push_back("virtual_mailbox_maps: reloaded " + map_->path() + " (" +
                    std::to_string(map_->current()->size()) + " entries)");
    }
  }
  return out;
}

}  // namespace filterd::frontd
