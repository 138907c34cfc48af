#include <gtest/gtest.h>

#include "gov/Ipv4.hpp"

namespace gov {
namespace {

TEST(Ipv4, ParsesAndFormatsDottedQuads) {
    auto a = Ipv4Address::parse("10.89.0.1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->value, 0x0a590001u);
    EXPECT_EQ(a->str(), "10.89.0.1");
    EXPECT_EQ(Ipv4Address::parse("0.0.0.0")->value, 0u);
    EXPECT_EQ(Ipv4Address::parse("255.255.255.255")->value, 0xffffffffu);
}

TEST(Ipv4, RefusesWhatIsNotExactlyADottedQuad) {
    for (const char* bad : {"", "10.89.0", "10.89.0.1.", "10.89.0.256", "10.089.0.1", "a.b.c.d",
                            "10.89.0.1 ", " 10.89.0.1", "1e1.0.0.1", "10..0.1", "-1.0.0.1"}) {
        EXPECT_FALSE(Ipv4Address::parse(bad)) << bad;
    }
}

TEST(Ipv4, ParsesSubnetsAndSaysWhyOneIsBad) {
    auto s = Ipv4Subnet::parse("10.89.0.0/24");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->str(), "10.89.0.0/24");
    EXPECT_EQ(s->hostCount(), 254u);
    EXPECT_EQ(s->host(0).str(), "10.89.0.1");
    EXPECT_EQ(s->host(253).str(), "10.89.0.254");
    std::string why;
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.1/24", &why));
    EXPECT_EQ(why, "host bits are set (the subnet is 10.89.0.0/24)");
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.0", &why));
    EXPECT_EQ(why, "expected ADDRESS/PREFIX, e.g. 10.89.0.0/24");
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.0/33", &why));
    EXPECT_EQ(why, "'33' is not a prefix length (0-32)");
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.0/024", &why));
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0.0/", &why));
    EXPECT_FALSE(Ipv4Subnet::parse("10.89.0/16", &why));
    EXPECT_EQ(why, "'10.89.0' is not an IPv4 address");
}

TEST(Ipv4, SubnetsOverlapWhenOneContainsTheOther) {
    auto a = *Ipv4Subnet::parse("10.89.0.0/16");
    auto b = *Ipv4Subnet::parse("10.89.4.0/24");
    auto c = *Ipv4Subnet::parse("10.90.0.0/24");
    auto d = *Ipv4Subnet::parse("10.89.4.128/25");
    EXPECT_TRUE(a.overlaps(b));
    EXPECT_TRUE(b.overlaps(a));
    EXPECT_FALSE(a.overlaps(c));
    EXPECT_TRUE(b.overlaps(d));
    EXPECT_FALSE(c.overlaps(d));
    EXPECT_TRUE(a.contains(*Ipv4Address::parse("10.89.255.255")));
    EXPECT_FALSE(b.contains(*Ipv4Address::parse("10.89.5.1")));
}

TEST(Ipv4, TinySubnetsHaveNoRoomForHosts) {
    EXPECT_EQ(Ipv4Subnet::parse("10.0.0.0/30")->hostCount(), 2u);
    EXPECT_EQ(Ipv4Subnet::parse("10.0.0.0/31")->hostCount(), 0u);
    EXPECT_EQ(Ipv4Subnet::parse("10.0.0.1/32")->hostCount(), 0u);
    EXPECT_EQ(Ipv4Subnet::parse("0.0.0.0/0")->mask(), 0u);
}

}  // namespace
}  // namespace gov
