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
  // Formats libarchive cannot read but ClamAV's own parsers do: ClamAV
  // unpacks them when it scans the part (amavis lists these as "No decoder").
  for (const char* type : {".arj", ".chm", ".doc", ".pdf", ".rtf", ".exe-ms"}) {
    registry.add_external(type, "clamav");
  }
  return registry;
}

}  // namespace filterd::decoders
