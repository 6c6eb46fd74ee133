// Tests of the milter codec (milter/codec.h): framing, every command and
// reply, a Postfix-like conversation, and every kind of malformed input.
#include <gtest/gtest.h>

#include "milter/codec.h"

namespace filterd::milter {
namespace {

using namespace std::string_literals;
using Kind = Error::Kind;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Decodes `bytes` that must hold exactly one packet.
Packet one_packet(const std::string& bytes) {
  MilterDecoder d;
  auto got = d.feed(bytes);
  EXPECT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->size(), 1u);
  EXPECT_TRUE(d.idle());
  return got->empty() ? Packet{} : got->front();
}

Error command_error(char cmd, const std::string& data) {
  auto c = parse_command(Packet{cmd, data});
  EXPECT_FALSE(c.has_value());
  return c ? Error{} : c.error();
}

// --- Framing ---------------------------------------------------------------

TEST(MilterFrame, LengthCoversCommandByteAndData) {
  EXPECT_EQ(frame('c', ""), "\0\0\0\1c"s);
  EXPECT_EQ(frame('H', "mx\0"s), "\0\0\0\4Hmx\0"s);
}

TEST(MilterDecoder, TruncatedInputWaitsForMoreData) {
  std::string bytes = frame('H', "client.example\0"s);
  MilterDecoder d;
  auto part = d.feed(bytes.substr(0, 3));  // inside the length
  ASSERT_TRUE(part.has_value());
  EXPECT_TRUE(part->empty());
  EXPECT_FALSE(d.idle());
  part = d.feed(bytes.substr(3, 4));  // length, command and two data bytes
  ASSERT_TRUE(part.has_value());
  EXPECT_TRUE(part->empty());
  auto rest = d.feed(bytes.substr(7));
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front(), (Packet{'H', "client.example\0"s}));
  EXPECT_TRUE(d.idle());
}

TEST(MilterDecoder, SeveralPacketsInOneFeed) {
  MilterDecoder d;
  auto got =
      d.feed(frame('T', "") + frame('N', "") + frame('B', "abc") + frame('E', "").substr(0, 2));
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[2], (Packet{'B', "abc"}));
  EXPECT_FALSE(d.idle());
}

TEST(MilterDecoder, ZeroLengthIsAnError) {
  MilterDecoder d;
  auto got = d.feed(be32(0) + "c");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, Kind::kZeroLength);
}

TEST(MilterDecoder, OversizedLengthIsAnErrorBeforeAnyDataArrives) {
  MilterDecoder d;
  auto got = d.feed(be32(kDefaultMaxPacket + 1));
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, Kind::kOversized);
  EXPECT_EQ(got.error().message(), "milter: oversized packet (length 262145 > 262144)");
  MilterDecoder huge;
  EXPECT_EQ(huge.feed("\xff\xff\xff\xff").error().kind, Kind::kOversized);
}

TEST(MilterDecoder, LargestAllowedPacketIsAccepted) {
  MilterDecoder d(1 + kBodyChunk);
  auto got = d.feed(frame('B', std::string(kBodyChunk, 'x')));
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].data.size(), kBodyChunk);
  EXPECT_EQ(d.feed(frame('B', std::string(kBodyChunk + 1, 'x'))).error().kind, Kind::kOversized);
}

TEST(MilterDecoder, StaysDeadAfterAnError) {
  MilterDecoder d;
  ASSERT_FALSE(d.feed(be32(0)).has_value());
  auto again = d.feed(frame('c', ""));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, Kind::kZeroLength);
}

// --- Commands --------------------------------------------------------------

// Every command: encoded, framed, decoded and parsed back to itself.
TEST(MilterCommand, EveryCommandRoundTrips) {
  const std::vector<Command> all = {
      OptNeg{6, 0x1ff, 0x1fffff},
      Macros{'C', {{"j", "mx.example"}, {"{daemon_name}", "smtpd"}, {"v", "Postfix 3.7"}}},
      Macros{'T', {}},
      Connect{"client.example", Family::kInet, 41234, "192.0.2.10"},
      Connect{"[2001:db8::1]", Family::kInet6, 25, "2001:db8::1"},
      Connect{"localhost", Family::kUnix, 0, "/var/spool/postfix/public/pickup"},
      Connect{"unknown", Family::kUnknown, 0, ""},
      Helo{"client.example"},
      Mail{{"<alice@example.org>", "SIZE=1234", "BODY=8BITMIME"}},
      Mail{{"<>"}},
      Rcpt{{"<bob@example.net>"}},
      Rcpt{{"<carol@example.net>", "NOTIFY=NEVER"}},
      Data{},
      Header{"Subject", " hello"},
      Header{"X-Empty", ""},
      EndOfHeaders{},
      BodyChunk{"line one\r\nline two\r\n\0binary\xff"s},
      EndOfBody{},
      EndOfBody{"last chunk\r\n"},
      Abort{},
      Quit{},
      QuitNewConnection{},
      Unknown{"XYZZY plugh"},
  };
  for (const Command& c : all) {
    std::string bytes = encode_command(c);
    Packet p = one_packet(bytes);
    auto back = parse_command(p);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(*back, c) << "command " << p.command;
    EXPECT_EQ(encode_command(*back), bytes);
  }
}

