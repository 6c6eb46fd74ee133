// Table tests of network lists (mynetworks).
#include "policy/cidr.h"

#include <gtest/gtest.h>

namespace filterd::policy {
namespace {

const char* const kMynetworks =
    "127.0.0.0/8 [::1]/128 10.0.0.0/8, 192.168.0.0/16 [fe80::]/10 172.16.1.2\n"
    "\t2001:db8:abcd::/48,100.64.0.0/10";

struct Row {
  const char* name;
  std::string address;
  std::optional<std::string> entry;  // the entry that holds it
};

class MynetworksTable : public ::testing::TestWithParam<Row> {};

TEST_P(MynetworksTable, MatchesTheRightEntry) {
  auto list = NetworkList::parse(kMynetworks);
  ASSERT_TRUE(list) << list.error();
  EXPECT_EQ(list->size(), 8u);
  auto found = list->find(GetParam().address);
  EXPECT_EQ(found ? std::optional<std::string>(*found) : std::nullopt, GetParam().entry);
  EXPECT_EQ(list->contains(GetParam().address), GetParam().entry.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Addresses, MynetworksTable,
    ::testing::Values(
        Row{"loopback", "127.0.0.1", "127.0.0.0/8"},
        Row{"loopback_top", "127.255.255.255", "127.0.0.0/8"},
        Row{"just_outside", "128.0.0.0", std::nullopt}, Row{"ten", "10.200.3.4", "10.0.0.0/8"},
        Row{"after_comma", "192.168.77.1", "192.168.0.0/16"},
        Row{"host_entry", "172.16.1.2", "172.16.1.2"},
        Row{"next_to_host_entry", "172.16.1.3", std::nullopt},
        Row{"odd_prefix_inside", "100.127.255.255", "100.64.0.0/10"},
        Row{"odd_prefix_outside", "100.128.0.0", std::nullopt},
        Row{"bracketed_v4", "[10.1.1.1]", "10.0.0.0/8"},
        Row{"v4_mapped_matches_v4_entry", "::ffff:127.0.0.1", "127.0.0.0/8"},
        Row{"v4_mapped_upper_case", "::FFFF:10.0.0.1", "10.0.0.0/8"},
        Row{"v4_mapped_outside", "::ffff:8.8.8.8", std::nullopt},
        Row{"xforward_ipv6_form", "IPv6:::1", "[::1]/128"},
        Row{"xforward_ipv6_lower_case", "ipv6:2001:db8:abcd:1::5", "2001:db8:abcd::/48"},
        Row{"xforward_ipv6_v4_mapped", "IPv6:::ffff:192.168.0.9", "192.168.0.0/16"},
        Row{"bracketed_address_literal", "[IPv6:fe80::1]", "[fe80::]/10"},
        Row{"bare_v6", "::1", "[::1]/128"},
        Row{"link_local_with_zone", "fe80::1%eth0", "[fe80::]/10"},
        Row{"link_local_edge", "febf:ffff::1", "[fe80::]/10"},
        Row{"outside_link_local", "fec0::1", std::nullopt},
        Row{"v6_outside", "2001:db8:abce::1", std::nullopt},
        Row{"v6_loopback_neighbour", "::2", std::nullopt},
        Row{"v4_compatible_is_not_v4", "::127.0.0.1", std::nullopt},
        Row{"unavailable", "[UNAVAILABLE]", std::nullopt},
        Row{"tempunavail", "[TEMPUNAVAIL]", std::nullopt}, Row{"empty", "", std::nullopt},
        Row{"brackets_only", "[]", std::nullopt},
        Row{"prefix_is_not_an_address", "10.0.0.0/8", std::nullopt},
        Row{"short_v4", "10.1", std::nullopt}, Row{"v4_with_zone", "10.1.2.3%eth0", std::nullopt},
        Row{"trailing_space", "10.1.2.3 ", std::nullopt},
        Row{"host_name", "localhost", std::nullopt},
        Row{"nul_inside", std::string("10.0.0.1\0junk", 13), std::nullopt},
        Row{"too_long", std::string(1000, '1'), std::nullopt},
        Row{"ipv6_prefix_only", "IPv6:", std::nullopt}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(NetworkList, V4MappedEntryIsAllOfIpv4) {
  auto list = NetworkList::parse("::ffff:0:0/96");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->contains("203.0.113.9"));
  EXPECT_TRUE(list->contains("::ffff:203.0.113.9"));
  EXPECT_FALSE(list->contains("2001:db8::1"));
}

TEST(NetworkList, ZeroPrefixes) {
  auto v4 = NetworkList::parse("0.0.0.0/0");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->contains("255.255.255.255"));
  EXPECT_FALSE(v4->contains("2001:db8::1"));
  auto all = NetworkList::parse("[::]/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains("2001:db8::1"));
  EXPECT_TRUE(all->contains("10.0.0.1"));  // IPv4 is ::ffff:0:0/96, inside ::/0
}

TEST(NetworkList, EmptyListHoldsNothing) {
  auto list = NetworkList::parse(" , \n");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
  EXPECT_FALSE(list->contains("127.0.0.1"));
}

struct ErrorRow {
  const char* name;
  std::string text;
  std::string error;
};

class NetworkListErrors : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(NetworkListErrors, NameTheBadEntry) {
  auto list = NetworkList::parse(GetParam().text);
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, NetworkListErrors,
    ::testing::Values(
        ErrorRow{"prefix_too_long_v4", "127.0.0.0/8 10.0.0.0/33",
                 "bad network \"10.0.0.0/33\": prefix length must be 0 to 32"},
        ErrorRow{"prefix_too_long_v6", "[::1]/129",
                 "bad network \"[::1]/129\": prefix length must be 0 to 128"},
        ErrorRow{"prefix_not_a_number", "10.0.0.0/x",
                 "bad network \"10.0.0.0/x\": prefix length must be 0 to 32"},
        ErrorRow{"prefix_negative", "10.0.0.0/-1",
                 "bad network \"10.0.0.0/-1\": prefix length must be 0 to 32"},
        ErrorRow{"prefix_empty", "10.0.0.0/",
                 "bad network \"10.0.0.0/\": no prefix length after '/'"},
        ErrorRow{"bracket_prefix_empty", "[::1]/",
                 "bad network \"[::1]/\": no prefix length after '/'"},
        ErrorRow{"host_bits_v4", "172.16.1.2/24",
                 "bad network \"172.16.1.2/24\": host bits set beyond the prefix; perhaps "
                 "172.16.1.0/24"},
        ErrorRow{"host_bits_v6", "[fe80::1]/10",
                 "bad network \"[fe80::1]/10\": host bits set beyond the prefix; perhaps "
                 "[fe80::]/10"},
        ErrorRow{"host_bits_bare_v6", "2001:db8::1/32",
                 "bad network \"2001:db8::1/32\": host bits set beyond the prefix; perhaps "
                 "2001:db8::/32"},
        ErrorRow{"not_an_address", "10.0.0.0/8 localhost",
                 "bad network \"localhost\": not an IPv4 or IPv6 address"},
        ErrorRow{"short_v4", "10/8", "bad network \"10/8\": not an IPv4 or IPv6 address"},
        ErrorRow{"unclosed_bracket", "[::1/128", "bad network \"[::1/128\": no closing bracket"},
        ErrorRow{"junk_after_bracket", "[::1]x",
                 "bad network \"[::1]x\": text after the closing bracket"},
        ErrorRow{"prefix_inside_brackets", "[::1/128]",
                 "bad network \"[::1/128]\": not an IPv4 or IPv6 address"},
        ErrorRow{"negation", "!10.1.2.3", "bad network \"!10.1.2.3\": negation is not supported"},
        ErrorRow{"table", "hash:/etc/postfix/network_table",
                 "bad network \"hash:/etc/postfix/network_table\": not an IPv4 or IPv6 address"}),
    [](const auto& row) { return std::string(row.param.name); });

}  // namespace
}  // namespace filterd::policy
