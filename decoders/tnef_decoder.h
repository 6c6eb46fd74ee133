// tnef_decoder.h — unpacks Microsoft TNEF (winmail.dat, application/ms-tnef)
// as [MS-OXTNEF] describes it: every attachment becomes a child named by
// its long file name (falling back to the 8.3 name, the title, the display
// name), and the message body becomes "body.txt", "body.html" and/or
// "body.rtf" (compressed RTF is decompressed, [MS-OXRTFCP]).
//
// An attached message (PR_ATTACH_DATA_OBJ holding an IMessage) is itself a
// TNEF stream: it is emitted as one child with declared type
// application/ms-tnef, so the caller's recursion (and its depth limit)
// unpacks it; this decoder never recurses.
//
// Security stance: every length is checked against the bytes that remain;
// nothing is allocated from a declared size. A wrong attribute checksum is
// noted and parsing goes on; a truncated stream emits what it has and
// returns kDamaged.
//
// Thread safety: stateless; decode() may run concurrently.
#pragma once

#include <memory>

#include "decoders/decoder.h"

namespace filterd::decoders {

// Decoder "tnef" for .tnef. Children carry ChildInfo::decoder "tnef".
std::shared_ptr<const Decoder> make_tnef_decoder();

}  // namespace filterd::decoders