TEST(MilterCommand, ConnectWireFormat) {
  const std::string inet = be32(16) + "Ch\0"s + "4\x12\x34" + "192.0.2.1\0"s;
  EXPECT_EQ(encode_command(Connect{"h", Family::kInet, 0x1234, "192.0.2.1"}), inet);
  EXPECT_EQ(encode_command(Connect{"h", Family::kUnknown, 0, ""}), be32(4) + "Ch\0U"s);
}

TEST(MilterCommand, OptNegReadsTheFirstTwelveBytes) {
  auto c = parse_command(Packet{'O', be32(6) + be32(0x1ff) + be32(0x1fffff) + "extra"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(std::get<OptNeg>(*c), (OptNeg{6, 0x1ff, 0x1fffff}));
}

TEST(MilterCommand, MalformedContentsAreTypedErrors) {
  EXPECT_EQ(command_error('O', be32(6) + be32(0x1ff)).kind, Kind::kShortPacket);
  EXPECT_EQ(command_error('D', "").kind, Kind::kShortPacket);
  EXPECT_EQ(command_error('D', "Cj\0mx\0i"s).kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('D', "Cj\0mx\0i\0"s).kind, Kind::kBadMacros);
  EXPECT_EQ(command_error('C', "host").kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('C', "host\0"s).kind, Kind::kShortPacket);
  EXPECT_EQ(command_error('C', "host\0X\0\0001.2.3.4\0"s).kind, Kind::kBadFamily);
  EXPECT_EQ(command_error('C',
                          "host\0"
                          "4\0"s)
                .kind,
            Kind::kShortPacket);
  EXPECT_EQ(command_error('C',
                          "host\0"
                          "4\0\x19"
                          "1.2.3.4"s)
                .kind,
            Kind::kMissingNul);
  EXPECT_EQ(command_error('C', "host\0U\0"s).kind, Kind::kTrailingData);
  EXPECT_EQ(command_error('H', "helo").kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('H', "helo\0x"s).kind, Kind::kTrailingData);
  EXPECT_EQ(command_error('M', "").kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('M', "<a@b>\0SIZE=1"s).kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('R', "<a@b>").kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('L', "Subject\0hi"s).kind, Kind::kMissingNul);
  EXPECT_EQ(command_error('L', "Subject\0hi\0x\0"s).kind, Kind::kTrailingData);
  EXPECT_EQ(command_error('U', "XYZ").kind, Kind::kMissingNul);
  for (char empty : {'T', 'N', 'A', 'Q', 'K'}) {
    Error e = command_error(empty, "x");
    EXPECT_EQ(e.kind, Kind::kTrailingData) << empty;
    EXPECT_EQ(e.command, empty);
  }
  EXPECT_EQ(command_error('Z', "").kind, Kind::kUnknownCommand);
  EXPECT_EQ(command_error('c', "").kind, Kind::kUnknownCommand);  // a reply, not a command
}

TEST(MilterCommand, ErrorMessageNamesTheCommand) {
  EXPECT_EQ(command_error('C', "host\0X"s).message(),
            "milter: bad address family in 'C' packet (address family 88)");
}

// A Postfix-like conversation: negotiation, connect with macros, HELO,
// envelope, headers, body in two chunks, end of body, quit.
std::string conversation() {
  std::string s;
  for (const Command& c : std::vector<Command>{
           OptNeg{6, 0x1ff, 0x1fffff},
           Macros{'C', {{"j", "mx.example"}, {"{daemon_name}", "smtpd"}}},
           Connect{"client.example", Family::kInet, 41234, "192.0.2.10"},
           Macros{'H', {{"{tls_version}", "TLSv1.3"}}},
           Helo{"client.example"},
           Macros{'M', {{"i", "4QxYz1abc"}, {"{mail_addr}", "alice@example.org"}}},
           Mail{{"<alice@example.org>", "SIZE=300"}},
           Macros{'R', {{"{rcpt_addr}", "bob@example.net"}}},
           Rcpt{{"<bob@example.net>"}},
           Data{},
           Header{"From", " alice@example.org"},
           Header{"Subject", " test"},
           EndOfHeaders{},
           BodyChunk{std::string(kBodyChunk, 'a')},
           BodyChunk{"tail\r\n"},
           EndOfBody{},
           Quit{},
       }) {
    s += encode_command(c);
  }
  return s;
}

std::vector<Command> parse_all(const std::vector<Packet>& packets) {
  std::vector<Command> out;
  for (const Packet& p : packets) {
    auto c = parse_command(p);
    EXPECT_TRUE(c.has_value()) << c.error().message();
    if (c) out.push_back(*c);
  }
  return out;
}

TEST(MilterConversation, WholeAndByteByByteGiveTheSameCommands) {
  const std::string bytes = conversation();
  MilterDecoder whole;
  auto all = whole.feed(bytes);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 17u);

  MilterDecoder bytewise;
  std::vector<Packet> packets;
  for (char b : bytes) {
    auto got = bytewise.feed(std::string_view(&b, 1));
    ASSERT_TRUE(got.has_value());
    for (auto& p : *got) packets.push_back(std::move(p));
  }
  EXPECT_EQ(packets, *all);
  EXPECT_TRUE(bytewise.idle());

  auto commands = parse_all(packets);
  ASSERT_EQ(commands.size(), 17u);
  EXPECT_EQ(std::get<Connect>(commands[2]).address, "192.0.2.10");
  EXPECT_EQ(std::get<Mail>(commands[6]).args[0], "<alice@example.org>");
  EXPECT_EQ(std::get<BodyChunk>(commands[13]).data.size(), kBodyChunk);
  EXPECT_TRUE(std::holds_alternative<Quit>(commands[16]));

  std::string again;
  for (const Command& c : commands) again += encode_command(c);
  EXPECT_EQ(again, bytes);
}

// --- Negotiation -----------------------------------------------------------

TEST(MilterNegotiate, AsksForFilterdsActionsAndFlagsWithinTheOffer) {
  auto n = negotiate(OptNeg{6, 0x1ff, 0x1fffff});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->version, 6u);
  EXPECT_EQ(n->actions, action::kAddHeaders | action::kChangeHeaders | action::kChangeBody |
                            action::kQuarantine | action::kAddRcpt | action::kDeleteRcpt);
  EXPECT_EQ(n->protocol, kWantedProtocol);
  EXPECT_FALSE(expects_reply(command::kHeader, n->protocol));
  EXPECT_FALSE(expects_reply(command::kBody, n->protocol));
  EXPECT_TRUE(expects_reply(command::kRcpt, n->protocol));
  EXPECT_TRUE(expects_reply(command::kEndOfBody, n->protocol));
  EXPECT_FALSE(expects_reply(command::kMacro, n->protocol));

  auto narrow = negotiate(OptNeg{6, action::kAddHeaders, protocol::kNoReplyHeader});
  ASSERT_TRUE(narrow.has_value());
  EXPECT_EQ(narrow->actions, action::kAddHeaders);
  EXPECT_EQ(narrow->protocol, protocol::kNoReplyHeader);
  EXPECT_TRUE(expects_reply(command::kBody, narrow->protocol));
}

