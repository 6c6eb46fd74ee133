// decoder_registry.cc — see DecoderRegistry in decoder.h.
#include "decoders/decoder.h"

namespace filterd::decoders {

void DecoderRegistry::add(std::shared_ptr<const Decoder> decoder) {
  if (!decoder) return;
  for (const std::string& type : decoder->types()) by_type_.insert_or_assign(type, decoder.get());
  owned_.push_back(std::move(decoder));
}

void DecoderRegistry::add_external(std::string type, std::string who) {
  external_.insert_or_assign(std::move(type), std::move(who));
}

bool DecoderRegistry::is_external(std::string_view detected_type) const {
  return external_.find(detected_type) != external_.end();
}

const Decoder* DecoderRegistry::find(std::string_view detected_type) const {
  auto it = by_type_.find(detected_type);
  return it == by_type_.end() ? nullptr : it->second;
}

std::map<std::string, std::string> DecoderRegistry::table() const {
  std::map<std::string, std::string> out;
  for (const auto& [type, decoder] : by_type_) out.emplace(type, std::string(decoder->name()));
  for (const auto& [type, who] : external_) out.emplace(type, who + " (external)");
  return out;
}

}  // namespace filterd::decoders
