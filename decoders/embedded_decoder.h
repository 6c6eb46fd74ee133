// embedded_decoder.h — finds files that a text part carries inline and
// emits each as a child part: uuencode blocks ("begin 644 name" ... "end",
// and GNU sharutils' "begin-base64"), yEnc ("=ybegin" ... "=yend", with
// "=ypart" multipart files joined when their parts follow each other) and
// BinHex 4.0 (data fork, and the resource fork as "<name>.rsrc").
//
// Security stance: the text is hostile. The scan is one pass over the bytes
// (no block is read twice, no backtracking), nothing is allocated from a
// declared size, and output goes to the sink in bounded chunks, so a
// limit in the sink stops decoding at once. Damage (no "end" line, a CRC
// that does not match, a truncated fork) is described in `problem` and the
// result is kDamaged; whatever decoded is still emitted, because a scanner
// must see it.
//
// Thread safety: stateless; decode() may run concurrently.
#pragma once

#include <memory>

#include "decoders/decoder.h"

namespace filterd::decoders {

// Decoder "embedded" for .txt .asc .html .uue .hqx. Children carry
// ChildInfo::decoder "uuencode", "yenc" or "binhex".
std::shared_ptr<const Decoder> make_embedded_decoder();

}  // namespace filterd::decoders