TEST(MilterNegotiate, RefusesOldVersionsAndMtasThatCannotAddHeaders) {
  EXPECT_EQ(negotiate(OptNeg{2, 0x1ff, 0x7f}).error().kind, Kind::kBadVersion);
  EXPECT_EQ(negotiate(OptNeg{6, action::kChangeBody, 0}).error().kind, Kind::kBadVersion);
}

TEST(MilterNegotiate, ReplyWireFormat) {
  auto bytes = encode_reply(OptNeg{6, 0x33, 0x1c0080});
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*bytes, be32(13) + "O" + be32(6) + be32(0x33) + be32(0x1c0080));
}

// --- Replies ---------------------------------------------------------------

TEST(MilterReply, EveryReplyRoundTrips) {
  const std::vector<Reply> all = {
      Continue{},
      Accept{},
      Reject{},
      Tempfail{},
      Discard{},
      Progress{},
      ReplyCode{"554 5.7.0 Message rejected: virus found"},
      AddHeader{"X-Spam-Flag", " YES"},
      AddHeader{"X-Spam-Report", " line one\n\tline two"},
      InsertHeader{0, "X-Virus-Scanned", " filterd"},
      ChangeHeader{1, "Subject", " ***SPAM*** hello"},
      ChangeHeader{2, "X-Spam-Status", ""},
      ReplaceBody{"new body\r\n"},
      ReplaceBody{""},
      Quarantine{"virus Eicar-Signature"},
      OptNeg{6, kWantedActions, kWantedProtocol},
      AddRcpt{"<bob+spam@example.com>"},
      DeleteRcpt{"<bob@example.com>"},
  };
  for (const Reply& r : all) {
    auto bytes = encode_reply(r);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
    Packet p = one_packet(*bytes);
    auto back = parse_reply(p);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(*back, r) << "reply " << p.command;
  }
}

