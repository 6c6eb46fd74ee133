// builtin_decoders.cc — every decoder filterd ships, one line each. A later
// line wins for a type both list.
#include "decoders/archive_decoder.h"
#include "decoders/decoder.h"
#include "decoders/embedded_decoder.h"
#include "decoders/tnef_decoder.h"

namespace filterd::decoders {

DecoderRegistry builtin_decoders() {
  DecoderRegistry registry;
  registry.add(make_archive_decoder());
  registry.add(make_embedded_decoder());
  registry.add(make_tnef_decoder());
  return registry;
}

}  // namespace filterd::decoders
