// file_type.h — what a part really is, whatever its headers claim: libmagic
// on the decoded bytes, mapped to amavis-style short type names, which
// banned-file rules and the decoder registry are keyed by.
//
// Short names (the contract shared with decoders and policy):
//   archives/compressors: .zip .7z .rar .tar .cpio .iso .cab .lha .ar .deb .rpm
//                         .xar .gz .bz2 .xz .lzma .lz .lz4 .zst .Z .arj .zoo .ace
//                         .arc .zpaq .lzo .lrz .rz
//   mail containers:      .mail (RFC 822 message) .tnef (winmail.dat) .hqx (BinHex)
//                         .uue (uuencoded file)
//   executables:          .exe-ms (PE/MS-DOS) .elf .macho .class .dll is .exe-ms
//   documents:            .pdf .doc (OLE2 compound file) .docx .xlsx .pptx (OOXML,
//                         zip inside) .odt (OpenDocument) .rtf .html .txt .xml
//   media:                .jpg .png .gif .bmp .tif .mp3 .wav .avi .mpg .ico
//   other:                .asc (other text) .dat (unknown binary) .empty
//
// Thread safety: detect_type() may be called from any thread (one libmagic
// handle per thread).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace filterd::decoders {

struct FileType {
  std::string short_type;   // ".zip"
  std::string description;  // libmagic's text, "Zip archive data, at least v2.0 to extract"
  std::string mime_type;    // coarse: "text/plain" or "application/octet-stream"
};

// Looks at the first bytes of `data` (libmagic reads at most 1 MiB).
FileType detect_type(std::string_view data);

// True for types that hold other files (archives, compressors, mail
// containers): such a part with no decoder is UNCHECKED, not clean.
bool is_container_type(std::string_view short_type);
// All of them, for the start-up "No decoder for" list.
std::span<const std::string_view> container_types();

// The short-type mapping alone (libmagic description and MIME type in,
// short name out), exposed for tests.
std::string short_type_for(std::string_view description, std::string_view mime_type);

}  // namespace filterd::decoders
