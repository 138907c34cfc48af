#include <gtest/gtest.h>

#include "gov/policies/Units.hpp"

namespace gov::policies {
namespace {

uint64_t size(std::string_view s) {
    auto r = parseSize(s);
    EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message());
    return r.ok() ? *r : 0;
}

std::string sizeError(std::string_view s) {
    auto r = parseSize(s);
    EXPECT_FALSE(r.ok()) << s << " parsed as " << (r.ok() ? *r : 0);
    return r.ok() ? "" : r.error().reason();
}

TEST(Units, EverySizeSuffixHasItsDocumentedFactor) {
    EXPECT_EQ(size("7B"), 7u);
    EXPECT_EQ(size("1KB"), 1000u);
    EXPECT_EQ(size("1MB"), 1000000u);
    EXPECT_EQ(size("1GB"), 1000000000u);
    EXPECT_EQ(size("1TB"), 1000000000000u);
    EXPECT_EQ(size("1KiB"), 1024u);
    EXPECT_EQ(size("1MiB"), 1048576u);
    EXPECT_EQ(size("1GiB"), 1073741824u);
    EXPECT_EQ(size("1TiB"), 1099511627776u);
}

TEST(Units, OneSpaceBetweenNumberAndUnitIsAllowedButNotTwo) {
    EXPECT_EQ(size("2 GiB"), 2147483648u);
    EXPECT_NE(sizeError("2  GiB").find("at most one space"), std::string::npos);
    EXPECT_NE(sizeError(" 2GiB").find("starts with a decimal number"), std::string::npos);
    EXPECT_NE(sizeError("2GiB ").find("unknown unit"), std::string::npos);
}

TEST(Units, UnitsAreCaseSensitive) {
    EXPECT_NE(sizeError("1gib").find("unknown unit 'gib'"), std::string::npos);
    EXPECT_NE(sizeError("1Gb").find("case-sensitive"), std::string::npos);
    EXPECT_NE(sizeError("1kB").find("unknown unit 'kB'"), std::string::npos);
    EXPECT_NE(sizeError("1GIB").find("unknown unit"), std::string::npos);
}

TEST(Units, DecimalsAreAllowedOnlyForWholeBytes) {
    EXPECT_EQ(size("1.5GiB"), 1610612736u);
    EXPECT_EQ(size("0.5KiB"), 512u);
    EXPECT_EQ(size("1.50GiB"), 1610612736u);
    EXPECT_EQ(size("2.5KB"), 2500u);
    EXPECT_EQ(size("1.000B"), 1u);
    EXPECT_NE(sizeError("1.5B").find("whole number of bytes"), std::string::npos);
    EXPECT_NE(sizeError("0.0001KB").find("whole number of bytes"), std::string::npos);
    EXPECT_NE(sizeError("1.KiB").find("followed by digits"), std::string::npos);
    EXPECT_NE(sizeError(".5KiB").find("starts with a decimal number"), std::string::npos);
    // A long fraction that is still exact: 1/1024 KiB is one byte.
    EXPECT_EQ(size("0.0009765625KiB"), 1u);
    EXPECT_NE(sizeError("0.00000000000000000000001TiB").find("whole number"), std::string::npos);
}

TEST(Units, SizesWithoutUnitOrWithRateSuffixOrNegativeAreErrors) {
    EXPECT_NE(sizeError("1024").find("missing unit"), std::string::npos);
    EXPECT_NE(sizeError("1GB/s").find("rate"), std::string::npos);
    EXPECT_NE(sizeError("-1GiB").find("negative"), std::string::npos);
    EXPECT_NE(sizeError("").find("empty"), std::string::npos);
    EXPECT_NE(sizeError("GiB").find("starts with a decimal number"), std::string::npos);
}

TEST(Units, SizesAboveInt64MaxAreTooLarge) {
    EXPECT_EQ(size("9223372036854775807B"), kMaxValue);
    EXPECT_NE(sizeError("9223372036854775808B").find("too large"), std::string::npos);
    EXPECT_NE(sizeError("18446744073709551616B").find("too large"), std::string::npos);
    EXPECT_NE(sizeError("8388608TiB").find("too large"), std::string::npos);  // 2^63
    EXPECT_EQ(size("8388607TiB"), 8388607ULL * 1099511627776ULL);
    EXPECT_NE(sizeError("99999999999999999999999999GiB").find("too large"), std::string::npos);
    EXPECT_NE(sizeError("8388607.99999TiB").find("whole number"), std::string::npos);
    EXPECT_NE(sizeError("8388607.9999999999990905052982270717620849609375TiB").find("whole"),
              std::string::npos);
}

TEST(Units, RatesAreASizePerSecond) {
    auto r = parseRate("1MB/s");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 1000000u);
    auto r2 = parseRate("20 MiB/s");
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(*r2, 20971520u);
    auto noSuffix = parseRate("10MB");
    ASSERT_FALSE(noSuffix.ok());
    EXPECT_NE(noSuffix.error().reason().find("per second"), std::string::npos);
    EXPECT_FALSE(parseRate("10MB /s").ok());
    EXPECT_FALSE(parseRate("/s").ok());
    EXPECT_FALSE(parseRate("10mb/s").ok());
}