TEST(MilterReply, WireFormats) {
  EXPECT_EQ(*encode_reply(Continue{}), be32(1) + "c");
  EXPECT_EQ(*encode_reply(Accept{}), be32(1) + "a");
  EXPECT_EQ(*encode_reply(Reject{}), be32(1) + "r");
  EXPECT_EQ(*encode_reply(Tempfail{}), be32(1) + "t");
  EXPECT_EQ(*encode_reply(Discard{}), be32(1) + "d");
  EXPECT_EQ(*encode_reply(Progress{}), be32(1) + "p");
  EXPECT_EQ(*encode_reply(ReplyCode{"554 5.7.0 no"}), be32(14) + "y554 5.7.0 no\0"s);
  EXPECT_EQ(*encode_reply(AddHeader{"X-A", " b"}), be32(8) + "hX-A\0 b\0"s);
  EXPECT_EQ(*encode_reply(InsertHeader{3, "X-A", " b"}), be32(12) + "i" + be32(3) + "X-A\0 b\0"s);
  EXPECT_EQ(*encode_reply(ChangeHeader{1, "X-A", ""}), be32(10) + "m" + be32(1) + "X-A\0\0"s);
  EXPECT_EQ(*encode_reply(Quarantine{"why"}), be32(5) + "qwhy\0"s);
  EXPECT_EQ(*encode_reply(AddRcpt{"<a@b>"}), be32(7) + "+<a@b>\0"s);
  EXPECT_EQ(*encode_reply(DeleteRcpt{"<a@b>"}), be32(7) + "-<a@b>\0"s);
}

TEST(MilterReply, RecipientAddressesAreSentInAngleBrackets) {
  EXPECT_EQ(rcpt_address("bob@example.com"), "<bob@example.com>");
  EXPECT_EQ(rcpt_address("<bob@example.com>"), "<bob@example.com>");
  EXPECT_EQ(rcpt_address(""), "<>");
  EXPECT_EQ(rcpt_address("<"), "<<>");
}

TEST(MilterNegotiate, RecipientActionsAreOptional) {
  auto n = negotiate(OptNeg{6, action::kAddHeaders | action::kDeleteRcpt, 0});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->actions, action::kAddHeaders | action::kDeleteRcpt);
}

TEST(MilterReply, ReplyCodeBuilderValidatesAndCleans) {
  auto r = reply_code(554, "5.7.0", "virus\r\nfound: 100% sure");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->line, "554 5.7.0 virus  found: 100%% sure");
  EXPECT_TRUE(encode_reply(*r).has_value());
  EXPECT_EQ(reply_code(451, "", "try later")->line, "451 4.0.0 try later");
  EXPECT_EQ(reply_code(550, "5.1.1", "")->line, "550 5.1.1");
  EXPECT_EQ(reply_code(250, "2.0.0", "ok").error().kind, Kind::kBadValue);
  EXPECT_EQ(reply_code(600, "", "x").error().kind, Kind::kBadValue);
  EXPECT_EQ(reply_code(554, "4.7.0", "x").error().kind, Kind::kBadValue);
  EXPECT_EQ(reply_code(554, "5.7", "x").error().kind, Kind::kBadValue);
  EXPECT_EQ(reply_code(554, "5.7.0 x", "x").error().kind, Kind::kBadValue);
}

