#include <gtest/gtest.h>

#include "gov/runtime/net/AddressAllocator.hpp"

namespace gov::runtime::net {
namespace {

Ipv4Subnet subnet(const char* s) {
    return *Ipv4Subnet::parse(s);
}
Ipv4Address addr(const char* s) {
    return *Ipv4Address::parse(s);
}

TEST(AddressAllocator, GatewayIsTheFirstHostAndWorkloadsGetTheRest) {
    auto a = AddressAllocator::create(subnet("10.89.0.0/29"));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->gateway().str(), "10.89.0.1");
    EXPECT_EQ(a->capacity(), 5u);  // .2 to .6
    std::vector<std::string> got;
    for (int i = 0; i < 5; ++i) {
        auto x = a->allocate();
        ASSERT_TRUE(x.ok()) << x.error().message();
        got.push_back(x->str());
    }
    EXPECT_EQ(got, (std::vector<std::string>{"10.89.0.2", "10.89.0.3", "10.89.0.4", "10.89.0.5",
                                             "10.89.0.6"}));
    auto full = a->allocate();
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().message(),
              "allocate an address in 10.89.0.0/29: no free address (5 workloads have one)");
}

TEST(AddressAllocator, AReleasedAddressIsTheLastToBeGivenAgain) {
    auto a = *AddressAllocator::create(subnet("10.89.0.0/29"));
    auto first = *a.allocate();   // .2
    auto second = *a.allocate();  // .3
    a.release(first);
    EXPECT_EQ(a.allocate()->str(), "10.89.0.4");
    EXPECT_EQ(a.allocate()->str(), "10.89.0.5");
    EXPECT_EQ(a.allocate()->str(), "10.89.0.6");
    EXPECT_EQ(a.allocate()->str(), "10.89.0.2");  // wrapped around to the released one
    EXPECT_TRUE(a.taken(second));
    EXPECT_FALSE(a.allocate().ok());
    EXPECT_EQ(a.used(), 5u);
}

TEST(AddressAllocator, ReserveAdoptsAddressesAndContinuesAfterThem) {
    auto a = *AddressAllocator::create(subnet("10.89.0.0/24"));
    ASSERT_TRUE(a.reserve(addr("10.89.0.7")).ok());
    ASSERT_TRUE(a.reserve(addr("10.89.0.3")).ok());
    EXPECT_EQ(a.allocate()->str(), "10.89.0.8");
    auto again = a.reserve(addr("10.89.0.7"));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().message(), "reserve 10.89.0.7 in 10.89.0.0/24: taken already");
    for (const char* bad : {"10.89.0.1", "10.89.0.0", "10.89.0.255", "10.90.0.5"}) {
        auto r = a.reserve(addr(bad));
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().message().find("not a workload address of the subnet"),
                  std::string::npos);
    }
}

TEST(AddressAllocator, RefusesSubnetsWithoutRoomForAWorkload) {
    auto a = AddressAllocator::create(subnet("10.89.0.0/31"));
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().message().find("a private network needs a /30 or larger"),
              std::string::npos);
    auto b = AddressAllocator::create(subnet("10.89.0.0/30"));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->capacity(), 1u);
    EXPECT_EQ(b->allocate()->str(), "10.89.0.2");
}

}  // namespace
}  // namespace gov::runtime::net