TEST(Units, DurationsAreWholeMicroseconds) {
    EXPECT_EQ(*parseDurationUsec("20ms"), 20000u);
    EXPECT_EQ(*parseDurationUsec("1s"), 1000000u);
    EXPECT_EQ(*parseDurationUsec("250us"), 250u);
    EXPECT_EQ(*parseDurationUsec("1.5ms"), 1500u);
    EXPECT_FALSE(parseDurationUsec("1.5us").ok());
    EXPECT_FALSE(parseDurationUsec("100").ok());
    EXPECT_FALSE(parseDurationUsec("1m").ok());
}

TEST(Units, CpuPercentIsQuotaPerHundredMillisecondPeriod) {
    EXPECT_EQ(*parseCpuPercentQuotaUsec("50%"), 50000u);
    EXPECT_EQ(*parseCpuPercentQuotaUsec("250%"), 250000u);
    EXPECT_EQ(*parseCpuPercentQuotaUsec("12.5%"), 12500u);
    EXPECT_EQ(*parseCpuPercentQuotaUsec("0.001%"), 1u);
    EXPECT_FALSE(parseCpuPercentQuotaUsec("0.0001%").ok());
    EXPECT_FALSE(parseCpuPercentQuotaUsec("50").ok());
    EXPECT_FALSE(parseCpuPercentQuotaUsec("50 %").ok());
    EXPECT_FALSE(parseCpuPercentQuotaUsec("%").ok());
}

TEST(Units, IdListsAreSortedAndMerged) {
    EXPECT_EQ(*normalizeIdList("0-3,8", 8192), "0-3,8");
    EXPECT_EQ(*normalizeIdList("8,3,0-2", 8192), "0-3,8");
    EXPECT_EQ(*normalizeIdList("1-4,2-6,7", 8192), "1-7");
    EXPECT_EQ(*normalizeIdList("5,5,5", 8192), "5");
    EXPECT_EQ(*normalizeIdList("8191", 8192), "8191");
    EXPECT_FALSE(normalizeIdList("8192", 8192).ok());
    EXPECT_FALSE(normalizeIdList("3-1", 8192).ok());
    EXPECT_FALSE(normalizeIdList("1,,2", 8192).ok());
    EXPECT_FALSE(normalizeIdList("1,", 8192).ok());
    EXPECT_FALSE(normalizeIdList("-1", 8192).ok());
    EXPECT_FALSE(normalizeIdList("1-", 8192).ok());
    EXPECT_FALSE(normalizeIdList("1 ,2", 8192).ok());
    EXPECT_FALSE(normalizeIdList("", 8192).ok());
    EXPECT_FALSE(normalizeIdList("99999999999", 8192).ok());
}

TEST(Units, FormatBytesPicksTheExactUnitWithTheSmallestNumber) {
    EXPECT_EQ(formatBytes(1073741824), "1 GiB");
    EXPECT_EQ(formatBytes(2147483648), "2 GiB");
    EXPECT_EQ(formatBytes(1000000), "1 MB");
    EXPECT_EQ(formatBytes(1536), "1536 B");
    EXPECT_EQ(formatBytes(3072), "3 KiB");
    EXPECT_EQ(formatBytes(1500), "1500 B");
    EXPECT_EQ(formatBytes(0), "0 B");
    EXPECT_EQ(formatRate(1000000), "1 MB/s");
    EXPECT_EQ(formatDurationUsec(20000), "20ms");
    EXPECT_EQ(formatDurationUsec(1500), "1500us");
    EXPECT_EQ(formatDurationUsec(1000000), "1s");
}

}  // namespace
}  // namespace gov::policies