TEST(MilterReply, EncodeRefusesWhatWouldBreakTheMta) {
  auto kind = [](const Reply& r) { return encode_reply(r).error().kind; };
  EXPECT_EQ(kind(ReplyCode{"250 2.0.0 ok"}), Kind::kBadValue);
  EXPECT_EQ(kind(ReplyCode{"554 no status"}), Kind::kBadValue);
  EXPECT_EQ(kind(ReplyCode{"554 4.7.0 wrong class"}), Kind::kBadValue);
  EXPECT_EQ(kind(ReplyCode{"554 5.7.0 a\r\n554 5.7.0 b"}), Kind::kBadValue);
  EXPECT_EQ(kind(ReplyCode{"554 5.7.0 a\0b"s}), Kind::kMissingNul);
  EXPECT_EQ(kind(AddHeader{"", " v"}), Kind::kBadValue);
  EXPECT_EQ(kind(AddHeader{"X-A:", " v"}), Kind::kBadValue);
  EXPECT_EQ(kind(AddHeader{"X A", " v"}), Kind::kBadValue);
  EXPECT_EQ(kind(AddHeader{"X-A", " v\r\nBcc: x@y"}), Kind::kBadValue);  // injection
  EXPECT_EQ(kind(AddHeader{"X-A", " v\n"}), Kind::kBadValue);
  EXPECT_EQ(kind(AddHeader{"X-A", " v\rw"}), Kind::kBadValue);
  EXPECT_EQ(kind(AddHeader{"X-A", " v\0w"s}), Kind::kMissingNul);
  EXPECT_TRUE(encode_reply(AddHeader{"X-A", " v\r\n\tw"}).has_value());
  EXPECT_EQ(kind(InsertHeader{0, "X-A", " v\nX-B: w"}), Kind::kBadValue);
  EXPECT_EQ(kind(ChangeHeader{0, "Subject", " x"}), Kind::kBadValue);
  EXPECT_EQ(kind(ReplaceBody{std::string(kBodyChunk + 1, 'x')}), Kind::kBadValue);
  EXPECT_EQ(kind(Quarantine{""}), Kind::kBadValue);
  EXPECT_EQ(kind(Quarantine{"a\nb"}), Kind::kBadValue);
  EXPECT_EQ(kind(AddRcpt{""}), Kind::kBadValue);
  EXPECT_EQ(kind(AddRcpt{"<a@b>\r\nX"}), Kind::kBadValue);
  EXPECT_EQ(kind(DeleteRcpt{"<a\0b>"s}), Kind::kMissingNul);
  EXPECT_EQ(kind(DeleteRcpt{""}), Kind::kBadValue);
}

TEST(MilterReply, QuarantineBuilderCleansTheReason) {
  EXPECT_EQ(quarantine("virus\r\nX").reason, "virus  X");
  EXPECT_EQ(quarantine("").reason, "quarantined by filterd");
  EXPECT_TRUE(encode_reply(quarantine("a\0b"s)).has_value());
}

TEST(MilterReply, ReplaceBodyIsChunkedAt64KiB) {
  std::string body(2 * kBodyChunk + 10, 'x');
  body[kBodyChunk] = 'y';
  MilterDecoder d;
  auto got = d.feed(replace_body(body));
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 3u);
  std::string joined;
  for (const Packet& p : *got) {
    EXPECT_EQ(p.command, reply::kReplaceBody);
    EXPECT_LE(p.data.size(), kBodyChunk);
    joined += p.data;
  }
  EXPECT_EQ(joined, body);
  EXPECT_EQ((*got)[1].data[0], 'y');
  EXPECT_EQ(replace_body(""), be32(1) + "b");
  EXPECT_EQ(MilterDecoder().feed(replace_body(std::string(kBodyChunk, 'x')))->size(), 1u);
}

TEST(MilterReply, MalformedRepliesAreTypedErrors) {
  auto kind = [](char c, const std::string& d) { return parse_reply(Packet{c, d}).error().kind; };
  EXPECT_EQ(kind('c', "x"), Kind::kTrailingData);
  EXPECT_EQ(kind('y', "554 5.7.0 x"), Kind::kMissingNul);
  EXPECT_EQ(kind('h', "X-A\0v"s), Kind::kMissingNul);
  EXPECT_EQ(kind('i', "\0\0"s), Kind::kShortPacket);
  EXPECT_EQ(kind('m', "\0\0\0\1X\0v\0z"s), Kind::kTrailingData);
  EXPECT_EQ(kind('q', "why"), Kind::kMissingNul);
  EXPECT_EQ(kind('+', "<a@b>"), Kind::kMissingNul);
  EXPECT_EQ(kind('-', "<a@b>\0x"s), Kind::kTrailingData);
  EXPECT_EQ(kind('O', "\0\0\0\6"s), Kind::kShortPacket);
  EXPECT_EQ(kind('C', ""), Kind::kUnknownCommand);
}

}  // namespace
}  // namespace filterd::milter
