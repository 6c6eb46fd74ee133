// Tests of the SMTP building blocks: command and path parsing, xtext,
// reply formatting and parsing, dot-stuffing, endpoints.
#include <gtest/gtest.h>

#include "smtp/client.h"
#include "smtp/command.h"
#include "smtp/dot_stuff.h"
#include "smtp/endpoint.h"
#include "smtp/reply.h"
#include "smtp/reply_parser.h"

namespace filterd::smtp {
namespace {

TEST(Command, VerbIsUpperCasedAndArgsTrimmed) {
  CommandLine c = split_command("mail FROM:<a@b>  ");
  EXPECT_EQ(c.verb, "MAIL");
  EXPECT_EQ(c.args, "FROM:<a@b>");
}

TEST(Command, PathWithParamsParses) {
  auto p = parse_path_args("FROM:<a@b> SIZE=10 body=8bitmime", "FROM:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, "a@b");
  ASSERT_EQ(p->params.size(), 2u);
  EXPECT_EQ(p->params[0].first, "SIZE");
  EXPECT_EQ(p->params[1].first, "BODY");
  EXPECT_EQ(p->params[1].second, "8bitmime");
}

TEST(Command, SpaceAfterColonIsTolerated) {
  auto p = parse_path_args("to: <a@b>", "TO:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, "a@b");
}

TEST(Command, QuotedLocalPartMayContainAngleBracket) {
  auto p = parse_path_args("TO:<\"a>b\"@c>", "TO:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, "\"a>b\"@c");
}

TEST(Command, SourceRouteIsDropped) {
  auto p = parse_path_args("TO:<@relay.test,@r2.test:user@c.test>", "TO:");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, "user@c.test");
}

TEST(Command, MissingBracketsAndControlCharactersAreErrors) {
  EXPECT_FALSE(parse_path_args("FROM:a@b", "FROM:"));
  EXPECT_FALSE(parse_path_args("FROM:<a@b", "FROM:"));
  EXPECT_FALSE(parse_path_args("FROM:<a\x01@b>", "FROM:"));
  EXPECT_FALSE(parse_path_args("FROM:<" + std::string(300, 'a') + ">", "FROM:"));
}

TEST(Xtext, RoundTripsEveryByte) {
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  auto back = xtext_decode(xtext_encode(all));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, all);
}

TEST(Xtext, MalformedIsRejected) {
  EXPECT_FALSE(xtext_decode("a+2"));
  EXPECT_FALSE(xtext_decode("a+ZZ"));
  EXPECT_FALSE(xtext_decode("a=b"));
  EXPECT_FALSE(xtext_decode("a b"));
}

TEST(Reply, MultiLineWireFormPutsStatusOnEveryLine) {
  Reply r{250, "2.0.0", "first\nsecond"};
  EXPECT_EQ(r.wire(), "250-2.0.0 first\r\n250 2.0.0 second\r\n");
  EXPECT_EQ(r.one_line(), "250 2.0.0 first second");
}

TEST(Reply, CheckedStatusRepairsMismatchedClass) {
  EXPECT_EQ(checked_status(550, "5.1.1"), "5.1.1");
  EXPECT_EQ(checked_status(450, "5.1.1"), "4.0.0");
  EXPECT_EQ(checked_status(250, "garbage"), "2.0.0");
}

TEST(ReplyParser, ParsesMultiLineReplyFedByteByByte) {
  ReplyParser p;
  std::string in = "250-mx.test\r\n250-PIPELINING\r\n250 DSN\r\n";
  for (char c : in) ASSERT_TRUE(p.feed(std::string_view(&c, 1)));
  ASSERT_TRUE(p.has_reply());
  Reply r = p.pop();
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.text, "mx.test\nPIPELINING\nDSN");
}

TEST(ReplyParser, SplitsEnhancedStatus) {
  ReplyParser p;
  ASSERT_TRUE(p.feed("550 5.1.1 <x@y>: User unknown\r\n"));
  Reply r = p.pop();
  EXPECT_EQ(r.status, "5.1.1");
  EXPECT_EQ(r.text, "<x@y>: User unknown");
}

TEST(ReplyParser, GarbageAndEndlessLinesAreProtocolErrors) {
  ReplyParser a;
  EXPECT_FALSE(a.feed("hello\r\n"));
  ReplyParser b;
  EXPECT_FALSE(b.feed(std::string(10000, '2')));
  ReplyParser c;
  EXPECT_FALSE(c.feed("250-a\r\n354 b\r\n"));
}

TEST(DotStuff, LeadingDotsAreDoubledAndTerminatorAdded) {
  EXPECT_EQ(dot_stuff("a\r\n.b\r\n"), "a\r\n..b\r\n.\r\n");
  EXPECT_EQ(dot_stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("no newline"), "no newline\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
}

TEST(DotStuff, BareLineEndsBecomeCrlfSoTheNextHopCannotBeSmuggled) {
  EXPECT_EQ(dot_stuff("a\n.\nb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r.\rb"), "a\r\n..\r\nb\r\n.\r\n");
}

TEST(DotStuff, ChunksMaySplitCrlfAnywhere) {
  std::string msg = "x\r\n.y\r\n\r\n.\r\nz";
  std::string whole = dot_stuff(msg);
  for (size_t cut = 0; cut <= msg.size(); ++cut) {
    DotStuffer s;
    std::string out;
    s.add(std::string_view(msg).substr(0, cut), out);
    s.add(std::string_view(msg).substr(cut), out);
    s.finish(out);
    EXPECT_EQ(out, whole) << "cut at " << cut;
  }
}

TEST(Endpoint, ParsesEveryConfigForm) {
  auto a = parse_endpoint("smtp:127.0.0.1:10025");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->protocol, Protocol::kSmtp);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 10025);
  auto b = parse_endpoint("lmtp:unix:/run/dovecot/lmtp");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->protocol, Protocol::kLmtp);
  EXPECT_EQ(b->unix_path, "/run/dovecot/lmtp");
  auto c = parse_endpoint("smtp:[::1]:25");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->str(), "smtp:[::1]:25");
}

TEST(Endpoint, RejectsBadForms) {
  for (const char* bad : {"127.0.0.1:25", "smtp:127.0.0.1", "smtp:host:0", "smtp:host:99999",
                          "lmtp:unix:relative", "smtp:host:25x", "http:x:1"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
}

TEST(QueuedAs, FindsPostfixAndEximIds) {
  EXPECT_EQ(parse_queued_as("Ok: queued as 4XyZ12"), "4XyZ12");
  EXPECT_EQ(parse_queued_as("OK id=1abc-00"), "1abc-00");
  EXPECT_EQ(parse_queued_as("Ok"), "");
}

}  // namespace
}  // namespace filterd::smtp
